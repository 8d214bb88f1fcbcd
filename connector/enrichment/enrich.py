"""Filling a lead's missing firmographics from the matched account, the local file, then the HTTP provider.

Only empty fields are filled and a value the CRM holds is never overwritten. Each source is asked only for
what is still missing, so the paid provider is called only when the free sources leave a gap. A provider
failure never blocks a lead: it continues with what was filled and the failure is kept on the result.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from connector.config.enrichment import DEFAULT_PERSONAL_DOMAINS, ENRICHABLE_FIELDS
from connector.enrichment.local_file import FirmographicsFile, normalize_domain
from connector.enrichment.provider import EnrichmentProvider, Firmographics
from connector.errors import LeadrelayError
from connector.logs import get_logger
from connector.models import Account, Lead

log = get_logger("leadrelay.enrichment")


@dataclass(frozen=True)
class FilledField:
    """One filled field: ``source`` is "account", "file" or "provider:<name>"."""

    field: str
    value: Any
    source: str


@dataclass(frozen=True)
class Enrichment:
    """The lead with its gaps filled, what was filled from where, and a provider failure if there was one."""

    lead: Lead
    filled: tuple[FilledField, ...] = ()
    provider_error: str | None = None

    def source_of(self, field: str) -> str | None:
        """Where ``field`` was filled from, or None when it was not filled."""
        return next((f.source for f in self.filled if f.field == field), None)


def is_missing(value: Any) -> bool:
    """None and blank strings count as missing; 0 employees is a value."""
    return value is None or (isinstance(value, str) and not value.strip())


class Enricher:
    """Fills missing ``fields`` of leads from an account, a ``FirmographicsFile`` and an ``EnrichmentProvider``."""

    def __init__(
        self,
        *,
        fields: tuple[str, ...] = ENRICHABLE_FIELDS,
        firmographics_file: FirmographicsFile | None = None,
        provider: EnrichmentProvider | None = None,
        personal_domains: tuple[str, ...] = DEFAULT_PERSONAL_DOMAINS,
    ) -> None:
        self.fields = fields
        self.firmographics_file = firmographics_file
        self.provider = provider
        self._personal = frozenset(normalize_domain(d) for d in personal_domains)

    def enrich(self, lead: Lead, account: Account | None = None) -> Enrichment:
        """``lead`` with missing fields filled, in order, from ``account``, the file and the provider."""
        missing = [f for f in self.fields if is_missing(getattr(lead, f))]
        filled: list[FilledField] = []
        if missing and account is not None:
            _take(_from_account(account), "account", missing, filled)
        domain = self.lookup_domain(lead, account) if missing else None
        if missing and domain and self.firmographics_file is not None:
            _take(self.firmographics_file.lookup(domain), "file", missing, filled)
        problem = None
        if missing and domain and self.provider is not None:
            answer, problem = _ask(self.provider, lead, domain)
            _take(answer, f"provider:{self.provider.name}", missing, filled)
        if filled:
            lead = replace(lead, **{f.field: f.value for f in filled})
            log.debug("lead_enriched", lead_id=lead.id, filled=[f"{f.field}<-{f.source}" for f in filled])
        return Enrichment(lead=lead, filled=tuple(filled), provider_error=problem)

    def lookup_domain(self, lead: Lead, account: Account | None) -> str | None:
        """The company domain to look up: the email's unless it is webmail, else the account's."""
        for candidate in (lead.email_domain, account.domain if account else None):
            if candidate:
                domain = normalize_domain(candidate)
                if domain and domain not in self._personal:
                    return domain
        return None


def _ask(provider: EnrichmentProvider, lead: Lead, domain: str) -> tuple[Firmographics | None, str | None]:
    """The provider's answer, or None and the reason it failed."""
    try:
        return provider.lookup(domain), None
    except LeadrelayError as exc:
        # Routing must not stop because a vendor is down or a token expired; say so loudly instead.
        log.warning(
            "enrichment_provider_failed",
            lead_id=lead.id,
            provider=provider.name,
            domain=domain,
            error=type(exc).__name__,
            status=exc.status,
            message=exc.message,
        )
        return None, f"{type(exc).__name__}: {exc.message}"


def _from_account(account: Account) -> Firmographics:
    return Firmographics(
        company=account.name or None, country=account.country, employees=account.employees, industry=account.industry
    )


def _take(source: Firmographics | None, name: str, missing: list[str], filled: list[FilledField]) -> None:
    """Move each still-missing field that ``source`` knows from ``missing`` to ``filled``."""
    if source is None:
        return
    for field in list(missing):
        value = source.value(field)
        if not is_missing(value):
            filled.append(FilledField(field, value, name))
            missing.remove(field)
