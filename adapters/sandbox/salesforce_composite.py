"""sObject Collections (``composite/sobjects``): create, update, delete and read up to 200 records a call.

Every record is checked before any is written, so ``allOrNone: true`` needs no rollback: when one record fails,
nothing is written, the failing records carry their own errors and the others ALL_OR_NONE_OPERATION_ROLLED_BACK.
With ``allOrNone: false`` the valid records are written and each result says how its record fared.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from adapters.sandbox.context import SandboxContext
from adapters.sandbox.salesforce_records import (
    SalesforceApiError,
    WriteOptions,
    apply_assignment_rule,
    auto_assign_from,
    check_write,
    lookup_sobject,
    render,
)
from adapters.sandbox.salesforce_schema import SObject, to_id18
from adapters.sandbox.salesforce_sobjects import json_body, live_record, sobject_of_id
from adapters.sandbox.shapes import json_response

MAX_RECORDS = 200
_ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was using AllOrNone header",
    "fields": [],
}


@dataclass
class _Planned:
    """One record's checked write (``apply`` performs it) or the error that stops it."""

    record_id: str | None = None
    apply: Callable[[], str] | None = None
    error: SalesforceApiError | None = None


def _too_many(count: int) -> None:
    if count > MAX_RECORDS:
        raise SalesforceApiError(
            400, f"Number of records in the request exceeds the limit of {MAX_RECORDS}: {count}", "EXCEEDED_ID_LIMIT"
        )


def _execute(plans: list[_Planned], all_or_none: bool) -> Response:
    failed = any(p.error is not None for p in plans)
    results = []
    for plan in plans:
        if plan.error is not None:
            results.append({"id": plan.record_id, "success": False, "errors": [plan.error.collection_error()]})
        elif failed and all_or_none:
            results.append({"id": plan.record_id, "success": False, "errors": [_ROLLED_BACK]})
        else:
            assert plan.apply is not None
            results.append({"id": plan.apply(), "success": True, "errors": []})
    return json_response(results)


def _records(body: Any) -> tuple[list[Any], bool]:
    if not isinstance(body, Mapping) or not isinstance(body.get("records"), list):
        raise SalesforceApiError(400, "Body must be an object with a 'records' list", "JSON_PARSER_ERROR")
    records = body["records"]
    _too_many(len(records))
    return records, bool(body.get("allOrNone", False))


def _record_type(record: Any) -> SObject:
    if not isinstance(record, Mapping):
        raise SalesforceApiError(400, "each record must be a JSON object", "JSON_PARSER_ERROR")
    attributes = record.get("attributes")
    name = attributes.get("type") if isinstance(attributes, Mapping) else None
    if not name:
        record_id = record.get("Id") or record.get("id")
        if isinstance(record_id, str):
            return sobject_of_id(record_id)
        raise SalesforceApiError(400, "When creating records, attributes.type is required", "INVALID_TYPE")
    try:
        return lookup_sobject(str(name))
    except SalesforceApiError:
        raise SalesforceApiError(400, f"sObject type '{name}' is not supported.", "INVALID_TYPE") from None


def _plan_create(ctx: SandboxContext, record: Any, options: WriteOptions) -> _Planned:
    try:
        owner = _record_type(record)
        changes = check_write(ctx.store, owner, record, creating=True)
        apply_assignment_rule(ctx, owner, changes, options)
    except SalesforceApiError as exc:
        return _Planned(error=exc)
    props = {k: v for k, v in changes.items() if v is not None}
    return _Planned(apply=lambda: ctx.store.create(owner.kind, props).id)


def _plan_update(ctx: SandboxContext, record: Any, options: WriteOptions) -> _Planned:
    record_id = record.get("Id") if isinstance(record, Mapping) else None
    try:
        if not isinstance(record_id, str):
            raise SalesforceApiError(400, "Id not specified in an update call", "MISSING_ARGUMENT", ["Id"])
        owner = _record_type(record)
        found = live_record(ctx, owner, record_id)
        changes = check_write(ctx.store, owner, record, creating=False, ignore=["Id"])
        apply_assignment_rule(ctx, owner, changes, options)
    except SalesforceApiError as exc:
        return _Planned(record_id=record_id if isinstance(record_id, str) else None, error=_as_record_error(exc))
    return _Planned(record_id=found.id, apply=lambda: ctx.store.update(owner.kind, found.id, changes).id)


def _plan_delete(ctx: SandboxContext, record_id: str) -> _Planned:
    try:
        owner = sobject_of_id(to_id18(record_id))
        found = live_record(ctx, owner, record_id)
    except SalesforceApiError as exc:
        return _Planned(record_id=record_id, error=_as_record_error(exc))
    return _Planned(record_id=found.id, apply=lambda: ctx.store.archive(owner.kind, found.id).id)


def _as_record_error(exc: SalesforceApiError) -> SalesforceApiError:
    """A missing record is NOT_FOUND for a single call but INVALID_CROSS_REFERENCE_KEY inside a collection."""
    if exc.code == "NOT_FOUND":
        return SalesforceApiError(400, "invalid cross reference id", "INVALID_CROSS_REFERENCE_KEY", ["Id"])
    return exc


async def create_collection(ctx: SandboxContext, request: Request) -> Response:
    """``POST composite/sobjects``: create up to 200 records of any types."""
    records, all_or_none = _records(await json_body(request))
    options = auto_assign_from(request.headers)
    return _execute([_plan_create(ctx, r, options) for r in records], all_or_none)


async def update_collection(ctx: SandboxContext, request: Request) -> Response:
    """``PATCH composite/sobjects``: update up to 200 records by Id."""
    records, all_or_none = _records(await json_body(request))
    options = auto_assign_from(request.headers)
    return _execute([_plan_update(ctx, r, options) for r in records], all_or_none)


async def delete_collection(ctx: SandboxContext, request: Request) -> Response:
    """``DELETE composite/sobjects?ids=a,b&allOrNone=true``."""
    ids = [i.strip() for i in request.query_params.get("ids", "").split(",") if i.strip()]
    if not ids:
        raise SalesforceApiError(400, "Required parameter 'ids' is missing", "MISSING_ARGUMENT")
    _too_many(len(ids))
    all_or_none = request.query_params.get("allOrNone", "false").lower() == "true"
    return _execute([_plan_delete(ctx, i) for i in ids], all_or_none)


async def read_collection(ctx: SandboxContext, request: Request) -> Response:
    """``GET composite/sobjects/{T}?ids=...&fields=...``: the records in order, null for missing ones."""
    owner = lookup_sobject(request.path_params["sobject"])
    ids = [i.strip() for i in request.query_params.get("ids", "").split(",") if i.strip()]
    names = [n.strip() for n in request.query_params.get("fields", "").split(",") if n.strip()]
    if not ids or not names:
        raise SalesforceApiError(400, "Required parameters 'ids' and 'fields' are missing", "MISSING_ARGUMENT")
    _too_many(len(ids))
    fields = [owner.field(n) for n in names]
    if any(f is None for f in fields):
        raise SalesforceApiError(400, f"No such column on sobject of type {owner.name}", "INVALID_FIELD")
    found = {o.id: o for o in ctx.store.get_many(owner.kind, [to_id18(i) for i in ids])}
    version = request.path_params["version"]
    answer = [
        render(found[to_id18(i)], owner, version, [f for f in fields if f is not None]) if to_id18(i) in found else None
        for i in ids
    ]
    return json_response(answer)
