"""The fairness ledger: persistent deficit counters that make weighted round-robin fair over any window.

Each pick in a pool gives every *eligible* rep ``weight / total eligible weight`` of expected leads and the chosen
rep one actual lead. A rep's credit is expected minus actual: positive means the pool owes them leads. The pick goes
to the eligible rep with the most credit, so shares track weights, skipped reps are not punished, and nothing has to
be reset when the team changes (a new rep starts at zero; everyone else keeps their standing).

PTO policy: with ``resume`` (the default) nothing accrues while a rep is away, so a returning rep picks up at their
weight instead of receiving a flood of catch-up leads. With ``catch_up`` a rep away on PTO or a public holiday keeps
accruing, capped at ``catch_up_limit`` leads.

``LedgerState`` is the in-memory ledger: one *book* per pool (rep -> entry) plus the cap counters. ``LedgerView`` is
what one decision reads and writes: it copies each book it touches (one C-level dict copy), so the state itself
never changes while routing and routing stays a pure function; the changes come out as the decision's
``LedgerDelta``. A router that logs the decision can then ``adopt`` the view's books instead of re-applying the
delta entry by entry (the two give the same ledger: the books hold exactly the values the delta describes).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial
from itertools import chain, repeat
from operator import add, ge, itemgetter
from typing import NamedTuple

from connector.routing.model import (
    CountChange,
    CreditChangeRow,
    LedgerDelta,
    LedgerEntry,
    LedgerEntryRow,
    Reads,
)

_ZERO: LedgerEntryRow = (0.0, 0.0, 0)  # a rep the pool has never credited
# Building a NamedTuple through its generated ``__new__`` costs several times a plain tuple; this builds one from a
# ready tuple of values, which ``map`` can call without going through Python code.
_count_change = partial(tuple.__new__, CountChange)

# One pool's standing: rep -> (credit, expected, assigned), plain tuples in LedgerEntry's field order (equal to
# LedgerEntry, cheaper to build, and written by the decision log's JSON without a per-entry callback); ``entry``
# and ``items`` hand out LedgerEntry. Credit changes are plain tuples in CreditChange's field order, likewise.
Book = dict[str, LedgerEntryRow]


class LedgerState:
    """Credits per pool (one book of rep -> entry each) and assignment counts per (rep, period); owned by one router."""

    __slots__ = ("books", "counts")

    def __init__(self, books: dict[str, Book] | None = None, counts: dict[tuple[str, str], int] | None = None) -> None:
        self.books: dict[str, Book] = books if books is not None else {}
        self.counts: dict[tuple[str, str], int] = counts if counts is not None else {}

    @property
    def entries(self) -> dict[tuple[str, str], LedgerEntry]:
        """Every entry keyed by (pool, rep): a flat copy, for reports and comparisons (not for the hot path)."""
        return dict(self.items())

    def items(self) -> Iterator[tuple[tuple[str, str], LedgerEntry]]:
        """((pool, rep), entry) for every entry, pool by pool."""
        for pool, book in self.books.items():
            for rep, entry in book.items():
                yield (pool, rep), LedgerEntry._make(entry)

    def entry(self, pool: str, rep: str) -> LedgerEntry:
        """The rep's standing in the pool (zero when never seen)."""
        book = self.books.get(pool)
        return LedgerEntry._make(_ZERO if book is None else book.get(rep, _ZERO))

    def count(self, rep: str, period: str) -> int:
        """Leads the rep received in the period."""
        return self.counts.get((rep, period), 0)

    def apply(self, delta: LedgerDelta) -> None:
        """Fold a decision's changes in (how a logged decision is replayed into the ledger)."""
        books = self.books
        for pool, rep, credit, expected_added, assigned_added in delta.credits:
            book = books.get(pool)
            if book is None:
                book = books[pool] = {}
            old = book.get(rep, _ZERO)
            book[rep] = (credit, old[1] + expected_added, old[2] + assigned_added)
        counts = self.counts
        for rep, period, added in delta.counts:
            key = (rep, period)
            counts[key] = counts.get(key, 0) + added

    def adopt(self, view: LedgerView) -> None:
        """Take over the books and counts a decision's view ended with: ``apply(view.delta())`` without the
        per-entry work. Only valid when nothing else changed this state since the view was made."""
        self.books.update(view._books)
        counts = self.counts
        for rep, period, added in view._count_changes:
            key = (rep, period)
            counts[key] = counts.get(key, 0) + added

    @classmethod
    def from_reads(cls, reads: Reads) -> LedgerState:
        """The ledger exactly as a recorded decision saw it (for replay)."""
        books: dict[str, Book] = {}
        for pool, rep, entry in reads.credits:
            books.setdefault(pool, {})[rep] = entry
        return cls(books, {(rep, period): n for rep, period, n in reads.counts})

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LedgerState):
            return NotImplemented
        return self.entries == other.entries and self.counts == other.counts

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        entries = sum(len(book) for book in self.books.values())
        return f"LedgerState({len(self.books)} pools, {entries} entries, {len(self.counts)} counts)"


class LedgerView:
    """One decision's window on the ledger: reads see the state, writes go to copies and come out as a delta."""

    __slots__ = ("_books", "_changes", "_count_changes", "_counts", "_picks", "_read", "_read_counts", "_state")

    def __init__(self, state: LedgerState) -> None:
        self._state = state
        self._books: dict[str, Book] = {}  # this decision's copy of every book it touched
        # (pool, reps, their entries as the state held them) in read order, for replay
        self._read: list[tuple[str, Sequence[str], Sequence[LedgerEntryRow]]] = []
        self._counts: dict[tuple[str, str], int] = {}
        self._read_counts: dict[tuple[str, str], int] = {}
        self._changes: list[CreditChangeRow] = []  # in the order made (``delta`` lists them so)
        self._picks: list[tuple[str, Sequence[str]]] = []  # (pool, reps whose entries changed), per pick
        self._count_changes: list[CountChange] = []

    def _book(self, pool: str) -> Book:
        book = self._books.get(pool)
        if book is None:
            original = self._state.books.get(pool)
            book = self._books[pool] = {} if original is None else original.copy()
        return book

    def entry(self, pool: str, rep: str) -> LedgerEntryRow:
        """Current standing, including changes made earlier in this decision."""
        return self.entries(pool, (rep,))[0]

    def entries(self, pool: str, reps: Sequence[str]) -> list[LedgerEntryRow]:
        """``entry`` for each rep of a pool, in order (every pool pick reads its whole pool).

        The first read of a pool in a decision is what the state holds, so it is recorded as read just as it is
        returned; ``reads`` needs no second pass over the members.
        """
        book = self._books.get(pool)
        if book is not None:  # the pool was read before in this decision (a 2-to-1 from one pool)
            self._read_again(pool, reps)
            return list(map(book.get, reps, repeat(_ZERO)))
        original = self._state.books.get(pool)
        book = self._books[pool] = {} if original is None else original.copy()
        standing = list(map(book.get, reps, repeat(_ZERO)))
        self._read.append((pool, reps, standing))
        return standing

    def _read_again(self, pool: str, reps: Sequence[str]) -> None:
        """Record the members not read before as the state holds them (only a key's first read is recorded)."""
        seen = {rep for read_pool, read_reps, _ in self._read if read_pool == pool for rep in read_reps}
        new = [rep for rep in reps if rep not in seen]
        if new:
            original = self._state.books.get(pool) or {}
            self._read.append((pool, new, [original.get(rep, _ZERO) for rep in new]))

    def count(self, rep: str, period: str) -> int:
        """Leads in the period, including this decision's earlier assignments."""
        key = (rep, period)
        found = self._counts.get(key)
        if found is None:
            found = self._state.counts.get(key, 0)
            self._counts[key] = found
            self._read_counts[key] = found
        return found

    def credit(
        self, pool: str, rep: str, old: LedgerEntryRow, *, credit: float, expected_added: float, assigned_added: int
    ) -> None:
        """Record a rep's new credit in a pool (``old`` is its standing before, as read through this view)."""
        self._book(pool)[rep] = (credit, old[1] + expected_added, old[2] + assigned_added)
        self._changes.append((pool, rep, credit, expected_added, assigned_added))

    def add_lead(self, rep: str, periods: Sequence[str]) -> None:
        """Count one more lead for the rep in each period (for caps); each counter is read (and recorded as read,
        like ``count``) before it moves."""
        counts, first, changes = self._counts, self._read_counts, self._count_changes
        for period in periods:
            key = (rep, period)
            found = counts.get(key)
            if found is None:
                found = first[key] = self._state.counts.get(key, 0)
            counts[key] = found + 1
            changes.append(_count_change((rep, period, 1)))

    def changed(self) -> list[tuple[str, Sequence[str]]]:
        """(pool, reps) whose entries this decision changed, one item per pick."""
        return self._picks

    def count_changes(self) -> list[CountChange]:
        """The cap counters this decision moved, in order."""
        return self._count_changes

    def delta(self) -> LedgerDelta:
        """Every change in the order it was made. A pool picked in twice (a 2-to-1 from one pool) lists its reps
        twice: applied in order, the changes give exactly the books this view ends with, to the last bit of every
        float (merging them would add the two expected shares first, which can round differently)."""
        return LedgerDelta(credits=tuple(self._changes), counts=tuple(self._count_changes))

    def reads(self) -> tuple[tuple[tuple[str, str, LedgerEntryRow], ...], tuple[tuple[str, str, int], ...]]:
        """What this decision read from the state (first read of each key, as the state held it)."""
        read = self._read
        if len(read) == 1:
            pool, reps, standing = read[0]
            credits = tuple(zip(repeat(pool), reps, standing))
        else:
            credits = tuple(chain.from_iterable(zip(repeat(pool), reps, standing) for pool, reps, standing in read))
        if not self._read_counts:
            return credits, ()
        return credits, tuple((rep, period, n) for (rep, period), n in self._read_counts.items())


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
    standing: Sequence[LedgerEntryRow],
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
    view: LedgerView,
    pool: str,
    reps: Sequence[str],
    *,
    shares: Sequence[float],
    tie_order: Sequence[int],
    standing: Sequence[LedgerEntryRow],
) -> str:
    """``pick_weighted`` when every contender is eligible (no one accruing while away): the common case, worked
    column by column since it runs for every pick. Same arithmetic, same ties, same ledger changes.

    ``shares`` are each rep's weight over the total, ``tie_order`` the positions by weight (high first) then owner
    key, and ``standing`` each rep's entry as read through ``view``.
    """
    credits = list(map(add, map(_credit, standing), shares))  # the scores, and then the new credits
    best = max(credits)
    # Within a hair of the best counts as level, so float noise (thirds, sevenths...) never decides a tie.
    level = best - 1e-6
    if sum(map(ge, credits, repeat(level))) == 1:
        chosen = credits.index(best)
    else:
        chosen = next(i for i in tie_order if credits[i] >= level)
    credits[chosen] -= 1  # (credit + share) - 1: the same float as credit + share - won
    won = [0] * len(reps)
    won[chosen] = 1
    assigned = list(map(_assigned, standing))
    assigned[chosen] += 1
    # Plain tuples in the field order of LedgerEntry and CreditChange (equal to them, and a third of the cost).
    expected = map(add, map(_expected, standing), shares)
    # Not strict: every column has one item per rep by construction, and checking costs every pick ~1.5 us.
    view._book(pool).update(zip(reps, zip(credits, expected, assigned, strict=False), strict=False))
    view._changes.extend(zip(repeat(pool), reps, credits, shares, won))
    view._picks.append((pool, reps))
    return reps[chosen]


_credit, _expected, _assigned = itemgetter(0), itemgetter(1), itemgetter(2)


def pick_least_loaded(
    view: LedgerView,
    pool: str,
    contenders: Sequence[Contender],
    standing: Sequence[LedgerEntryRow],
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
    contenders: Sequence[Contender], standing: Sequence[LedgerEntryRow], total: float, max_load: float | None
) -> str:
    """The eligible rep (at most ``max_load`` when given) with the most credit once this pick's share is credited."""
    scored = [
        (entry[0] + c.weight / total, c)
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
    standing: Sequence[LedgerEntryRow],
    *,
    total: float,
    chosen: str,
    catch_up_limit: float | None,
) -> None:
    for c, entry in zip(contenders, standing, strict=True):
        share = c.weight / total
        won = 1 if c.rep == chosen else 0
        credit = entry[0] + share - won
        if not c.eligible and catch_up_limit is not None:
            credit = min(credit, catch_up_limit)
        view.credit(pool, c.rep, entry, credit=credit, expected_added=share, assigned_added=won)
    view._picks.append((pool, [c.rep for c in contenders]))
