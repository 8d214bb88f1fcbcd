"""``RouteContext``: one decision's read-only view of the world plus the ledger changes it makes.

It answers "can this rep take this lead now?" (recording every snapshot value it reads, so the decision can be
replayed) and books an assignment against the rep's caps.
"""

from __future__ import annotations

from datetime import datetime

from connector.config.routing import Rep, Requirement, RoutingConfig
from connector.models import Owner
from connector.routing.availability import LocalTime, Skip, cap_skip, crm_skip, local_time, presence_skip
from connector.routing.conditions import field_value
from connector.routing.ledger import LedgerState, LedgerView
from connector.routing.model import OwnerRead, Reads, RoutingInput, Snapshot


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
        self._owners: dict[str, OwnerRead] = {}
        self._local: dict[str, LocalTime] = {}

    def local(self, rep: Rep) -> LocalTime:
        """The rep's local time now (computed once per time zone per decision)."""
        found = self._local.get(rep.timezone)
        if found is None:
            found = self._local[rep.timezone] = local_time(rep, self.now)
        return found

    def owner(self, key: str) -> Owner | None:
        """The CRM owner with this key, if the snapshot has one (the read is recorded)."""
        found = self.snapshot.owners.get(key)
        self._record(key, found)
        return found

    def open_leads(self, key: str) -> int:
        """Open leads the CRM says the owner holds."""
        self._record(key, self.snapshot.owners.get(key))
        return self.snapshot.open_leads.get(key, 0)

    def _record(self, key: str, owner: Owner | None) -> None:
        if key not in self._owners:
            active = owner.active if owner is not None else False
            self._owners[key] = OwnerRead(key, owner is not None, active, self.snapshot.open_leads.get(key, 0))

    def skip(self, rep: Rep, *, requirements: tuple[Requirement, ...] = (), ignore_hours: bool = False) -> Skip | None:
        """Why ``rep`` cannot take this lead now, or None when they can."""
        if rep.email in self.excluded:
            return Skip("primary_owner", "already the primary owner of this lead")
        found = crm_skip(rep.email, self.owner(rep.email), self.owners_known)
        if found is not None:
            return found
        local = self.local(rep)
        found = presence_skip(rep, local, ignore_hours=ignore_hours) or self._requirement_skip(rep, requirements)
        if found is not None:
            return found
        today = self.view.count(rep.email, local.day_period)
        week = self.view.count(rep.email, local.week_period)
        return cap_skip(rep, today, week, self.open_leads(rep.email))

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
        self.excluded.add(rep.email)

    def load(self, rep: Rep) -> float:
        """Open leads plus today's leads, per unit of weight (least-loaded strategy)."""
        today = self.view.count(rep.email, self.local(rep).day_period)
        return (self.open_leads(rep.email) + today) / rep.weight

    def reads(self) -> Reads:
        """What this decision read, for replay."""
        credits, counts = self.view.reads()
        return Reads(credits, counts, tuple(self._owners.values()), self.owners_known)
