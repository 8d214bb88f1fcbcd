"""Salesforce records as the REST API shows and accepts them: rendering, write validation, the lead assignment rule.

System fields (Id, CreatedDate, LastModifiedDate, SystemModstamp, IsDeleted) are derived from the store's columns
on every read, never stored. Writes are checked the way Salesforce checks them: unknown fields (INVALID_FIELD),
read-only fields (INVALID_FIELD_FOR_INSERT_UPDATE), required fields (REQUIRED_FIELD_MISSING), references to
records that do not exist (INVALID_CROSS_REFERENCE_KEY) or to inactive owners (INACTIVE_OWNER_OR_USER).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dateutil import parser as dateparser

from adapters.sandbox.context import SandboxContext
from adapters.sandbox.salesforce_schema import Field, SObject, sobject
from adapters.sandbox.soql_compile import format_datetime
from adapters.sandbox.store import ObjectStore, StoredObject
from connector.errors import RequestError

_PERSON_NAME = frozenset({"Lead", "Contact", "User"})
_COLUMNS = "kind, id, seq, props, created_ms, updated_ms, archived, archived_ms"
DEFAULT_QUEUE_NAME = "Unassigned Leads"


class SalesforceApiError(RequestError):
    """An answer Salesforce would give as ``[{"message","errorCode","fields"}]`` with HTTP ``status``."""

    def __init__(self, status: int, message: str, code: str, fields: Sequence[str] = ()) -> None:
        super().__init__(message, crm="salesforce", status=status)
        self.code = code
        self.fields = list(fields)

    def body(self) -> list[dict[str, Any]]:
        """The REST error body."""
        return [{"message": self.message, "errorCode": self.code, "fields": self.fields}]

    def collection_error(self) -> dict[str, Any]:
        """The error as sObject Collections list it per record (``statusCode`` instead of ``errorCode``)."""
        return {"statusCode": self.code, "message": self.message, "fields": self.fields}


# -- reading ----------------------------------------------------------------------------------------------
def record_url(version: str, sobject_name: str, record_id: str) -> str:
    """The REST path of a record, as ``attributes.url`` gives it."""
    return f"/services/data/v{version}/sobjects/{sobject_name}/{record_id}"


def field_value(obj: StoredObject, owner: SObject, field: Field) -> Any:
    """The value Salesforce shows for ``field`` of ``obj``: system fields from columns, the rest from properties."""
    name = field.name
    if field.system:
        return _system_value(obj, name)
    value = obj.properties.get(name)
    if field.type == "boolean":
        return bool(value)
    if name == "Name" and value is None and owner.name in _PERSON_NAME:
        parts = [obj.properties.get("FirstName"), obj.properties.get("LastName")]
        return " ".join(str(p) for p in parts if p) or None
    return value


def _system_value(obj: StoredObject, name: str) -> Any:
    if name == "Id":
        return obj.id
    if name == "CreatedDate":
        return format_datetime(obj.created_ms)
    if name == "IsDeleted":
        return obj.archived
    return format_datetime(obj.updated_ms)  # LastModifiedDate, SystemModstamp


def render(obj: StoredObject, owner: SObject, version: str, fields: Iterable[Field] | None = None) -> dict[str, Any]:
    """A record with ``attributes``; all schema fields plus stored custom ones unless ``fields`` is given."""
    out: dict[str, Any] = {"attributes": {"type": owner.name, "url": record_url(version, owner.name, obj.id)}}
    if fields is None:
        declared = list(owner.fields.values())
        known = {f.name.lower() for f in declared}
        extra = [Field(k, custom=True) for k in obj.properties if k.lower() not in known and k.endswith("__c")]
        fields = [*declared, *extra]
    for field in fields:
        out[field.name] = field_value(obj, owner, field)
    return out


def fetch_by_ids(store: ObjectStore, kinds: Sequence[str], ids: Iterable[Any]) -> dict[str, StoredObject]:
    """Live records of any of ``kinds`` with these ids, by id (ids carry their sObject's prefix, so never clash)."""
    wanted = sorted({i for i in ids if isinstance(i, str)})
    found: dict[str, StoredObject] = {}
    kind_marks = ", ".join("?" * len(kinds))
    for start in range(0, len(wanted), 500):
        part = wanted[start : start + 500]
        sql = (
            f"SELECT {_COLUMNS} FROM objects WHERE kind IN ({kind_marks}) "
            f"AND id IN ({', '.join('?' * len(part))}) AND archived = 0"
        )
        for row in store.conn.execute(sql, [*kinds, *part]):
            found[row[1]] = row_to_object(row)
    return found


def row_to_object(row: Sequence[Any]) -> StoredObject:
    """A StoredObject from a row of ``kind, id, seq, props, created_ms, updated_ms, archived, archived_ms``."""
    return StoredObject(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5], bool(row[6]), row[7])


# -- writing ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WriteOptions:
    """Request-level switches for a write: whether the lead assignment rule may run."""

    auto_assign: bool = True


def auto_assign_from(headers: Mapping[str, str]) -> WriteOptions:
    """``Sforce-Auto-Assign: FALSE`` (or ``false``/``0``) turns the assignment rule off for the request."""
    value = headers.get("sforce-auto-assign", "").strip().lower()
    return WriteOptions(auto_assign=value not in ("false", "0"))


def check_write(
    store: ObjectStore, owner: SObject, body: Mapping[str, Any], *, creating: bool, ignore: Iterable[str] = ()
) -> dict[str, Any]:
    """The property changes a create/update body asks for, by canonical field name; raises SalesforceApiError."""
    if not isinstance(body, Mapping):
        raise SalesforceApiError(400, "The request body must be a JSON object.", "JSON_PARSER_ERROR")
    skipped = {"attributes", *(name.lower() for name in ignore)}
    changes: dict[str, Any] = {}
    for key, value in body.items():
        if key.lower() in skipped:
            continue
        field = owner.field(key)
        if field is None:
            raise SalesforceApiError(400, f"No such column '{key}' on sobject of type {owner.name}", "INVALID_FIELD")
        if not field.writable:
            raise SalesforceApiError(
                400, f"Unable to create/update fields: {field.name}.", "INVALID_FIELD_FOR_INSERT_UPDATE", [field.name]
            )
        changes[field.name] = _normalize(field, value)
    _check_required(owner, changes, creating=creating)
    _check_references(store, owner, changes)
    return changes


def _normalize(field: Field, value: Any) -> Any:
    """Store datetimes in Salesforce's own format; refuse values of an impossible type."""
    if value is None or value == "":
        return None
    if field.type == "boolean" and not isinstance(value, bool):
        raise _bad_value(field, value)
    if field.type in ("int", "double", "currency", "percent") and (
        isinstance(value, bool) or not isinstance(value, int | float)
    ):
        raise _bad_value(field, value)
    if field.type == "datetime":
        try:
            stamp = dateparser.isoparse(str(value))
        except ValueError:
            raise _bad_value(field, value) from None
        stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
        return format_datetime(int(stamp.astimezone(UTC).timestamp() * 1000))
    if field.type == "date":
        try:
            return datetime.strptime(str(value)[:10], "%Y-%m-%d").date().isoformat()
        except ValueError:
            raise _bad_value(field, value) from None
    return value


def _bad_value(field: Field, value: Any) -> SalesforceApiError:
    return SalesforceApiError(
        400, f"{field.name}: value not of required type: {value!r}", "INVALID_TYPE_ON_FIELD_IN_RECORD", [field.name]
    )


def _check_required(owner: SObject, changes: Mapping[str, Any], *, creating: bool) -> None:
    required = owner.required_fields
    missing = [name for name in required if (creating or name in changes) and changes.get(name) is None]
    if missing:
        message = f"Required fields are missing: [{', '.join(missing)}]"
        raise SalesforceApiError(400, message, "REQUIRED_FIELD_MISSING", missing)


def _check_references(store: ObjectStore, owner: SObject, changes: Mapping[str, Any]) -> None:
    for name, value in changes.items():
        field = owner.field(name)
        if field is None or not field.reference_to or value is None:
            continue
        kinds = [f"salesforce.{target}" for target in field.reference_to]
        target = fetch_by_ids(store, kinds, [str(value)]).get(str(value))
        if target is None:
            raise SalesforceApiError(
                400, f"{name}: id value of incorrect type or not found: {value}", "INVALID_CROSS_REFERENCE_KEY", [name]
            )
        if name == "OwnerId" and target.kind == "salesforce.User" and target.properties.get("IsActive") is False:
            raise SalesforceApiError(400, "operation performed with inactive user as owner", "INACTIVE_OWNER_OR_USER")


# -- the lead assignment rule -----------------------------------------------------------------------------
def assignment_owner(ctx: SandboxContext) -> str | None:
    """Who the lead assignment rule assigns to: ``ctx.settings.salesforce_assignment_owner`` when set, else the
    queue named "Unassigned Leads", else the first active User; None when the rule is switched off
    (``ctx.settings.extra["salesforce_assignment_rule"] = False``) or there is nobody to assign to."""
    if ctx.settings.extra.get("salesforce_assignment_rule", True) is False:
        return None
    if ctx.settings.salesforce_assignment_owner:
        return ctx.settings.salesforce_assignment_owner
    queue = _first(ctx.store, "Group", "json_extract(props, '$.Type') = 'Queue' AND json_extract(props, '$.Name') = ?")
    return queue or _first(ctx.store, "User", "coalesce(json_extract(props, '$.IsActive'), 1) = 1")


def _first(store: ObjectStore, sobject_name: str, where: str) -> str | None:
    params = [f"salesforce.{sobject_name}"] + ([DEFAULT_QUEUE_NAME] if "?" in where else [])
    row = store.conn.execute(
        f"SELECT id FROM objects WHERE kind = ? AND archived = 0 AND {where} ORDER BY seq LIMIT 1", params
    ).fetchone()
    return str(row[0]) if row else None


def apply_assignment_rule(ctx: SandboxContext, owner: SObject, changes: dict[str, Any], options: WriteOptions) -> None:
    """On Lead writes with auto-assign on, set OwnerId to the rule's owner (overriding what the request set)."""
    if owner.name != "Lead" or not options.auto_assign:
        return
    target = assignment_owner(ctx)
    if target is not None:
        changes["OwnerId"] = target


def lookup_sobject(name: str) -> SObject:
    """The sObject served under ``name``; 404 NOT_FOUND like Salesforce for anything else."""
    found = sobject(name)
    if found is None:
        raise SalesforceApiError(404, "The requested resource does not exist", "NOT_FOUND")
    return found
