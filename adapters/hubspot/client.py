"""Building the hubspot-api-client and the pacing for one portal from ``HubSpotConfig``.

urllib3's own retries are switched off (its defaults skip POST, so searches were never retried, and it raises
``MaxRetryError`` instead of an API error): every call goes through our limiter and ``RetryPolicy`` instead.
"""

from __future__ import annotations

from typing import Any

import urllib3

from connector.config.crm import HubSpotConfig
from connector.ratelimit import CrmLimiter, DailyBudget, SlidingWindow, unlimited

WINDOW_S = 10.0  # HubSpot's TEN_SECONDLY_ROLLING window
SEARCH_WINDOW_S = 1.0


def build_client(config: HubSpotConfig) -> Any:
    """A ``hubspot.Client`` for the configured portal, without urllib3 retries."""
    import hubspot

    token = config.access_token.get_secret_value() if config.access_token else None
    no_retries = urllib3.Retry(total=0, connect=0, read=0, redirect=0, status=0, other=0, raise_on_status=False)
    return hubspot.Client.create(access_token=token, host=config.base_url.rstrip("/"), retry=no_retries)


def build_limiter(config: HubSpotConfig) -> CrmLimiter:
    """Pacing for the portal's plan: the burst window, the search window, and the read share of the daily budget."""
    if not config.limits_enabled:
        return unlimited("hubspot")
    budget = DailyBudget("hubspot", config.daily_budget, config.daily_read_share)
    windows = {
        "default": SlidingWindow(config.burst_limit, WINDOW_S),
        "search": SlidingWindow(config.search_per_second, SEARCH_WINDOW_S),
    }
    return CrmLimiter("hubspot", budget, windows)
