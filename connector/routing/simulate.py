"""Try before you trust: replay recorded leads against a candidate rule file and compare with what happened.

Each logged decision holds its inputs and the CRM facts it read, so history replays without a CRM. The replay
starts from a fresh ledger (the candidate file's fairness from day one) and the original clock of each lead, so
working hours, PTO and caps play out as they would have.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from connector.config.routing import RoutingConfig
from connector.models import Owner
from connector.routing.cascade import decide, route
from connector.routing.ledger import LedgerState
from connector.routing.model import Decision, PickRoster, Reads, RoutingInput, Snapshot


class Recorded(Protocol):
    """What simulate needs from a logged decision (a ``Decision``, or the lighter ``store.RecordedLead``)."""

    @property
    def lead_id(self) -> str: ...
    @property
    def stage(self) -> str: ...
    @property
    def decided_at(self) -> datetime: ...
    @property
    def input(self) -> RoutingInput: ...
    @property
    def reads(self) -> Reads: ...
    @property
    def owner(self) -> str: ...
    @property
    def final_fallback(self) -> bool: ...
    @property
    def route(self) -> str: ...


@dataclass(frozen=True)
class OwnerCount:
    """Leads one owner received before (as logged) and after (simulated)."""

    owner: str
    before: int
    after: int


@dataclass(frozen=True)
class Change:
    """A lead whose primary owner would change, and why the candidate file sends it there."""

    lead_id: str
    before: str
    after: str
    via: str
    why: str
    route_changed: bool  # False when only the rotation differs (same step, rule and pool, another rep's turn)


@dataclass(frozen=True)
class SimulationReport:
    """Side by side: per-owner counts, leads that change owner, leads hitting the final fallback, skip pressure."""

    total: int
    owners: tuple[OwnerCount, ...]
    changes: tuple[Change, ...]
    fallbacks_before: int
    fallbacks: tuple[tuple[str, str], ...]  # (lead id, alert) under the candidate file
    pressure: tuple[tuple[str, str, int], ...]  # (rep, skip code, leads it was skipped for), biggest first

    def share(self, count: int) -> float:
        """``count`` as a share of all leads."""
        return count / self.total if self.total else 0.0


def replay(decision: Decision, config: RoutingConfig) -> Decision:
    """Route the recorded lead again, from exactly the ledger and CRM facts it saw; same config, same owner."""
    snapshot = snapshot_from_reads(decision.reads)
    ledger = LedgerState.from_reads(decision.reads)
    return route(
        decision.input,
        snapshot,
        config,
        ledger,
        decision.decided_at,
        stage=decision.stage,
        config_version=decision.config_version,
    )


def snapshot_from_reads(reads: Reads, *, owners_known: bool | None = None) -> Snapshot:
    """The CRM facts a decision read, as a snapshot."""
    owners = {r.key: Owner(key=r.key, email=r.key, name=r.key, active=r.active) for r in reads.owners if r.found}
    open_leads = {r.key: r.open_leads for r in reads.owners}
    return Snapshot(owners, open_leads, reads.owners_known if owners_known is None else owners_known)


def simulate(
    config: RoutingConfig, history: Iterable[Recorded], *, config_version: str = "candidate"
) -> SimulationReport:
    """Replay ``history`` (oldest first) against ``config`` with a fresh ledger and compare the outcomes."""
    stages = {s.name for s in config.stages}
    ledger = LedgerState()
    owners: dict[str, Owner] = {}
    open_leads: dict[str, int] = {}
    before: Counter[str] = Counter()
    after: Counter[str] = Counter()
    pressure: Counter[tuple[str, str]] = Counter()
    changes: list[Change] = []
    fallbacks: list[tuple[str, str]] = []
    fallbacks_before = total = 0
    snapshot = Snapshot({}, {}, owners_known=False)
    for old in history:
        if _learn(old.reads, owners, open_leads):
            # What the CRM said at the time, without judging reps the old file never asked about as "not in the CRM".
            # A new snapshot only when that changed: routing shares its per-minute work across one snapshot's leads.
            snapshot = Snapshot(dict(owners), dict(open_leads), owners_known=False)
        stage = old.stage if old.stage in stages else None
        new, view = decide(
            old.input, snapshot, config, ledger, old.decided_at, stage=stage, config_version=config_version
        )
        ledger.adopt(view)
        total += 1
        before[old.owner] += 1
        after[new.owner] += 1
        fallbacks_before += old.final_fallback
        if new.alert is not None:
            fallbacks.append((new.lead_id, new.alert))
        if new.owner != old.owner:
            changes.append(_change(old, new))
        pressure.update(_skipped(new))
    counts = tuple(OwnerCount(owner, before[owner], after[owner]) for owner in sorted(set(before) | set(after)))
    ranked = tuple((rep, code, n) for (rep, code), n in pressure.most_common())
    return SimulationReport(total, counts, tuple(changes), fallbacks_before, tuple(fallbacks), ranked)


def _skipped(decision: Decision) -> set[tuple[str, str]]:
    """(rep, skip code) of every rep a decision's picks skipped, each once (a roster's are worked out once)."""
    skipped: set[tuple[str, str]] = set()
    for step in decision.trace:
        for pick in step.picks:
            skipped.update(_roster_skips(pick.roster))
    return skipped


_ROSTER_SKIPS: dict[int, tuple[PickRoster, tuple[tuple[str, str], ...]]] = {}


def _roster_skips(roster: PickRoster) -> tuple[tuple[str, str], ...]:
    """The roster's skipped (rep, code) pairs, remembered by the roster's identity (rosters are shared objects)."""
    found = _ROSTER_SKIPS.get(id(roster))
    if found is None or found[0] is not roster:
        if len(_ROSTER_SKIPS) >= 4_096:
            _ROSTER_SKIPS.clear()
        pairs = tuple((rep, code) for rep, code in zip(roster.reps, roster.codes, strict=True) if code)
        found = _ROSTER_SKIPS[id(roster)] = (roster, pairs)
    return found[1]


def _learn(reads: Reads, owners: dict[str, Owner], open_leads: dict[str, int]) -> bool:
    """Fold what a decision read about owners in; whether anything changed."""
    changed = False
    for read in reads.owners:
        if not read.found:
            continue
        known = owners.get(read.key)
        if known is None or known.active != read.active or open_leads.get(read.key) != read.open_leads:
            owners[read.key] = Owner(key=read.key, email=read.key, name=read.key, active=read.active)
            open_leads[read.key] = read.open_leads
            changed = True
    return changed


def _change(old: Recorded, new: Decision) -> Change:
    why = next((s.detail for s in new.trace if s.outcome == "assigned" and s.owner == new.owner), new.alert or "")
    return Change(new.lead_id, old.owner, new.owner, new.route, why, route_changed=new.route != old.route)
