"""A SQLite cache in front of an enrichment provider: answers for ``ttl``, "not found" for ``not_found_ttl``.

Vendors bill per call and firmographics change slowly, so each domain is asked once per TTL. Remembering
"unknown domain" too (negative caching) matters most: small companies are the long tail of inbound leads and
would otherwise cost a call per lead. Errors are never cached: the next lead asks again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import sqlite_utils

from connector.db import Migration, migrate, transaction
from connector.enrichment.local_file import normalize_domain
from connector.enrichment.provider import EnrichmentProvider, Firmographics
from connector.logs import get_logger

COMPONENT = "enrichment"
MIGRATIONS = (
    Migration(
        1,
        "enrichment cache: provider answers by domain, with expiry (found = 0 caches 'not found')",
        """
        CREATE TABLE enrichment_cache (
            provider TEXT NOT NULL,
            domain TEXT NOT NULL,
            found INTEGER NOT NULL,
            company TEXT,
            country TEXT,
            employees INTEGER,
            industry TEXT,
            fetched_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            PRIMARY KEY (provider, domain)
        );
        CREATE INDEX enrichment_cache_expiry ON enrichment_cache (expires_at);
        """,
    ),
)
_DAY = 86_400.0

log = get_logger("leadrelay.enrichment")


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create or upgrade the enrichment tables (idempotent)."""
    migrate(db, COMPONENT, MIGRATIONS)


class CachedProvider:
    """An ``EnrichmentProvider`` that answers from SQLite while fresh and asks ``provider`` otherwise."""

    def __init__(
        self,
        provider: EnrichmentProvider,
        db: sqlite_utils.Database,
        *,
        ttl_days: float,
        not_found_ttl_days: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._provider = provider
        self._db = db
        self._ttl = ttl_days * _DAY
        self._not_found_ttl = not_found_ttl_days * _DAY
        self._clock = clock
        self._lock = threading.Lock()  # one sqlite connection shared by worker threads
        ensure_schema(db)

    @property
    def name(self) -> str:
        """The wrapped provider's name."""
        return self._provider.name

    def lookup(self, domain: str) -> Firmographics | None:
        """The cached answer for ``domain`` while fresh, else the provider's (then cached); errors propagate."""
        key = normalize_domain(domain)
        hit, cached = self._read(key)
        if hit:
            return cached
        answer = self._provider.lookup(key)
        self._write(key, answer)
        return answer

    def _read(self, domain: str) -> tuple[bool, Firmographics | None]:
        with self._lock:
            row = self._db.conn.execute(
                "SELECT found, company, country, employees, industry FROM enrichment_cache"
                " WHERE provider = ? AND domain = ? AND expires_at > ?",
                (self.name, domain, self._clock()),
            ).fetchone()
        if row is None:
            return False, None
        found, company, country, employees, industry = row
        log.debug("enrichment_cache_hit", provider=self.name, domain=domain, found=bool(found))
        return True, Firmographics(company, country, employees, industry) if found else None

    def _write(self, domain: str, answer: Firmographics | None) -> None:
        now = self._clock()
        expires = now + (self._ttl if answer is not None else self._not_found_ttl)
        known = answer or Firmographics()
        with self._lock, transaction(self._db) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO enrichment_cache (provider, domain, found, company, country, employees,"
                " industry, fetched_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self.name,
                    domain,
                    int(answer is not None),
                    known.company,
                    known.country,
                    known.employees,
                    known.industry,
                    now,
                    expires,
                ),
            )

    def purge_expired(self) -> int:
        """Delete expired rows; returns how many went."""
        with self._lock, transaction(self._db) as conn:
            return conn.execute("DELETE FROM enrichment_cache WHERE expires_at <= ?", (self._clock(),)).rowcount
