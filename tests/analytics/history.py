"""A hand-made routing history written straight into the tables analytics reads (fast, every value known)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

MON = int(datetime(2026, 11, 2, tzinfo=UTC).timestamp() * 1000)  # a Monday, 00:00 UTC
HOUR = 3_600_000
DAY = 24 * HOUR
QUEUE = "queue:hubspot:900"


class History:
    """Writes people, decisions, pipeline outcomes and touches the way the pipeline and sync would."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.seq = 0

    def person(self, lead_id: str, *, created_ms: int, source: str | None = None, **extra: Any) -> None:
        """A synced person (properties as raw CRM values)."""
        crm, obj, native = lead_id.split(":", 2)
        self.seq += 1
        row = {
            "id": lead_id, "crm": crm, "object": obj, "native_id": native, "source": source,
            "properties": json.dumps(extra.pop("properties", {})), "created_ms": created_ms,
            "modified_ms": extra.pop("modified_ms", created_ms), "content_hash": "x", "change_seq": self.seq,
            "created_seq": self.seq, "synced_ms": created_ms, **extra,
        }  # fmt: skip
        self.db["cache_people"].insert(row, replace=True)

    def owner(self, crm: str, native_id: str, key: str) -> None:
        """A synced CRM owner / user."""
        self.seq += 1
        self.db["cache_owners"].insert(
            {"id": f"{crm}:owners:{native_id}", "crm": crm, "object": "owners", "native_id": native_id, "key": key,
             "email": key, "name": key, "active": 1, "modified_ms": 1, "content_hash": "x", "change_seq": self.seq,
             "created_seq": self.seq, "synced_ms": 1},
        )  # fmt: skip

    def account(self, account_id: str, **flags: Any) -> None:
        """A synced account."""
        crm, obj, native = account_id.split(":", 2)
        self.seq += 1
        self.db["cache_accounts"].insert(
            {"id": account_id, "crm": crm, "object": obj, "native_id": native, "name": native, "modified_ms": 1,
             "content_hash": "x", "change_seq": self.seq, "created_seq": self.seq, "synced_ms": 1, **flags},
            replace=True,
        )  # fmt: skip

    def routed(
        self,
        lead_id: str,
        *,
        at_ms: int,
        owner: str,
        rule: str | None = None,
        pool: str | None = None,
        fallback: bool = False,
        match: str | None = "domain",
        properties: dict[str, Any] | None = None,
        created_ms: int = 0,
    ) -> str:
        """A logged decision and the pipeline's 'routed' row pointing at it; returns the decision id."""
        crm = lead_id.split(":", 1)[0]
        lead = {"id": lead_id, "crm": crm, "properties": properties or {}}
        payload = {"input": {"lead": lead, "match_method": match}}
        self.db.conn.execute(
            "INSERT INTO routing_decisions (lead_id, stage, decided_at_ms, owner, step, rule, pool, final_fallback,"
            " config_version, payload) VALUES (?, 'sdr', ?, ?, 'rules', ?, ?, ?, 'v1', ?)",
            (lead_id, at_ms, owner, rule, pool, int(fallback), json.dumps(payload)),
        )
        decision_id = uuid.uuid4().hex
        self.db.conn.execute(
            "INSERT INTO pipeline_leads (lead_id, status, reason, decision_id, seen_ms, lead_created_ms, handled_ms)"
            " VALUES (?, 'routed', 'test', ?, ?, ?, ?) ON CONFLICT(lead_id) DO UPDATE SET"
            " decision_id = excluded.decision_id, handled_ms = excluded.handled_ms",
            (lead_id, decision_id, at_ms, created_ms, at_ms),
        )
        return decision_id

    def touched(self, lead_id: str, decision_id: str, *, owner: str, assigned_ms: int, at_ms: int) -> None:
        """A first touch already detected."""
        self.db.conn.execute(
            "INSERT INTO analytics_touches (decision_id, lead_id, owner, assigned_ms, first_touch_ms, signal)"
            " VALUES (?, ?, ?, ?, ?, 'test')",
            (decision_id, lead_id, owner, assigned_ms, at_ms),
        )
