"""HubSpot records → cache records: contacts → ``Lead``, companies → ``Account``, owners → ``OwnerRecord``,
tasks/calls/emails/meetings → ``ActivityRecord``, deals → ``DealRecord``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from adapters.fields import FieldReader, require_id, require_properties, to_ms
from connector.crm import AccountRecord, ActivityRecord, CacheRecord, DealRecord, OwnerRecord, PersonRecord, RawRecord
from connector.errors import InvalidRecordError
from connector.models import Account, Activity, CrmName, Lead, record_id
from connector.sync.streams import (
    HUBSPOT_COMPANY_FIELDS,
    HUBSPOT_CONTACT_FIELDS,
    HUBSPOT_DEAL_FIELDS,
    HUBSPOT_ENGAGEMENT_COMMON,
    HUBSPOT_ENGAGEMENT_FIELDS,
)

CRM: CrmName = "hubspot"
_KIND = {"tasks": "task", "calls": "call", "emails": "email", "meetings": "meeting"}
_SUBJECT = {
    "tasks": "hs_task_subject",
    "calls": "hs_call_title",
    "emails": "hs_email_subject",
    "meetings": "hs_meeting_title",
}
# A dialled call is a touch even when nobody answered; a call still queued or ringing, or cancelled, is not (yet).
_CALL_TOUCHES = {"COMPLETED", "NO_ANSWER", "BUSY", "CONNECTED", "LEFT_VOICEMAIL"}


def check_stamp(raw: RawRecord) -> None:
    """Refuse a record whose modified stamp could not be read: it has no place in the cursor order."""
    if raw.modified_ms < 0:
        raise InvalidRecordError("record has no usable modified date", reason="bad_modified_date")


def contact(raw: RawRecord) -> PersonRecord:
    """A HubSpot contact as a cache person."""
    native = require_id(raw.native_id)
    check_stamp(raw)
    f = FieldReader("hubspot.contacts", native, require_properties(raw.properties))
    email = f.email("email")
    country = f.country("country")
    company_id = f.text("associatedcompanyid", 32)
    lead = Lead(
        id=record_id(CRM, "contacts", native),
        crm=CRM,
        native_id=native,
        object="contacts",
        email=email,
        email_domain=f.email_domain(email),
        first_name=f.name("firstname"),
        last_name=f.name("lastname"),
        company=f.text("company"),
        title=f.text("jobtitle"),
        phone=f.phone("phone", country) or f.phone("mobilephone", country),
        country=country,
        state=f.text("state", 64),
        postal_code=f.text("zip", 32),
        city=f.text("city", 128),
        employees=f.employees("numemployees"),
        industry=f.text("industry", 128),
        source=f.text("hs_analytics_source", 64),
        language=f.text("hs_language", 16),
        products=f.choices("product_interest"),
        account_id=record_id(CRM, "companies", company_id) if company_id else None,
        created_ms=f.ms("createdate") or 0,
        activity=_activity(f),
        properties=f.kept(HUBSPOT_CONTACT_FIELDS),
    )
    return PersonRecord(lead, f.text("hubspot_owner_id", 32), raw.modified_ms)


def _activity(f: FieldReader) -> Activity:
    last_activity = [
        ms
        for ms in (
            f.ms("hs_last_sales_activity_timestamp"),
            f.ms("notes_last_contacted"),
            f.ms("hs_analytics_last_visit_timestamp"),
        )
        if ms
    ]
    return Activity(
        page_views=f.integer("hs_analytics_num_page_views") or 0,
        form_submissions=f.integer("num_conversion_events") or 0,
        demo_requests=int(f.flag("demo_requested")),
        pricing_page_views=f.integer("pricing_page_views") or 0,
        email_replies=f.integer("num_email_replies") or 0,
        last_activity_ms=max(last_activity) if last_activity else None,
        last_conversion_ms=f.ms("recent_conversion_date"),
        last_conversion_name=f.text("recent_conversion_event_name"),
    )


def company(raw: RawRecord) -> AccountRecord:
    """A HubSpot company as a cache account."""
    native = require_id(raw.native_id)
    check_stamp(raw)
    f = FieldReader("hubspot.companies", native, require_properties(raw.properties))
    domain = f.domain("domain") or f.domain("website")
    parent = f.text("hs_parent_company_id", 32)
    activity = [ms for ms in (f.ms("notes_last_updated"), f.ms("hs_last_sales_activity_timestamp")) if ms]
    account = Account(
        id=record_id(CRM, "companies", native),
        crm=CRM,
        native_id=native,
        name=f.text("name") or domain or "",
        domain=domain,
        extra_domains=tuple(d for d in f.domains("hs_additional_domains") if d != domain),
        country=f.country("country"),
        state=f.text("state", 64),
        postal_code=f.text("zip", 32),
        parent_id=record_id(CRM, "companies", parent) if parent else None,
        employees=f.employees("numberofemployees"),
        industry=f.text("industry", 128),
        is_customer=(f.text("lifecyclestage", 64) or "").lower() == "customer",
        has_open_opportunity=(f.integer("hs_num_open_deals") or 0) > 0,
        last_activity_ms=max(activity) if activity else None,
    )
    return AccountRecord(
        account,
        f.text("hubspot_owner_id", 32),
        raw.modified_ms,
        created_ms=f.ms("createdate") or 0,
        properties=f.kept(HUBSPOT_COMPANY_FIELDS),
    )


def owner(raw: RawRecord) -> OwnerRecord:
    """A HubSpot owner (archived ones are inactive, not deleted: old records still point at them)."""
    native = require_id(raw.native_id)
    f = FieldReader("hubspot.owners", native, require_properties(raw.properties))
    email = f.email("email")
    name = " ".join(p for p in (f.name("firstName"), f.name("lastName")) if p) or email or native
    return OwnerRecord(
        id=record_id(CRM, "owners", native),
        crm=CRM,
        object="owners",
        native_id=native,
        key=email or f"user:{CRM}:{native}",
        email=email,
        name=name,
        active=not f.flag("archived"),
        is_queue=False,
        teams=_teams(raw.properties.get("teams")),
        modified_ms=max(0, raw.modified_ms),
        properties=f.kept(("userId", "email", "firstName", "lastName", "archived")),
    )


def _teams(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    names = (t.get("name") for t in value if isinstance(t, Mapping))
    return tuple(n.strip() for n in names if isinstance(n, str) and n.strip())


def engagement(raw: RawRecord, object_type: str) -> ActivityRecord:
    """A HubSpot task, call, email or meeting as a cache activity, with the contacts and company it is on."""
    native = require_id(raw.native_id)
    check_stamp(raw)
    f = FieldReader(f"hubspot.{object_type}", native, require_properties(raw.properties))
    companies = raw.associations.get("companies", ())
    outcome = (f.text("hs_meeting_outcome", 64) or "").upper() or None
    occurred = f.ms("hs_meeting_start_time") if object_type == "meetings" else None
    return ActivityRecord(
        id=record_id(CRM, object_type, native),
        crm=CRM,
        object=object_type,
        native_id=native,
        kind=_KIND[object_type],
        owner_native_id=f.text("hubspot_owner_id", 32),
        person_ids=tuple(record_id(CRM, "contacts", c) for c in raw.associations.get("contacts", ())),
        account_id=record_id(CRM, "companies", companies[0]) if companies else None,
        occurred_ms=occurred or f.ms("hs_timestamp"),
        completed=_completed(f, object_type, outcome),
        outcome=outcome,
        subject=f.text(_SUBJECT[object_type], 255),
        created_ms=f.ms("hs_createdate") or 0,
        modified_ms=raw.modified_ms,
        properties=f.kept((*HUBSPOT_ENGAGEMENT_FIELDS[object_type], *HUBSPOT_ENGAGEMENT_COMMON)),
    )


def _completed(f: FieldReader, object_type: str, outcome: str | None) -> bool | None:
    """Whether the engagement is a done touch; None when HubSpot keeps no status for it (a meeting not held yet)."""
    if object_type == "tasks":
        return (f.text("hs_task_status", 32) or "").upper() == "COMPLETED"
    if object_type == "calls":
        status = (f.text("hs_call_status", 32) or "").upper()
        return not status or status in _CALL_TOUCHES  # a call logged without a status was made
    if object_type == "emails":
        return (f.text("hs_email_direction", 32) or "").upper() != "INCOMING_EMAIL"  # the lead writing is not a touch
    return None if outcome in (None, "SCHEDULED", "RESCHEDULED") else outcome == "COMPLETED"


def deal(raw: RawRecord) -> DealRecord:
    """A HubSpot deal as a cache deal: stage, closed/won (HubSpot's flags, else the default pipeline's stage ids)."""
    native = require_id(raw.native_id)
    check_stamp(raw)
    f = FieldReader("hubspot.deals", native, require_properties(raw.properties))
    stage = f.text("dealstage", 128)
    companies = raw.associations.get("companies", ())
    won = f.flag("hs_is_closed_won") or (stage or "").lower() == "closedwon"
    closed = won or f.flag("hs_is_closed") or (stage or "").lower() == "closedlost"
    return DealRecord(
        id=record_id(CRM, "deals", native),
        crm=CRM,
        object="deals",
        native_id=native,
        name=f.text("dealname"),
        account_id=record_id(CRM, "companies", companies[0]) if companies else None,
        person_ids=tuple(record_id(CRM, "contacts", c) for c in raw.associations.get("contacts", ())),
        owner_native_id=f.text("hubspot_owner_id", 32),
        stage=stage,
        pipeline=f.text("pipeline", 128),
        is_closed=closed,
        is_won=won,
        amount=f.number("amount"),
        close_ms=f.ms("closedate"),
        created_ms=f.ms("createdate") or 0,
        modified_ms=raw.modified_ms,
        properties=f.kept(HUBSPOT_DEAL_FIELDS),
    )


def _engagement_mapper(object_type: str) -> Callable[[RawRecord], CacheRecord]:
    return lambda raw: engagement(raw, object_type)


MAPPERS: dict[str, Callable[[RawRecord], CacheRecord]] = {
    "contacts": contact,
    "companies": company,
    "owners": owner,
    "deals": deal,
    **{name: _engagement_mapper(name) for name in HUBSPOT_ENGAGEMENT_FIELDS},
}


def associated_ids(value: Any) -> dict[str, tuple[str, ...]]:
    """``{"contacts": ("51", ...)}`` from a v3 object's ``associations`` (``{type: {"results": [{"id"}]}}``)."""
    if not isinstance(value, Mapping):
        return {}
    found: dict[str, tuple[str, ...]] = {}
    for object_type, block in value.items():
        results = block.get("results") if isinstance(block, Mapping) else None
        ids = (r.get("id") for r in results if isinstance(r, Mapping)) if isinstance(results, list) else ()
        found[str(object_type)] = tuple(dict.fromkeys(str(i) for i in ids if isinstance(i, str | int)))
    return found


def batch_associations(body: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """from id -> associated ids from a v4 ``associations/{from}/{to}/batch/read`` answer (primary first)."""
    found: dict[str, tuple[str, ...]] = {}
    for result in body.get("results") or []:
        if not isinstance(result, Mapping) or not isinstance(result.get("from"), Mapping):
            continue
        targets = [t for t in result.get("to") or [] if isinstance(t, Mapping) and "toObjectId" in t]
        targets.sort(key=lambda t: not any(a.get("label") == "Primary" for a in t.get("associationTypes") or []))
        found[str(result["from"].get("id"))] = tuple(dict.fromkeys(str(t["toObjectId"]) for t in targets))
    return found


def raw_record(result: Any, cursor_field: str | None, *, deleted: bool = False) -> RawRecord:
    """A HubSpot object/owner JSON result as a ``RawRecord`` (never raises: mapping judges what is usable)."""
    if not isinstance(result, Mapping):
        return RawRecord("", -1, {}, deleted)
    props = result.get("properties", result)
    native = result.get("id")
    stamp = to_ms(props.get(cursor_field)) if cursor_field and isinstance(props, Mapping) else None
    if stamp is None:
        stamp = to_ms(result.get("updatedAt"))
    return RawRecord(
        native_id=str(native) if isinstance(native, str | int) and not isinstance(native, bool) else "",
        modified_ms=stamp if stamp is not None else -1,
        properties=cast(Mapping[str, Any], props),  # garbage is kept as sent: mapping refuses it with a reason
        deleted=deleted,
        associations=associated_ids(result.get("associations")),
    )
