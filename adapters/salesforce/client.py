"""Building simple-salesforce and the pacing for one org from ``SalesforceConfig``."""

from __future__ import annotations

from typing import Any

from adapters.salesforce.errors import HeaderRecordingSession
from connector.config.crm import SalesforceConfig
from connector.ratelimit import CrmLimiter, DailyBudget, SlidingWindow, unlimited


def build_session(config: SalesforceConfig) -> HeaderRecordingSession:
    """A session that keeps answer headers and trusts ``ca_bundle`` when one is configured (the sandbox's CA)."""
    session = HeaderRecordingSession()
    if config.ca_bundle is not None:
        session.verify = str(config.ca_bundle)
        # requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override session.verify; an explicit bundle must win.
        session.trust_env = False
    return session


def build_client(config: SalesforceConfig, session: HeaderRecordingSession) -> Any:
    """A ``simple_salesforce.Salesforce`` from a session id + instance URL, or the username/password flow."""
    from simple_salesforce import Salesforce

    secret = _secret
    if config.access_token is not None:
        return Salesforce(
            instance_url=config.instance_url,
            session_id=secret(config.access_token),
            session=session,
            version=config.api_version,
        )
    return Salesforce(
        username=config.username,
        password=secret(config.password),
        security_token=secret(config.security_token) or "",
        consumer_key=config.consumer_key,
        consumer_secret=secret(config.consumer_secret),
        domain=config.domain,
        instance_url=config.instance_url,
        session=session,
        version=config.api_version,
    )


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def build_limiter(config: SalesforceConfig) -> CrmLimiter:
    """The org's daily budget (limit learned from ``Sforce-Limit-Info``) and optional per-second pacing."""
    if not config.limits_enabled:
        return unlimited("salesforce")
    budget = DailyBudget("salesforce", config.daily_limit, config.daily_read_share)
    windows = {}
    if config.requests_per_second:
        windows["default"] = SlidingWindow(max(1, round(config.requests_per_second)), 1.0)
    return CrmLimiter("salesforce", budget, windows)
