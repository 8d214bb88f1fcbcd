"""The first-touch SLA: remind before the deadline, re-route an untouched lead to someone else, escalate repeats.

Each current assignment of a routed lead gets a deadline: its window (``analytics.sla``: per rule, per stage, or
the default) counted in the owner's working hours from the moment it was routed. The sweep (schedule it every
few minutes; ``Relay`` users call ``sweep`` after ``tick``):

* records first touches from the cache (``touches.detect_first_touches``); a touched assignment is done;
* reminds the owner once when the deadline is ``remind_before_minutes`` away: a Slack DM or email through the
  outbox, enqueued in the transaction that records ``reminded_ms`` (so a crash can neither lose nor double it);
* past the deadline, re-routes the lead through the cascade with every previous owner excluded (skip reason
  "previous owner"), through the outbox like any decision, and records the reassignment;
* leaves alone a lead someone gave to a third person in the CRM since routing (a human decision wins);
* once a lead has been re-routed ``max_reassignments`` times, escalates instead: the lead goes to ``escalate_to``
  through the outbox (owner, task, nudge) when that manager is an active owner in the lead's CRM, is only told
  about it otherwise (the lead stays with its owner), and ``escalate_channel`` hears about every escalation.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from functools import cache
from zoneinfo import ZoneInfo

import sqlite_utils

from connector.analytics import store
from connector.analytics.capacity import day_off
from connector.analytics.sla_notices import Escalation, escalation_for, for_channel, manager_assignee, reminder_for
from connector.analytics.touches import detect_first_touches
from connector.cache import queries
from connector.config.analytics import AnalyticsConfig
from connector.config.root import LeadrelayConfig
from connector.config.routing import WEEKDAYS, Rep
from connector.db import transaction
from connector.logs import get_logger
from connector.models import Lead, Owner
from connector.outbox import store as outbox_store
from connector.outbox.model import Assignee, Assignment
from connector.pipeline import LeadPipeline, intake
from connector.pipeline.act import assignment_for, new_decision_id
from connector.routing.model import Decision, Snapshot

log = get_logger("leadrelay.analytics.sla")
_OPEN_LEAD_WINDOW_MS = 7 * 86_400_000  # the pipeline's own window for open-lead caps

_UNTOUCHED = """
SELECT p.lead_id, p.decision_id, d.owner, d.decided_at_ms, d.stage, d.rule,
    json_extract(d.payload, '$.input.lead.owner_key') AS owner_before, o.key AS owner_now
FROM pipeline_leads p
JOIN routing_decisions d ON d.id = (
    SELECT id FROM routing_decisions WHERE lead_id = p.lead_id ORDER BY decided_at_ms DESC, id DESC LIMIT 1)
LEFT JOIN analytics_touches t ON t.decision_id = p.decision_id
LEFT JOIN analytics_sla s ON s.decision_id = p.decision_id
LEFT JOIN cache_people c ON c.id = p.lead_id
LEFT JOIN cache_owners o ON o.crm = c.crm AND o.native_id = c.owner_native_id
WHERE p.status = 'routed' AND p.decision_id IS NOT NULL AND t.decision_id IS NULL AND s.outcome IS NULL
  AND d.final_fallback = 0 AND d.owner NOT LIKE 'queue:%' AND d.decided_at_ms >= ?
"""


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def working_deadline(rep: Rep | None, start: datetime, minutes: int) -> datetime:
    """``start`` plus ``minutes`` of the rep's working time (hours, days, zone; PTO days and holidays skipped).

    Without a rep (an owner outside the rule file) the window is wall-clock time.
    """
    if rep is None:
        return start + timedelta(minutes=minutes)
    zone, hours = _zone(rep.timezone), rep.hours_by_day()
    local, remaining = start.astimezone(zone), float(minutes)
    day = local.date()
    for _ in range(366):  # a year without a working minute means the hours are empty: fall back to wall clock
        midnight = datetime.combine(day, clock(), tzinfo=zone)
        for first, last in () if day_off(rep, day) else hours[WEEKDAYS[day.weekday()]]:
            begin, end = max(midnight + timedelta(minutes=first), local), midnight + timedelta(minutes=last)
            if begin >= end:
                continue
            available = (end - begin).total_seconds() / 60
            if available >= remaining:
                return (begin + timedelta(minutes=remaining)).astimezone(start.tzinfo or UTC)
            remaining -= available
        day += timedelta(days=1)
    return start + timedelta(minutes=minutes)


@dataclass(frozen=True)
class Reassignment:
    """One SLA re-route: the lead, who let it go stale, who has it now."""

    lead_id: str
    from_owner: str
    to_owner: str
    final_fallback: bool


@dataclass
class SweepResult:
    """What one sweep did."""

    touched: int = 0
    reminded: list[str] = field(default_factory=list)
    rerouted: list[Reassignment] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Open:
    lead_id: str
    decision_id: str
    owner: str
    decided_ms: int
    stage: str
    rule: str | None
    owner_before: str | None  # the CRM owner when the lead was routed (an intake user, a queue, or none)
    owner_now: str | None  # the CRM owner the cache holds now

    @property
    def owner_changed(self) -> bool:
        """Whether someone gave the lead to a third person in the CRM since routing: no longer the SLA's business."""
        return self.owner_now is not None and self.owner_now not in (self.owner, self.owner_before)


class SlaSweeper:
    """Applies the first-touch SLA to a pipeline's routed leads (same database, router and config)."""

    def __init__(self, pipeline: LeadPipeline) -> None:
        store.install(pipeline.db)
        self.pipeline = pipeline
        self.db: sqlite_utils.Database = pipeline.db

    @property
    def settings(self) -> AnalyticsConfig:
        """The analytics section of the pipeline's current config."""
        return self.pipeline.loaded.config.analytics

    def sweep(self, now: datetime | None = None) -> SweepResult:
        """Record touches, then remind, re-route or escalate every untouched assignment as its deadline says."""
        moment = now or datetime.now(UTC)
        now_ms = _ms(moment)
        result = SweepResult(touched=len(detect_first_touches(self.db, now_ms=now_ms)))
        if not self.settings.sla.enabled:
            return result
        oldest = now_ms - self.settings.sla.max_age_hours * 3_600_000
        for row in [_Open(*r) for r in self.db.conn.execute(_UNTOUCHED, (oldest,))]:
            try:
                self._apply(row, moment, result)
            except Exception as exc:  # one bad lead must not hold the SLA back for the others
                log.error("sla_lead_failed", lead_id=row.lead_id, error=type(exc).__name__, message=str(exc)[:500])
        return result

    def _apply(self, row: _Open, moment: datetime, result: SweepResult) -> None:
        now_ms = _ms(moment)
        if row.owner_changed:
            self._deadline(row)
            self._settle(row, "owner_changed", now_ms)
            log.info("sla_owner_changed", lead_id=row.lead_id, owner=row.owner, owner_now=row.owner_now)
            return
        deadline = self._deadline(row)
        if now_ms >= deadline:
            self._expire(row, moment, result)
        elif self._remind_due(row, deadline, now_ms):
            self._remind(row, deadline, now_ms)
            result.reminded.append(row.lead_id)

    # -- deadlines ------------------------------------------------------------------------------------------------
    def _deadline(self, row: _Open) -> int:
        found = self.db.conn.execute("SELECT deadline_ms FROM analytics_sla WHERE decision_id = ?", (row.decision_id,))
        stored = found.fetchone()
        if stored is not None:
            return int(stored[0])
        minutes = self.settings.sla_minutes(row.stage, row.rule)
        rep = self.pipeline.loaded.config.routing.rep(row.owner)
        start = datetime.fromtimestamp(row.decided_ms / 1000, UTC)
        deadline = _ms(working_deadline(rep, start, minutes))
        with transaction(self.db) as conn:
            conn.execute(
                "INSERT OR IGNORE INTO analytics_sla (decision_id, lead_id, owner, deadline_ms) VALUES (?, ?, ?, ?)",
                (row.decision_id, row.lead_id, row.owner, deadline),
            )
        return deadline

    def _remind_due(self, row: _Open, deadline: int, now_ms: int) -> bool:
        before = self.settings.sla.remind_before_minutes
        if before == 0 or now_ms < deadline - before * 60_000:
            return False
        reminded = self.db.conn.execute(
            "SELECT reminded_ms FROM analytics_sla WHERE decision_id = ?", (row.decision_id,)
        ).fetchone()
        return reminded is not None and reminded[0] is None

    def _remind(self, row: _Open, deadline: int, now_ms: int) -> None:
        """Mark the assignment reminded and enqueue the owner's reminder in one transaction: exactly once."""
        actions = self.pipeline.loaded.config.actions
        reminder = reminder_for(
            self.db, decision_id=row.decision_id, lead_id=row.lead_id, owner_key=row.owner, deadline_ms=deadline,
            now_ms=now_ms,
        )  # fmt: skip
        with transaction(self.db) as conn:
            marked = conn.execute(
                "UPDATE analytics_sla SET reminded_ms = ? WHERE decision_id = ? AND reminded_ms IS NULL",
                (now_ms, row.decision_id),
            ).rowcount
            effects = outbox_store.enqueue(conn, reminder, actions) if marked and reminder is not None else ()
        if not marked:  # another sweep reminded first
            return
        log.warning(
            "sla_reminder", lead_id=row.lead_id, owner=row.owner, minutes_left=(deadline - now_ms) // 60_000,
            sent_by=[e.target for e in effects] or None, unsent_reason=_unsent_reason(reminder, effects),
        )  # fmt: skip

    # -- expiry ---------------------------------------------------------------------------------------------------
    def _expire(self, row: _Open, moment: datetime, result: SweepResult) -> None:
        done = self.db.conn.execute(
            "SELECT COUNT(*) FROM analytics_reassignments WHERE lead_id = ?", (row.lead_id,)
        ).fetchone()[0]
        if done >= self.settings.sla.max_reassignments:
            self._escalate(row, int(done), _ms(moment))
            result.escalated.append(row.lead_id)
            return
        moved = self._reroute(row, moment)
        if moved is not None:
            result.rerouted.append(moved)

    def _escalate(self, row: _Open, reroutes: int, now_ms: int) -> None:
        """Hand the lead to ``escalate_to`` when that manager can own it, else only tell them; tell the channel."""
        key = self.settings.sla.escalate_to
        lead = queries.person_by_id(self.db, row.lead_id)
        manager = manager_assignee(key, queries.owner_by_key(self.db, key), lead) if key and lead is not None else None
        told: list[str] = []
        with transaction(self.db) as conn:
            if lead is not None:
                notice = self._escalation_notice(row, lead, manager, reroutes=reroutes, conn=conn, now_ms=now_ms)
                told = self._send_escalation(conn, row, notice, manager, now_ms)
            self._settle(row, "escalated", now_ms, conn)
        assigned = bool(lead is not None and manager is not None and manager.crm_ids)
        log.warning("sla_escalated", lead_id=row.lead_id, owner=row.owner, manager=key, assigned=assigned,
                    notified=told or None)  # fmt: skip

    def _send_escalation(
        self, conn: sqlite3.Connection, row: _Open, notice: Assignment, manager: Assignee | None, now_ms: int
    ) -> list[str]:
        """Enqueue the manager's handover or note and the channel's note; returns who will hear about it."""
        actions, channel = self.pipeline.loaded.config.actions, self.settings.sla.escalate_channel
        told = []
        if manager is not None and outbox_store.enqueue(conn, notice, actions):
            told.append(manager.key)
        if manager is not None and manager.crm_ids:  # handed over: it counts as a reassignment
            conn.execute(
                "INSERT INTO analytics_reassignments (lead_id, from_owner, to_owner, from_decision_id,"
                " to_decision_id, at_ms, reason) VALUES (?, ?, ?, ?, ?, ?, 'escalated')",
                (row.lead_id, row.owner, notice.owner.key, row.decision_id, notice.decision_id, now_ms),
            )
        if channel and outbox_store.enqueue(conn, for_channel(notice, channel), actions):
            told.append(channel)
        return told

    def _escalation_notice(
        self, row: _Open, lead: Lead, manager: Assignee | None, *, reroutes: int, conn: sqlite3.Connection, now_ms: int
    ) -> Assignment:
        config = self.pipeline.loaded.config
        twins = _twins(self.db, lead)
        previous = _native_owner(queries.owner_by_key(self.db, row.owner), _written(lead, twins, config), conn)
        # Without a manager the notice still needs an addressee; it only goes to the channel then.
        addressee = manager or Assignee(key=row.owner, name=row.owner)
        return escalation_for(
            lead, addressee, Escalation(row.decision_id, row.owner, reroutes), twins=twins,
            previous_owner_id=previous, config=config, now_ms=now_ms,
        )  # fmt: skip

    def _settle(self, row: _Open, outcome: str, now_ms: int, conn: sqlite3.Connection | None = None) -> None:
        sql = "UPDATE analytics_sla SET outcome = ?, settled_ms = ? WHERE decision_id = ?"
        if conn is not None:
            conn.execute(sql, (outcome, now_ms, row.decision_id))
            return
        with transaction(self.db) as own:
            own.execute(sql, (outcome, now_ms, row.decision_id))

    def _reroute(self, row: _Open, moment: datetime) -> Reassignment | None:
        lead = queries.person_by_id(self.db, row.lead_id)
        if lead is None:  # deleted in the CRM since routing: nothing to re-route
            self._settle(row, "gone", _ms(moment))
            return None
        now_ms = _ms(moment)
        prepared = self.pipeline.preparer.prepare(lead, now_ms)
        previous = self._previous_owners(row.lead_id)
        inp = replace(prepared.routing_input(), exclude_owners=previous)
        owners = {o.key: o for o in queries.iter_owners(self.db)}
        snapshot = Snapshot(owners=owners, open_leads=self._open_leads(now_ms), owners_known=bool(owners))
        config = self.pipeline.loaded.config
        moved: list[Reassignment] = []

        twins = _twins(self.db, lead)

        def act(conn: sqlite3.Connection, decision: Decision) -> None:
            decision_id = new_decision_id()
            assignment = assignment_for(
                decision_id,
                decision,
                prepared,
                owners=owners,
                previous_owner_id=_native_owner(owners.get(row.owner), _written(lead, twins, config), conn),
                twins=twins,
                config=config,
                now_ms=now_ms,
            )
            outbox_store.enqueue(conn, assignment, config.actions)
            why = f"re-routed to {decision.owner}: {row.owner} did not touch it within the SLA"
            intake.mark(conn, lead, "routed", why, decision_id=decision_id, now_ms=now_ms)
            conn.execute(
                "INSERT INTO analytics_reassignments (lead_id, from_owner, to_owner, from_decision_id,"
                " to_decision_id, at_ms, reason) VALUES (?, ?, ?, ?, ?, ?, 'sla')",
                (row.lead_id, row.owner, decision.owner, row.decision_id, decision_id, now_ms),
            )
            self._settle(row, "rerouted", now_ms, conn)
            moved.append(Reassignment(row.lead_id, row.owner, decision.owner, decision.final_fallback))

        self.pipeline.router.route_many([inp], snapshot, moment, stage=row.stage, on_decided=act)
        for item in moved:
            log.warning("sla_rerouted", lead_id=item.lead_id, from_owner=item.from_owner, to_owner=item.to_owner)
        return moved[0] if moved else None

    def _previous_owners(self, lead_id: str) -> tuple[str, ...]:
        rows = self.db.conn.execute("SELECT DISTINCT owner FROM routing_decisions WHERE lead_id = ?", (lead_id,))
        return tuple(sorted(str(r[0]) for r in rows if not str(r[0]).startswith("queue:")))

    def _open_leads(self, now_ms: int) -> dict[str, int]:
        rows = self.db.conn.execute(
            "SELECT owner, COUNT(*) FROM routing_decisions WHERE decided_at_ms >= ? GROUP BY owner",
            (now_ms - _OPEN_LEAD_WINDOW_MS,),
        )
        return {str(owner): int(n) for owner, n in rows}


def _unsent_reason(reminder: Assignment | None, effects: tuple[object, ...]) -> str | None:
    """Why a reminder reached nobody, for the log line (None when it was enqueued for someone)."""
    if effects:
        return None
    if reminder is None:
        return "owner unknown, a queue, or the lead is gone"
    return "no notification channel is enabled for the owner (actions.slack / actions.email)"


def _twins(db: sqlite_utils.Database, lead: Lead) -> tuple[Lead, ...]:
    """The same person in the other CRM (same email)."""
    if not lead.email:
        return ()
    return tuple(p for p in queries.people_by_email(db, lead.email) if p.crm != lead.crm)


def _written(lead: Lead, twins: tuple[Lead, ...], config: LeadrelayConfig) -> Lead:
    """The copy of the person the outbox writes: the system of record's twin when there is one (as the pipeline)."""
    return next((t for t in twins if t.crm == config.crms.system_of_record), lead)


def _native_owner(owner: Owner | None, lead: Lead, conn: sqlite3.Connection) -> str | None:
    """The owner id the CRM should hold now (the compare-and-set base): the stale owner's, else what the cache has."""
    if owner is not None and owner.crm_ids.get(lead.crm):
        return owner.crm_ids[lead.crm]
    row = conn.execute("SELECT owner_native_id FROM cache_people WHERE id = ?", (lead.id,)).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
