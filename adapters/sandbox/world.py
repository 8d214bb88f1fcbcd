"""What people do in the simulated CRMs: a rep works a lead, a manager reassigns, an admin deactivates a user,
a form creates a lead. The admin surface exposes these so tests and the demo can play the world's part.

Each action writes through the store (so webhooks and change listeners fire) with the change source a real CRM
would report (``CRM_UI`` for people clicking, ``FORM`` for forms).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.sandbox.context import SandboxContext
from adapters.sandbox.hubspot_model import inverse_type
from adapters.sandbox.ids import SALESFORCE_PREFIXES
from adapters.sandbox.shapes import iso_ms
from adapters.sandbox.store import Association, StoredObject

TASK_TO_CONTACT = 204
CALL_TO_CONTACT = 194
_SF_KIND_BY_PREFIX = {prefix: f"salesforce.{name}" for name, prefix in SALESFORCE_PREFIXES.items()}


class WorldError(ValueError):
    """An action cannot be played (unknown record, wrong CRM); the admin answers 400/404 with the message."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def record_view(obj: StoredObject) -> dict[str, Any]:
    """A record as the admin surface returns it."""
    return {"kind": obj.kind, "id": obj.id, "properties": obj.properties, "archived": obj.archived}


def salesforce_kind(record_id: str) -> str:
    """The store kind of a Salesforce id, from its key prefix."""
    kind = _SF_KIND_BY_PREFIX.get(record_id[:3])
    if kind is None:
        raise WorldError(f"not a Salesforce id the sandbox knows: {record_id!r}")
    return kind


def _require(ctx: SandboxContext, kind: str, oid: str) -> StoredObject:
    obj = ctx.store.get(kind, oid)
    if obj is None:
        raise WorldError(f"{kind} {oid} not found", 404)
    return obj


def touch(
    ctx: SandboxContext, crm: str, record_id: str, *, owner_id: str | None = None, activity: str = "task"
) -> dict[str, Any]:
    """A rep's first activity on a lead/contact: a completed task (or call) and the record's activity dates."""
    now = ctx.clock.now_ms()
    if crm == "hubspot":
        contact = _require(ctx, "hubspot.contacts", record_id)
        owner = owner_id or contact.properties.get("hubspot_owner_id")
        stamp = iso_ms(now)
        ctx.store.update(
            "hubspot.contacts",
            record_id,
            {"hs_last_sales_activity_timestamp": stamp, "notes_last_contacted": stamp},
            source="CRM_UI",
        )
        activity_obj = _hubspot_activity(ctx, activity, owner, now)
        type_id = CALL_TO_CONTACT if activity == "call" else TASK_TO_CONTACT
        ctx.store.associate(
            [
                Association(activity_obj.kind, activity_obj.id, "hubspot.contacts", record_id, type_id),
                Association("hubspot.contacts", record_id, activity_obj.kind, activity_obj.id, inverse_type(type_id)),
            ]
        )
        return record_view(activity_obj)
    if crm == "salesforce":
        person = _require(ctx, salesforce_kind(record_id), record_id)
        today = datetime.fromtimestamp(now / 1000, UTC).date().isoformat()
        task = ctx.store.create(
            "salesforce.Task",
            {
                "WhoId": record_id,
                "OwnerId": owner_id or person.properties.get("OwnerId"),
                "Subject": "Call" if activity == "call" else "Follow up",
                "TaskSubtype": "Call" if activity == "call" else "Task",
                "Status": "Completed",
                "Priority": "Normal",
                "ActivityDate": today,
            },
            source="CRM_UI",
        )
        ctx.store.update(person.kind, record_id, {"LastActivityDate": today}, source="CRM_UI")
        return record_view(task)
    raise WorldError(f"unknown crm {crm!r}; expected hubspot or salesforce")


def _hubspot_activity(ctx: SandboxContext, activity: str, owner: Any, now: int) -> StoredObject:
    owner_prop = {"hubspot_owner_id": str(owner)} if owner else {}
    if activity == "call":
        props = {
            "hs_timestamp": iso_ms(now),
            "hs_call_title": "Intro call",
            "hs_call_status": "COMPLETED",
            **owner_prop,
        }
        return ctx.store.create("hubspot.calls", props, source="CRM_UI")
    props = {
        "hs_timestamp": iso_ms(now),
        "hs_task_subject": "Follow up",
        "hs_task_status": "COMPLETED",
        "hs_task_type": "CALL",
        "hs_task_priority": "MEDIUM",
        **owner_prop,
    }
    return ctx.store.create("hubspot.tasks", props, source="CRM_UI")


def change_owner(
    ctx: SandboxContext, crm: str, record_id: str, owner_id: str, *, object_type: str = "contacts"
) -> dict[str, Any]:
    """A human reassigns a record in the CRM's UI (change source ``CRM_UI``)."""
    if crm == "hubspot":
        kind = f"hubspot.{object_type}"
        _require(ctx, kind, record_id)
        return record_view(ctx.store.update(kind, record_id, {"hubspot_owner_id": str(owner_id)}, source="CRM_UI"))
    if crm == "salesforce":
        kind = salesforce_kind(record_id)
        _require(ctx, kind, record_id)
        return record_view(ctx.store.update(kind, record_id, {"OwnerId": owner_id}, source="CRM_UI"))
    raise WorldError(f"unknown crm {crm!r}; expected hubspot or salesforce")


def deactivate_user(ctx: SandboxContext, crm: str, user_id: str) -> dict[str, Any]:
    """An admin removes a user: HubSpot archives the owner, Salesforce sets ``User.IsActive`` to false."""
    if crm == "hubspot":
        _require(ctx, "hubspot.owners", user_id)
        return record_view(ctx.store.archive("hubspot.owners", user_id, source="CRM_UI"))
    if crm == "salesforce":
        _require(ctx, "salesforce.User", user_id)
        return record_view(ctx.store.update("salesforce.User", user_id, {"IsActive": False}, source="CRM_UI"))
    raise WorldError(f"unknown crm {crm!r}; expected hubspot or salesforce")


def create_lead(ctx: SandboxContext, crm: str, properties: dict[str, Any]) -> dict[str, Any]:
    """A new inbound lead as a form would create it: a HubSpot contact or a Salesforce Lead."""
    if crm == "hubspot":
        props = {"lifecyclestage": "lead", **properties}
        return record_view(ctx.store.create("hubspot.contacts", props, source="FORM"))
    if crm == "salesforce":
        props = {"Status": "Open - Not Contacted", "LeadSource": "Web", **properties}
        owner = props.get("OwnerId") or _default_lead_owner(ctx)
        if owner:
            props["OwnerId"] = owner
        return record_view(ctx.store.create("salesforce.Lead", props, source="FORM"))
    raise WorldError(f"unknown crm {crm!r}; expected hubspot or salesforce")


def _default_lead_owner(ctx: SandboxContext) -> str | None:
    """Web-to-lead's owner: whom the Salesforce side's lead assignment rule picks (the configured owner, else the
    "Unassigned Leads" queue, ...); without that module, the configured owner or the queue."""
    try:
        from adapters.sandbox.salesforce_records import assignment_owner
    except ImportError:
        pass
    else:
        return assignment_owner(ctx)
    if ctx.settings.salesforce_assignment_owner:
        return ctx.settings.salesforce_assignment_owner
    queues = ctx.store.select(
        "salesforce.Group", where="json_extract(props, '$.Name') = ?", params=("Unassigned Leads",), limit=1
    )
    return queues[0].id if queues else None
