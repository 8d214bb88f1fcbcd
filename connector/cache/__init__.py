"""The SQLite cache: the router's single view of each lead, its account and owners, kept current by ``sync``.

``open_cache(path)`` connects and migrates; ``queries`` reads models out, ``writes`` is what the sync engine uses.
"""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from connector.cache.queries import (
    PersonChange,
    account_by_id,
    accounts_by_domain,
    iter_accounts,
    iter_owners,
    iter_people,
    latest_change_seq,
    live_counts,
    owner_by_key,
    people_by_email,
    people_changed_since,
    person_by_email,
    person_by_id,
)
from connector.cache.schema import migrate_cache
from connector.db import connect


def open_cache(path: str | Path) -> sqlite_utils.Database:
    """Open the database at ``path`` (WAL, foreign keys on) with the cache tables migrated."""
    db = connect(path)
    migrate_cache(db)
    return db


__all__ = [
    "PersonChange",
    "account_by_id",
    "accounts_by_domain",
    "iter_accounts",
    "iter_owners",
    "iter_people",
    "latest_change_seq",
    "live_counts",
    "migrate_cache",
    "open_cache",
    "owner_by_key",
    "people_by_email",
    "people_changed_since",
    "person_by_email",
    "person_by_id",
]
