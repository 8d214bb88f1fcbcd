"""The domain's value objects, shared by the cache, matching, scoring and routing.

Ids are cache-wide strings that say where a record lives: ``"{crm}:{object}:{native_id}"``, e.g.
``hubspot:contacts:100000042`` or ``salesforce:Lead:00Q000000000001EAA``. An ``Owner`` is one person across
CRMs, keyed by normalized email, so the same rep in HubSpot and Salesforce is one owner.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

CrmName = Literal["hubspot", "salesforce"]
CRMS: tuple[CrmName, ...] = ("hubspot", "salesforce")


def record_id(crm: str, obj: str, native_id: str) -> str:
    """The cache-wide id of a CRM record."""
    return f"{crm}:{obj}:{native_id}"


def split_record_id(rid: str) -> tuple[str, str, str]:
    """(crm, object, native_id) of a cache-wide id."""
    crm, obj, native = rid.split(":", 2)
    return crm, obj, native


@dataclass(frozen=True)
class Owner:
    """A person (or queue) who can own records; one across CRMs when emails match."""

    key: str  # normalized email for people; "queue:{crm}:{native_id}" for queues
    email: str | None
    name: str
    active: bool = True
    crm_ids: Mapping[str, str] = field(default_factory=dict)  # crm -> native owner/user/queue id
    is_queue: bool = False
    teams: tuple[str, ...] = ()


@dataclass(frozen=True)
class Account:
    """A company (HubSpot) or Account (Salesforce) as the cache holds it, normalized."""

    id: str
    crm: str
    native_id: str
    name: str
    domain: str | None = None  # registered domain of the website, normalized
    extra_domains: tuple[str, ...] = ()
    country: str | None = None  # ISO 3166-1 alpha-2
    state: str | None = None
    postal_code: str | None = None
    parent_id: str | None = None  # cache-wide id of the parent account
    owner_key: str | None = None
    employees: int | None = None
    industry: str | None = None
    is_customer: bool = False
    has_open_opportunity: bool = False
    last_activity_ms: int | None = None
    contact_count: int = 0
    open_deals: int = 0  # open deals/opportunities synced for the account


@dataclass(frozen=True)
class Activity:
    """Behaviour signals on a person, the raw material of the Activity score."""

    page_views: int = 0
    form_submissions: int = 0
    demo_requests: int = 0
    pricing_page_views: int = 0
    email_replies: int = 0
    last_activity_ms: int | None = None
    last_conversion_ms: int | None = None
    last_conversion_name: str | None = None


@dataclass(frozen=True)
class Lead:
    """A person to route: a HubSpot contact, a Salesforce Lead or Contact, or an API-submitted lead."""

    id: str
    crm: str
    native_id: str
    object: str  # "contacts" (HubSpot), "Lead" / "Contact" (Salesforce), "api"
    email: str | None = None  # normalized; None when missing or unparseable
    email_domain: str | None = None  # registered domain of the email
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None  # what the person typed
    title: str | None = None
    phone: str | None = None  # E.164 when parseable
    country: str | None = None
    state: str | None = None
    postal_code: str | None = None
    city: str | None = None
    employees: int | None = None
    industry: str | None = None
    source: str | None = None
    language: str | None = None
    products: tuple[str, ...] = ()
    owner_key: str | None = None
    account_id: str | None = None  # the CRM's own link to an account, if any
    created_ms: int = 0
    activity: Activity = field(default_factory=Activity)
    properties: Mapping[str, Any] = field(default_factory=dict)  # raw CRM properties kept for rules and tasks
