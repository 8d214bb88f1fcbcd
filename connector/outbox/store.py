"""The outbox tables: assignments and their effects, enqueued in the caller's transaction, claimed under a lease.

Crash safety comes from two rules. ``enqueue`` writes inside the transaction that records the decision, so a
decision without its effects (or the reverse) never exists. ``claim`` leases items for ``lease_s`` seconds and
counts the claim before any call is made, so an item whose worker died comes back after the lease with
``maybe_done`` set, and the performer checks the CRM before doing it again.

Notifications and tasks wait while their decision's owner write is pending; if that write loses to a human
(``conflict``), they are ``skipped``: nobody is nudged about a lead that a person gave to someone else.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlite_utils

from connector.config.actions import ActionsConfig, OutboxConfig
from connector.db import Migration, migrate, transaction
from connector.logs import get_logger
from connector.outbox.effects import Effect, effects_for
from connector.outbox.model import Assignment, EffectKind, ItemState, Job, OutboxItem, Outcome

COMPONENT = "outbox"
log = get_logger(__name__)

MIGRATIONS = (
    Migration(
        1,
        "outbox assignments and items",
        """
        CREATE TABLE outbox_assignments (
            decision_id TEXT PRIMARY KEY,
            payload TEXT NOT NULL,
            created_at REAL NOT NULL
        );
        CREATE TABLE outbox_items (
            id INTEGER PRIMARY KEY,
            decision_id TEXT NOT NULL REFERENCES outbox_assignments (decision_id),
            kind TEXT NOT NULL,
            target TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            claims INTEGER NOT NULL DEFAULT 0,
            next_at REAL NOT NULL,
            lease_owner TEXT,
            lease_until REAL,
            last_error TEXT,
            result TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            UNIQUE (decision_id, kind, target)
        );
        CREATE INDEX outbox_items_due ON outbox_items (state, kind, target, next_at);
        CREATE INDEX outbox_items_decision ON outbox_items (decision_id, kind);
        """,
    ),
)

_COLUMNS = "id, decision_id, kind, target, state, attempts, next_at, claims, last_error, result, created_at, updated_at"


def install(db: sqlite_utils.Database) -> None:
    """Create or upgrade the outbox tables."""
    migrate(db, COMPONENT, MIGRATIONS)


def enqueue(
    conn: sqlite3.Connection, assignment: Assignment, actions: ActionsConfig | None = None, *, now: float | None = None
) -> tuple[Effect, ...]:
    """Record ``assignment`` and every effect it implies, inside the caller's open transaction.

    Enqueuing the same decision id again changes nothing (returns no effects): a replayed decision is not redone.
    """
    if not conn.in_transaction:
        raise RuntimeError("outbox.enqueue must run inside the caller's transaction (use connector.db.transaction)")
    at = time.time() if now is None else now
    inserted = conn.execute(
        "INSERT OR IGNORE INTO outbox_assignments (decision_id, payload, created_at) VALUES (?, ?, ?)",
        (assignment.decision_id, assignment.to_json(), at),
    ).rowcount
    if not inserted:
        return ()
    effects = effects_for(assignment, actions or ActionsConfig())
    conn.executemany(
        "INSERT INTO outbox_items (decision_id, kind, target, next_at, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(assignment.decision_id, e.kind.value, e.target, at, at, at) for e in effects],
    )
    return effects


def due_groups(
    db: sqlite_utils.Database, *, now: float | None = None, kinds: Collection[EffectKind] | None = None
) -> list[tuple[EffectKind, str]]:
    """The (kind, target) pairs with items due now (of ``kinds``, default all), owner writes first (the other
    effects wait on them)."""
    at = time.time() if now is None else now
    wanted = list(EffectKind) if kinds is None else [k for k in EffectKind if k in kinds]
    marks = ",".join("?" * len(wanted))
    rows = db.conn.execute(
        f"SELECT DISTINCT kind, target FROM outbox_items WHERE state = 'pending' AND kind IN ({marks})"
        " AND next_at <= ? AND (lease_until IS NULL OR lease_until <= ?)",
        (*(k.value for k in wanted), at, at),
    ).fetchall()
    order = list(EffectKind)
    return sorted(((EffectKind(k), t) for k, t in rows), key=lambda g: (order.index(g[0]), g[1]))


def claim(
    db: sqlite_utils.Database,
    kind: EffectKind,
    target: str,
    *,
    limit: int,
    worker: str,
    lease_s: float,
    now: float | None = None,
) -> list[Job]:
    """Lease up to ``limit`` due items of one kind and target to ``worker``; each claim is counted first."""
    at = time.time() if now is None else now
    waits = "" if kind is EffectKind.SET_OWNER else _WAIT_FOR_OWNER
    with transaction(db) as conn:
        rows = conn.execute(
            f"SELECT {_qualified()} FROM outbox_items i WHERE i.state = 'pending' AND i.kind = ? AND i.target = ?"
            f" AND i.next_at <= ? AND (i.lease_until IS NULL OR i.lease_until <= ?){waits}"
            " ORDER BY i.next_at, i.id LIMIT ?",
            (kind.value, target, at, at, limit),
        ).fetchall()
        conn.executemany(
            "UPDATE outbox_items SET lease_owner = ?, lease_until = ?, attempts = attempts + 1, claims = claims + 1,"
            " updated_at = ? WHERE id = ?",
            [(worker, at + lease_s, at, row[0]) for row in rows],
        )
        payloads = _payloads(conn, {row[1] for row in rows})
    jobs = []
    for row in rows:
        item = _item(row)
        item = replace(item, attempts=item.attempts + 1, claims=item.claims + 1)
        jobs.append(Job(item, Assignment.from_json(payloads[item.decision_id])))
    return jobs


_WAIT_FOR_OWNER = (
    " AND NOT EXISTS (SELECT 1 FROM outbox_items o WHERE o.decision_id = i.decision_id"
    " AND o.kind = 'set_owner' AND o.state = 'pending')"
)


def _qualified() -> str:
    return ", ".join(f"i.{c.strip()}" for c in _COLUMNS.split(","))


def _payloads(conn: sqlite3.Connection, decision_ids: Iterable[str]) -> dict[str, str]:
    ids = list(decision_ids)
    found: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        marks = ",".join("?" * len(part))
        found.update(
            conn.execute(
                f"SELECT decision_id, payload FROM outbox_assignments WHERE decision_id IN ({marks})", part
            ).fetchall()
        )
    return found


@dataclass(frozen=True)
class Settled:
    """How ``complete`` filed one outcome (the state it ended in), for logs and metrics."""

    item_id: int
    state: ItemState
    lost_lease: bool = False


def complete(
    db: sqlite_utils.Database,
    worker: str,
    outcomes: Sequence[tuple[OutboxItem, Outcome]],
    policy: OutboxConfig,
    *,
    now: float | None = None,
) -> list[Settled]:
    """File each item's outcome in one transaction; an item whose lease passed to another worker is left alone."""
    at = time.time() if now is None else now
    settled = []
    with transaction(db) as conn:
        for item, outcome in outcomes:
            owner = conn.execute("SELECT lease_owner, state FROM outbox_items WHERE id = ?", (item.id,)).fetchone()
            if owner is None or owner[0] != worker or owner[1] != ItemState.PENDING:
                settled.append(Settled(item.id, ItemState(owner[1]) if owner else ItemState.DROPPED, True))
                continue
            state, next_at = _next_state(item, outcome, policy, at)
            refund = 1 if outcome.status == "defer" else 0  # waiting out a spent budget is not a failed attempt
            conn.execute(
                "UPDATE outbox_items SET state = ?, next_at = ?, lease_owner = NULL, lease_until = NULL,"
                " attempts = attempts - ?,"
                " last_error = CASE WHEN ? IN ('retry', 'defer', 'dead') THEN ? ELSE last_error END,"
                " result = CASE WHEN ? IN ('done', 'conflict') THEN ? ELSE result END, updated_at = ? WHERE id = ?",
                (state, next_at, refund, outcome.status, outcome.detail, outcome.status, outcome.detail, at, item.id),
            )
            if state is ItemState.CONFLICT:
                _skip_dependents(conn, item.decision_id, at)
            settled.append(Settled(item.id, state))
    return settled


def _next_state(item: OutboxItem, outcome: Outcome, policy: OutboxConfig, now: float) -> tuple[ItemState, float]:
    if outcome.status == "done":
        return ItemState.DONE, now
    if outcome.status == "conflict":
        return ItemState.CONFLICT, now
    if outcome.status == "defer":
        return ItemState.PENDING, now + (outcome.retry_after or policy.backoff_max_s)
    if outcome.status == "dead" or item.attempts >= policy.max_attempts:
        return ItemState.DEAD, now
    wait = min(policy.backoff_max_s, policy.backoff_s * 2 ** (item.attempts - 1))
    return ItemState.PENDING, now + max(wait, outcome.retry_after or 0.0)


def _skip_dependents(conn: sqlite3.Connection, decision_id: str, now: float) -> None:
    conn.execute(
        "UPDATE outbox_items SET state = 'skipped', result = 'owner write lost to a human change', updated_at = ?"
        " WHERE decision_id = ? AND kind != 'set_owner' AND state = 'pending'",
        (now, decision_id),
    )


def list_items(
    db: sqlite_utils.Database, *, states: Sequence[ItemState] = (), decision_id: str | None = None, limit: int = 100
) -> list[OutboxItem]:
    """Items in the given states (all when empty), newest first."""
    clauses: list[str] = ["1"]
    params: list[Any] = []
    if states:
        clauses.append(f"state IN ({','.join('?' * len(states))})")
        params.extend(s.value for s in states)
    if decision_id:
        clauses.append("decision_id = ?")
        params.append(decision_id)
    rows = db.conn.execute(
        f"SELECT {_COLUMNS} FROM outbox_items WHERE {' AND '.join(clauses)} ORDER BY updated_at DESC, id DESC LIMIT ?",
        (*params, limit),
    ).fetchall()
    return [_item(r) for r in rows]


def counts(db: sqlite_utils.Database) -> dict[str, int]:
    """How many items are in each state."""
    return dict(db.conn.execute("SELECT state, COUNT(*) FROM outbox_items GROUP BY state").fetchall())


def retry(db: sqlite_utils.Database, item_ids: Sequence[int] = (), *, now: float | None = None) -> int:
    """Put dead or dropped items (all dead ones when no ids) back in the queue with a fresh retry budget."""
    at = time.time() if now is None else now
    where, params = _selection(item_ids, ("dead", "dropped") if item_ids else ("dead",))
    with transaction(db) as conn:
        return conn.execute(
            f"UPDATE outbox_items SET state = 'pending', attempts = 0, next_at = ?, updated_at = ? WHERE {where}",
            (at, at, *params),
        ).rowcount


def drop(db: sqlite_utils.Database, item_ids: Sequence[int], *, now: float | None = None) -> int:
    """Give up on items (pending, dead or conflicting ones): they are never delivered unless retried."""
    at = time.time() if now is None else now
    if not item_ids:
        return 0
    where, params = _selection(item_ids, ("pending", "dead", "conflict"))
    with transaction(db) as conn:
        return conn.execute(
            f"UPDATE outbox_items SET state = 'dropped', lease_owner = NULL, lease_until = NULL, updated_at = ?"
            f" WHERE {where}",
            (at, *params),
        ).rowcount


def _selection(item_ids: Sequence[int], states: Sequence[str]) -> tuple[str, list[object]]:
    where = f"state IN ({','.join('?' * len(states))})"
    params: list[object] = list(states)
    if item_ids:
        where += f" AND id IN ({','.join('?' * len(item_ids))})"
        params.extend(item_ids)
    return where, params


def assignment_of(db: sqlite_utils.Database, decision_id: str) -> Assignment | None:
    """The stored assignment of a decision, or None."""
    row = db.conn.execute("SELECT payload FROM outbox_assignments WHERE decision_id = ?", (decision_id,)).fetchone()
    return Assignment.from_json(row[0]) if row else None


def _item(row: Sequence[Any]) -> OutboxItem:
    return OutboxItem(
        id=int(row[0]),
        decision_id=str(row[1]),
        kind=EffectKind(row[2]),
        target=str(row[3]),
        state=ItemState(row[4]),
        attempts=int(row[5]),
        next_at=float(row[6]),
        claims=int(row[7]),
        last_error=None if row[8] is None else str(row[8]),
        result=None if row[9] is None else str(row[9]),
        created_at=float(row[10]),
        updated_at=float(row[11]),
    )
