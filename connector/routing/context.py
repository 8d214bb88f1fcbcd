"""``RouteContext``: one decision's read-only view of the world plus the ledger changes it makes.

It answers "can this rep take this lead now?" (recording every snapshot value it reads, so the decision can be
replayed) and books an assignment against the rep's caps.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import repeat
from operator import lt

from connector.config.routing import Rep, Requirement, RoutingConfig
from connector.models import Owner
from connector.routing.availability import (
    LocalTime,
    Skip,
    cap_skip,
    crm_skip,
    local_time,
    memoizable,
    presence_skip,
)
from connector.routing.conditions import field_value
from connector.routing.ledger import LedgerState, LedgerView
from connector.routing.model import OwnerRead, Reads, RoutingInput, Snapshot
from connector.routing.roster import PRESENCE, Roster, local_at_minute, minute_of, roster

_PRIMARY_OWNER = Skip("primary_owner", "already the primary owner of this lead")
_PREVIOUS_OWNER = Skip("previous_owner", "previous owner of this lead (re-routed after the SLA passed)")


class RouteContext:
    """Inputs of one routing decision and the ledger view it writes to."""

    def __init__(
        self, config: RoutingConfig, inp: RoutingInput, snapshot: Snapshot, ledger: LedgerState, now: datetime
    ) -> None:
        self.config = config
        self.input = inp
        self.snapshot = snapshot
        self.now = now
        self.view = LedgerView(ledger)
        self.excluded: set[str] = set()  # owners already given this lead (2-to-1: primary is not also secondary)
        self.owners_known = snapshot.has_owners
        self._owners_read: dict[str, None] = {}  # keys in first-read order; turned into OwnerReads on demand
        self.minute = minute_of(now)

    def local(self, rep: Rep) -> LocalTime:
        """The rep's local date and minute now (the seconds are dropped: only a PTO to the second needs them)."""
        return local_at_minute(rep, self.minute)

    def owner(self, key: str) -> Owner | None:
        """The CRM owner with this key, if the snapshot has one (the read is recorded)."""
        self._owners_read[key] = None
        return self.snapshot.owners.get(key)

    def open_leads(self, key: str) -> int:
        """Open leads the CRM says the owner holds."""
        self._owners_read[key] = None
        return self.snapshot.open_leads.get(key, 0)

    def skip(self, rep: Rep, *, requirements: tuple[Requirement, ...] = (), ignore_hours: bool = False) -> Skip | None:
        """Why ``rep`` cannot take this lead now, or None when they can."""
        return self._skips_one_by_one((rep,), requirements, ignore_hours)[0]  # no roster to share for one rep

    def _exact(self, rep: Rep) -> LocalTime:
        """The rep's local time to the second, for a PTO that starts or ends inside a minute."""
        return local_time(rep, self.now)

    def skips(
        self, reps: Sequence[Rep], requirements: tuple[Requirement, ...] = (), ignore_hours: bool = False
    ) -> tuple[Skip | None, ...]:
        """``skip`` for each rep, in order: the hot loop of every pool pick.

        The checks run in the same order as for one rep (booking, CRM, presence, requirements, caps); CRM and
        presence come from the pool's roster, shared by every lead routed while its verdicts hold. When nothing
        about this lead changes them (no cap reached, no requirement, no PTO to the minute), the roster's own tuple
        is returned: its identity tells the pool pick that it can reuse what it worked out from it.
        """
        excluded, previous = self.excluded, self.input.exclude_owners
        found = roster(reps, self.snapshot, self.minute, self.local, ignore_hours=ignore_hours)
        if (excluded or previous) and not (
            found.email_set.isdisjoint(excluded) and found.email_set.isdisjoint(previous)
        ):
            return self._skips_one_by_one(reps, requirements, ignore_hours)
        self._owners_read.update(found.emails)
        verdicts = found.verdicts
        out: list[Skip | None] | None = None
        if found.recheck:
            out = list(verdicts)
            for i in found.recheck:
                out[i] = presence_skip(reps[i], self._exact(reps[i]), ignore_hours=ignore_hours)
        if requirements:
            out = list(verdicts) if out is None else out
            for i, verdict in enumerate(out):
                if verdict is None:
                    out[i] = self._requirement_skip(reps[i], requirements)
        if found.caps:
            out = self._caps_reached(found, verdicts, out)
        return verdicts if out is None else tuple(out)

    def _caps_reached(
        self, found: Roster, verdicts: Sequence[Skip | None], out: list[Skip | None] | None
    ) -> list[Skip | None] | None:
        """``out`` (or a copy of ``verdicts`` when it is None and a cap is reached) with reached caps filled in.

        Only the counters of members found at a cap are recorded as read: a replay, missing the others, counts
        them as zero, which is under their cap too, so it reaches the same verdicts. That lets the usual case (no
        one at a cap, nothing booked yet in this decision) be settled in one pass over the pool's limits.
        """
        # The view's counters are read directly rather than through ``LedgerView.count``: this runs for every pick
        # of a pool with caps, and only some reads are to be recorded.
        view = self.view
        mine, state, first = view._counts, view._state.counts, view._read_counts
        open_leads = self.snapshot.open_leads
        if (
            not mine
            and all(map(lt, map(state.get, found.day_week_keys, repeat(0)), found.day_week_caps))
            and all(map(lt, map(open_leads.get, found.open_keys, repeat(0)), found.open_caps))
        ):
            return out
        for i, rep, day, week in found.caps:
            if (verdicts if out is None else out)[i] is not None:
                continue
            today = this_week = 0
            if day is not None:
                today = mine.get(day, -1)
                if today < 0:
                    today = state.get(day, 0)
            if week is not None:
                this_week = mine.get(week, -1)
                if this_week < 0:
                    this_week = state.get(week, 0)
            open_count = self.open_leads(rep.email) if rep.caps.open_leads is not None else 0
            capped = cap_skip(rep, today, this_week, open_count)
            if capped is None:
                continue
            for key, count in ((day, today), (week, this_week)):
                if key is not None and key not in mine:
                    mine[key] = first[key] = count
            out = list(verdicts) if out is None else out
            out[i] = capped
        return out

    def _skips_one_by_one(
        self, reps: Sequence[Rep], requirements: tuple[Requirement, ...], ignore_hours: bool
    ) -> tuple[Skip | None, ...]:
        """``skips`` rep by rep: for one rep, or when a member already has this lead (2-to-1) or had it before."""
        presence = PRESENCE.presences(reps, self.local, ignore_hours=ignore_hours)
        excluded, previous = self.excluded, self.input.exclude_owners
        owners, owners_read, known = self.snapshot.owners, self._owners_read, self.owners_known
        out: list[Skip | None] = []
        for rep, memoized in zip(reps, presence, strict=True):
            email = rep.email
            if email in excluded:
                out.append(_PRIMARY_OWNER)
                continue
            if email in previous:
                out.append(_PREVIOUS_OWNER)
                continue
            owners_read[email] = None
            owner = owners.get(email)
            if owner is None or not owner.active:
                found = crm_skip(email, owner, known)
                if found is not None:
                    out.append(found)
                    continue
            verdict = memoized if memoizable(rep) else presence_skip(rep, self._exact(rep), ignore_hours=ignore_hours)
            found = verdict or (self._requirement_skip(rep, requirements) if requirements else None)
            if found is not None:
                out.append(found)
                continue
            caps = rep.caps
            uncapped = caps.per_day is None and caps.per_week is None and caps.open_leads is None
            out.append(None if uncapped else self._cap_skip(rep))
        return tuple(out)

    def _cap_skip(self, rep: Rep) -> Skip | None:
        local = self.local(rep)
        return self._cap_check(rep, local.day_period, local.week_period)

    def _cap_check(self, rep: Rep, day: str, week: str) -> Skip | None:
        caps, email = rep.caps, rep.email
        today = self.view.count(email, day) if caps.per_day is not None else 0
        this_week = self.view.count(email, week) if caps.per_week is not None else 0
        open_leads = self.open_leads(email) if caps.open_leads is not None else 0
        return cap_skip(rep, today, this_week, open_leads)

    def _requirement_skip(self, rep: Rep, requirements: tuple[Requirement, ...]) -> Skip | None:
        # A requirement the lead gives no value for is not held against anyone: skipping every rep because a form
        # lacked a country would only push good leads to the fallback.
        for need in requirements:
            if need == "territory":
                places = {p for p in (self._value("country"), self._value("state")) if p}
                if places and rep.territories and not places.intersection(rep.territories):
                    return Skip("territory", f"territory {'/'.join(sorted(places))} not covered")
            elif need == "language":
                language = self._value("language")
                if language and rep.languages and language.lower() not in rep.languages:
                    return Skip("language", f"does not speak {language}")
            elif need == "product":
                wanted = {p.lower() for p in self.input.lead.products}
                if wanted and rep.products and not wanted.intersection(rep.products):
                    return Skip("product", f"does not sell {', '.join(sorted(wanted))}")
        return None

    def _value(self, name: str) -> str | None:
        value = field_value(name, self.input, self.config.regions)
        return value if isinstance(value, str) else None

    def book(self, rep: Rep) -> None:
        """Count this lead against the rep's daily and weekly caps."""
        local = self.local(rep)
        self.view.add_lead(rep.email, (local.day_period, local.week_period))
        self.exclude(rep.email)

    def exclude(self, key: str) -> None:
        """The owner has this lead already: not again for a secondary assignment."""
        self.excluded.add(key)

    def load(self, rep: Rep) -> float:
        """Open leads plus today's leads, per unit of weight (least-loaded strategy)."""
        today = self.view.count(rep.email, self.local(rep).day_period)
        return (self.open_leads(rep.email) + today) / rep.weight

    def reads(self) -> Reads:
        """What this decision read, for replay."""
        credits, counts = self.view.reads()
        known = _owner_reads(self.snapshot)
        try:  # every key seen before with this snapshot: the usual case, without a Python step per key
            read = tuple(map(known.__getitem__, self._owners_read))
        except KeyError:
            snapshot = self.snapshot
            for key in self._owners_read:
                if key not in known:
                    owner = snapshot.owners.get(key)
                    active = owner is not None and owner.active
                    known[key] = OwnerRead(key, owner is not None, active, snapshot.open_leads.get(key, 0))
            read = tuple(map(known.__getitem__, self._owners_read))
        return Reads(credits, counts, read, self.owners_known)


_OWNER_READS: dict[int, tuple[Snapshot, dict[str, OwnerRead]]] = {}


def _owner_reads(snapshot: Snapshot) -> dict[str, OwnerRead]:
    """What the (immutable) snapshot says about each owner key, made once per key and snapshot."""
    cached = _OWNER_READS.get(id(snapshot))
    if cached is None or cached[0] is not snapshot:
        if len(_OWNER_READS) > 64:
            _OWNER_READS.clear()
        cached = _OWNER_READS[id(snapshot)] = (snapshot, {})
    return cached[1]
