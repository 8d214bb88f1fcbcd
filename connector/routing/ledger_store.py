"""The fairness ledger on disk: a periodic checkpoint plus the decisions logged after it.

Every decision row carries its own ledger delta, so the ledger tables need not move with every lead: the router
keeps the ledger in memory, and every ``CHECKPOINT_EVERY`` decisions (and on close, and before pruning) writes the
entries that changed since the last checkpoint together with the id of the last decision they include. Loading
reads the checkpoint and folds in the deltas of every decision logged after it, so a crash between checkpoints
loses nothing: the decisions are the log, the checkpoint only shortens the replay.

The same catch-up runs at the start of each routing transaction, so a second router on the same database (another
process) sees the first one's decisions before it decides.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter

from connector.routing.codec import decode, loads
from connector.routing.codec import stored_delta as detail_delta
from connector.routing.ledger import LedgerState, LedgerView
from connector.routing.model import CountChange, LedgerDelta, LedgerEntry, LedgerEntryRow

_ZERO = LedgerEntry()

# Replaying a decision's delta costs a few tens of microseconds, so at most this many replays (well under a
# second) stand between a crash and a loaded ledger, while a checkpoint (a few hundred rows) is paid once per this
# many decisions.
CHECKPOINT_EVERY = 1_000

_UPSERT_ENTRY = (
    "INSERT INTO routing_ledger (pool, rep, credit, expected, assigned, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (pool, rep) DO UPDATE SET credit = excluded.credit, expected = excluded.expected,"
    " assigned = excluded.assigned, updated_at_ms = excluded.updated_at_ms"
)
_UPSERT_COUNT = (
    "INSERT INTO routing_counts (rep, period, count) VALUES (?, ?, ?)"
    " ON CONFLICT (rep, period) DO UPDATE SET count = excluded.count"
)


@dataclass
class StoredLedger:
    """The in-memory ledger, how far into the decision log it reaches, and what changed since the checkpoint.

    Adopting a routed decision only appends what it moved to ``_moved`` (one list append per decision); which
    entries are dirty and when each last moved are worked out from that list when asked (at the checkpoint, every
    ``CHECKPOINT_EVERY`` decisions). Most picks of a pool hand over the same tuple of reps, so folding takes each
    (pool, reps tuple) once, latest first, instead of updating every rep for every decision.
    """

    state: LedgerState
    through_id: int  # the last decision whose delta is folded in
    checkpoint_id: int  # the last decision the on-disk tables include
    _updated_ms: dict[str, dict[str, int]] = field(default_factory=dict)  # pool -> rep -> when the entry last moved
    _dirty_entries: dict[str, set[str]] = field(default_factory=dict)  # pool -> reps changed since the checkpoint
    _dirty_counts: set[tuple[str, str]] = field(default_factory=set)
    # Adopted decisions not folded into the three above yet: (their (pool, reps) per pick, their count changes, ms).
    _moved: list[tuple[Sequence[tuple[str, Sequence[str]]], Sequence[CountChange], int]] = field(default_factory=list)

    @property
    def updated_ms(self) -> dict[str, dict[str, int]]:
        """pool -> rep -> when the entry last moved (epoch ms)."""
        self._fold()
        return self._updated_ms

    @property
    def dirty_entries(self) -> dict[str, set[str]]:
        """pool -> reps whose entries changed since the checkpoint."""
        self._fold()
        return self._dirty_entries

    @property
    def dirty_counts(self) -> set[tuple[str, str]]:
        """(rep, period) counters changed since the checkpoint."""
        self._fold()
        return self._dirty_counts

    @property
    def pending(self) -> int:
        """Decisions folded in memory but not yet in the checkpoint."""
        return self.through_id - self.checkpoint_id

    @property
    def dirty(self) -> bool:
        """Whether anything changed since the last checkpoint."""
        return bool(self.pending or self._moved or self._dirty_entries or self._dirty_counts)

    def apply(self, delta: LedgerDelta, decision_id: int, at_ms: int) -> None:
        """Fold one logged decision's delta in and remember what to write at the next checkpoint."""
        self._fold()
        self.state.apply(delta)
        updated, dirty = self._updated_ms, self._dirty_entries
        for pool, rep, *_ in delta.credits:
            _in(updated, pool)[rep] = at_ms
            _in_set(dirty, pool).add(rep)
        self._dirty_counts.update((rep, period) for rep, period, _ in delta.counts)
        self.through_id = decision_id

    def adopt(self, view: LedgerView, decision_id: int, at_ms: int) -> None:
        """Take over a just-logged decision's books (``apply`` of its delta, without the per-entry work)."""
        self.state.adopt(view)
        self._moved.append((view.changed(), view.count_changes(), at_ms))
        self.through_id = decision_id

    def checkpointed(self) -> None:
        """The tables now hold everything folded in: nothing is dirty any more."""
        self._fold()
        self.checkpoint_id = self.through_id
        self._dirty_entries = {}
        self._dirty_counts = set()

    def _fold(self) -> None:
        """Work the adopted decisions' moves into the dirty sets and the last-moved times, latest first."""
        moved = self._moved
        if not moved:
            return
        latest: dict[str, dict[str, int]] = {}
        seen: set[tuple[str, int]] = set()
        counts: set[tuple[str, str]] = set()
        for picks, count_changes, at_ms in reversed(moved):
            for pool, reps in picks:
                key = (pool, id(reps))  # the reps objects stay alive in ``moved`` while this runs
                if key in seen:
                    continue  # the same reps moved later: their latest time is already taken
                seen.add(key)
                times = _in(latest, pool)
                for rep in reps:
                    times.setdefault(rep, at_ms)
            counts.update(map(_rep_and_period, count_changes))
        self._moved = []
        updated, dirty = self._updated_ms, self._dirty_entries
        for pool, times in latest.items():
            _in(updated, pool).update(times)
            _in_set(dirty, pool).update(times)
        self._dirty_counts.update(counts)


_rep_and_period = itemgetter(0, 1)  # a CountChange's counter key


def _in(table: dict[str, dict[str, int]], pool: str) -> dict[str, int]:
    found = table.get(pool)
    if found is None:
        found = table[pool] = {}
    return found


def _in_set(table: dict[str, set[str]], pool: str) -> set[str]:
    found = table.get(pool)
    if found is None:
        found = table[pool] = set()
    return found


def read_ledger(conn: sqlite3.Connection) -> StoredLedger:
    """The ledger as of the last logged decision: the checkpoint tables plus every decision after them."""
    books: dict[str, dict[str, LedgerEntryRow]] = {}
    updated: dict[str, dict[str, int]] = {}
    for pool, rep, credit, expected, assigned, at_ms in conn.execute(
        "SELECT pool, rep, credit, expected, assigned, updated_at_ms FROM routing_ledger"
    ):
        books.setdefault(pool, {})[rep] = (credit, expected, assigned)  # plain: as routing writes them
        _in(updated, pool)[rep] = at_ms
    counts = {(rep, period): n for rep, period, n in conn.execute("SELECT rep, period, count FROM routing_counts")}
    last = checkpoint_id(conn)
    stored = StoredLedger(LedgerState(books, counts), last, last, updated)
    catch_up(conn, stored)
    return stored


def checkpoint_id(conn: sqlite3.Connection) -> int:
    """The last decision the ledger tables include."""
    row = conn.execute("SELECT last_decision_id FROM routing_checkpoint WHERE id = 1").fetchone()
    return int(row[0]) if row else 0


def latest_decision_id(conn: sqlite3.Connection) -> int:
    """The highest decision id logged so far (0 when none)."""
    return int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM routing_decisions").fetchone()[0])


def catch_up(conn: sqlite3.Connection, stored: StoredLedger) -> int:
    """Fold in the deltas of decisions logged after ``stored.through_id``; returns how many were read."""
    rows = conn.execute(
        "SELECT id, decided_at_ms, payload, trace_z FROM routing_decisions WHERE id > ? ORDER BY id",
        (stored.through_id,),
    )
    read = 0
    for decision_id, at_ms, payload, trace_z in rows:
        stored.apply(stored_delta(payload, trace_z), decision_id, at_ms)
        read += 1
    return read


def stored_delta(payload: str | bytes, trace_z: bytes | None) -> LedgerDelta:
    """A logged decision's ledger delta, from either stored format (empty for rows that carry none)."""
    if trace_z is not None:
        return detail_delta(trace_z)
    whole = loads(payload).get("delta")
    return decode(LedgerDelta, whole) if whole else LedgerDelta()


def save_checkpoint(conn: sqlite3.Connection, stored: StoredLedger) -> None:
    """Write what changed since the last checkpoint; call inside the transaction that logged the decisions."""
    books, counts, updated = stored.state.books, stored.state.counts, stored.updated_ms
    if stored.dirty_entries:
        conn.executemany(
            _UPSERT_ENTRY,
            [
                (pool, rep, *books[pool][rep], updated[pool][rep])
                for pool, reps in stored.dirty_entries.items()
                for rep in reps
            ],
        )
    if stored.dirty_counts:
        conn.executemany(_UPSERT_COUNT, [(*key, counts.get(key, 0)) for key in stored.dirty_counts])
    conn.execute(
        "INSERT INTO routing_checkpoint (id, last_decision_id) VALUES (1, ?)"
        " ON CONFLICT (id) DO UPDATE SET last_decision_id = excluded.last_decision_id",
        (stored.through_id,),
    )
    stored.checkpointed()
