"""What any firmographics source answers (``Firmographics``) and the small protocol an enrichment provider implements.

The core never imports a vendor's client: ``adapters/enrich`` implements ``EnrichmentProvider`` and the core
only calls ``lookup``. Providers raise errors from ``connector.errors`` (RetriableError / FatalError).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Protocol, runtime_checkable

from connector.enrichment.values import normalize_field


@dataclass(frozen=True)
class Firmographics:
    """What a source knows about a company; field names match ``Lead``'s (None: not known)."""

    company: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2
    employees: int | None = None
    industry: str | None = None

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> Firmographics:
        """Normalized firmographics from loosely typed values ("Germany", "1,200", "51-200", ...)."""
        return cls(**{f.name: normalize_field(f.name, raw.get(f.name)) for f in fields(cls)})

    @property
    def empty(self) -> bool:
        """True when no field is known."""
        return all(getattr(self, f.name) is None for f in fields(self))

    def value(self, field: str) -> Any:
        """The value of ``field`` (company, country, employees or industry)."""
        return getattr(self, field)


@runtime_checkable
class EnrichmentProvider(Protocol):
    """A source of firmographics keyed by company domain, usually a vendor's API."""

    @property
    def name(self) -> str:
        """Short name, used in cache rows and in ``FilledField.source`` ("provider:<name>")."""
        ...

    def lookup(self, domain: str) -> Firmographics | None:
        """Firmographics of the company at ``domain``, or None when the provider does not know it.

        Raises RetriableError when the provider could not answer now, FatalError when it never will.
        """
        ...
