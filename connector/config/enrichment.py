"""Config section: Filling missing firmographics: local file and HTTP provider.

Example::

    enrichment:
      firmographics_file: data/firmographics.csv
      provider:
        url_template: "https://api.example-enrich.com/v2/companies/find?domain={domain}"
        token: ${ENRICH_API_TOKEN}
        field_map: {company: name, country: geo.countryCode, employees: metrics.employees, industry: category.industry}
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

EnrichableField = Literal["company", "country", "employees", "industry"]
ENRICHABLE_FIELDS: tuple[EnrichableField, ...] = ("company", "country", "employees", "industry")

# Webmail domains say nothing about an employer: looking them up would enrich a student with Google's headcount.
DEFAULT_PERSONAL_DOMAINS: tuple[str, ...] = (
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.ru",
    "yandex.ru",
    "qq.com",
    "163.com",
)


# The Clearbit-style response shape, the one most vendors copy.
CLEARBIT_STYLE_FIELDS: dict[EnrichableField, str] = {
    "company": "name",
    "country": "geo.countryCode",
    "employees": "metrics.employees",
    "industry": "category.industry",
}


class HttpProviderConfig(BaseModel):
    """A generic JSON-over-HTTP enrichment provider (one GET per company domain)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="http", description="Names the provider in cache rows and in FilledField.source.")
    url_template: str = Field(
        description="GET URL with a {domain} placeholder, e.g. https://x/companies?domain={domain}."
    )
    auth_header: str = Field(
        default="Authorization", description="Header carrying the token (Authorization, X-Api-Key)."
    )
    auth_prefix: str = Field(default="Bearer ", description="Put before the token in the header; '' for raw API keys.")
    token: SecretStr | None = Field(default=None, description="The API token; use ${ENV} or ${file:...}, never inline.")
    field_map: dict[EnrichableField, str] = Field(
        default_factory=lambda: dict(CLEARBIT_STYLE_FIELDS),
        description="Lead field -> dotted path into the JSON answer.",
    )
    timeout_seconds: float = Field(default=5.0, gt=0, description="Per request; a slow vendor must not stall routing.")
    max_attempts: int = Field(default=3, ge=1, le=10, description="Tries per lookup, the first one included.")
    backoff_initial_seconds: float = Field(default=0.5, ge=0, description="First retry wait; doubles, with jitter.")
    backoff_max_seconds: float = Field(default=10.0, ge=0, description="Cap on one wait between tries.")
    backoff_jitter_seconds: float = Field(default=0.5, ge=0, description="Random extra wait, so clients desync.")
    max_retry_after_seconds: float = Field(
        default=30.0, ge=0, description="A Retry-After longer than this gives up now instead of holding a lead."
    )
    requests_per_second: float = Field(default=5.0, gt=0, description="Client-side rate limit; vendors bill per call.")
    burst: int = Field(default=5, ge=1, description="Requests allowed back-to-back before the rate limit applies.")
    cache_ttl_days: float = Field(
        default=30.0, ge=0, description="Firmographics change slowly; a month is fresh enough."
    )
    not_found_ttl_days: float = Field(
        default=7.0, ge=0, description="How long 'provider does not know this domain' is remembered (negative cache)."
    )

    @field_validator("token", mode="before")
    @classmethod
    def _blank_token_is_none(cls, value: object) -> object:
        # "${ENRICH_API_TOKEN:-}" resolves to "" when unset: send no auth header rather than "Bearer ".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("url_template")
    @classmethod
    def _has_domain_placeholder(cls, value: str) -> str:
        if "{domain}" not in value:
            raise ValueError("must contain the {domain} placeholder")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        try:
            value.format(domain="example.com", token="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError("only the {domain} and {token} placeholders may appear (write {{ }} for braces)") from exc
        return value


class EnrichmentConfig(BaseModel):
    """Filling missing firmographics: local file and HTTP provider."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="Off: leads are scored with what the CRM holds.")
    fields: tuple[EnrichableField, ...] = Field(
        default=ENRICHABLE_FIELDS, description="Which missing lead fields may be filled (all four by default)."
    )
    firmographics_file: Path | None = Field(
        default=None,
        description="CSV keyed by domain (columns: domain, company, country, employees, industry); reloaded on change.",
    )
    personal_email_domains: tuple[str, ...] = Field(
        default=DEFAULT_PERSONAL_DOMAINS,
        description="Email domains never looked up: webmail says nothing of a company.",
    )
    provider: HttpProviderConfig | None = Field(default=None, description="Optional HTTP provider, asked last.")
