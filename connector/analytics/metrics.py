"""Routing metrics over a period, overall and grouped by source, rule, pool, rep and stage.

Definitions (each checks by hand):

* speed-to-lead: created → assigned (first decision), assigned → first touch, created → first touch; median and
  p90 in seconds, p90 by nearest rank (the ⌈0.9·n⌉-th smallest value), over the leads that have both ends;
* touch rate: touched leads / routed leads;
* meeting rate: leads with at least one meeting (HubSpot) or Event (Salesforce) booked since the assignment and
  linked to the lead, cancelled ones left out / routed leads, over leads of CRMs whose meetings are synced;
  meetings per lead: meetings booked / those leads;
* funnel: leads that reached at least MQL / SQL / opportunity / closed won (see ``facts.funnel_stage``);
* reassignment rate: leads routed more than once / routed leads; fallback rate: leads whose first decision landed
  on the final fallback; unmatched rate: leads routed without a matched account;
* fairness (``fairness``): over leads a pool distributed, each rep's share against their capacity share
  (weight × working hours available in the period, PTO and public holidays taken out), summarised as Jain's
  index (Σx)² / (n·Σx²) of x = share / capacity share: 1.0 is perfectly fair, 1/n is everything to one rep.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlite_utils

from connector.analytics.capacity import available_hours
from connector.analytics.facts import FUNNEL, LeadFacts, lead_facts
from connector.config.routing import RoutingConfig

DIMENSIONS: dict[str, Callable[[LeadFacts], str]] = {
    "source": lambda f: f.source,
    "rule": lambda f: f.rule or "(no rule)",
    "pool": lambda f: f.pool or "(no pool)",
    "rep": lambda f: f.owner,
    "stage": lambda f: f.stage,
}
# Speed-to-first-touch buckets (upper bound in seconds, label); leads never touched get their own bar.
TOUCH_BUCKETS: tuple[tuple[float, str], ...] = (
    (300, "< 5 min"),
    (900, "5–15 min"),
    (3_600, "15–60 min"),
    (14_400, "1–4 h"),
    (86_400, "4–24 h"),
    (math.inf, "> 24 h"),
)
MEETINGS_MISSING = (
    "meeting rate: meetings are not synced (needs HubSpot meetings and Salesforce Event streams), so it is not shown"
)
MEETINGS_PARTIAL = "meeting rate: {n} lead(s) of a CRM whose meetings are not synced are left out of it"


@dataclass(frozen=True)
class Speed:
    """A distribution of durations in seconds: how many, median, p90 (nearest rank)."""

    count: int
    median_s: float | None
    p90_s: float | None

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Speed:
        """Median and nearest-rank p90 of ``seconds`` (None for both when empty)."""
        if not seconds:
            return cls(0, None, None)
        ordered = sorted(seconds)
        return cls(len(ordered), float(statistics.median(ordered)), float(ordered[math.ceil(0.9 * len(ordered)) - 1]))


@dataclass(frozen=True)
class GroupMetrics:
    """Every metric for one group of leads (or all of them)."""

    key: str
    leads: int
    touched: int
    reassigned: int
    fallback: int
    unmatched: int
    funnel: tuple[int, ...]  # leads at or past each stage of FUNNEL
    created_to_assigned: Speed
    assigned_to_touch: Speed
    created_to_touch: Speed
    meeting_leads: int = 0  # leads whose CRM's meetings are synced (the meeting rate's denominator)
    met: int = 0  # of those, leads with a meeting booked since the assignment
    meetings: int = 0  # meetings booked on those leads

    def rate(self, count: int) -> float | None:
        """``count`` as a share of this group's leads (None without leads)."""
        return count / self.leads if self.leads else None

    @property
    def meeting_rate(self) -> float | None:
        """Leads with a meeting booked / leads whose meetings are known (None when none are)."""
        return self.met / self.meeting_leads if self.meeting_leads else None

    @property
    def meetings_per_lead(self) -> float | None:
        """Meetings booked per lead whose meetings are known (None when none are)."""
        return self.meetings / self.meeting_leads if self.meeting_leads else None

    @property
    def rates(self) -> dict[str, float | None]:
        """Touch, reassignment, fallback, unmatched and meeting rates."""
        return {
            "touch_rate": self.rate(self.touched),
            "reassignment_rate": self.rate(self.reassigned),
            "fallback_rate": self.rate(self.fallback),
            "unmatched_rate": self.rate(self.unmatched),
            "meeting_rate": self.meeting_rate,
        }


@dataclass(frozen=True)
class RepShare:
    """One rep's part of the pool-distributed leads against their capacity."""

    rep: str
    leads: int
    share: float
    weight: float
    available_hours: float
    expected_share: float


@dataclass(frozen=True)
class Fairness:
    """Jain's index over share / capacity share (None when no pool distributed a lead) and the per-rep table."""

    index: float | None
    reps: tuple[RepShare, ...]


@dataclass(frozen=True)
class TrendPoint:
    """One UTC day: leads first routed that day and their median created → assigned seconds."""

    day: str
    leads: int
    median_assign_s: float | None


@dataclass(frozen=True)
class Metrics:
    """Everything the report shows for one period."""

    start_ms: int
    end_ms: int
    overall: GroupMetrics
    groups: dict[str, tuple[GroupMetrics, ...]]
    fairness: Fairness
    trend: tuple[TrendPoint, ...]
    touch_histogram: tuple[tuple[str, int], ...] = ()
    notes: tuple[str, ...] = (MEETINGS_MISSING,)


def compute(db: sqlite_utils.Database, routing: RoutingConfig, start_ms: int, end_ms: int) -> Metrics:
    """Metrics for leads first routed in [start_ms, end_ms)."""
    facts = list(lead_facts(db, start_ms, end_ms))
    return metrics_of(facts, routing, start_ms, end_ms)


def metrics_of(facts: Sequence[LeadFacts], routing: RoutingConfig, start_ms: int, end_ms: int) -> Metrics:
    """Metrics over already-read facts (pure)."""
    groups = {name: _grouped(facts, key) for name, key in DIMENSIONS.items()}
    overall = group_metrics("all", facts)
    return Metrics(
        start_ms,
        end_ms,
        overall,
        groups,
        fairness(facts, routing, start_ms, end_ms),
        _trend(facts),
        touch_histogram(facts),
        _notes(facts),
    )


def _notes(facts: Sequence[LeadFacts]) -> tuple[str, ...]:
    unknown = sum(f.meetings is None for f in facts)
    if facts and unknown == len(facts):
        return (MEETINGS_MISSING,)
    return (MEETINGS_PARTIAL.format(n=unknown),) if unknown else ()


def touch_histogram(facts: Sequence[LeadFacts]) -> tuple[tuple[str, int], ...]:
    """Leads per assigned → first-touch bucket (``TOUCH_BUCKETS``), then the untouched ones."""
    counts = [0] * len(TOUCH_BUCKETS)
    for fact in facts:
        if fact.first_touch_ms is not None:
            seconds = max(0, fact.first_touch_ms - fact.assigned_ms) / 1000
            counts[next(i for i, (limit, _) in enumerate(TOUCH_BUCKETS) if seconds < limit)] += 1
    untouched = sum(f.first_touch_ms is None for f in facts)
    return (*((label, n) for (_, label), n in zip(TOUCH_BUCKETS, counts, strict=True)), ("untouched", untouched))


def group_metrics(key: str, facts: Sequence[LeadFacts]) -> GroupMetrics:
    """The metrics of one set of leads."""
    touched = [f for f in facts if f.first_touch_ms is not None]
    meetings = [f.meetings for f in facts if f.meetings is not None]
    return GroupMetrics(
        key=key,
        leads=len(facts),
        touched=len(touched),
        reassigned=sum(f.reassigned for f in facts),
        fallback=sum(f.fallback for f in facts),
        unmatched=sum(f.unmatched for f in facts),
        funnel=tuple(sum(f.funnel >= stage for f in facts) for stage in range(1, len(FUNNEL) + 1)),
        created_to_assigned=Speed.of([max(0, f.assigned_ms - f.created_ms) / 1000 for f in facts]),
        assigned_to_touch=Speed.of([max(0, (f.first_touch_ms or 0) - f.assigned_ms) / 1000 for f in touched]),
        created_to_touch=Speed.of([max(0, (f.first_touch_ms or 0) - f.created_ms) / 1000 for f in touched]),
        meeting_leads=len(meetings),
        met=sum(n > 0 for n in meetings),
        meetings=sum(meetings),
    )


def _grouped(facts: Iterable[LeadFacts], key: Callable[[LeadFacts], str]) -> tuple[GroupMetrics, ...]:
    buckets: dict[str, list[LeadFacts]] = defaultdict(list)
    for fact in facts:
        buckets[key(fact)].append(fact)
    return tuple(group_metrics(k, buckets[k]) for k in sorted(buckets, key=lambda k: (-len(buckets[k]), k)))


def fairness(facts: Sequence[LeadFacts], routing: RoutingConfig, start_ms: int, end_ms: int) -> Fairness:
    """Each pool member's share of the pool-distributed leads against weight × available hours, and Jain's index."""
    pooled = [f for f in facts if f.pool is not None and not f.fallback]
    names = {f.pool for f in pooled if f.pool is not None} & set(routing.pools_by_name)
    members = sorted({m for name in names for m in routing.pool(name).reps})
    reps = [r for m in members if (r := routing.rep(m)) is not None and r.active]
    if not pooled or not reps:
        return Fairness(None, ())
    counts: dict[str, int] = defaultdict(int)
    for fact in pooled:
        counts[fact.owner] += 1
    start, end = (datetime.fromtimestamp(ms / 1000, UTC) for ms in (start_ms, end_ms))
    hours = {r.email: available_hours(r, start, end) for r in reps}
    capacity = {r.email: r.weight * hours[r.email] for r in reps}
    total_capacity, total = sum(capacity.values()), len(pooled)
    rows = tuple(
        RepShare(
            r.email,
            counts[r.email],
            counts[r.email] / total,
            r.weight,
            hours[r.email],
            capacity[r.email] / total_capacity if total_capacity else 0.0,
        )
        for r in reps
    )
    ratios = [row.share / row.expected_share for row in rows if row.expected_share > 0]
    squares = sum(x * x for x in ratios)
    index = (sum(ratios) ** 2) / (len(ratios) * squares) if squares else None
    return Fairness(index, rows)


def _trend(facts: Sequence[LeadFacts]) -> tuple[TrendPoint, ...]:
    days: dict[str, list[LeadFacts]] = defaultdict(list)
    for fact in facts:
        days[fact.day].append(fact)
    return tuple(
        TrendPoint(day, len(items), Speed.of([max(0, f.assigned_ms - f.created_ms) / 1000 for f in items]).median_s)
        for day, items in sorted(days.items())
    )
