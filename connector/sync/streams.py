"""Declarative descriptions of every synced CRM object; one engine (``engine.py``) runs them all.

A ``Stream`` names the CRM object, the entity it becomes in the cache (person, account, owner, activity, deal), the
properties to read, its cursor (modified-date) field, page sizes, and how deletions reach us:

* ``inline``: the changes query returns deleted rows too (Salesforce ``queryAll`` with ``IsDeleted``);
* ``archived_list``: a separate list of archived records is scanned each pass (HubSpot ``archived=true``);
* ``sweep``: the stream is re-read in full every pass (no cursor) and whatever was not seen is deleted.

Field lists hold only property names: the core never imports a CRM client library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from connector.models import CrmName

Entity = Literal["person", "account", "owner", "activity", "deal"]
Deletions = Literal["inline", "archived_list", "sweep"]


@dataclass(frozen=True)
class Stream:
    """One synced object of one CRM."""

    crm: CrmName
    object: str  # the CRM's object name: "contacts", "companies", "owners", "Lead", "Account", "User", "Group"
    entity: Entity
    fields: tuple[str, ...]
    cursor_field: str | None  # modified-date property; None = re-read in full every pass
    page_size: int
    changes_page_size: int
    deletions: Deletions
    where: tuple[tuple[str, str], ...] = ()  # fixed equality filters, e.g. (("Type", "Queue"),)
    associations: tuple[str, ...] = ()  # HubSpot object types whose associated ids each record carries

    @property
    def key(self) -> str:
        """The stream's name in sync state and reports: ``hubspot.contacts``, ``salesforce.Lead``."""
        return f"{self.crm}.{self.object}"

    @property
    def incremental(self) -> bool:
        """Whether passes after the backfill read only what changed."""
        return self.cursor_field is not None


HUBSPOT_CONTACT_FIELDS = (
    "email",
    "firstname",
    "lastname",
    "company",
    "jobtitle",
    "phone",
    "mobilephone",
    "country",
    "state",
    "city",
    "zip",
    "website",
    "hs_language",
    "lifecyclestage",
    "hs_lead_status",
    "hubspot_owner_id",
    "associatedcompanyid",
    "hs_analytics_source",
    "numemployees",
    "industry",
    "product_interest",
    "hs_analytics_num_page_views",
    "num_conversion_events",
    "demo_requested",
    "pricing_page_views",
    "num_email_replies",
    "recent_conversion_event_name",
    "recent_conversion_date",
    "hs_last_sales_activity_timestamp",
    "notes_last_contacted",
    "hs_analytics_last_visit_timestamp",
    "createdate",
    "lastmodifieddate",
)
HUBSPOT_COMPANY_FIELDS = (
    "name",
    "domain",
    "website",
    "hs_additional_domains",
    "industry",
    "numberofemployees",
    "annualrevenue",
    "country",
    "state",
    "city",
    "zip",
    "hs_parent_company_id",
    "hubspot_owner_id",
    "lifecyclestage",
    "hs_num_open_deals",
    "notes_last_updated",
    "hs_last_sales_activity_timestamp",
    "createdate",
    "hs_lastmodifieddate",
)
SALESFORCE_LEAD_FIELDS = (
    "Id",
    "FirstName",
    "LastName",
    "Email",
    "Company",
    "Website",
    "Title",
    "Phone",
    "Country",
    "State",
    "City",
    "PostalCode",
    "NumberOfEmployees",
    "Industry",
    "LeadSource",
    "Status",
    "OwnerId",
    "IsConverted",
    "ConvertedAccountId",
    "Product_Interest__c",
    "Language__c",
    "Page_Views__c",
    "Pricing_Page_Views__c",
    "Demo_Requested__c",
    "Last_Conversion__c",
    "Last_Conversion_Date__c",
    "LastActivityDate",
    "CreatedDate",
    "SystemModstamp",
    "IsDeleted",
)
SALESFORCE_CONTACT_FIELDS = (
    "Id",
    "FirstName",
    "LastName",
    "Email",
    "AccountId",
    "OwnerId",
    "Title",
    "Department",
    "Phone",
    "MailingCountry",
    "MailingState",
    "MailingCity",
    "MailingPostalCode",
    "LeadSource",
    "LastActivityDate",
    "CreatedDate",
    "SystemModstamp",
    "IsDeleted",
)
SALESFORCE_ACCOUNT_FIELDS = (
    "Id",
    "Name",
    "Website",
    "Extra_Domains__c",
    "Industry",
    "Type",
    "NumberOfEmployees",
    "BillingCountry",
    "BillingState",
    "BillingPostalCode",
    "ParentId",
    "OwnerId",
    "LastActivityDate",
    "CreatedDate",
    "SystemModstamp",
    "IsDeleted",
)
SALESFORCE_USER_FIELDS = (
    "Id",
    "Email",
    "FirstName",
    "LastName",
    "IsActive",
    "Department",
    "Title",
    "TimeZoneSidKey",
    "SystemModstamp",
    "IsDeleted",
)
SALESFORCE_QUEUE_FIELDS = ("Id", "Name", "DeveloperName", "Email", "Type", "SystemModstamp", "IsDeleted")


# Engagements and deals: what first touch, meeting rate and the opportunity funnel need (owner, when, outcome, links).
HUBSPOT_ENGAGEMENT_FIELDS: dict[str, tuple[str, ...]] = {
    "tasks": ("hs_timestamp", "hs_task_status", "hs_task_type", "hs_task_subject"),
    "calls": ("hs_timestamp", "hs_call_status", "hs_call_direction", "hs_call_title"),
    "emails": ("hs_timestamp", "hs_email_direction", "hs_email_subject"),
    "meetings": ("hs_timestamp", "hs_meeting_start_time", "hs_meeting_outcome", "hs_meeting_title"),
}
HUBSPOT_ENGAGEMENT_COMMON = ("hubspot_owner_id", "hs_createdate", "hs_lastmodifieddate")
HUBSPOT_DEAL_FIELDS = (
    "dealname",
    "dealstage",
    "pipeline",
    "amount",
    "closedate",
    "hs_is_closed",
    "hs_is_closed_won",
    "hubspot_owner_id",
    "createdate",
    "hs_lastmodifieddate",
)
HUBSPOT_LINKS = ("contacts", "companies")  # every engagement and deal carries its contact and company ids
SALESFORCE_TASK_FIELDS = (
    "Id",
    "WhoId",
    "WhatId",
    "OwnerId",
    "Subject",
    "Type",
    "TaskSubtype",
    "Status",
    "IsClosed",
    "ActivityDate",
    "CreatedDate",
    "SystemModstamp",
    "IsDeleted",
)
SALESFORCE_EVENT_FIELDS = (
    "Id",
    "WhoId",
    "WhatId",
    "OwnerId",
    "Subject",
    "Type",
    "StartDateTime",
    "ActivityDateTime",
    "CreatedDate",
    "SystemModstamp",
    "IsDeleted",
)
SALESFORCE_OPPORTUNITY_FIELDS = (
    "Id",
    "Name",
    "AccountId",
    "OwnerId",
    "StageName",
    "IsClosed",
    "IsWon",
    "Amount",
    "CloseDate",
    "CreatedDate",
    "SystemModstamp",
    "IsDeleted",
)


QUEUES = (("Type", "Queue"),)  # lead queues are the Group rows of Type 'Queue'


def hubspot_streams(*, page_size: int = 100, search_page_size: int = 200) -> tuple[Stream, ...]:
    """HubSpot owners (active and archived), companies, contacts, then engagements and deals, in dependency order."""
    return (
        Stream("hubspot", "owners", "owner", (), None, page_size, page_size, "sweep"),
        Stream(
            "hubspot",
            "companies",
            "account",
            HUBSPOT_COMPANY_FIELDS,
            "hs_lastmodifieddate",
            page_size,
            search_page_size,
            "archived_list",
        ),
        Stream(
            "hubspot",
            "contacts",
            "person",
            HUBSPOT_CONTACT_FIELDS,
            "lastmodifieddate",
            page_size,
            search_page_size,
            "archived_list",
        ),
        *hubspot_activity_streams(page_size=page_size, search_page_size=search_page_size),
    )


def hubspot_activity_streams(*, page_size: int = 100, search_page_size: int = 200) -> tuple[Stream, ...]:
    """HubSpot tasks, calls, emails and meetings (entity ``activity``) and deals, each with contact/company ids."""
    engagements = tuple(
        Stream(
            "hubspot",
            name,
            "activity",
            (*fields, *HUBSPOT_ENGAGEMENT_COMMON),
            "hs_lastmodifieddate",
            page_size,
            search_page_size,
            "archived_list",
            associations=HUBSPOT_LINKS,
        )
        for name, fields in HUBSPOT_ENGAGEMENT_FIELDS.items()
    )
    deals = Stream(
        "hubspot",
        "deals",
        "deal",
        HUBSPOT_DEAL_FIELDS,
        "hs_lastmodifieddate",
        page_size,
        search_page_size,
        "archived_list",
        associations=HUBSPOT_LINKS,
    )
    return (*engagements, deals)


def salesforce_streams(*, page_size: int = 2000) -> tuple[Stream, ...]:
    """Salesforce Users, lead Queues, Accounts, Leads, Contacts, Tasks, Events, Opportunities (dependency order)."""
    sf: CrmName = "salesforce"
    modstamp = "SystemModstamp"
    return (
        Stream(sf, "User", "owner", SALESFORCE_USER_FIELDS, modstamp, page_size, page_size, "inline"),
        Stream(
            sf,
            "Group",
            "owner",
            SALESFORCE_QUEUE_FIELDS,
            modstamp,
            page_size,
            page_size,
            "inline",
            (("Type", "Queue"),),
        ),
        Stream(sf, "Account", "account", SALESFORCE_ACCOUNT_FIELDS, modstamp, page_size, page_size, "inline"),
        Stream(sf, "Lead", "person", SALESFORCE_LEAD_FIELDS, modstamp, page_size, page_size, "inline"),
        Stream(sf, "Contact", "person", SALESFORCE_CONTACT_FIELDS, modstamp, page_size, page_size, "inline"),
        Stream(sf, "Task", "activity", SALESFORCE_TASK_FIELDS, modstamp, page_size, page_size, "inline"),
        Stream(sf, "Event", "activity", SALESFORCE_EVENT_FIELDS, modstamp, page_size, page_size, "inline"),
        Stream(sf, "Opportunity", "deal", SALESFORCE_OPPORTUNITY_FIELDS, modstamp, page_size, page_size, "inline"),
    )
