"""Building the ``Enricher`` a deployment's config describes (the one place the HTTP adapter is imported)."""

from __future__ import annotations

import sqlite_utils

from connector.config.enrichment import EnrichmentConfig
from connector.enrichment.cache import CachedProvider
from connector.enrichment.enrich import Enricher
from connector.enrichment.local_file import FirmographicsFile
from connector.enrichment.provider import EnrichmentProvider


def build_enricher(config: EnrichmentConfig, db: sqlite_utils.Database) -> Enricher:
    """An Enricher for ``config``: the file loaded now (ConfigError if unreadable), the provider cached in ``db``."""
    if not config.enabled:
        return Enricher(fields=())
    local = FirmographicsFile(config.firmographics_file) if config.firmographics_file else None
    provider: EnrichmentProvider | None = None
    if config.provider is not None:
        from adapters.enrich.http_provider import HttpEnrichmentProvider  # the core stays free of requests

        provider = CachedProvider(
            HttpEnrichmentProvider(config.provider),
            db,
            ttl_days=config.provider.cache_ttl_days,
            not_found_ttl_days=config.provider.not_found_ttl_days,
        )
    return Enricher(
        fields=config.fields,
        firmographics_file=local,
        provider=provider,
        personal_domains=config.personal_email_domains,
    )
