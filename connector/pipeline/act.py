"""From a routing ``Decision`` to the outbox's ``Assignment``: who gets what, with the context a rep acts on."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping

from connector.config.root import LeadrelayConfig
from connector.models import Lead, Owner
from connector.outbox.model import AccountCard, Assignee, Assignment, LeadCard, RecordRef
from connector.pipeline.prepare import Prepared
from connector.routing.explain import explain
from connector.routing.model import Decision

_ACTIVITY_FIELDS = (
    ("demo_requests", "demo request(s)"),
    ("form_submissions", "form submission(s)"),
    ("pricing_page_views", "pricing page view(s)"),
    ("email_replies", "email reply(ies)"),
    ("page_views", "page view(s)"),
)


def new_decision_id() -> str:
    """A globally unique decision id: it travels to the CRM task, so it must not repeat across databases."""
    return uuid.uuid4().hex


def assignment_for(
    decision_id: str,
    decision: Decision,
    prepared: Prepared,
    *,
    owners: Mapping[str, Owner],
    previous_owner_id: str | None,
    twins: tuple[Lead, ...],
    config: LeadrelayConfig,
    now_ms: int | None = None,
) -> Assignment:
    """The outbox work for one decision's primary owner."""
    lead = prepared.lead
    chosen = decision.assignments[0]
    owner = owners.get(chosen.owner)
    decided = now_ms if now_ms is not None else int(time.time() * 1000)
    return Assignment(
        decision_id=decision_id,
        lead=RecordRef(lead.crm, lead.object, lead.native_id),
        card=_card(prepared),
        owner=Assignee(
            key=chosen.owner,
            name=chosen.owner_name,
            crm_ids=dict(owner.crm_ids) if owner else _queue_ids(chosen.owner),
            email=owner.email if owner else None,
            booking_link=chosen.booking_link,
            slack_email=owner.email if owner and not owner.is_queue else None,
            is_queue=bool(owner.is_queue) if owner else chosen.owner.startswith("queue:"),
        ),
        due_ms=decided + config.pipeline.sla_minutes * 60_000,
        next_action="call" if lead.phone else "email",
        why=tuple(explain(decision)),
        account=_account_card(prepared, owners),
        previous_owner_id=previous_owner_id,
        also=tuple(RecordRef(t.crm, t.object, t.native_id) for t in twins),
        system_of_record=config.crms.system_of_record if twins else None,
        decided_ms=decided,
    )


def _queue_ids(key: str) -> dict[str, str]:
    if key.startswith("queue:"):
        _, crm, native = key.split(":", 2)
        return {crm: native}
    return {}


def _card(prepared: Prepared) -> LeadCard:
    lead = prepared.lead
    name = " ".join(p for p in (lead.first_name, lead.last_name) if p) or (lead.email or lead.id)
    return LeadCard(
        name=name,
        email=lead.email,
        company=lead.company or (prepared.account.name if prepared.account else None),
        title=lead.title,
        country=lead.country,
        company_size=f"{lead.employees} employees" if lead.employees is not None else None,
        source=lead.source,
        score_text=prepared.qualification.render(),
        activity_text=_activity_text(lead),
    )


def _activity_text(lead: Lead) -> str | None:
    parts = [f"{getattr(lead.activity, f)} {label}" for f, label in _ACTIVITY_FIELDS if getattr(lead.activity, f)]
    if lead.activity.last_conversion_name:
        parts.append(f"last conversion: {lead.activity.last_conversion_name}")
    return "; ".join(parts) or None


def _account_card(prepared: Prepared, owners: Mapping[str, Owner]) -> AccountCard | None:
    account = prepared.account
    if account is None:
        return None
    same_crm = account.crm == prepared.lead.crm
    owner = owners.get(account.owner_key) if account.owner_key else None
    return AccountCard(
        name=account.name,
        record=RecordRef(account.crm, _account_object(account.id), account.native_id) if same_crm else None,
        owner_name=owner.name if owner else account.owner_key,
        is_customer=account.is_customer,
        has_open_opportunity=account.has_open_opportunity,
        engaged_contacts=account.contact_count or None,
    )


def _account_object(account_id: str) -> str:
    return account_id.split(":", 2)[1]
