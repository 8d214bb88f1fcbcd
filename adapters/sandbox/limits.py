"""API rate limits as the real CRMs enforce them: HubSpot's rolling windows and daily budget, Salesforce's daily budget.

HubSpot (per profile): a rolling 10-second window for ordinary calls, a separate per-second window for search
(search answers carry no rate-limit headers), and a daily budget every call counts against. Salesforce: a daily
API request budget; every answer carries ``Sforce-Limit-Info``; past the budget calls get 403 REQUEST_LIMIT_EXCEEDED.
The windows run on a monotonic clock (a frozen sandbox clock must not freeze them); the day is the sandbox clock's
UTC day, so advancing the clock past midnight refreshes the daily budgets as it would in a real portal.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from adapters.sandbox.clock import Clock

DAY_MS = 86_400_000


@dataclass(frozen=True)
class LimitSettings:
    """One limits profile. ``enabled`` False turns every limit off (benchmarks)."""

    name: str
    hubspot_burst: int = 190  # calls per rolling window
    hubspot_window_ms: int = 10_000
    hubspot_search_per_second: int = 5
    hubspot_daily: int = 625_000
    salesforce_daily: int = 100_000
    enabled: bool = True

    def with_overrides(self, **overrides: Any) -> LimitSettings:
        """A copy with some fields replaced (unknown names are refused)."""
        return replace(self, **overrides)


# The real plans' numbers (see /work/shared/reference/crm-apis.md); Salesforce's budget is an org-wide default.
PROFILES: dict[str, LimitSettings] = {
    "starter": LimitSettings("starter", hubspot_burst=100, hubspot_daily=250_000),
    "free": LimitSettings("free", hubspot_burst=100, hubspot_daily=250_000),
    "professional": LimitSettings("professional"),
    "enterprise": LimitSettings("enterprise", hubspot_burst=190, hubspot_daily=1_000_000),
    "addon": LimitSettings("addon", hubspot_burst=250, hubspot_daily=1_625_000),
    "off": LimitSettings("off", enabled=False),
}


def resolve_profile(spec: str | LimitSettings | None) -> LimitSettings:
    """A profile by name (``professional`` when None), or the settings given."""
    if isinstance(spec, LimitSettings):
        return spec
    name = (spec or "professional").lower()
    if name not in PROFILES:
        raise ValueError(f"unknown limits profile {name!r}; expected one of {', '.join(sorted(PROFILES))}")
    return PROFILES[name]


@dataclass(frozen=True)
class LimitDecision:
    """What the limiter says about one call: allowed or the policy that refused it, and headers to send."""

    allowed: bool
    policy: str | None = None  # TEN_SECONDLY_ROLLING, SECONDLY, DAILY (HubSpot) or REQUEST_LIMIT_EXCEEDED
    retry_after_s: int | None = None
    headers: tuple[tuple[str, str], ...] = ()


ALLOW = LimitDecision(True)


class _RollingWindow:
    """Timestamps of the calls admitted in the last ``window`` seconds."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self.stamps: deque[float] = deque()

    def admit(self, now: float, limit: int) -> tuple[bool, int, float]:
        """Admit a call if fewer than ``limit`` ran in the window: (admitted, remaining, seconds until a slot frees)."""
        horizon = now - self.window_s
        while self.stamps and self.stamps[0] <= horizon:
            self.stamps.popleft()
        if len(self.stamps) >= limit:
            return False, 0, self.stamps[0] + self.window_s - now
        self.stamps.append(now)
        return True, limit - len(self.stamps), 0.0


class RateLimits:
    """The sandbox's limit counters for both CRMs, checked once per API call."""

    def __init__(
        self,
        settings: str | LimitSettings | None = None,
        *,
        clock: Clock | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock or Clock()
        self._monotonic = monotonic
        self.settings = resolve_profile(settings)
        self.reset()

    def configure(self, settings: str | LimitSettings) -> None:
        """Switch profile; counters are kept so a switch mid-run does not hand out a fresh budget."""
        self.settings = resolve_profile(settings)
        self._burst.window_s = self.settings.hubspot_window_ms / 1000

    def reset(self) -> None:
        """Zero every counter."""
        self._burst = _RollingWindow(self.settings.hubspot_window_ms / 1000)
        self._search = _RollingWindow(1.0)
        self._day = self._today()
        self.hubspot_daily_used = 0
        self.salesforce_daily_used = 0
        self.refused: dict[str, int] = {}

    def _today(self) -> int:
        return self.clock.now_ms() // DAY_MS

    def _roll_day(self) -> None:
        today = self._today()
        if today != self._day:
            self._day = today
            self.hubspot_daily_used = 0
            self.salesforce_daily_used = 0

    def _refuse(
        self, policy: str, retry_after: float | None, headers: tuple[tuple[str, str], ...] = ()
    ) -> LimitDecision:
        self.refused[policy] = self.refused.get(policy, 0) + 1
        seconds = None if retry_after is None else max(1, math.ceil(retry_after))
        return LimitDecision(False, policy, seconds, headers)

    def check_hubspot(self, *, search: bool) -> LimitDecision:
        """Count one HubSpot call (search or not) and say whether it may proceed."""
        s = self.settings
        if not s.enabled:
            return ALLOW
        self._roll_day()
        if self.hubspot_daily_used >= s.hubspot_daily:
            return self._refuse("DAILY", None, self._hubspot_headers(0) if not search else ())
        now = self._monotonic()
        if search:
            ok, _remaining, wait = self._search.admit(now, s.hubspot_search_per_second)
            if not ok:
                return self._refuse("SECONDLY", wait)
            self.hubspot_daily_used += 1
            return ALLOW
        ok, remaining, wait = self._burst.admit(now, s.hubspot_burst)
        if not ok:
            return self._refuse("TEN_SECONDLY_ROLLING", wait, self._hubspot_headers(0))
        self.hubspot_daily_used += 1
        return LimitDecision(True, headers=self._hubspot_headers(remaining))

    def _hubspot_headers(self, remaining: int) -> tuple[tuple[str, str], ...]:
        s = self.settings
        return (
            ("X-HubSpot-RateLimit-Max", str(s.hubspot_burst)),
            ("X-HubSpot-RateLimit-Remaining", str(remaining)),
            ("X-HubSpot-RateLimit-Interval-Milliseconds", str(s.hubspot_window_ms)),
            ("X-HubSpot-RateLimit-Daily", str(s.hubspot_daily)),
            ("X-HubSpot-RateLimit-Daily-Remaining", str(max(0, s.hubspot_daily - self.hubspot_daily_used))),
        )

    def check_salesforce(self) -> LimitDecision:
        """Count one Salesforce call against the daily budget; the header reports usage either way."""
        s = self.settings
        if not s.enabled:
            return ALLOW
        self._roll_day()
        if self.salesforce_daily_used >= s.salesforce_daily:
            return self._refuse("REQUEST_LIMIT_EXCEEDED", None, self._salesforce_headers())
        self.salesforce_daily_used += 1
        return LimitDecision(True, headers=self._salesforce_headers())

    def _salesforce_headers(self) -> tuple[tuple[str, str], ...]:
        usage = f"api-usage={self.salesforce_daily_used}/{self.settings.salesforce_daily}"
        return (("Sforce-Limit-Info", usage),)

    def snapshot(self) -> dict[str, Any]:
        """Counters and settings, for the admin stats."""
        s = self.settings
        return {
            "profile": s.name,
            "enabled": s.enabled,
            "hubspot": {
                "burst": s.hubspot_burst,
                "window_ms": s.hubspot_window_ms,
                "in_window": len(self._burst.stamps),
                "search_per_second": s.hubspot_search_per_second,
                "daily": s.hubspot_daily,
                "daily_used": self.hubspot_daily_used,
            },
            "salesforce": {"daily": s.salesforce_daily, "daily_used": self.salesforce_daily_used},
            "refused": dict(self.refused),
        }
