"""Enrichment: filling a lead's missing firmographics from its account, a local file and an HTTP provider.

Usage::

    enricher = build_enricher(config.enrichment, db)
    result = enricher.enrich(lead, account)  # Enrichment(lead, filled=(FilledField(...), ...))
"""

from connector.enrichment.cache import CachedProvider
from connector.enrichment.enrich import Enricher, Enrichment, FilledField, is_missing
from connector.enrichment.local_file import FirmographicsFile, normalize_domain
from connector.enrichment.provider import EnrichmentProvider, Firmographics
from connector.enrichment.setup import build_enricher

__all__ = [
    "CachedProvider",
    "Enricher",
    "Enrichment",
    "EnrichmentProvider",
    "FilledField",
    "Firmographics",
    "FirmographicsFile",
    "build_enricher",
    "is_missing",
    "normalize_domain",
]
