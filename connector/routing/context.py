"""``RouteContext``: one decision's read-only view of the world plus the ledger changes it makes.

It answers "can this rep take this lead now?" (recording every snapshot value it reads, so the decision can be
replayed) and books an assignment against the rep's caps.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from connector.config.routing import Rep, Requirement, RoutingConfig
from connector.models import Owner
from connector.routing.availability import (
    LocalTime,
    PresenceMemo,
    Skip,
    cap_skip,
    crm_skip,
    local_time,
)
from connector.routing.conditions import field_value
from connector.routing.ledger import LedgerState, LedgerView
from connector.routing.model import OwnerRead, Reads, RoutingInput, Snapshot

# Process-wide and keyed by instant and rep identity, so it never changes an answer, only how often it is computed.
_PRESENCE = PresenceMemo()
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
        self._local: dict[str, LocalTime] = {}

    def local(self, rep: Rep) -> LocalTime:
        """The rep's local time now (computed once per time zone per decision)."""
        found = self._local.get(rep.timezone)
        if found is None:
            found = self._local[rep.timezone] = local_time(rep, self.now)
        return found

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
        return self.skips((rep,), requirements, ignore_hours)[0]

    def skips(
        self, reps: Sequence[Rep], requirements: tuple[Requirement, ...] = (), ignore_hours: bool = False
    ) -> list[Skip | None]:
        """``skip`` for each rep, in order: the hot loop of every pool pick, so it stays one tight loop.

        The checks run in the same order as for one rep (booking, CRM, presence, requirements, caps), with presence
        memoized across decisions (``PresenceMemo``).
        """
        presence = _PRESENCE.presences(reps, self.local, ignore_hours=ignore_hours)
        excluded, previous = self.excluded, self.input.exclude_owners
        owners, owners_read, known = self.snapshot.owners, self._owners_read, self.owners_known
        out: list[Skip | None] = []
        for rep, verdict in zip(reps, presence, strict=True):
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
            found = verdict or (self._requirement_skip(rep, requirements) if requirements else None)
            if found is not None:
                out.append(found)
                continue
            caps = rep.caps
            uncapped = caps.per_day is None and caps.per_week is None and caps.open_leads is None
            out.append(None if uncapped else self._cap_skip(rep))
        return out

    def _cap_skip(self, rep: Rep) -> Skip | None:
        caps, email, local = rep.caps, rep.email, self.local(rep)
        today = self.view.count(email, local.day_period) if caps.per_day is not None else 0
        week = self.view.count(email, local.week_period) if caps.per_week is not None else 0
        open_leads = self.open_leads(email) if caps.open_leads is not None else 0
        return cap_skip(rep, today, week, open_leads)

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
        owners, open_leads = self.snapshot.owners, self.snapshot.open_leads
        read = []
        for key in self._owners_read:
            owner = owners.get(key)
            read.append(OwnerRead(key, owner is not None, owner is not None and owner.active, open_leads.get(key, 0)))
        return Reads(credits, counts, tuple(read), self.owners_known)
