"""What the SLA tells people through the outbox: the owner's reminder before the deadline, and escalations.

Each notice is an ``Assignment`` with a ``Message`` and a decision id derived from the assignment it is about
(``remind-<decision>``, ``sla-<decision>``, ``sla-<decision>-channel``), so enqueuing it twice adds nothing and
the outbox's history check (Slack metadata) or stable Message-ID (email) stops a re-send after a crash.

The reminder reuses the stored assignment of the decision when there is one: the owner is reached exactly as the
routing nudge reached them (the same Slack identity, email and booking link, the same lead card).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

import sqlite_utils

from connector.cache import queries
from connector.config.root import LeadrelayConfig
from connector.models import Lead, Owner
from connector.outbox import store as outbox_store
from connector.outbox.model import Assignee, Assignment, LeadCard, Message, RecordRef

REMIND_PREFIX = "remind-"
ESCALATION_PREFIX = "sla-"


def lead_card(lead: Lead) -> LeadCard:
    """The facts a notice shows about a lead, straight from the cache."""
    name = " ".join(p for p in (lead.first_name, lead.last_name) if p) or lead.email or lead.id
    return LeadCard(
        name=name, email=lead.email, company=lead.company, title=lead.title, country=lead.country, source=lead.source
    )


def assignee_for(owner: Owner) -> Assignee:
    """How routing reaches an owner: their CRM ids, email, and Slack looked up by that email."""
    return Assignee(
        key=owner.key,
        name=owner.name or owner.key,
        crm_ids=dict(owner.crm_ids),
        email=owner.email,
        slack_email=owner.email if not owner.is_queue else None,
        is_queue=owner.is_queue,
    )


def reminder_for(
    db: sqlite_utils.Database, *, decision_id: str, lead_id: str, owner_key: str, deadline_ms: int, now_ms: int
) -> Assignment | None:
    """The owner's reminder that the first touch of ``decision_id`` is due at ``deadline_ms``.

    None when nobody can be reminded: the lead is gone from the cache, or its owner is a queue or an unknown user.
    """
    base = outbox_store.assignment_of(db, decision_id) or _from_cache(db, lead_id, owner_key, now_ms)
    if base is None or base.owner.is_queue:
        return None
    left = max(0, (deadline_ms - now_ms) // 60_000)
    message = Message(
        kind="sla_reminder",
        title=f"Reminder: first touch on {base.card.name} due in {left} min",
        heading="First-touch SLA",
        rows=(("Deadline", _utc(deadline_ms)), ("Time left", f"{left} min")),
        lines_heading="What to do",
        lines=("Call, email or log an activity on the record before the deadline: an untouched lead goes to "
               "another rep.",),
    )  # fmt: skip
    return replace(base, decision_id=f"{REMIND_PREFIX}{decision_id}", due_ms=deadline_ms, decided_ms=now_ms,
                   message=message)  # fmt: skip


def _from_cache(db: sqlite_utils.Database, lead_id: str, owner_key: str, now_ms: int) -> Assignment | None:
    """A notice base for a decision the outbox never stored (routed before the outbox existed, or by hand)."""
    lead = queries.person_by_id(db, lead_id)
    owner = queries.owner_by_key(db, owner_key)
    if lead is None or owner is None:
        return None
    return Assignment(
        decision_id=lead_id,
        lead=RecordRef(lead.crm, lead.object, lead.native_id),
        card=lead_card(lead),
        owner=assignee_for(owner),
        due_ms=now_ms,
        next_action="call" if lead.phone else "email",
        decided_ms=now_ms,
    )


@dataclass(frozen=True)
class Escalation:
    """Why a lead is escalated: who let it go stale and after how many re-routes."""

    decision_id: str  # the stale assignment's decision
    last_owner: str
    reroutes: int

    @property
    def why(self) -> str:
        """One line for the task, the nudge and the log."""
        return f"not touched after {self.reroutes} re-route(s); last owner {self.last_owner}"


def escalation_for(
    lead: Lead,
    manager: Assignee,
    escalation: Escalation,
    *,
    twins: tuple[Lead, ...] = (),
    previous_owner_id: str | None,
    config: LeadrelayConfig,
    now_ms: int,
) -> Assignment:
    """The outbox work that escalates a lead to ``manager`` (decision id ``sla-<stale decision>``).

    With the manager's CRM id for the lead's CRM in ``manager.crm_ids`` the lead is handed over (owner write, task,
    nudge); without it the manager is only told (the lead stays with its owner).
    """
    card = lead_card(lead)
    handed_over = bool(manager.crm_ids.get(lead.crm))
    verb = "Escalated to you" if handed_over else "Escalation"
    message = Message(
        kind="sla_escalation",
        title=f"{verb}: {card.name} was not touched within the SLA",
        heading="SLA escalation",
        rows=(("Last owner", escalation.last_owner), ("Re-routes", str(escalation.reroutes)),
              ("Now owned by", manager.name if handed_over else escalation.last_owner)),
        lines_heading="What happened",
        lines=(f"Nobody touched this lead after {escalation.reroutes} re-route(s)."
               + (" It is yours now." if handed_over else " Please make sure someone follows up."),),
    )  # fmt: skip
    return Assignment(
        decision_id=f"{ESCALATION_PREFIX}{escalation.decision_id}",
        lead=RecordRef(lead.crm, lead.object, lead.native_id),
        card=card,
        owner=manager,
        due_ms=now_ms + config.analytics.sla.minutes * 60_000,
        next_action="call" if lead.phone else "email",
        why=(f"SLA escalation: {escalation.why}",),
        previous_owner_id=previous_owner_id,
        also=tuple(RecordRef(t.crm, t.object, t.native_id) for t in twins),
        system_of_record=config.crms.system_of_record if twins else None,
        decided_ms=now_ms,
        message=message,
    )


def for_channel(notice: Assignment, channel: str) -> Assignment:
    """The same notice posted to a Slack channel (Slack only, nothing in the CRM), under its own decision id."""
    assert notice.message is not None, "only a notice with a message can go to a channel"
    owner = Assignee(key=channel, name=channel)
    message = replace(notice.message, channel=channel)
    return replace(notice, decision_id=f"{notice.decision_id}-channel", owner=owner, message=message)


def manager_assignee(key: str, manager: Owner | None, lead: Lead) -> Assignee | None:
    """How to reach the escalation manager, with CRM ids only when they can own ``lead``; None when they cannot
    be reached at all (a deactivated user, or a key that is neither a known user nor an email)."""
    if manager is not None:
        if not manager.active or manager.is_queue:
            return None
        found = assignee_for(manager)
        return found if found.crm_ids.get(lead.crm) else replace(found, crm_ids={})
    if "@" not in key:
        return None
    return Assignee(key=key, name=key, email=key, slack_email=key)  # a manager outside the CRMs: notify only


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
