"""A small cache world with one instance of every continuity problem (and near misses that are not problems)."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlite_utils

from connector.cache.schema import migrate_cache
from connector.db import connect

NOW = int(time.time() * 1000)  # the CLI audits at the real clock: the world is built around it
HOUR = 3_600_000


class World:
    """Writes cache rows directly (what the sync would have stored)."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.seq = itertools.count(1)

    def _book(self, created_ms: int = NOW - 1000 * HOUR) -> dict[str, Any]:
        n = next(self.seq)
        return {"created_ms": created_ms, "modified_ms": created_ms, "content_hash": "x", "change_seq": n,
                "created_seq": n, "synced_ms": NOW}  # fmt: skip

    def owner(self, crm: str, native: str, key: str, *, active: bool = True, queue: bool = False) -> None:
        """A HubSpot owner / Salesforce user or queue."""
        self.db["cache_owners"].insert(
            {"id": f"{crm}:owners:{native}", "crm": crm, "object": "owners", "native_id": native, "key": key,
             "email": None if queue else key, "name": key, "active": int(active), "is_queue": int(queue),
             **self._book()},
        )  # fmt: skip

    def account(self, native: str, owner: str | None, crm: str = "hubspot") -> str:
        """A company / Account; returns its cache id."""
        rid = f"{crm}:{'companies' if crm == 'hubspot' else 'Account'}:{native}"
        self.db["cache_accounts"].insert(
            {"id": rid, "crm": crm, "object": rid.split(":")[1], "native_id": native, "name": f"Acme {native}",
             "owner_native_id": owner, **self._book()},
        )  # fmt: skip
        return rid

    def person(
        self, rid: str, owner: str | None, *, account: str | None = None, email: str | None = None,
        age_hours: int = 1000, **properties: Any,
    ) -> None:  # fmt: skip
        """A contact / Lead owned by native id ``owner``."""
        crm, obj, native = rid.split(":", 2)
        self.db["cache_people"].insert(
            {"id": rid, "crm": crm, "object": obj, "native_id": native, "email": email or f"{native}@ex.com",
             "first_name": "P", "last_name": native, "owner_native_id": owner, "account_id": account,
             "properties": json.dumps(properties), **self._book(NOW - age_hours * HOUR)},
        )  # fmt: skip


@pytest.fixture
def db(tmp_path) -> Iterator[sqlite_utils.Database]:
    """An empty cache."""
    database = connect(tmp_path / "audit.sqlite")
    migrate_cache(database)
    yield database
    database.conn.close()


@pytest.fixture
def world(db) -> World:
    """The audit world (see test_continuity's table)."""
    w = World(db)
    w.owner("hubspot", "1", "alice@x.io")
    w.owner("hubspot", "2", "bob@x.io")
    w.owner("hubspot", "3", "carol@x.io", active=False)
    w.owner("hubspot", "9", "queue:hubspot:9", queue=True)
    w.owner("salesforce", "005A", "alice@x.io")
    w.owner("salesforce", "005D", "dave@x.io")
    a1, a2, a3 = w.account("A1", "1"), w.account("A2", "3"), w.account("A3", "1")
    w.person("hubspot:contacts:P1", "1", account=a1)
    w.person("hubspot:contacts:P2", "2", account=a1)
    w.person("hubspot:contacts:P3", "2", account=a2)
    w.person("hubspot:contacts:P4", "2", account=a2)
    w.person("hubspot:contacts:P5", "3", account=a3)
    w.person("hubspot:contacts:P6", None, age_hours=48, lifecyclestage="lead")
    w.person("hubspot:contacts:P7", "9", age_hours=30)
    w.person("hubspot:contacts:P8", None, age_hours=2)
    w.person("hubspot:contacts:P9", None, age_hours=48, lifecyclestage="customer")
    w.person("hubspot:contacts:P10", "77")
    w.person("hubspot:contacts:P11", "1", email="m@y.com")
    w.person("salesforce:Lead:S1", "005D", email="m@y.com")
    w.person("hubspot:contacts:P12", "2", email="n@y.com")
    w.person("salesforce:Lead:S2", "005A", email="n@y.com")
    w.person("salesforce:Lead:S3", None, age_hours=48, IsConverted=True)
    return w
