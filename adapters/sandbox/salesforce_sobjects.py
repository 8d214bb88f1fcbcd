"""The ``sobjects/`` resources: create, read, update, delete, upsert by external id, describe, getUpdated/getDeleted.

Each handler takes the sandbox context and the request and returns a Response, or raises SalesforceApiError
(the route wrapper turns it into Salesforce's error list).
"""

from __future__ import annotations

import json
import re
from datetime import UTC
from typing import Any

from dateutil import parser as dateparser
from starlette.requests import Request
from starlette.responses import Response

from adapters.sandbox.context import SandboxContext
from adapters.sandbox.salesforce_records import (
    SalesforceApiError,
    apply_assignment_rule,
    auto_assign_from,
    check_write,
    lookup_sobject,
    record_url,
    render,
    row_to_object,
)
from adapters.sandbox.salesforce_schema import SOBJECTS, Field, SObject, sobject_for_id, to_id18
from adapters.sandbox.shapes import json_response
from adapters.sandbox.soql_compile import format_datetime
from adapters.sandbox.store import StoredObject

UPDATED_WINDOW_DAYS = 30  # getUpdated reaches back at most 30 days
DELETED_WINDOW_DAYS = 15  # getDeleted: the recycle bin keeps 15 days
MAX_UPDATED_IDS = 600_000
_DAY_MS = 86_400_000
_MINUTE_MS = 60_000
_ID_SHAPE = re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$")


# -- records --------------------------------------------------------------------------------------------
def live_record(ctx: SandboxContext, owner: SObject, record_id: str) -> StoredObject:
    """The live record ``record_id`` of ``owner``; 404 NOT_FOUND or ENTITY_IS_DELETED like Salesforce."""
    record_id = to_id18(record_id)
    if not _ID_SHAPE.match(record_id) or not record_id.startswith(owner.key_prefix):
        raise SalesforceApiError(404, "The requested resource does not exist", "NOT_FOUND")
    found = ctx.store.get(owner.kind, record_id, include_archived=True)
    if found is None:
        raise SalesforceApiError(404, "The requested resource does not exist", "NOT_FOUND")
    if found.archived:
        raise SalesforceApiError(404, "entity is deleted", "ENTITY_IS_DELETED")
    return found


async def json_body(request: Request) -> Any:
    """The request's JSON body; 400 JSON_PARSER_ERROR when it is not JSON."""
    raw = await request.body()
    try:
        return json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise SalesforceApiError(400, f"Unexpected character in JSON body: {exc}", "JSON_PARSER_ERROR") from None


def _created(record_id: str, **extra: Any) -> Response:
    return json_response({"id": record_id, "success": True, "errors": [], **extra}, 201)


def _without_nulls(changes: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in changes.items() if v is not None}


# -- single records ---------------------------------------------------------------------------------------
async def create_record(ctx: SandboxContext, request: Request) -> Response:
    """``POST sobjects/{T}/``: 201 ``{"id","success","errors"}``."""
    owner = lookup_sobject(request.path_params["sobject"])
    changes = check_write(ctx.store, owner, await json_body(request), creating=True)
    apply_assignment_rule(ctx, owner, changes, auto_assign_from(request.headers))
    created = ctx.store.create(owner.kind, _without_nulls(changes))
    return _created(created.id)


async def get_record(ctx: SandboxContext, request: Request) -> Response:
    """``GET sobjects/{T}/{id}`` (``?fields=A,B`` narrows the fields)."""
    owner = lookup_sobject(request.path_params["sobject"])
    found = live_record(ctx, owner, request.path_params["record_id"])
    return json_response(render(found, owner, request.path_params["version"], _fields_param(owner, request)))


async def update_record(ctx: SandboxContext, request: Request) -> Response:
    """``PATCH sobjects/{T}/{id}``: 204."""
    owner = lookup_sobject(request.path_params["sobject"])
    found = live_record(ctx, owner, request.path_params["record_id"])
    changes = check_write(ctx.store, owner, await json_body(request), creating=False)
    apply_assignment_rule(ctx, owner, changes, auto_assign_from(request.headers))
    ctx.store.update(owner.kind, found.id, changes)
    return Response(status_code=204)


async def delete_record(ctx: SandboxContext, request: Request) -> Response:
    """``DELETE sobjects/{T}/{id}``: 204; the record stays visible to queryAll and getDeleted."""
    owner = lookup_sobject(request.path_params["sobject"])
    found = live_record(ctx, owner, request.path_params["record_id"])
    ctx.store.archive(owner.kind, found.id)
    return Response(status_code=204)


def _fields_param(owner: SObject, request: Request) -> list[Field] | None:
    names = [n.strip() for n in request.query_params.get("fields", "").split(",") if n.strip()]
    if not names:
        return None
    fields = [owner.field(n) for n in names]
    unknown = [n for n, f in zip(names, fields, strict=True) if f is None]
    if unknown:
        raise SalesforceApiError(400, f"No such column '{unknown[0]}' on sobject of type {owner.name}", "INVALID_FIELD")
    return [f for f in fields if f is not None]


# -- external ids -----------------------------------------------------------------------------------------
def _external_field(owner: SObject, name: str) -> Field:
    field = owner.field(name)
    if field is None or not (field.external_id or field.name == "Id"):
        raise SalesforceApiError(
            404, f"Provided external ID field does not exist or is not accessible: {name}", "NOT_FOUND"
        )
    return field


def _matches(ctx: SandboxContext, owner: SObject, field: Field, value: str) -> list[StoredObject]:
    if field.name == "Id":
        found = ctx.store.get(owner.kind, to_id18(value))
        return [found] if found is not None else []
    sql = (
        "SELECT kind, id, seq, props, created_ms, updated_ms, archived, archived_ms FROM objects "
        f"WHERE kind = ? AND archived = 0 AND json_extract(props, '$.\"{field.name}\"') = ? ORDER BY seq LIMIT 50"
    )
    return [row_to_object(row) for row in ctx.store.conn.execute(sql, (owner.kind, value))]


def _several(owner: SObject, version: str, matches: list[StoredObject]) -> Response:
    return json_response([record_url(version, owner.name, m.id) for m in matches], 300)


async def get_by_external_id(ctx: SandboxContext, request: Request) -> Response:
    """``GET sobjects/{T}/{ExtField}/{value}``: the record, 404, or 300 with the candidates' URLs."""
    owner = lookup_sobject(request.path_params["sobject"])
    field = _external_field(owner, request.path_params["field"])
    matches = _matches(ctx, owner, field, request.path_params["value"])
    version = request.path_params["version"]
    if not matches:
        raise SalesforceApiError(404, "The requested resource does not exist", "NOT_FOUND")
    if len(matches) > 1:
        return _several(owner, version, matches)
    return json_response(render(matches[0], owner, version, _fields_param(owner, request)))


async def upsert_record(ctx: SandboxContext, request: Request) -> Response:
    """``PATCH sobjects/{T}/{ExtField}/{value}``: 201 created, 204 updated, 300 when several records match."""
    owner = lookup_sobject(request.path_params["sobject"])
    field = _external_field(owner, request.path_params["field"])
    value = request.path_params["value"]
    matches = _matches(ctx, owner, field, value)
    if len(matches) > 1:
        return _several(owner, request.path_params["version"], matches)
    body = await json_body(request)
    options = auto_assign_from(request.headers)
    changes = check_write(ctx.store, owner, body, creating=not matches, ignore=[field.name])
    apply_assignment_rule(ctx, owner, changes, options)
    if matches:
        ctx.store.update(owner.kind, matches[0].id, changes)
        return Response(status_code=204)
    if field.name == "Id":
        raise SalesforceApiError(404, "The requested resource does not exist", "NOT_FOUND")
    created = ctx.store.create(owner.kind, _without_nulls({**changes, field.name: value}))
    return _created(created.id, created=True)


# -- getUpdated / getDeleted ------------------------------------------------------------------------------
def _window(ctx: SandboxContext, request: Request, max_days: int) -> tuple[int, int]:
    """(start_ms, latest covered ms) from ``?start=&end=``, refusing starts older than ``max_days``."""
    start, end = (_parse_instant(request.query_params.get(name), name) for name in ("start", "end"))
    now = ctx.clock.now_ms()
    if start < now - max_days * _DAY_MS:
        raise SalesforceApiError(
            400, f"startDate cannot be more than {max_days} days ago", "INVALID_REPLICATION_DATE", ["startDate"]
        )
    if end <= start:
        raise SalesforceApiError(400, "endDate must chronologically follow the startDate", "INVALID_REPLICATION_DATE")
    covered = min(end, now) // _MINUTE_MS * _MINUTE_MS  # Salesforce covers whole minutes only
    return start, max(covered, start)


def _parse_instant(raw: str | None, name: str) -> int:
    if not raw:
        raise SalesforceApiError(400, f"Missing required parameter: {name}", "MALFORMED_QUERY")
    # simple-salesforce sends naive datetimes with a dangling ':'; a raw '+' in a query string decodes to ' '
    text = raw.strip().rstrip(":").replace(" ", "+")
    try:
        stamp = dateparser.isoparse(text)
    except ValueError:
        raise SalesforceApiError(400, f"Invalid {name} date: {raw}", "INVALID_REPLICATION_DATE") from None
    stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    return int(stamp.timestamp() * 1000)


async def updated_ids(ctx: SandboxContext, request: Request) -> Response:
    """``GET sobjects/{T}/updated/?start=&end=``: ids changed in the window (at most 30 days back)."""
    owner = lookup_sobject(request.path_params["sobject"])
    start, covered = _window(ctx, request, UPDATED_WINDOW_DAYS)
    rows = ctx.store.conn.execute(
        "SELECT id FROM objects WHERE kind = ? AND updated_ms >= ? AND updated_ms < ? AND archived = 0 "
        "ORDER BY updated_ms, seq LIMIT ?",
        (owner.kind, start, covered, MAX_UPDATED_IDS + 1),
    ).fetchall()
    if len(rows) > MAX_UPDATED_IDS:
        raise SalesforceApiError(400, "too many ids: narrow the window", "EXCEEDED_ID_LIMIT")
    return json_response({"ids": [r[0] for r in rows], "latestDateCovered": format_datetime(covered)})


async def deleted_records(ctx: SandboxContext, request: Request) -> Response:
    """``GET sobjects/{T}/deleted/?start=&end=``: records deleted in the window (at most 15 days back)."""
    owner = lookup_sobject(request.path_params["sobject"])
    start, covered = _window(ctx, request, DELETED_WINDOW_DAYS)
    rows = ctx.store.conn.execute(
        "SELECT id, archived_ms FROM objects WHERE kind = ? AND archived = 1 AND archived_ms >= ? "
        "AND archived_ms < ? ORDER BY archived_ms, seq",
        (owner.kind, start, covered),
    ).fetchall()
    earliest = (ctx.clock.now_ms() - DELETED_WINDOW_DAYS * _DAY_MS) // _MINUTE_MS * _MINUTE_MS
    return json_response(
        {
            "deletedRecords": [{"id": oid, "deletedDate": format_datetime(ms)} for oid, ms in rows],
            "earliestDateAvailable": format_datetime(earliest),
            "latestDateCovered": format_datetime(covered),
        }
    )


# -- describe ---------------------------------------------------------------------------------------------
def _label(name: str) -> str:
    bare = name.removesuffix("__c").removesuffix("Id") or name
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", bare).replace("_", " ")


def describe_field(field: Field) -> dict[str, Any]:
    """A field as ``describe`` shows it (the attributes clients read: name, type, externalId, ...)."""
    text = field.type not in ("boolean", "int", "double", "currency", "percent", "date", "datetime")
    return {
        "name": field.name,
        "label": _label(field.name),
        "type": field.type,
        "length": (18 if field.type in ("id", "reference") else 255) if text else 0,
        "custom": field.custom,
        "externalId": field.external_id,
        "idLookup": field.external_id or field.name == "Id",
        "unique": field.external_id,
        "nillable": not field.required and field.type != "boolean" and not field.system,
        "createable": field.writable,
        "updateable": field.writable,
        "defaultedOnCreate": field.system or field.type == "boolean",
        "filterable": True,
        "sortable": True,
        "calculated": field.name == "Name" and not field.writable,
        "referenceTo": list(field.reference_to),
        "relationshipName": field.relationship,
        "picklistValues": [],
    }


def sobject_summary(owner: SObject, version: str) -> dict[str, Any]:
    """An sObject as the global describe lists it."""
    base = f"/services/data/v{version}/sobjects/{owner.name}"
    return {
        "name": owner.name,
        "label": owner.name,
        "labelPlural": owner.name + "s",
        "keyPrefix": owner.key_prefix,
        "custom": False,
        "createable": True,
        "updateable": True,
        "deletable": True,
        "queryable": True,
        "retrieveable": True,
        "searchable": True,
        "replicateable": True,
        "urls": {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"},
    }


async def describe_sobject(_ctx: SandboxContext, request: Request) -> Response:
    """``GET sobjects/{T}/describe/``."""
    owner = lookup_sobject(request.path_params["sobject"])
    summary = sobject_summary(owner, request.path_params["version"])
    return json_response({**summary, "fields": [describe_field(f) for f in owner.fields.values()]})


async def sobject_info(_ctx: SandboxContext, request: Request) -> Response:
    """``GET sobjects/{T}/``: basic information (recent items are not tracked)."""
    owner = lookup_sobject(request.path_params["sobject"])
    return json_response({"objectDescribe": sobject_summary(owner, request.path_params["version"]), "recentItems": []})


async def describe_global(_ctx: SandboxContext, request: Request) -> Response:
    """``GET sobjects/``: the sObjects the sandbox serves."""
    version = request.path_params["version"]
    listed = [sobject_summary(s, version) for s in SOBJECTS.values()]
    return json_response({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": listed})


def sobject_of_id(record_id: str) -> SObject:
    """The sObject an id belongs to (by key prefix); 400 MALFORMED_ID otherwise."""
    found = sobject_for_id(record_id) if _ID_SHAPE.match(record_id) else None
    if found is None:
        raise SalesforceApiError(400, f"malformed id {record_id}", "MALFORMED_ID", ["Id"])
    return found
