"""The sObjects the sandbox serves, described once: fields, types, references, required and external-id fields.

Both the SOQL compiler (which fields exist, how to compare them) and the REST routes (which writes are valid,
what ``describe`` says) read this table. Field names are matched case-insensitively, as Salesforce does; the
canonical spelling here is what responses use. Any field ending in ``__c`` is accepted as a custom field even
when not declared (the sandbox has no metadata API to declare one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from adapters.sandbox.ids import SALESFORCE_PREFIXES

# Numeric field types, as describe() names them (they compare as numbers).
NUMBER_TYPES = frozenset({"int", "double", "currency", "percent"})

_ID_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID15 = re.compile(r"^[a-zA-Z0-9]{15}$")

# System fields are derived from the store's columns on every read, never from the JSON properties.
SYSTEM_COLUMNS = {
    "Id": "id",
    "CreatedDate": "created_ms",
    "LastModifiedDate": "updated_ms",
    "SystemModstamp": "updated_ms",
    "IsDeleted": "archived",
}


@dataclass(frozen=True)
class Field:
    """One field of an sObject: its API name, describe type, and what writes may do with it."""

    name: str
    type: str = "string"
    required: bool = False
    external_id: bool = False
    writable: bool = True
    reference_to: tuple[str, ...] = ()
    relationship: str | None = None  # e.g. "Owner" for OwnerId
    custom: bool = False

    @property
    def system(self) -> bool:
        """True for fields derived from store columns (Id, CreatedDate, SystemModstamp, ...)."""
        return self.name in SYSTEM_COLUMNS


@dataclass(frozen=True)
class SObject:
    """An sObject type and its fields (lookup by lower-cased name)."""

    name: str
    fields: dict[str, Field] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """The object store kind holding this sObject's records."""
        return f"salesforce.{self.name}"

    @property
    def key_prefix(self) -> str:
        """The 3-character id prefix of this sObject."""
        return SALESFORCE_PREFIXES[self.name]

    def field(self, name: str) -> Field | None:
        """The field called ``name`` (any case), a dynamic custom field for ``*__c``, or None."""
        found = self.fields.get(name.lower())
        if found is None and name.lower().endswith("__c") and _is_identifier(name):
            return Field(name, "anyType", custom=True)  # undeclared: compared as whatever the literal is
        return found

    def relationship(self, name: str) -> Field | None:
        """The reference field whose relationship name is ``name`` (``Owner`` → OwnerId), or None."""
        lowered = name.lower()
        for candidate in self.fields.values():
            if candidate.relationship and candidate.relationship.lower() == lowered:
                return candidate
        return None

    @property
    def required_fields(self) -> tuple[str, ...]:
        """Fields a create must set."""
        return tuple(f.name for f in self.fields.values() if f.required)

    @property
    def external_id_fields(self) -> tuple[str, ...]:
        """Fields usable in ``sobjects/{T}/{field}/{value}`` upserts."""
        return tuple(f.name for f in self.fields.values() if f.external_id)


def _is_identifier(name: str) -> bool:
    return name.replace("_", "a").isalnum() and name[0].isalpha() and name.isascii()


def _owner(targets: tuple[str, ...] = ("User",)) -> Field:
    return Field("OwnerId", "reference", reference_to=targets, relationship="Owner")


_SYSTEM = (
    Field("Id", "id", writable=False),
    Field("IsDeleted", "boolean", writable=False),
    Field("CreatedDate", "datetime", writable=False),
    Field("LastModifiedDate", "datetime", writable=False),
    Field("SystemModstamp", "datetime", writable=False),
)
_PERSON = (
    Field("Salutation", "picklist"),
    Field("FirstName"),
    Field("LastName", required=True),
    Field("Name", writable=False),  # compound: derived from FirstName + LastName
    Field("Email", "email"),
    Field("Phone", "phone"),
    Field("MobilePhone", "phone"),
    Field("Title"),
    Field("LeadSource", "picklist"),
    Field("Description", "textarea"),
    Field("HasOptedOutOfEmail", "boolean"),
)


# Custom fields the sandbox's data generator fills on leads and contacts (web activity, language, products).
_ACTIVITY = (
    Field("Page_Views__c", "double", custom=True),
    Field("Pricing_Page_Views__c", "double", custom=True),
    Field("Demo_Requested__c", "boolean", custom=True),
    Field("Last_Conversion__c", custom=True),
    Field("Last_Conversion_Date__c", "datetime", custom=True),
    Field("Language__c", "picklist", custom=True),
    Field("Product_Interest__c", "multipicklist", custom=True),
)


def _address(prefix: str) -> tuple[Field, ...]:
    parts = ("Street", "City", "State", "PostalCode", "Country", "StateCode", "CountryCode")
    return tuple(Field(f"{prefix}{part}", "textarea" if part == "Street" else "string") for part in parts)


def _sobject(name: str, *fields: Field) -> SObject:
    return SObject(name, {f.name.lower(): f for f in (*_SYSTEM, *fields)})


SOBJECTS: dict[str, SObject] = {
    s.name.lower(): s
    for s in (
        _sobject(
            "Lead",
            *_PERSON,
            Field("Company", required=True),
            Field("Website", "url"),
            Field("Status", "picklist"),
            Field("Industry", "picklist"),
            Field("Rating", "picklist"),
            Field("NumberOfEmployees", "int"),
            Field("AnnualRevenue", "currency"),
            *_address(""),
            _owner(("User", "Group")),
            Field("IsConverted", "boolean"),
            Field("ConvertedDate", "date"),
            Field("ConvertedAccountId", "reference", reference_to=("Account",), relationship="ConvertedAccount"),
            Field("ConvertedContactId", "reference", reference_to=("Contact",), relationship="ConvertedContact"),
            Field("IsUnreadByOwner", "boolean"),
            Field("LastActivityDate", "date"),
            *_ACTIVITY,
        ),
        _sobject(
            "Contact",
            *_PERSON,
            Field("Department"),
            Field("AccountId", "reference", reference_to=("Account",), relationship="Account"),
            _owner(),
            *_address("Mailing"),
            Field("LastActivityDate", "date"),
            *_ACTIVITY[:-1],
        ),
        _sobject(
            "Account",
            Field("Name", required=True),
            Field("Website", "url"),
            Field("Phone", "phone"),
            Field("Industry", "picklist"),
            Field("Type", "picklist"),
            Field("Rating", "picklist"),
            Field("AccountSource", "picklist"),
            Field("NumberOfEmployees", "int"),
            Field("AnnualRevenue", "currency"),
            Field("Description", "textarea"),
            *_address("Billing"),
            *_address("Shipping"),
            _owner(),
            Field("ParentId", "reference", reference_to=("Account",), relationship="Parent"),
            Field("LastActivityDate", "date"),
            Field("Extra_Domains__c", "textarea", custom=True),
        ),
        _sobject(
            "User",
            Field("Username", required=True),
            Field("FirstName"),
            Field("LastName", required=True),
            Field("Name", writable=False),
            Field("Email", "email", required=True),
            Field("Alias"),
            Field("IsActive", "boolean"),
            Field("Title"),
            Field("Department"),
            Field("UserType", "picklist"),
            Field("TimeZoneSidKey", "picklist"),
            Field("LanguageLocaleKey", "picklist"),
            Field("LocaleSidKey", "picklist"),
            Field("ProfileId", "reference"),
            Field("UserRoleId", "reference"),
            Field("ManagerId", "reference", reference_to=("User",), relationship="Manager"),
        ),
        _sobject(
            "Group",
            Field("Name", required=True),
            Field("DeveloperName"),
            Field("Type", "picklist"),
            Field("Email", "email"),
            Field("DoesSendEmailToMembers", "boolean"),
        ),
        _sobject(
            "Task",
            Field("Subject"),
            Field("Description", "textarea"),
            Field("Status", "picklist"),
            Field("Priority", "picklist"),
            Field("Type", "picklist"),
            Field("TaskSubtype", "picklist"),
            Field("ActivityDate", "date"),
            Field("ReminderDateTime", "datetime"),
            Field("IsClosed", "boolean"),
            Field("WhoId", "reference", reference_to=("Lead", "Contact"), relationship="Who"),
            Field("WhatId", "reference", reference_to=("Account", "Opportunity"), relationship="What"),
            _owner(),
            Field("LeadRelay_Decision_Id__c", external_id=True, custom=True),
        ),
        _sobject(
            "Event",
            Field("Subject"),
            Field("Description", "textarea"),
            Field("Location"),
            Field("Type", "picklist"),
            Field("ShowAs", "picklist"),
            Field("StartDateTime", "datetime"),
            Field("EndDateTime", "datetime"),
            Field("ActivityDateTime", "datetime"),
            Field("ActivityDate", "date"),
            Field("DurationInMinutes", "int"),
            Field("WhoId", "reference", reference_to=("Lead", "Contact"), relationship="Who"),
            Field("WhatId", "reference", reference_to=("Account", "Opportunity"), relationship="What"),
            _owner(),
        ),
        _sobject(
            "Opportunity",
            Field("Name", required=True),
            Field("StageName", "picklist", required=True),
            Field("CloseDate", "date", required=True),
            Field("Amount", "currency"),
            Field("Probability", "percent"),
            Field("Type", "picklist"),
            Field("LeadSource", "picklist"),
            Field("Description", "textarea"),
            Field("IsClosed", "boolean"),
            Field("IsWon", "boolean"),
            Field("AccountId", "reference", reference_to=("Account",), relationship="Account"),
            _owner(),
            Field("Product_Interest__c", "multipicklist", custom=True),
        ),
    )
}


def sobject(name: str) -> SObject | None:
    """The sObject called ``name`` (any case), or None when the sandbox does not serve it."""
    return SOBJECTS.get(name.lower())


def sobject_for_id(record_id: str) -> SObject | None:
    """The sObject whose key prefix starts ``record_id``, or None."""
    for candidate in SOBJECTS.values():
        if record_id.startswith(candidate.key_prefix):
            return candidate
    return None


def to_id18(record_id: str) -> str:
    """The 18-character form of a 15-character Salesforce id (anything else is returned unchanged)."""
    if not _ID15.match(record_id):
        return record_id
    suffix = ""
    for block in range(3):
        chunk = record_id[block * 5 : block * 5 + 5]
        suffix += _ID_SUFFIX[sum(1 << i for i, c in enumerate(chunk) if "A" <= c <= "Z")]
    return record_id + suffix
