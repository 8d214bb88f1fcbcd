"""Config section: which CRMs to sync, their credentials, plan limits and sync intervals (owned by sync).

Every default sits beside its field with the reason it is what it is. Secrets are ``SecretStr`` so they never
reach a log line or a repr; reference them from the environment (``${HUBSPOT_TOKEN}``) or a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

HubSpotPlan = Literal["starter", "professional", "enterprise", "addon"]

# HubSpot's published per-app burst (per rolling 10 s) and per-account daily limits, by plan (crm-apis.md).
HUBSPOT_PLAN_LIMITS: dict[str, tuple[int, int]] = {
    "starter": (100, 250_000),
    "professional": (190, 625_000),
    "enterprise": (190, 1_000_000),
    "addon": (250, 1_625_000),
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetryConfig(_Section):
    """How calls that failed transiently are retried (see connector/retry.py)."""

    attempts: int = Field(
        default=5, ge=1, le=20, description="Singer/Airbyte use ~5: enough to ride out a blip, not a storm."
    )
    initial_backoff_s: float = Field(default=0.5, ge=0, description="First wait; doubles each attempt.")
    max_backoff_s: float = Field(
        default=30.0, ge=0, description="Cap so a retry never waits longer than a poll interval."
    )
    jitter_s: float = Field(
        default=0.5, ge=0, description="Random spread so parallel workers do not retry in lockstep."
    )
    max_retry_after_s: float = Field(
        default=120.0,
        ge=0,
        description="A Retry-After longer than this is treated as an outage, not waited out in a call.",
    )


class HubSpotConfig(_Section):
    """One HubSpot portal, reached with a private-app access token."""

    enabled: bool = False
    access_token: SecretStr | None = None
    base_url: str = Field(
        default="https://api.hubapi.com", description="The sandbox's hubspot_url in tests and the demo."
    )
    plan: HubSpotPlan = Field(
        default="professional", description="Sets the burst and daily limits the limiter paces to."
    )
    daily_limit: int | None = Field(
        default=None, ge=1, description="Override the plan's daily limit (e.g. extra add-ons)."
    )
    daily_read_share: float = Field(
        default=0.5, gt=0, le=1, description="Reads stop at this share of the daily budget: the rest is the customer's."
    )
    search_per_second: int = Field(
        default=5, ge=1, description="HubSpot's account-wide search limit (about 4-5/s; answers carry no headers)."
    )
    poll_interval_s: float = Field(
        default=30.0, gt=0, description="Near-real-time without spending much of the budget."
    )
    page_size: int = Field(default=100, ge=1, le=100, description="List endpoints return at most 100 per page.")
    search_page_size: int = Field(default=200, ge=1, le=200, description="Search returns at most 200 per page.")
    overlap_s: float = Field(
        default=60.0,
        ge=0,
        description="Each incremental pass re-reads this far back: search indexing lags a few seconds.",
    )
    request_timeout_s: float = Field(default=30.0, gt=0, description="A stuck socket must not stall the whole sync.")
    limits_enabled: bool = Field(
        default=True, description="Client-side pacing; off only for benchmarks against the sandbox."
    )
    retry: RetryConfig = Field(default_factory=RetryConfig)

    @model_validator(mode="after")
    def _token_when_enabled(self) -> HubSpotConfig:
        if self.enabled and (self.access_token is None or not self.access_token.get_secret_value()):
            raise ValueError("access_token is required when hubspot is enabled")
        return self

    @property
    def burst_limit(self) -> int:
        """Calls allowed per rolling 10-second window on this plan."""
        return HUBSPOT_PLAN_LIMITS[self.plan][0]

    @property
    def daily_budget(self) -> int:
        """Calls allowed per day on this portal."""
        return self.daily_limit or HUBSPOT_PLAN_LIMITS[self.plan][1]


class SalesforceConfig(_Section):
    """One Salesforce org: an instance URL plus a session/access token, OAuth password-flow fields or a refresh
    token."""

    enabled: bool = False
    instance_url: str | None = Field(
        default=None, description="https://yourorg.my.salesforce.com, or the sandbox's URL."
    )
    access_token: SecretStr | None = Field(default=None, description="A session id / OAuth access token.")
    username: str | None = None
    password: SecretStr | None = None
    security_token: SecretStr | None = None
    consumer_key: str | None = None
    consumer_secret: SecretStr | None = None
    refresh_token: SecretStr | None = Field(
        default=None,
        description="OAuth refresh token issued to the connected app (consumer_key/consumer_secret): sessions are "
        "obtained and renewed with it, no password needed; use ${ENV} or ${file:...}, never inline.",
    )
    domain: str | None = Field(default=None, description="'test' for sandboxes orgs; None for login.salesforce.com.")
    ca_bundle: Path | None = Field(default=None, description="PEM CA file to trust (the local sandbox's test CA).")
    api_version: str = Field(default="59.0", pattern=r"^\d+\.\d$", description="A version every current org supports.")
    daily_limit: int | None = Field(
        default=None, ge=1, description="Override; normally read from Sforce-Limit-Info on every answer."
    )
    daily_read_share: float = Field(
        default=0.5, gt=0, le=1, description="Reads stop at this share of the org's daily API budget."
    )
    poll_interval_s: float = Field(default=30.0, gt=0, description="Near-real-time at ~3k calls a day per object.")
    page_size: int = Field(default=2000, ge=200, le=2000, description="SOQL batch size; 2000 is Salesforce's maximum.")
    overlap_s: float = Field(
        default=60.0,
        ge=0,
        description="SystemModstamp is stamped at transaction start; long transactions commit later.",
    )
    request_timeout_s: float = Field(default=30.0, gt=0, description="A stuck socket must not stall the whole sync.")
    requests_per_second: float | None = Field(
        default=None, gt=0, description="Optional pacing; Salesforce has no short-window limit, only the daily budget."
    )
    limits_enabled: bool = Field(
        default=True, description="Daily-budget guard; off only for benchmarks against the sandbox."
    )
    retry: RetryConfig = Field(default_factory=RetryConfig)

    @model_validator(mode="after")
    def _credentials_when_enabled(self) -> SalesforceConfig:
        if not self.enabled:
            return self
        has_token = self.access_token is not None and bool(self.access_token.get_secret_value())
        if has_token and not self.instance_url:
            raise ValueError("instance_url is required with access_token")
        if self.refresh_token is not None and not self.consumer_key:
            raise ValueError(
                "refresh_token needs consumer_key (and consumer_secret) of the connected app it was issued to"
            )
        has_refresh = self.refresh_token is not None and bool(self.refresh_token.get_secret_value())
        if not has_token and not has_refresh and not (self.username and self.password):
            raise ValueError(
                "salesforce needs access_token + instance_url, username + password, or refresh_token + consumer_key"
            )
        return self


class CrmsConfig(_Section):
    """Which CRMs to sync, their credentials, plan limits and sync intervals (owned by sync)."""

    hubspot: HubSpotConfig = Field(default_factory=HubSpotConfig)
    salesforce: SalesforceConfig = Field(default_factory=SalesforceConfig)
    system_of_record: Literal["hubspot", "salesforce"] = Field(
        default="salesforce",
        description="When a person is in both CRMs, whose record wins lookups: sales ownership usually lives in SFDC.",
    )

    @property
    def enabled(self) -> tuple[str, ...]:
        """Names of the enabled CRMs, HubSpot first."""
        pairs = (("hubspot", self.hubspot.enabled), ("salesforce", self.salesforce.enabled))
        return tuple(name for name, on in pairs if on)
