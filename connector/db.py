"""Opening leadrelay's SQLite database (WAL, foreign keys) and applying versioned schema migrations.

Each part of the core owns its tables and registers them as a *component* with an ordered list of
migrations (``Migration``). ``migrate`` applies, in one transaction per step, every migration a
component has not yet seen and records it in ``schema_migrations``. Components never touch each
other's tables, so parts can evolve independently without one shared, conflict-prone migration list.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

BUSY_TIMEOUT_MS = 10_000  # a daemon and a CLI command may share the file; wait rather than fail


@dataclass(frozen=True)
class Migration:
    """One schema step: ``version`` (1, 2, ...) and either SQL (run as a script) or a callable."""

    version: int
    description: str
    apply: str | Callable[[sqlite3.Connection], None]


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) the database at ``path`` with WAL, foreign keys and a busy timeout."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL survives process crashes (kill -9)
    conn.execute("PRAGMA foreign_keys = ON")
    return sqlite_utils.Database(conn)


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception: the unit of crash safety."""
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _ensure_registry(db: sqlite_utils.Database) -> None:
    db.conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " component TEXT NOT NULL, version INTEGER NOT NULL, description TEXT NOT NULL,"
        " applied_at REAL NOT NULL, PRIMARY KEY (component, version))"
    )


def schema_version(db: sqlite_utils.Database, component: str) -> int:
    """The highest migration version applied for ``component`` (0 when none)."""
    _ensure_registry(db)
    row = db.conn.execute(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE component = ?", (component,)
    ).fetchone()
    return int(row[0])


def migrate(db: sqlite_utils.Database, component: str, migrations: Sequence[Migration]) -> int:
    """Apply every pending migration of ``component`` in order; returns the resulting version."""
    versions = [m.version for m in migrations]
    if versions != sorted(set(versions)) or (versions and versions[0] < 1):
        raise ValueError(f"migrations of {component!r} must have strictly increasing versions from 1")
    current = schema_version(db, component)
    for step in migrations:
        if step.version <= current:
            continue
        with transaction(db) as conn:
            if isinstance(step.apply, str):
                for statement in _split_sql(step.apply):
                    conn.execute(statement)
            else:
                step.apply(conn)
            conn.execute(
                "INSERT INTO schema_migrations (component, version, description, applied_at) VALUES (?, ?, ?, ?)",
                (component, step.version, step.description, time.time()),
            )
        current = step.version
    return current


def _split_sql(script: str) -> list[str]:
    """Split a migration script into statements (executescript would COMMIT our transaction)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
