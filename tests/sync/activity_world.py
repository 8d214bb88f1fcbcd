"""Activities and deals in the sandbox for sync and analytics tests: creating them with their associations, and the
"cache equals the CRM" comparison for ``cache_activities`` / ``cache_deals`` and their person links."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlite_utils

from adapters.sandbox.hubspot_model import default_type, inverse_type
from adapters.sandbox.runner import SandboxServer
from adapters.sandbox.store import Association, ObjectStore

HUBSPOT_ACTIVITY_KINDS = ("hubspot.tasks", "hubspot.calls", "hubspot.emails", "hubspot.meetings")
SALESFORCE_ACTIVITY_KINDS = ("salesforce.Task", "salesforce.Event")
DEAL_KINDS = ("hubspot.deals", "salesforce.Opportunity")
_WHO = {"00Q": "Lead", "003": "Contact"}


def hubspot_linked(
    store: ObjectStore,
    kind: str,
    props: dict[str, Any],
    *,
    contacts: Sequence[str] = (),
    companies: Sequence[str] = (),
) -> str:
    """Create a HubSpot engagement or deal associated (both directions) with ``contacts`` and ``companies``."""
    obj = store.create(kind, props, source="CRM_UI")
    from_type = kind.split(".", 1)[1]
    links = []
    for to_type, ids in (("contacts", contacts), ("companies", companies)):
        type_id = default_type(from_type, to_type)
        assert type_id is not None
        for to_id in ids:
            links.append(Association(kind, obj.id, f"hubspot.{to_type}", to_id, type_id))
            links.append(Association(f"hubspot.{to_type}", to_id, kind, obj.id, inverse_type(type_id)))
    store.associate(links)
    return obj.id


def _live(sandbox: SandboxServer, kind: str) -> dict[str, dict[str, Any]]:
    store = sandbox.context.store
    return sandbox.call(lambda: {o.id: o.properties for o in store.select(kind, archived=False)})


def _contacts_of(sandbox: SandboxServer, kind: str, ids: list[str]) -> dict[str, list[str]]:
    store = sandbox.context.store
    found = sandbox.call(lambda: store.associations_of(kind, ids, "hubspot.contacts"))
    return {i: sorted({f"hubspot:contacts:{a.to_id}" for a in found.get(i, [])}) for i in ids}


def _cached(db: sqlite_utils.Database, table: str, crm: str, obj: str) -> dict[str, tuple[Any, ...]]:
    rows = db.conn.execute(
        f"SELECT native_id, owner_native_id, person_ids FROM {table} WHERE crm = ? AND object = ? AND deleted = 0",
        (crm, obj),
    )
    return {row[0]: (row[1], json.loads(row[2])) for row in rows}


def expected_people(sandbox: SandboxServer, kind: str, records: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """The cache-wide person ids each record of ``kind`` should link to, as the sandbox holds them."""
    if kind.startswith("hubspot."):
        return _contacts_of(sandbox, kind, list(records))
    if kind == "salesforce.Opportunity":
        return {i: [] for i in records}
    people = {}
    for native, props in records.items():
        who = props.get("WhoId") or ""
        obj = _WHO.get(who[:3])
        people[native] = [f"salesforce:{obj}:{who}"] if obj else []
    return people


def assert_activities_match(db: sqlite_utils.Database, sandbox: SandboxServer) -> None:
    """Live activities and deals in the cache equal the sandbox's: ids, owners and linked people."""
    for kind in (*HUBSPOT_ACTIVITY_KINDS, *SALESFORCE_ACTIVITY_KINDS, *DEAL_KINDS):
        crm, obj = kind.split(".")
        table = "cache_deals" if kind in DEAL_KINDS else "cache_activities"
        records = _live(sandbox, kind)
        cached = _cached(db, table, crm, obj)
        assert set(cached) == set(records), f"{kind}: cache and sandbox hold different records"
        owner_field = "hubspot_owner_id" if crm == "hubspot" else "OwnerId"
        people = expected_people(sandbox, kind, records)
        for native, props in records.items():
            assert cached[native][0] == (props.get(owner_field) or None), f"{kind} {native}: owner"
            assert cached[native][1] == people[native], f"{kind} {native}: people"
    link_rows = db.conn.execute(
        "SELECT COUNT(*) FROM cache_activity_people l JOIN cache_activities a ON a.id = l.activity_id"
        " WHERE a.deleted = 0"
    ).fetchone()[0]
    expected_links = db.conn.execute(
        "SELECT COALESCE(SUM(json_array_length(person_ids)), 0) FROM cache_activities WHERE deleted = 0"
    ).fetchone()[0]
    assert link_rows == expected_links, "the link table mirrors every live activity's person_ids"
