"""Routing's value objects: what goes in (``RoutingInput``, ``Snapshot``), what comes out (``Decision``).

A ``Decision`` carries its own explanation: every cascade step evaluated (``StepResult``), every pool pick made
(``Pick``: the pool's shared ``PickRoster`` of verdicts and reasons, and the ledger credit read for each member;
``StepResult.candidates`` shows them as one ``Candidate`` per rep), the owner(s) chosen (``Assignment``) and the
inputs it read (``Reads``), which is what makes a stored decision replayable.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from itertools import chain, groupby, repeat
from operator import itemgetter
from typing import Any, Literal, NamedTuple, TypeVar

from connector.models import Account, Lead, Owner

_T = TypeVar("_T")


def quick_init(cls: type[_T]) -> type[_T]:
    """Give a frozen dataclass an ``__init__`` that fills the instance's ``__dict__`` directly.

    A frozen dataclass's generated ``__init__`` sets each field through ``object.__setattr__`` (to get past the
    frozen ``__setattr__``), about 0.3 us a field on a small server; every routed lead builds a dozen of these
    objects. Filling ``__dict__`` is what that ends up doing, at a fifth of the cost. The signature, defaults,
    equality, hashing and immutability afterwards stay the dataclass's own. Only for dataclasses without
    ``default_factory``, ``__post_init__`` or slots (checked here).
    """
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    if hasattr(cls, "__post_init__") or hasattr(cls, "__slots__"):
        raise TypeError(f"quick_init cannot build {cls.__name__}: it has __post_init__ or slots")
    defaults: dict[str, Any] = {}
    params = []
    for f in fields:
        if f.default_factory is not dataclasses.MISSING or not f.init:
            raise TypeError(f"quick_init cannot build {cls.__name__}: field {f.name} has a factory or init=False")
        if f.default is dataclasses.MISSING:
            params.append(f.name)
        else:
            defaults[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
    body = "; ".join(f"d[{f.name!r}] = {f.name}" for f in fields)
    source = f"def __init__(self, {', '.join(params)}):\n    d = self.__dict__; {body}\n"
    namespace: dict[str, Any] = {}
    exec(source, defaults, namespace)  # noqa: S102 - the source is built above from field names only
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init  # type: ignore[method-assign]
    return cls


@dataclass(frozen=True)
class RoutingInput:
    """Everything known about one lead when it is routed: the lead, its matched account and its score.

    Matching and scoring produce these values; routing only reads them, so the three parts stay independent.
    """

    lead: Lead
    account: Account | None = None
    match_method: str | None = None  # e.g. "domain", "fuzzy_name", "crm_link"
    match_confidence: float | None = None
    fit: str | None = None  # Fit tier, e.g. "A"
    activity: str | None = None  # Activity tier, e.g. "1"
    grade: str | None = None  # e.g. "A1"
    score_breakdown: tuple[str, ...] = ()  # human-readable lines from scoring
    outcome: str | None = None  # qualification outcome hint, e.g. "route", "nurture"
    # Owners who must not get the lead again (an SLA re-route skips the owners who let it go stale).
    exclude_owners: tuple[str, ...] = ()


@dataclass(frozen=True)
class Snapshot:
    """What the CRMs say right now about owners: who exists and is active, and how many open leads each holds.

    ``owners_known`` is False when no owner list was loaded (e.g. a dry run without a CRM): then reps are judged
    by the rule file alone instead of being skipped as "not found in the CRM".
    """

    owners: Mapping[str, Owner] = field(default_factory=dict)
    open_leads: Mapping[str, int] = field(default_factory=dict)
    owners_known: bool | None = None

    @property
    def has_owners(self) -> bool:
        """Whether the CRM owner list is authoritative for this decision."""
        return bool(self.owners) if self.owners_known is None else self.owners_known


SkipCode = Literal[
    "inactive",
    "crm_inactive",
    "not_in_crm",
    "pto",
    "holiday",
    "off_hours",
    "cap_day",
    "cap_week",
    "cap_open",
    "territory",
    "language",
    "product",
    "primary_owner",
    "previous_owner",
]


# Candidate, OwnerRead and the ledger records are NamedTuples rather than frozen dataclasses: a decision holds dozens
# of them and
# building frozen dataclasses was a measurable share of routing time. They are just as immutable, and they are
# stored as compact JSON arrays in field order.
class Candidate(NamedTuple):
    """One rep considered at one step: eligible or not (and why), and the ledger credit the pick used."""

    rep: str
    eligible: bool
    pool: str | None = None
    code: str | None = None  # a SkipCode when not eligible
    reason: str | None = None  # plain-language reason when not eligible
    weight: float = 1.0
    credit: float | None = None  # ledger credit before this pick (expected minus actual leads)


_candidate = partial(tuple.__new__, Candidate)  # a Candidate from a tuple of its values, without Python code


@dataclass(frozen=True, eq=True)
class PickRoster:
    """Who one pool pick considered and each one's verdict, in member order.

    It depends only on the pool and the verdicts, so one roster is shared by every lead picked from the pool while
    the verdicts hold: a decision records it by reference plus the credits it read (``Pick``), and turns the two
    into ``Candidate`` rows only when someone looks (explain, simulate's pressure report).
    """

    pool: str | None  # the ledger the pick used (a pool's name, or "pod:..."); None only in very old rows
    reps: tuple[str, ...]
    eligible: tuple[bool, ...]
    codes: tuple[str | None, ...]  # a SkipCode for each rep not eligible
    reasons: tuple[str | None, ...]
    weights: tuple[float, ...]


class Pick(NamedTuple):
    """One pool pick: the roster it considered and the ledger credit it read for each member (in member order)."""

    roster: PickRoster
    credits: tuple[float | None, ...]

    def candidates(self) -> tuple[Candidate, ...]:
        """Each member as a ``Candidate``: verdict, reason, weight and the credit the pick used."""
        r = self.roster
        return tuple(
            map(_candidate, zip(r.reps, r.eligible, repeat(r.pool), r.codes, r.reasons, r.weights, self.credits))
        )


def picks_from_candidates(candidates: Iterable[Candidate]) -> tuple[Pick, ...]:
    """Candidate rows (as older decision formats store them) back into picks: one per run of the same pool."""
    picks = []
    for pool, run in groupby(candidates, key=itemgetter(2)):
        rows = tuple(run)
        reps, eligible, _, codes, reasons, weights, credits = zip(*rows, strict=True)
        picks.append(Pick(PickRoster(pool, reps, eligible, codes, reasons, weights), credits))
    return tuple(picks)


StepOutcome = Literal["assigned", "no_match", "unavailable", "skipped"]


@quick_init
@dataclass(frozen=True)
class StepResult:
    """One cascade step (or one rule / named list inside a step) and what happened there, in plain words."""

    stage: str
    step: str
    kind: str
    outcome: StepOutcome
    detail: str
    rule: str | None = None
    pool: str | None = None
    pools_tried: tuple[str, ...] = ()
    picks: tuple[Pick, ...] = ()  # the pool picks made here (a waterfall makes one per pool tried)
    owner: str | None = None

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        """Every rep considered at this step, pick after pick: eligible or not (and why), and the credit read."""
        picks = self.picks
        if not picks:
            return ()
        if len(picks) == 1:
            return picks[0].candidates()
        return tuple(chain.from_iterable(pick.candidates() for pick in picks))


@quick_init
@dataclass(frozen=True)
class Assignment:
    """An owner chosen for a lead: primary, or secondary in a 2-to-1 assignment."""

    role: Literal["primary", "secondary"]
    stage: str
    owner: str  # owner key: a rep's email or a queue key
    owner_name: str
    step: str
    rule: str | None = None
    pool: str | None = None
    final_fallback: bool = False
    booking_link: str | None = None

    @property
    def route(self) -> str:
        """ "step › rule › pool", the parts that apply."""
        return " › ".join(
            p for p in (self.step, self.rule and f"rule {self.rule}", self.pool and f"pool {self.pool}") if p
        )


class CreditChange(NamedTuple):
    """How one rep's fairness ledger in one pool moves with one pick."""

    pool: str
    rep: str
    credit: float  # the new credit
    expected_added: float
    assigned_added: int


# What the ledger's hot path builds: plain tuples in the field order of CreditChange and LedgerEntry (equal to
# them, and a third of the cost to build); decoding a stored decision gives the NamedTuples.
CreditChangeRow = tuple[str, str, float, float, int]


class CountChange(NamedTuple):
    """One more lead for a rep in one local day ("d:2026-11-23") or ISO week ("w:2026-W48")."""

    rep: str
    period: str
    added: int = 1


@quick_init
@dataclass(frozen=True)
class LedgerDelta:
    """Everything a decision changes in the ledger; applying it is the caller's job (routing itself is pure)."""

    credits: tuple[CreditChangeRow, ...] = ()  # CreditChange fields, in order
    counts: tuple[CountChange, ...] = ()


class LedgerEntry(NamedTuple):
    """One rep's standing in one pool: expected leads (its share of each pick it was eligible for) vs. actual."""

    credit: float = 0.0
    expected: float = 0.0
    assigned: int = 0


LedgerEntryRow = tuple[float, float, int]  # LedgerEntry fields, in order


class OwnerRead(NamedTuple):
    """What the snapshot said about one owner key when the decision was made."""

    key: str
    found: bool
    active: bool
    open_leads: int


@quick_init
@dataclass(frozen=True)
class Reads:
    """The slice of ledger and snapshot a decision looked at: enough to replay it exactly, without a CRM."""

    credits: tuple[tuple[str, str, LedgerEntryRow], ...] = ()  # (pool, rep, LedgerEntry fields)
    counts: tuple[tuple[str, str, int], ...] = ()
    owners: tuple[OwnerRead, ...] = ()
    owners_known: bool = False


@quick_init
@dataclass(frozen=True)
class Decision:
    """The outcome of routing one lead through one stage (plus its secondary stage), with its explanation."""

    lead_id: str
    stage: str
    decided_at: datetime
    config_version: str
    input: RoutingInput
    trace: tuple[StepResult, ...]
    assignments: tuple[Assignment, ...]
    delta: LedgerDelta
    reads: Reads
    alert: str | None = None  # set when any assignment landed on the final fallback: the reason

    @property
    def owner(self) -> str:
        """The primary owner key."""
        return self.assignments[0].owner

    @property
    def secondary_owner(self) -> str | None:
        """The secondary owner key in a 2-to-1 assignment, else None."""
        return next((a.owner for a in self.assignments if a.role == "secondary"), None)

    @property
    def route(self) -> str:
        """How the primary owner was reached: "step › rule › pool" (the parts that apply)."""
        return self.assignments[0].route

    @property
    def final_fallback(self) -> bool:
        """Whether any owner came from the final fallback (an alert condition)."""
        return any(a.final_fallback for a in self.assignments)
