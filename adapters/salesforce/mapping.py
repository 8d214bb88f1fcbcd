"""Salesforce records → cache records: Leads and Contacts → ``Lead``, Accounts → ``Account``, Users and lead
Queues → ``OwnerRecord``, Tasks and Events → ``ActivityRecord``, Opportunities → ``DealRecord``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from adapters.fields import FieldReader, require_id, require_properties, to_ms
from connector.crm import (
    AccountRecord,
    ActivityRecord,
    CacheRecord,
    DealRecord,
    OwnerRecord,
    PersonRecord,
    RawRecord,
)
from connector.errors import InvalidRecordError
from connector.models import Account, Activity, CrmName, Lead, record_id
from connector.sync.streams import (
    SALESFORCE_ACCOUNT_FIELDS,
    SALESFORCE_CONTACT_FIELDS,
    SALESFORCE_EVENT_FIELDS,
    SALESFORCE_LEAD_FIELDS,
    SALESFORCE_OPPORTUNITY_FIELDS,
    SALESFORCE_TASK_FIELDS,
)

CRM: CrmName = "salesforce"
# Key prefixes of the records a Task or Event points at (WhoId: a Lead or Contact; WhatId: an Account or other).
_WHO_OBJECTS = {"00Q": "Lead", "003": "Contact"}
_ACCOUNT_PREFIX = "001"


def _start(raw: RawRecord, stream: str) -> tuple[str, FieldReader]:
    native = require_id(raw.native_id)
    if raw.modified_ms < 0:
        raise InvalidRecordError("record has no usable SystemModstamp", reason="bad_modified_date")
    return native, FieldReader(stream, native, require_properties(raw.properties))


def _ref(f: FieldReader, name: str, obj: str) -> str | None:
    native = f.text(name, 32)
    return record_id(CRM, obj, native) if native else None


def lead(raw: RawRecord) -> PersonRecord:
    """A Salesforce Lead as a cache person."""
    native, f = _start(raw, "salesforce.Lead")
    email = f.email("Email")
    country = f.country("Country")
    model = Lead(
        id=record_id(CRM, "Lead", native),
        crm=CRM,
        native_id=native,
        object="Lead",
        email=email,
        email_domain=f.email_domain(email),
        first_name=f.name("FirstName"),
        last_name=f.name("LastName"),
        company=f.text("Company"),
        title=f.text("Title"),
        phone=f.phone("Phone", country),
        country=country,
        state=f.text("State", 64),
        postal_code=f.text("PostalCode", 32),
        city=f.text("City", 128),
        employees=f.employees("NumberOfEmployees"),
        industry=f.text("Industry", 128),
        source=f.text("LeadSource", 64),
        language=f.text("Language__c", 16),
        products=f.choices("Product_Interest__c"),
        account_id=_ref(f, "ConvertedAccountId", "Account"),
        created_ms=f.ms("CreatedDate") or 0,
        activity=Activity(
            page_views=f.integer("Page_Views__c") or 0,
            pricing_page_views=f.integer("Pricing_Page_Views__c") or 0,
            demo_requests=int(f.flag("Demo_Requested__c")),
            last_activity_ms=f.ms("LastActivityDate"),
            last_conversion_ms=f.ms("Last_Conversion_Date__c"),
            last_conversion_name=f.text("Last_Conversion__c"),
        ),
        properties=f.kept(SALESFORCE_LEAD_FIELDS),
    )
    return PersonRecord(model, f.text("OwnerId", 32), raw.modified_ms)


def contact(raw: RawRecord) -> PersonRecord:
    """A Salesforce Contact as a cache person."""
    native, f = _start(raw, "salesforce.Contact")
    email = f.email("Email")
    country = f.country("MailingCountry")
    model = Lead(
        id=record_id(CRM, "Contact", native),
        crm=CRM,
        native_id=native,
        object="Contact",
        email=email,
        email_domain=f.email_domain(email),
        first_name=f.name("FirstName"),
        last_name=f.name("LastName"),
        title=f.text("Title"),
        phone=f.phone("Phone", country),
        country=country,
        state=f.text("MailingState", 64),
        postal_code=f.text("MailingPostalCode", 32),
        city=f.text("MailingCity", 128),
        source=f.text("LeadSource", 64),
        account_id=_ref(f, "AccountId", "Account"),
        created_ms=f.ms("CreatedDate") or 0,
        activity=Activity(last_activity_ms=f.ms("LastActivityDate")),
        properties=f.kept(SALESFORCE_CONTACT_FIELDS),
    )
    return PersonRecord(model, f.text("OwnerId", 32), raw.modified_ms)


def account(raw: RawRecord) -> AccountRecord:
    """A Salesforce Account as a cache account."""
    native, f = _start(raw, "salesforce.Account")
    domain = f.domain("Website")
    model = Account(
        id=record_id(CRM, "Account", native),
        crm=CRM,
        native_id=native,
        name=f.text("Name") or domain or "",
        domain=domain,
        extra_domains=tuple(d for d in f.domains("Extra_Domains__c") if d != domain),
        country=f.country("BillingCountry"),
        state=f.text("BillingState", 64),
        postal_code=f.text("BillingPostalCode", 32),
        parent_id=_ref(f, "ParentId", "Account"),
        employees=f.employees("NumberOfEmployees"),
        industry=f.text("Industry", 128),
        is_customer=(f.text("Type", 64) or "").lower().startswith("customer"),
        last_activity_ms=f.ms("LastActivityDate"),
    )
    return AccountRecord(
        model,
        f.text("OwnerId", 32),
        raw.modified_ms,
        created_ms=f.ms("CreatedDate") or 0,
        properties=f.kept(SALESFORCE_ACCOUNT_FIELDS),
    )


def user(raw: RawRecord) -> OwnerRecord:
    """A Salesforce User as an owner (inactive users stay: records still point at them)."""
    native, f = _start(raw, "salesforce.User")
    email = f.email("Email")
    name = " ".join(p for p in (f.name("FirstName"), f.name("LastName")) if p) or email or native
    department = f.text("Department", 128)
    return OwnerRecord(
        id=record_id(CRM, "User", native),
        crm=CRM,
        object="User",
        native_id=native,
        key=email or f"user:{CRM}:{native}",
        email=email,
        name=name,
        active=f.flag("IsActive"),
        is_queue=False,
        teams=(department,) if department else (),
        modified_ms=raw.modified_ms,
        properties=f.kept(("Email", "FirstName", "LastName", "IsActive", "Department", "Title", "TimeZoneSidKey")),
    )


def queue(raw: RawRecord) -> OwnerRecord:
    """A lead Queue (a ``Group`` of Type 'Queue') as an owner keyed ``queue:salesforce:{id}``."""
    native, f = _start(raw, "salesforce.Group")
    return OwnerRecord(
        id=record_id(CRM, "Group", native),
        crm=CRM,
        object="Group",
        native_id=native,
        key=f"queue:{CRM}:{native}",
        email=f.email("Email"),
        name=f.text("Name") or native,
        active=True,
        is_queue=True,
        teams=(),
        modified_ms=raw.modified_ms,
        properties=f.kept(("Name", "DeveloperName", "Email", "Type")),
    )


def _links(f: FieldReader) -> tuple[tuple[str, ...], str | None]:
    """(person ids, account id) of a Task/Event from WhoId and WhatId, the objects told apart by key prefix."""
    who, what = f.text("WhoId", 32), f.text("WhatId", 32)
    person = _WHO_OBJECTS.get(who[:3]) if who else None
    people = (record_id(CRM, person, who),) if person and who else ()
    account = record_id(CRM, "Account", what) if what and what.startswith(_ACCOUNT_PREFIX) else None
    return people, account


def task(raw: RawRecord) -> ActivityRecord:
    """A Salesforce Task as a cache activity: a call or email by its subtype, else a task.

    ``ActivityDate`` is a due date without a time, so the activity is placed when it was logged (``CreatedDate``).
    """
    native, f = _start(raw, "salesforce.Task")
    subtype = (f.text("TaskSubtype", 40) or f.text("Type", 40) or "").lower()
    people, account_id = _links(f)
    created = f.ms("CreatedDate") or 0
    return ActivityRecord(
        id=record_id(CRM, "Task", native),
        crm=CRM,
        object="Task",
        native_id=native,
        kind=subtype if subtype in ("call", "email") else "task",
        owner_native_id=f.text("OwnerId", 32),
        person_ids=people,
        account_id=account_id,
        occurred_ms=created or None,
        completed=f.flag("IsClosed") or (f.text("Status", 64) or "").lower() == "completed",
        outcome=f.text("Status", 64),
        subject=f.text("Subject", 255),
        created_ms=created,
        modified_ms=raw.modified_ms,
        properties=f.kept(SALESFORCE_TASK_FIELDS),
    )


def event(raw: RawRecord) -> ActivityRecord:
    """A Salesforce Event (a meeting on the calendar) as a cache activity; Events keep no status."""
    native, f = _start(raw, "salesforce.Event")
    people, account_id = _links(f)
    return ActivityRecord(
        id=record_id(CRM, "Event", native),
        crm=CRM,
        object="Event",
        native_id=native,
        kind="event",
        owner_native_id=f.text("OwnerId", 32),
        person_ids=people,
        account_id=account_id,
        occurred_ms=f.ms("StartDateTime") or f.ms("ActivityDateTime"),
        completed=None,
        outcome=None,
        subject=f.text("Subject", 255),
        created_ms=f.ms("CreatedDate") or 0,
        modified_ms=raw.modified_ms,
        properties=f.kept(SALESFORCE_EVENT_FIELDS),
    )


def opportunity(raw: RawRecord) -> DealRecord:
    """A Salesforce Opportunity as a cache deal (its people come through contact roles, which are not read)."""
    native, f = _start(raw, "salesforce.Opportunity")
    stage = f.text("StageName", 128)
    won = f.flag("IsWon") or (stage or "").lower() == "closed won"
    return DealRecord(
        id=record_id(CRM, "Opportunity", native),
        crm=CRM,
        object="Opportunity",
        native_id=native,
        name=f.text("Name"),
        account_id=_ref(f, "AccountId", "Account"),
        person_ids=(),
        owner_native_id=f.text("OwnerId", 32),
        stage=stage,
        pipeline=None,
        is_closed=won or f.flag("IsClosed") or (stage or "").lower().startswith("closed"),
        is_won=won,
        amount=f.number("Amount"),
        close_ms=f.ms("CloseDate"),
        created_ms=f.ms("CreatedDate") or 0,
        modified_ms=raw.modified_ms,
        properties=f.kept(SALESFORCE_OPPORTUNITY_FIELDS),
    )


MAPPERS: dict[str, Callable[[RawRecord], CacheRecord]] = {
    "Lead": lead,
    "Contact": contact,
    "Account": account,
    "User": user,
    "Group": queue,
    "Task": task,
    "Event": event,
    "Opportunity": opportunity,
}


def raw_record(record: Any, cursor_field: str | None, *, owned: bool = False) -> RawRecord:
    """A SOQL result row as a ``RawRecord`` (never raises: mapping judges what is usable).

    ``owned``: the row is the caller's to give away (freshly parsed from an answer), so it becomes the record's
    properties once its ``attributes`` are dropped, instead of being copied: a 2,000-row page is then held once.
    """
    if not isinstance(record, Mapping):
        return RawRecord("", -1, cast(Mapping[str, Any], record))
    native = record.get("Id")
    stamp = to_ms(record.get(cursor_field or "SystemModstamp"))
    if owned and isinstance(record, dict):
        record.pop("attributes", None)
        props = record
    else:
        props = {k: v for k, v in record.items() if k != "attributes"}
    return RawRecord(
        native_id=native if isinstance(native, str) else "",
        modified_ms=stamp if stamp is not None else -1,
        properties=props,
        deleted=record.get("IsDeleted") is True,
    )
