"""The daemon's heartbeat and per-CRM sync status, in SQLite so ``/readyz`` and operators can read them.

One ``daemon_heartbeat`` row says which process runs the loop and when the loop last turned; one
``daemon_crm_status`` row per CRM says when it last synced successfully and the last error.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass

import sqlite_utils

from connector.db import Migration, migrate, transaction

COMPONENT = "daemon"
MIGRATIONS = (
    Migration(
        1,
        "daemon heartbeat and CRM sync status",
        """
        CREATE TABLE daemon_heartbeat (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            pid INTEGER NOT NULL,
            started_at REAL NOT NULL,
            turned_at REAL NOT NULL,
            turns INTEGER NOT NULL
        );
        CREATE TABLE daemon_crm_status (
            crm TEXT PRIMARY KEY,
            last_ok_at REAL,
            last_attempt_at REAL NOT NULL,
            last_error TEXT
        );
        """,
    ),
)


@dataclass(frozen=True)
class Heartbeat:
    """When the loop of process ``pid`` started and last turned, and how many turns it made."""

    pid: int
    started_at: float
    turned_at: float
    turns: int


@dataclass(frozen=True)
class CrmStatus:
    """A CRM's last successful sync (epoch seconds, None: never) and the last error (None after a success)."""

    crm: str
    last_ok_at: float | None
    last_attempt_at: float
    last_error: str | None


def install(db: sqlite_utils.Database) -> None:
    """Create or upgrade the daemon's tables."""
    migrate(db, COMPONENT, MIGRATIONS)


def beat(db: sqlite_utils.Database, *, started_at: float, turns: int, now: float | None = None) -> None:
    """Record that the loop turned (one small upsert; cheap enough for every turn)."""
    at = time.time() if now is None else now
    db.conn.execute(
        "INSERT INTO daemon_heartbeat (id, pid, started_at, turned_at, turns) VALUES (1, ?, ?, ?, ?)"
        " ON CONFLICT(id) DO UPDATE SET pid = excluded.pid, started_at = excluded.started_at,"
        " turned_at = excluded.turned_at, turns = excluded.turns",
        (os.getpid(), started_at, at, turns),
    )


def last_beat(db: sqlite_utils.Database) -> Heartbeat | None:
    """The heartbeat row, or None before the loop first turned."""
    row = db.conn.execute("SELECT pid, started_at, turned_at, turns FROM daemon_heartbeat WHERE id = 1").fetchone()
    return None if row is None else Heartbeat(int(row[0]), float(row[1]), float(row[2]), int(row[3]))


def record_sync(db: sqlite_utils.Database, crm: str, error: str | None, *, now: float | None = None) -> None:
    """Record a sync attempt of ``crm``: a success (``error`` None) moves ``last_ok_at``."""
    at = time.time() if now is None else now
    with transaction(db) as conn:
        _upsert(conn, crm, at, error)


def _upsert(conn: sqlite3.Connection, crm: str, at: float, error: str | None) -> None:
    conn.execute(
        "INSERT INTO daemon_crm_status (crm, last_ok_at, last_attempt_at, last_error) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(crm) DO UPDATE SET last_attempt_at = excluded.last_attempt_at,"
        " last_error = excluded.last_error,"
        " last_ok_at = COALESCE(excluded.last_ok_at, daemon_crm_status.last_ok_at)",
        (crm, None if error else at, at, error[:500] if error else None),
    )


def crm_status(db: sqlite_utils.Database) -> dict[str, CrmStatus]:
    """Each CRM's sync status (empty before the first sync; also before the daemon's tables exist)."""
    try:
        rows = db.conn.execute("SELECT crm, last_ok_at, last_attempt_at, last_error FROM daemon_crm_status").fetchall()
    except sqlite3.OperationalError:
        return {}
    return {
        str(crm): CrmStatus(str(crm), None if ok is None else float(ok), float(attempt), err)
        for crm, ok, attempt, err in rows
    }
