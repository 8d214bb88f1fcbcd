"""HubSpot's object model as the sandbox serves it: object types, property definitions, and the public record shape.

Records live in the store under ``hubspot.<type>``. ``hs_object_id``, the create date and the modified date are
never stored: they are derived from the store's id/created_ms/updated_ms columns on every read, so they move on
every write exactly like HubSpot's, and filters/sorts on them translate to indexed columns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from adapters.sandbox.shapes import iso_ms
from adapters.sandbox.store import StoredObject

# Object type names and HubSpot's numeric object type ids (both are accepted in paths).
OBJECT_TYPE_IDS = {
    "contacts": "0-1",
    "companies": "0-2",
    "deals": "0-3",
    "tasks": "0-27",
    "notes": "0-46",
    "meetings": "0-47",
    "calls": "0-48",
    "emails": "0-49",
}
_BY_TYPE_ID = {type_id: name for name, type_id in OBJECT_TYPE_IDS.items()}
_SINGULAR = {"contact": "contacts", "company": "companies", "deal": "deals", "task": "tasks", "note": "notes",
             "meeting": "meetings", "call": "calls", "email": "emails"}  # fmt: skip


def object_type(raw: str) -> str | None:
    """The canonical type name for a path segment (``contacts``, ``0-1``, ``contact``), or None if not served."""
    raw = raw.lower()
    if raw in OBJECT_TYPE_IDS:
        return raw
    return _BY_TYPE_ID.get(raw) or _SINGULAR.get(raw)


def kind_of(type_name: str) -> str:
    """The store kind for a HubSpot object type."""
    return f"hubspot.{type_name}"


def modified_property(type_name: str) -> str:
    """The modified-date property: ``lastmodifieddate`` on contacts, ``hs_lastmodifieddate`` elsewhere."""
    return "lastmodifieddate" if type_name == "contacts" else "hs_lastmodifieddate"


def created_property(type_name: str) -> str:
    """The create-date property: ``createdate`` on CRM records, ``hs_createdate`` on engagements."""
    return "createdate" if type_name in ("contacts", "companies", "deals") else "hs_createdate"


DEFAULT_PROPERTIES = {
    "contacts": ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
    "companies": ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    "deals": ("amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate", "hs_object_id",
              "pipeline"),
}  # fmt: skip
_ENGAGEMENT_DEFAULTS = ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")


def default_properties(type_name: str) -> tuple[str, ...]:
    """Properties returned when a request names none."""
    return DEFAULT_PROPERTIES.get(type_name, _ENGAGEMENT_DEFAULTS)


@dataclass(frozen=True)
class PropertyDef:
    """One property definition (enough for the properties endpoint and for typed filtering)."""

    name: str
    label: str
    type: str  # string, number, datetime, date, enumeration, bool
    field_type: str
    group: str
    options: tuple[str, ...] = ()
    custom: bool = False


def _p(name: str, kind: str = "string", *options: str, custom: bool = False, group: str = "") -> PropertyDef:
    field = {"string": "text", "number": "number", "datetime": "date", "date": "date", "bool": "booleancheckbox",
             "enumeration": "select"}[kind]  # fmt: skip
    label = name.replace("hs_", "").replace("_", " ").capitalize()
    return PropertyDef(name, label, kind, field, group or "information", tuple(options), custom)


_COMMON = [_p("hs_object_id", "number"), _p("hubspot_owner_id", "enumeration"), _p("hs_lastmodifieddate", "datetime")]
PROPERTY_DEFS: dict[str, list[PropertyDef]] = {
    "contacts": [
        *_COMMON,
        *(
            _p(n)
            for n in (
                "email",
                "firstname",
                "lastname",
                "company",
                "jobtitle",
                "phone",
                "mobilephone",
                "website",
                "country",
                "state",
                "city",
                "zip",
                "address",
                "industry",
                "numemployees",
                "hs_language",
                "recent_conversion_event_name",
                "associatedcompanyid",
            )
        ),
        _p("createdate", "datetime"),
        _p("lastmodifieddate", "datetime"),
        _p(
            "lifecyclestage",
            "enumeration",
            "subscriber",
            "lead",
            "marketingqualifiedlead",
            "salesqualifiedlead",
            "opportunity",
            "customer",
            "evangelist",
            "other",
        ),
        _p(
            "hs_lead_status",
            "enumeration",
            "NEW",
            "OPEN",
            "IN_PROGRESS",
            "OPEN_DEAL",
            "UNQUALIFIED",
            "ATTEMPTED_TO_CONTACT",
            "CONNECTED",
            "BAD_TIMING",
        ),
        _p(
            "hs_analytics_source",
            "enumeration",
            "ORGANIC_SEARCH",
            "PAID_SEARCH",
            "EMAIL_MARKETING",
            "SOCIAL_MEDIA",
            "REFERRALS",
            "OTHER_CAMPAIGNS",
            "DIRECT_TRAFFIC",
            "OFFLINE",
            "PAID_SOCIAL",
        ),
        _p("hs_analytics_num_page_views", "number"),
        _p("hs_analytics_num_visits", "number"),
        _p("hs_analytics_last_visit_timestamp", "datetime"),
        _p("first_conversion_event_name"),
        _p("pricing_page_views", "number", custom=True),
        _p("demo_requested", "bool", "true", "false", custom=True),
        _p("num_conversion_events", "number"),
        _p("recent_conversion_date", "datetime"),
        _p("hs_last_sales_activity_timestamp", "datetime"),
        _p("notes_last_contacted", "datetime"),
        _p("hubspot_owner_assigneddate", "datetime"),
        _p("product_interest", "enumeration", "core", "analytics", "enterprise-security", custom=True),
        _p("leadrelay_decision_id", custom=True, group="leadrelay"),
        _p("leadrelay_routed_at", "datetime", custom=True, group="leadrelay"),
    ],
    "companies": [
        *_COMMON,
        *(
            _p(n)
            for n in (
                "name",
                "domain",
                "website",
                "hs_additional_domains",
                "country",
                "state",
                "city",
                "zip",
                "phone",
                "hs_parent_company_id",
                "description",
            )
        ),
        _p("createdate", "datetime"),
        _p("industry", "enumeration"),
        _p("numberofemployees", "number"),
        _p("annualrevenue", "number"),
        _p("hs_num_open_deals", "number"),
        _p("lifecyclestage", "enumeration", "lead", "opportunity", "customer", "other"),
    ],
    "deals": [
        *_COMMON,
        _p("dealname"),
        _p(
            "dealstage",
            "enumeration",
            "appointmentscheduled",
            "qualifiedtobuy",
            "presentationscheduled",
            "decisionmakerboughtin",
            "contractsent",
            "closedwon",
            "closedlost",
        ),
        _p("pipeline", "enumeration", "default"),
        _p("amount", "number"),
        _p("closedate", "datetime"),
        _p("createdate", "datetime"),
        _p("deal_currency_code", "enumeration"),
        _p("product_interest", "enumeration", "core", "analytics", "enterprise-security", custom=True),
    ],
    "tasks": [
        *_COMMON,
        _p("hs_createdate", "datetime"),
        _p("hs_timestamp", "datetime"),
        _p("hs_task_subject"),
        _p("hs_task_body"),
        _p("hs_task_status", "enumeration", "NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED"),
        _p("hs_task_priority", "enumeration", "LOW", "MEDIUM", "HIGH"),
        _p("hs_task_type", "enumeration", "CALL", "EMAIL", "TODO"),
        _p("leadrelay_decision_id", custom=True, group="leadrelay"),
    ],
}
for _engagement, _extra in (
    ("meetings", ("hs_meeting_title", "hs_meeting_body", "hs_meeting_outcome")),
    ("calls", ("hs_call_title", "hs_call_body", "hs_call_status", "hs_call_direction")),
    ("notes", ("hs_note_body",)),
    ("emails", ("hs_email_subject", "hs_email_text", "hs_email_direction")),
):
    PROPERTY_DEFS[_engagement] = [*_COMMON, _p("hs_createdate", "datetime"), _p("hs_timestamp", "datetime"),
                                  *(_p(n) for n in _extra)]  # fmt: skip
PROPERTY_DEFS["meetings"] += [_p("hs_meeting_start_time", "datetime"), _p("hs_meeting_end_time", "datetime"),
                               _p("hs_meeting_location")]  # fmt: skip
_TYPES = {t: {d.name: d.type for d in defs} for t, defs in PROPERTY_DEFS.items()}


def property_type(type_name: str, name: str) -> str | None:
    """The declared type of a property (None when the sandbox has no definition for it)."""
    return _TYPES.get(type_name, {}).get(name)


def property_payload(type_name: str, prop: PropertyDef) -> dict[str, Any]:
    """A property definition in the shape of HubSpot's properties API."""
    stamp = "2019-08-06T02:43:00.000Z"
    return {
        "name": prop.name,
        "label": prop.label,
        "type": prop.type,
        "fieldType": prop.field_type,
        "description": "",
        "groupName": prop.group if prop.custom else f"{type_name[:-1]}information",
        "options": [
            {"label": o.replace("_", " ").title(), "value": o, "displayOrder": i, "hidden": False}
            for i, o in enumerate(prop.options)
        ],
        "displayOrder": -1,
        "calculated": False,
        "externalOptions": False,
        "hasUniqueValue": prop.name in ("email", "hs_object_id"),
        "hidden": False,
        "hubspotDefined": not prop.custom,
        "formField": not prop.custom,
        "createdAt": stamp,
        "updatedAt": stamp,
        "modificationMetadata": {
            "archivable": prop.custom,
            "readOnlyDefinition": not prop.custom,
            "readOnlyValue": False,
        },
    }


def text_value(value: Any) -> str | None:
    """A stored value as HubSpot returns property values: always a string (or null)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | dict):
        return ";".join(map(str, value)) if isinstance(value, list) else json.dumps(value)
    return str(value)


def derived_properties(type_name: str, obj: StoredObject) -> dict[str, str]:
    """The properties computed from the store's columns on every read."""
    return {
        "hs_object_id": obj.id,
        created_property(type_name): iso_ms(obj.created_ms),
        modified_property(type_name): iso_ms(obj.updated_ms),
    }


def stored_fields(type_name: str, requested: list[str] | None) -> list[str]:
    """The stored properties an answer needs (requested or default ones, minus the derived): ``select(fields=)``."""
    derived = {"hs_object_id", created_property(type_name), modified_property(type_name)}
    return [name for name in (requested or default_properties(type_name)) if name not in derived]


def public_object(type_name: str, obj: StoredObject, requested: list[str] | None) -> dict[str, Any]:
    """A record in HubSpot's ``SimplePublicObject`` shape with the default or requested properties."""
    created, updated = iso_ms(obj.created_ms), iso_ms(obj.updated_ms)
    derived = {"hs_object_id": obj.id, created_property(type_name): created, modified_property(type_name): updated}
    if requested:
        names: list[str] = [*dict.fromkeys([*requested, *derived])]
        properties = {n: derived[n] if n in derived else text_value(obj.properties.get(n)) for n in names}
    else:
        properties = {}
        for name in default_properties(type_name):
            value = derived[name] if name in derived else text_value(obj.properties.get(name))
            if value is not None:
                properties[name] = value
    body: dict[str, Any] = {
        "id": obj.id,
        "properties": properties,
        "createdAt": created,
        "updatedAt": updated,
        "archived": obj.archived,
    }
    if obj.archived and obj.archived_ms is not None:
        body["archivedAt"] = iso_ms(obj.archived_ms)
    return body


# HubSpot-defined association types: id -> (from type, to type, label, inverse id). The first listed for a pair is
# the pair's default (what v4 "associate default" creates).
ASSOCIATION_TYPES: dict[int, tuple[str, str, str | None, int]] = {
    279: ("contacts", "companies", None, 280),
    1: ("contacts", "companies", "Primary", 2),
    280: ("companies", "contacts", None, 279),
    2: ("companies", "contacts", "Primary", 1),
    3: ("deals", "contacts", None, 4),
    4: ("contacts", "deals", None, 3),
    341: ("deals", "companies", None, 342),
    5: ("deals", "companies", "Primary", 6),
    342: ("companies", "deals", None, 341),
    6: ("companies", "deals", "Primary", 5),
    13: ("companies", "companies", "Parent", 14),
    14: ("companies", "companies", "Child", 13),
}
for _base, _engagement in ((204, "tasks"), (202, "notes"), (194, "calls"), (200, "meetings"), (198, "emails")):
    # Engagement types come in families: to contact = base, contact to it = base - 1; to company base - 12
    # (base - 13 back), to deal base + 12 (base + 11 back) — e.g. tasks 204/203, 192/191, 216/215.
    for _offset, _other in ((0, "contacts"), (-12, "companies"), (12, "deals")):
        _to_id, _back_id = _base + _offset, _base + _offset - 1
        ASSOCIATION_TYPES[_to_id] = (_engagement, _other, None, _back_id)
        ASSOCIATION_TYPES[_back_id] = (_other, _engagement, None, _to_id)


def inverse_type(type_id: int) -> int:
    """The association type id of the opposite direction (the same id when the sandbox does not know it)."""
    entry = ASSOCIATION_TYPES.get(type_id)
    return entry[3] if entry else type_id


def default_type(from_type: str, to_type: str) -> int | None:
    """The default (unlabeled) association type between two object types, if HubSpot defines one."""
    for type_id, (a, b, _label, _inverse) in ASSOCIATION_TYPES.items():
        if (a, b) == (from_type, to_type):
            return type_id
    return None


def association_label(type_id: int) -> str | None:
    """The label of a HubSpot-defined association type (``Primary`` ...), None when unlabeled."""
    entry = ASSOCIATION_TYPES.get(type_id)
    return entry[2] if entry else None


def association_type_name(type_id: int) -> str:
    """The v3 association ``type`` string, e.g. ``contact_to_company`` or ``contact_to_company_unlabeled``."""
    entry = ASSOCIATION_TYPES.get(type_id)
    if entry is None:
        return str(type_id)
    a, b, label, _inverse = entry
    name = f"{a.removesuffix('s').removesuffix('ie') + ('y' if a == 'companies' else '')}_to_"
    name += b.removesuffix("s").removesuffix("ie") + ("y" if b == "companies" else "")
    return (
        name if label or (a, b) not in (("contacts", "companies"), ("companies", "contacts")) else name + "_unlabeled"
    )
