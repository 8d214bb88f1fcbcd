"""The routing tables (component "routing"): the decision log, the fairness ledger and the cap counters.

Decisions are kept indefinitely unless ``routing.decision_retention_days`` says otherwise; each row holds the
whole decision (inputs, trace, reads, delta) so it can be explained and replayed without a CRM. The ledger tables
are a checkpoint of the decision log (``ledger_store``): the ledger is the checkpoint plus the deltas of the
decisions logged after it, so the two can never disagree, and nothing here resets it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from connector.db import Migration, migrate
from connector.routing.codec import decode_stored, encode_stored, input_from_dict, loads, reads_from_dict, stored_reads
from connector.routing.ledger import LedgerState
from connector.routing.ledger_store import checkpoint_id, read_ledger
from connector.routing.model import Decision, Reads, RoutingInput

COMPONENT = "routing"

MIGRATIONS = (
    Migration(
        1,
        "decision log, fairness ledger, cap counters",
        """
        CREATE TABLE routing_decisions (
            id INTEGER PRIMARY KEY,
            lead_id TEXT NOT NULL,
            stage TEXT NOT NULL,
            decided_at_ms INTEGER NOT NULL,
            owner TEXT NOT NULL,
            secondary_owner TEXT,
            step TEXT NOT NULL,
            rule TEXT,
            pool TEXT,
            final_fallback INTEGER NOT NULL DEFAULT 0,
            config_version TEXT NOT NULL,
            payload TEXT NOT NULL
        );
        CREATE INDEX routing_decisions_lead ON routing_decisions (lead_id, decided_at_ms);
        CREATE INDEX routing_decisions_time ON routing_decisions (decided_at_ms);
        CREATE TABLE routing_ledger (
            pool TEXT NOT NULL,
            rep TEXT NOT NULL,
            credit REAL NOT NULL,
            expected REAL NOT NULL,
            assigned INTEGER NOT NULL,
            updated_at_ms INTEGER NOT NULL,
            PRIMARY KEY (pool, rep)
        );
        CREATE TABLE routing_counts (
            rep TEXT NOT NULL,
            period TEXT NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (rep, period)
        );
        """,
    ),
    Migration(
        2,
        "decision trace, reads and ledger delta stored zlib-compressed beside the payload",
        # The trace (every step and candidate), reads and delta are most of a decision's bytes and are only read to
        # explain or replay it, so they move to a compressed column (named for its main content); the payload keeps
        # the inputs and owners that SQL reports query with json_extract. Rows written before this migration keep
        # their whole decision in the payload, and are still read as such.
        "ALTER TABLE routing_decisions ADD COLUMN trace_z BLOB",
    ),
    Migration(
        3,
        "ledger tables become a checkpoint of the decision log",
        # Until now every decision's delta was applied to the ledger tables as it was logged, so they already
        # include every decision there is: the checkpoint starts at the last one.
        """
        CREATE TABLE routing_checkpoint (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            last_decision_id INTEGER NOT NULL
        );
        INSERT INTO routing_checkpoint (id, last_decision_id) SELECT 1, COALESCE(MAX(id), 0) FROM routing_decisions;
        """,
    ),
)

_INSERT_DECISION = (
    "INSERT INTO routing_decisions (id, lead_id, stage, decided_at_ms, owner, secondary_owner, step, rule, pool,"
    " final_fallback, config_version, payload, trace_z) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create or upgrade the routing tables."""
    migrate(db, COMPONENT, MIGRATIONS)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def decision_row(decision_id: int, decision: Decision) -> tuple[Any, ...]:
    """The row that logs ``decision`` under ``decision_id`` (see ``insert_decisions``)."""
    assignments = decision.assignments
    primary = assignments[0]
    alone = len(assignments) == 1  # no secondary owner (the usual case): nothing to look for
    return (
        decision_id,
        decision.lead_id,
        decision.stage,
        _ms(decision.decided_at),
        primary.owner,
        None if alone else decision.secondary_owner,
        primary.step,
        primary.rule,
        primary.pool,
        int(primary.final_fallback if alone else decision.final_fallback),
        decision.config_version,
        *encode_stored(decision),
    )


def insert_decisions(conn: sqlite3.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Log decision rows (from ``decision_row``) in one statement; call inside a transaction."""
    conn.executemany(_INSERT_DECISION, rows)


def next_decision_id(conn: sqlite3.Connection) -> int:
    """The id the next logged decision gets: above every logged decision and above the ledger checkpoint.

    Ids are given explicitly because the checkpoint refers to them: were pruning to empty the table, SQLite would
    hand out ids the checkpoint already covers, and those decisions would never be folded into the ledger.
    """
    row = conn.execute(
        "SELECT MAX(COALESCE((SELECT MAX(id) FROM routing_decisions), 0),"
        " COALESCE((SELECT last_decision_id FROM routing_checkpoint WHERE id = 1), 0))"
    ).fetchone()
    return int(row[0]) + 1


def load_ledger(db: sqlite_utils.Database) -> LedgerState:
    """The whole ledger in memory: the checkpoint plus every decision logged after it."""
    return read_ledger(db.conn).state


@dataclass(frozen=True)
class LedgerRow:
    """One line of ``leadrelay pools``."""

    pool: str
    rep: str
    credit: float
    expected: float
    assigned: int
    updated_at_ms: int


def ledger_rows(db: sqlite_utils.Database) -> list[LedgerRow]:
    """Every ledger entry (checkpoint plus later decisions), by pool then rep."""
    stored = read_ledger(db.conn)
    return [
        LedgerRow(pool, rep, *entry, stored.updated_ms[pool][rep])
        for (pool, rep), entry in sorted(stored.state.items())
    ]


@dataclass(frozen=True)
class StoredDecision:
    """A decision read back from the log, with its row id."""

    id: int
    decision: Decision


def decisions_for_lead(db: sqlite_utils.Database, lead_id: str) -> list[StoredDecision]:
    """Every logged decision about ``lead_id``, oldest first."""
    rows = db.conn.execute(
        "SELECT id, payload, trace_z FROM routing_decisions WHERE lead_id = ? ORDER BY decided_at_ms, id", (lead_id,)
    )
    return [StoredDecision(row_id, decode_stored(payload, trace_z)) for row_id, payload, trace_z in rows]


def decisions_since(db: sqlite_utils.Database, since: datetime, *, batch: int = 2_000) -> Iterator[StoredDecision]:
    """Logged decisions from ``since`` on, in the order they were made (streamed, for simulate)."""
    last_ms, last_id = _ms(since) - 1, 0
    while True:
        rows = db.conn.execute(
            "SELECT id, decided_at_ms, payload, trace_z FROM routing_decisions"
            " WHERE (decided_at_ms, id) > (?, ?) ORDER BY decided_at_ms, id LIMIT ?",
            (last_ms, last_id, batch),
        ).fetchall()
        if not rows:
            return
        for row_id, at_ms, payload, trace_z in rows:
            yield StoredDecision(row_id, decode_stored(payload, trace_z))
            last_ms, last_id = at_ms, row_id


@dataclass(frozen=True)
class RecordedLead:
    """A logged decision's inputs and outcome, without its trace: what replaying history needs, read fast."""

    lead_id: str
    stage: str
    decided_at: datetime
    input: RoutingInput
    reads: Reads
    owner: str
    final_fallback: bool
    route: str  # "step › rule › pool" of the primary owner


def history_since(db: sqlite_utils.Database, since: datetime, *, batch: int = 5_000) -> Iterator[RecordedLead]:
    """Logged leads from ``since`` on, oldest first, decoding only inputs and reads (for simulate)."""
    last_ms, last_id = _ms(since) - 1, 0
    while True:
        rows = db.conn.execute(
            "SELECT id, lead_id, stage, decided_at_ms, owner, final_fallback, step, rule, pool,"
            " json_extract(payload, '$.input'), json_extract(payload, '$.reads'),"
            " json_extract(payload, '$.decided_at'), trace_z"
            " FROM routing_decisions WHERE (decided_at_ms, id) > (?, ?) ORDER BY decided_at_ms, id LIMIT ?",
            (last_ms, last_id, batch),
        ).fetchall()
        if not rows:
            return
        for row_id, lead_id, stage, at_ms, owner, fallback, step, rule, pool, inp, reads, decided_at, detail_z in rows:
            yield RecordedLead(
                lead_id,
                stage,
                datetime.fromisoformat(decided_at),
                input_from_dict(loads(inp)),
                reads_from_dict(loads(reads)) if detail_z is None else stored_reads(detail_z),
                owner,
                bool(fallback),
                " › ".join(p for p in (step, rule and f"rule {rule}", pool and f"pool {pool}") if p),
            )
            last_ms, last_id = at_ms, row_id


def prune(db: sqlite_utils.Database, *, now: datetime, retention_days: int | None, keep_count_days: int = 14) -> int:
    """Delete decisions past retention (none when retention is None) and cap counters older than needed.

    Only decisions the ledger checkpoint already includes are deleted: the others are still the ledger's only
    record (``Router.prune`` checkpoints first, so for it that is every old decision).
    """
    deleted = 0
    with_retention: Iterable[int] = () if retention_days is None else (retention_days,)
    for days in with_retention:
        cutoff = _ms(now - timedelta(days=days))
        deleted = db.conn.execute(
            "DELETE FROM routing_decisions WHERE decided_at_ms < ? AND id <= ?", (cutoff, checkpoint_id(db.conn))
        ).rowcount
    oldest_day = (now - timedelta(days=keep_count_days)).date().isoformat()
    db.conn.execute("DELETE FROM routing_counts WHERE period LIKE 'd:%' AND period < ?", (f"d:{oldest_day}",))
    oldest_week = (now - timedelta(days=keep_count_days)).isocalendar()
    db.conn.execute(
        "DELETE FROM routing_counts WHERE period LIKE 'w:%' AND period < ?",
        (f"w:{oldest_week[0]}-W{oldest_week[1]:02d}",),
    )
    return deleted
