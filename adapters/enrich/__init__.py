"""Enrichment provider adapters: implementations of ``connector.enrichment.EnrichmentProvider``."""

from adapters.enrich.http_provider import HttpEnrichmentProvider
from adapters.enrich.rate_limit import TokenBucket
from adapters.enrich.retry import RetryPolicy

__all__ = ["HttpEnrichmentProvider", "RetryPolicy", "TokenBucket"]
