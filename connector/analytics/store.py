"""The analytics tables (component ``analytics``): first touches, SLA state per lead and the reassignment log.

``analytics_touches`` holds one row per routing decision that has been touched (the first touch of that owner);
``analytics_sla`` the SLA state of a lead's current assignment; ``analytics_reassignments`` every re-route the
SLA sweep made, so the reassignment rate is counted from facts rather than inferred.
"""

from __future__ import annotations

import sqlite_utils

from connector.db import Migration, migrate

COMPONENT = "analytics"

MIGRATIONS = (
    Migration(
        1,
        "first touches, SLA state, reassignments",
        """
        CREATE TABLE analytics_touches (
            decision_id TEXT PRIMARY KEY,
            lead_id TEXT NOT NULL,
            owner TEXT NOT NULL,
            assigned_ms INTEGER NOT NULL,
            first_touch_ms INTEGER NOT NULL,
            signal TEXT NOT NULL
        );
        CREATE INDEX analytics_touches_lead ON analytics_touches (lead_id);
        CREATE TABLE analytics_sla (
            decision_id TEXT PRIMARY KEY,
            lead_id TEXT NOT NULL,
            owner TEXT NOT NULL,
            deadline_ms INTEGER NOT NULL,
            reminded_ms INTEGER,
            outcome TEXT,
            settled_ms INTEGER
        );
        CREATE INDEX analytics_sla_lead ON analytics_sla (lead_id);
        CREATE TABLE analytics_reassignments (
            id INTEGER PRIMARY KEY,
            lead_id TEXT NOT NULL,
            from_owner TEXT NOT NULL,
            to_owner TEXT NOT NULL,
            from_decision_id TEXT NOT NULL,
            to_decision_id TEXT NOT NULL,
            at_ms INTEGER NOT NULL,
            reason TEXT NOT NULL
        );
        CREATE INDEX analytics_reassignments_lead ON analytics_reassignments (lead_id, at_ms);
        """,
    ),
)


def install(db: sqlite_utils.Database) -> None:
    """Create or upgrade the analytics tables."""
    migrate(db, COMPONENT, MIGRATIONS)
