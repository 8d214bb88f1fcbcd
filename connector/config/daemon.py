"""Config section: the long-running daemon (``leadrelay run``): its HTTP listener, webhooks, routing API, schedules.

Secrets (the HubSpot app's client secret, API keys) come from ``${ENV}`` or ``${file:...}`` references and are typed
as ``SecretStr`` so they never reach a log line.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WebhooksConfig(_Section):
    """``POST /webhooks/hubspot``: HubSpot v3-signed webhook deliveries."""

    enabled: bool = Field(default=False, description="Off until the HubSpot app's client secret is configured.")
    client_secret: SecretStr | None = Field(default=None, description="The HubSpot app's client secret (signing key).")
    max_age_s: float = Field(default=300.0, gt=0, description="HubSpot's rule: reject timestamps older than 5 minutes.")
    max_body_bytes: int = Field(
        default=1_000_000, ge=1024, description="100 events of a few hundred bytes each fit with a wide margin."
    )

    @model_validator(mode="after")
    def _secret_when_enabled(self) -> WebhooksConfig:
        if self.enabled and not (self.client_secret and self.client_secret.get_secret_value()):
            raise ValueError("webhooks are enabled but client_secret is empty (set the HubSpot app's client secret)")
        return self


class RouteApiConfig(_Section):
    """``POST /v1/route``: route a lead on demand."""

    enabled: bool = Field(default=False, description="Off until at least one API key is configured.")
    api_keys: tuple[SecretStr, ...] = Field(default=(), description="Accepted keys, e.g. [${LEADRELAY_API_KEY}].")
    requests_per_second: float = Field(default=20.0, gt=0, description="Per key: a web form's burst, not a scraper.")
    burst: int = Field(default=40, ge=1, description="Requests a key may send at once before the rate applies.")
    max_body_bytes: int = Field(default=65_536, ge=1024, description="A lead is a few hundred bytes.")

    @model_validator(mode="after")
    def _keys_when_enabled(self) -> RouteApiConfig:
        if self.enabled and not any(key.get_secret_value() for key in self.api_keys):
            raise ValueError('the route API is enabled but api_keys is empty (e.g. ["${LEADRELAY_API_KEY}"])')
        return self


class ReadinessConfig(_Section):
    """What ``/readyz`` demands."""

    crm_silence_s: float = Field(
        default=900.0, gt=0, description="A CRM not synced successfully for this long counts as unreachable."
    )
    outbox_stuck_s: float = Field(
        default=900.0, gt=0, description="The oldest due outbox item older than this means delivery is stuck."
    )


class DaemonConfig(_Section):
    """The daemon's listener, public URL, schedules and endpoints."""

    host: str = Field(default="0.0.0.0", description="Listen on every interface: the container publishes the port.")  # noqa: S104
    port: int = Field(default=8080, ge=0, le=65535, description="The Dockerfile EXPOSEs 8080.")
    public_base_url: str | None = Field(
        default=None,
        description="The URL HubSpot calls, e.g. https://leadrelay.example.com (behind a proxy the Host differs; "
        "the webhook signature covers the full public URL). None: the request's own URL.",
    )
    idle_wait_s: float = Field(default=1.0, gt=0, le=60, description="Longest sleep between loop turns when idle.")
    reconcile_at: str = Field(
        default="03:00", description="Nightly full reconcile (UTC, HH:MM), when CRM traffic and budgets are low."
    )
    watch_config: bool = Field(default=True, description="Reload the rule file when it changes (validated first).")
    webhooks: WebhooksConfig = Field(default_factory=WebhooksConfig)
    route_api: RouteApiConfig = Field(default_factory=RouteApiConfig)
    readiness: ReadinessConfig = Field(default_factory=ReadinessConfig)

    @field_validator("reconcile_at")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError("expected a UTC time of day as HH:MM, e.g. 03:00")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _base(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("expected an absolute http(s) URL such as https://leadrelay.example.com")
        return value.rstrip("/") if value else value
