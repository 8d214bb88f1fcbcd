"""What counts as a lead waiting for routing, and the pipeline's own bookkeeping (component ``pipeline``).

A person is waiting when it is new (created after leadrelay first ran, unless ``route_existing``), not yet handled,
and unowned, owned by a queue, or owned by one of the configured intake owners. Every person the pipeline looks at
ends in ``pipeline_leads`` with a status (routed, nurture, skipped, failed) and a reason, so nothing is silently
dropped and nothing is routed twice.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping
from typing import Literal

import sqlite_utils

from connector.config.pipeline import PipelineConfig
from connector.db import Migration, migrate
from connector.models import Lead, Owner

COMPONENT = "pipeline"
Status = Literal["routed", "nurture", "skipped", "failed"]

MIGRATIONS = (
    Migration(
        1,
        "pipeline state and per-lead outcomes",
        """
        CREATE TABLE pipeline_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE pipeline_leads (
            lead_id TEXT PRIMARY KEY,
            status TEXT NOT NULL CHECK (status IN ('routed', 'nurture', 'skipped', 'failed')),
            reason TEXT NOT NULL,
            decision_id TEXT,
            seen_ms INTEGER NOT NULL,
            lead_created_ms INTEGER NOT NULL DEFAULT 0,
            handled_ms INTEGER NOT NULL
        );
        CREATE INDEX pipeline_leads_status ON pipeline_leads (status, handled_ms);
        """,
    ),
)


def install(db: sqlite_utils.Database) -> None:
    """Create or upgrade the pipeline's tables."""
    migrate(db, COMPONENT, MIGRATIONS)


def get_state(db: sqlite_utils.Database, key: str) -> str | None:
    """A value of the pipeline's key-value state, or None."""
    row = db.conn.execute("SELECT value FROM pipeline_state WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_state(conn: sqlite3.Connection, key: str, value: str) -> None:
    """Set a state value (inside the caller's transaction)."""
    conn.execute(
        "INSERT INTO pipeline_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def go_live_ms(db: sqlite_utils.Database) -> int:
    """When leadrelay first routed in this database: people created before it are not new leads."""
    value = get_state(db, "go_live_ms")
    if value is None:
        now = int(time.time() * 1000)
        db.conn.execute("INSERT OR IGNORE INTO pipeline_state (key, value) VALUES ('go_live_ms', ?)", (str(now),))
        value = get_state(db, "go_live_ms")
    return int(value or 0)


def handled(db: sqlite_utils.Database, lead_ids: list[str]) -> set[str]:
    """Which of ``lead_ids`` the pipeline has already dealt with."""
    found: set[str] = set()
    for start in range(0, len(lead_ids), 500):
        part = lead_ids[start : start + 500]
        marks = ",".join("?" * len(part))
        found.update(
            row[0] for row in db.conn.execute(f"SELECT lead_id FROM pipeline_leads WHERE lead_id IN ({marks})", part)
        )
    return found


def waiting_reason(lead: Lead, owners: Mapping[str, Owner], config: PipelineConfig, go_live: int) -> tuple[bool, str]:
    """Whether ``lead`` waits for routing, and why (or why not)."""
    if not config.route_existing and lead.created_ms and lead.created_ms < go_live:
        return False, "created before leadrelay went live (pipeline.route_existing is off)"
    if lead.owner_key is None:
        return True, "no owner yet"
    if lead.owner_key in config.intake_owners:
        return True, f"owned by intake owner {lead.owner_key}"
    owner = owners.get(lead.owner_key)
    if owner is not None and owner.is_queue and config.route_queue_owned:
        return True, f"owned by queue {owner.name}"
    return False, f"already owned by {lead.owner_key}"


def mark(
    conn: sqlite3.Connection,
    lead: Lead,
    status: Status,
    reason: str,
    *,
    decision_id: str | None = None,
    now_ms: int,
) -> None:
    """Record what the pipeline did with ``lead`` (inside the caller's transaction)."""
    conn.execute(
        "INSERT INTO pipeline_leads (lead_id, status, reason, decision_id, seen_ms, lead_created_ms, handled_ms)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(lead_id) DO UPDATE SET status = excluded.status,"
        " reason = excluded.reason, decision_id = excluded.decision_id, handled_ms = excluded.handled_ms",
        (lead.id, status, reason[:2000], decision_id, now_ms, lead.created_ms, now_ms),
    )


def outcome_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """How many leads ended in each status."""
    return {str(s): int(n) for s, n in db.conn.execute("SELECT status, COUNT(*) FROM pipeline_leads GROUP BY status")}
