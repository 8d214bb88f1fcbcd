"""The fairness ledger: persistent deficit counters that make weighted round-robin fair over any window.

Each pick in a pool gives every *eligible* rep ``weight / total eligible weight`` of expected leads and the chosen
rep one actual lead. A rep's credit is expected minus actual: positive means the pool owes them leads. The pick goes
to the eligible rep with the most credit, so shares track weights, skipped reps are not punished, and nothing has to
be reset when the team changes (a new rep starts at zero; everyone else keeps their standing).

PTO policy: with ``resume`` (the default) nothing accrues while a rep is away, so a returning rep picks up at their
weight instead of receiving a flood of catch-up leads. With ``catch_up`` a rep away on PTO or a public holiday keeps
accruing, capped at ``catch_up_limit`` leads.

``LedgerState`` is the in-memory ledger (loaded from and saved to SQLite by ``store``); ``LedgerView`` is what one
decision reads and writes: a layer over the state that records what it read (for replay) and collects the changes
(the ``LedgerDelta``) without touching the state, keeping routing a pure function.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from connector.routing.model import CountChange, CreditChange, LedgerDelta, LedgerEntry, Reads

_ZERO = LedgerEntry()


@dataclass
class LedgerState:
    """Credits per (pool, rep) and assignment counts per (rep, period); mutable, owned by one router."""

    entries: dict[tuple[str, str], LedgerEntry] = field(default_factory=dict)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    def entry(self, pool: str, rep: str) -> LedgerEntry:
        """The rep's standing in the pool (zero when never seen)."""
        return self.entries.get((pool, rep), _ZERO)

    def count(self, rep: str, period: str) -> int:
        """Leads the rep received in the period."""
        return self.counts.get((rep, period), 0)

    def apply(self, delta: LedgerDelta) -> None:
        """Fold a decision's changes in (the only way the ledger moves)."""
        for change in delta.credits:
            old = self.entry(change.pool, change.rep)
            self.entries[(change.pool, change.rep)] = LedgerEntry(
                credit=change.credit,
                expected=old.expected + change.expected_added,
                assigned=old.assigned + change.assigned_added,
            )
        for count in delta.counts:
            key = (count.rep, count.period)
            self.counts[key] = self.counts.get(key, 0) + count.added

    @classmethod
    def from_reads(cls, reads: Reads) -> LedgerState:
        """The ledger exactly as a recorded decision saw it (for replay)."""
        return cls(
            entries={(pool, rep): entry for pool, rep, entry in reads.credits},
            counts={(rep, period): n for rep, period, n in reads.counts},
        )


class LedgerView:
    """One decision's window on the ledger: reads fall through to the state, writes stay here as a delta."""

    def __init__(self, state: LedgerState) -> None:
        self._state = state
        self._entries: dict[tuple[str, str], LedgerEntry] = {}
        self._counts: dict[tuple[str, str], int] = {}
        self._read_entries: dict[tuple[str, str], LedgerEntry] = {}
        self._read_counts: dict[tuple[str, str], int] = {}
        self._changes: dict[tuple[str, str], CreditChange] = {}  # merged per key, in first-touched order
        self._count_changes: list[CountChange] = []

    def entry(self, pool: str, rep: str) -> LedgerEntry:
        """Current standing, including changes made earlier in this decision."""
        key = (pool, rep)
        found = self._entries.get(key)
        if found is None:
            found = self._state.entries.get(key, _ZERO)
            self._entries[key] = found  # later reads see the same value; the first read is what replay needs
            self._read_entries[key] = found
        return found

    def count(self, rep: str, period: str) -> int:
        """Leads in the period, including this decision's earlier assignments."""
        key = (rep, period)
        found = self._counts.get(key)
        if found is None:
            found = self._state.counts.get(key, 0)
            self._counts[key] = found
            self._read_counts[key] = found
        return found

    def entries(self, pool: str, reps: Sequence[str]) -> list[LedgerEntry]:
        """``entry`` for each rep of a pool, in order (every pool pick reads its whole pool)."""
        seen, state, read = self._entries, self._state.entries, self._read_entries
        out = []
        for rep in reps:
            key = (pool, rep)
            found = seen.get(key)
            if found is None:
                found = seen[key] = read[key] = state.get(key, _ZERO)
            out.append(found)
        return out

    def credit(
        self, pool: str, rep: str, old: LedgerEntry, *, credit: float, expected_added: float, assigned_added: int
    ) -> None:
        """Record a rep's new credit in a pool (``old`` is its standing before, as read through this view)."""
        key = (pool, rep)
        self._entries[key] = LedgerEntry(credit, old.expected + expected_added, old.assigned + assigned_added)
        change = CreditChange(pool, rep, credit, expected_added, assigned_added)
        prev = self._changes.get(key)
        self._changes[key] = change if prev is None else _combined(prev, change)

    def add_lead(self, rep: str, periods: Sequence[str]) -> None:
        """Count one more lead for the rep in each period (for caps)."""
        for period in periods:
            self._counts[(rep, period)] = self.count(rep, period) + 1
            self._count_changes.append(CountChange(rep, period))

    def delta(self) -> LedgerDelta:
        """The changes, merged per key, in first-touched order."""
        return LedgerDelta(credits=tuple(self._changes.values()), counts=tuple(self._count_changes))

    def reads(self) -> tuple[tuple[tuple[str, str, LedgerEntry], ...], tuple[tuple[str, str, int], ...]]:
        """What this decision read from the state (first read of each key)."""
        credits = tuple((p, r, e) for (p, r), e in self._read_entries.items())
        counts = tuple((r, p, n) for (r, p), n in self._read_counts.items())
        return credits, counts


def _combined(first: CreditChange, then: CreditChange) -> CreditChange:
    expected = first.expected_added + then.expected_added
    return CreditChange(then.pool, then.rep, then.credit, expected, first.assigned_added + then.assigned_added)


class Contender(NamedTuple):  # a NamedTuple: built for every rep of every pick, where dataclasses cost more
    """A rep taking part in a pick: eligible to win, or only accruing credit (away under the catch_up policy)."""

    rep: str
    weight: float
    eligible: bool
    load: float = 0.0


def pick_weighted(
    view: LedgerView,
    pool: str,
    contenders: Sequence[Contender],
    standing: Sequence[LedgerEntry],
    *,
    catch_up_limit: float | None = None,
) -> str:
    """Deficit weighted round-robin: credit everyone by weight share, pick the most-owed eligible rep.

    ``standing`` is each contender's entry as read through ``view``. Ties go to the higher weight, then the
    smaller owner key, so the same ledger always gives the same rep.
    """
    total = sum(c.weight for c in contenders)
    best = _most_owed(contenders, standing, total, None)
    _settle(view, pool, contenders, standing, total=total, chosen=best, catch_up_limit=catch_up_limit)
    return best


def pick_round_robin(
    view: LedgerView, pool: str, reps: Sequence[str], weights: Sequence[float], standing: Sequence[LedgerEntry]
) -> str:
    """``pick_weighted`` when every contender is eligible (no one accruing while away): the common case, on plain
    lists and in one pass per step, since it runs for every pick. Same arithmetic, same ties, same ledger changes.
    """
    total = sum(weights)
    scores = [entry.credit + weight / total for weight, entry in zip(weights, standing, strict=True)]
    best = max(scores)
    # Within a hair of the best counts as level, so float noise (thirds, sevenths...) never decides a tie.
    level = [i for i, score in enumerate(scores) if score >= best - 1e-6]
    chosen = reps[level[0] if len(level) == 1 else min(level, key=lambda i: (-weights[i], reps[i]))]
    entries, changes, new = view._entries, view._changes, tuple.__new__
    for rep, weight, entry in zip(reps, weights, standing, strict=True):
        share = weight / total
        won = 1 if rep == chosen else 0
        credit = entry.credit + share - won
        key = (pool, rep)
        entries[key] = new(LedgerEntry, (credit, entry.expected + share, entry.assigned + won))
        change = new(CreditChange, (pool, rep, credit, share, won))
        prev = changes.get(key)
        changes[key] = change if prev is None else _combined(prev, change)
    return chosen


def pick_least_loaded(
    view: LedgerView,
    pool: str,
    contenders: Sequence[Contender],
    standing: Sequence[LedgerEntry],
    *,
    catch_up_limit: float | None = None,
) -> str:
    """Least loaded first (open + today's leads per unit of weight); ledger credit breaks ties."""
    lightest = min(c.load for c in contenders if c.eligible)
    total = sum(c.weight for c in contenders)
    best = _most_owed(contenders, standing, total, lightest + 1e-9)
    _settle(view, pool, contenders, standing, total=total, chosen=best, catch_up_limit=catch_up_limit)
    return best


def _most_owed(
    contenders: Sequence[Contender], standing: Sequence[LedgerEntry], total: float, max_load: float | None
) -> str:
    """The eligible rep (at most ``max_load`` when given) with the most credit once this pick's share is credited."""
    scored = [
        (entry.credit + c.weight / total, c)
        for c, entry in zip(contenders, standing, strict=True)
        if c.eligible and (max_load is None or c.load <= max_load)
    ]
    best = max(score for score, _ in scored)
    # Within a hair of the best counts as level, so float noise (thirds, sevenths...) never decides a tie.
    level = [c for score, c in scored if score >= best - 1e-6]
    if len(level) == 1:
        return level[0].rep
    return min(level, key=lambda c: (-c.weight, c.rep)).rep


def _settle(
    view: LedgerView,
    pool: str,
    contenders: Sequence[Contender],
    standing: Sequence[LedgerEntry],
    *,
    total: float,
    chosen: str,
    catch_up_limit: float | None,
) -> None:
    # ``LedgerView.credit`` inlined: this runs for every contender of every pick.
    entries, changes = view._entries, view._changes
    for c, entry in zip(contenders, standing, strict=True):
        share = c.weight / total
        won = 1 if c.rep == chosen else 0
        credit = entry.credit + share - won
        if not c.eligible and catch_up_limit is not None:
            credit = min(credit, catch_up_limit)
        key = (pool, c.rep)
        entries[key] = LedgerEntry(credit, entry.expected + share, entry.assigned + won)
        change = CreditChange(pool, c.rep, credit, share, won)
        prev = changes.get(key)
        changes[key] = change if prev is None else _combined(prev, change)
