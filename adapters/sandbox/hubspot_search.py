"""``POST /crm/v3/objects/{type}/search``: HubSpot's filter language compiled to SQL over the store.

Filter groups are ORed, filters within a group ANDed; at most 5 groups, 10 filters per group, 25 in all. Up to 200
results a page, ``after`` is an offset, and paging stops at 10,000 results (asking past it is a 400, as HubSpot
does). ``hs_object_id`` and the create/modified dates map to the store's indexed columns (seq, created_ms,
updated_ms), so an incremental ``lastmodifieddate >= X`` sorted by it stays fast over a million records. Every
value is bound as a parameter; property names go through ``prop_sql``, which refuses anything but identifiers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from adapters.sandbox.context import SandboxContext
from adapters.sandbox.hubspot_common import HubSpotError, epoch_ms, json_body, path_type
from adapters.sandbox.hubspot_model import (
    created_property,
    kind_of,
    modified_property,
    property_type,
    public_object,
    stored_fields,
)
from adapters.sandbox.ids import HUBSPOT_ID_BASE, hubspot_id
from adapters.sandbox.shapes import json_response
from adapters.sandbox.store import ObjectStore, StoredObject, prop_sql

MAX_GROUPS, MAX_FILTERS_PER_GROUP, MAX_FILTERS = 5, 10, 25
PAGE_MAX, RESULT_CAP = 200, 10_000
QUERY_PROPERTIES = {
    "contacts": ("firstname", "lastname", "email", "phone", "company"),
    "companies": ("name", "domain", "website", "phone"),
    "deals": ("dealname",),
}
_NUMERIC_TYPES = {"number"}
_DATE_TYPES = {"datetime", "date"}


@dataclass(frozen=True)
class Compiled:
    """A search request as SQL: where clause, bound params, ORDER BY pairs, page size and offset."""

    where: str
    params: list[Any]
    order_by: list[tuple[str, bool]]
    limit: int
    offset: int
    properties: list[str]


def _date_ms_sql(expr: str) -> str:
    """SQL giving epoch ms for a stored date: numbers as they are, ISO strings through strftime."""
    return (
        f"(CASE WHEN typeof({expr}) IN ('integer', 'real') THEN {expr} "
        f"WHEN {expr} GLOB '[0-9][0-9][0-9][0-9]-*' THEN CAST(strftime('%s', {expr}) AS INTEGER) * 1000 "
        f"+ CAST(substr(strftime('%f', {expr}), 4, 3) AS INTEGER) "
        f"ELSE CAST({expr} AS INTEGER) END)"
    )


class SearchCompiler:
    """Compiles one search body for one object type."""

    def __init__(self, type_name: str, *, numeric_ids: bool) -> None:
        self.type_name = type_name
        self.numeric_ids = numeric_ids
        self.params: list[Any] = []

    def compile(self, body: dict[str, Any]) -> Compiled:
        """Validate and translate a search body; raises HubSpotError (400) like HubSpot for bad requests."""
        limit = int(body.get("limit") or 10)
        if not 0 < limit <= PAGE_MAX:
            raise HubSpotError(400, f"limit must be between 1 and {PAGE_MAX}")
        offset = self._offset(body.get("after"))
        clauses = [self._groups(body.get("filterGroups") or [])]
        query = (body.get("query") or "").strip()
        if query:
            clauses.append(self._query(query))
        where = " AND ".join(c for c in clauses if c) or "1"
        properties = [p for p in body.get("properties") or [] if isinstance(p, str)]
        return Compiled(where, self.params, self._sorts(body.get("sorts") or []), limit, offset, properties)

    def _offset(self, after: Any) -> int:
        if after in (None, ""):
            return 0
        try:
            offset = int(after)
        except (TypeError, ValueError):
            raise HubSpotError(400, f"Invalid after: {after!r}") from None
        if offset >= RESULT_CAP:
            raise HubSpotError(
                400,
                f"Paging past {RESULT_CAP} results is not supported by search; narrow the filters instead.",
                "VALIDATION_ERROR",
            )
        return max(0, offset)

    def _groups(self, groups: list[dict[str, Any]]) -> str:
        if len(groups) > MAX_GROUPS:
            raise HubSpotError(400, f"Too many filter groups ({len(groups)}); the maximum is {MAX_GROUPS}.")
        total = sum(len(g.get("filters") or []) for g in groups)
        if total > MAX_FILTERS:
            raise HubSpotError(400, f"Too many filters ({total}); the maximum is {MAX_FILTERS} in all.")
        parts = []
        for group in groups:
            filters = group.get("filters") or []
            if len(filters) > MAX_FILTERS_PER_GROUP:
                raise HubSpotError(400, f"Too many filters in a group; the maximum is {MAX_FILTERS_PER_GROUP}.")
            if filters:
                parts.append("(" + " AND ".join(self._filter(f) for f in filters) + ")")
        return "(" + " OR ".join(parts) + ")" if parts else ""

    # -- one filter -------------------------------------------------------------------------------
    def _filter(self, spec: dict[str, Any]) -> str:
        name = spec.get("propertyName")
        operator = str(spec.get("operator") or "EQ").upper()
        if not isinstance(name, str):
            raise HubSpotError(400, "Each filter needs a propertyName")
        expr, kind = self._operand(name)
        if operator == "HAS_PROPERTY":
            return "1" if kind == "column" else f"({expr} IS NOT NULL AND {expr} != '')"
        if operator == "NOT_HAS_PROPERTY":
            return "0" if kind == "column" else f"({expr} IS NULL OR {expr} = '')"
        if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            clause = self._token(prop_sql(name) if kind != "column" else expr, spec.get("value"))
            return clause if operator == "CONTAINS_TOKEN" else f"NOT COALESCE({clause}, 0)"
        return self._compare(expr, kind, name, operator, spec)

    def _compare(self, expr: str, kind: str, name: str, operator: str, spec: dict[str, Any]) -> str:
        sql_ops = {"EQ": "=", "NEQ": "!=", "LT": "<", "LTE": "<=", "GT": ">", "GTE": ">="}
        if operator in sql_ops:
            value = self._value(name, kind, spec.get("value"))
            self.params.append(value)
            clause = f"{expr} {sql_ops[operator]} ?"
            return f"({expr} IS NULL OR {clause})" if operator == "NEQ" else clause
        if operator == "BETWEEN":
            self.params += [self._value(name, kind, spec.get("value")), self._value(name, kind, spec.get("highValue"))]
            return f"{expr} BETWEEN ? AND ?"
        if operator in ("IN", "NOT_IN"):
            values = spec.get("values") or []
            if not isinstance(values, list) or not values:
                raise HubSpotError(400, f"{operator} needs a non-empty `values` list")
            self.params += [self._value(name, kind, v) for v in values]
            marks = ",".join("?" * len(values))
            return f"{expr} IN ({marks})" if operator == "IN" else f"({expr} IS NULL OR {expr} NOT IN ({marks}))"
        raise HubSpotError(400, f"Unknown filter operator {operator!r}")

    def _operand(self, name: str) -> tuple[str, str]:
        """(SQL expression, how values compare: column/number/date/text) for a property."""
        if name == "hs_object_id":
            return ("seq" if self.numeric_ids else "CAST(id AS INTEGER)"), "column"
        if name == created_property(self.type_name) or name == "createdate":
            return "created_ms", "column"
        if name == modified_property(self.type_name) or name in ("lastmodifieddate", "hs_lastmodifieddate"):
            return "updated_ms", "column"
        try:
            expr = prop_sql(name)
        except ValueError:
            raise HubSpotError(400, f"Invalid property name {name!r}") from None
        declared = property_type(self.type_name, name)
        if declared in _NUMERIC_TYPES:
            return f"CAST({expr} AS REAL)", "number"
        if declared in _DATE_TYPES:
            return _date_ms_sql(expr), "date"
        return f"lower({expr})", "text"

    def _value(self, name: str, kind: str, raw: Any) -> Any:
        if raw is None:
            raise HubSpotError(400, f"Filter on {name} needs a value")
        if kind == "column":
            if name == "hs_object_id":
                return self._seq_for(raw)
            return epoch_ms(raw)
        if kind == "date":
            return epoch_ms(raw)
        if kind == "number":
            try:
                return float(raw)
            except (TypeError, ValueError):
                raise HubSpotError(400, f"Filter on {name} needs a number, got {raw!r}") from None
        return str(raw).strip().lower()

    def _seq_for(self, raw: Any) -> int:
        try:
            value = int(str(raw))
        except ValueError:
            raise HubSpotError(400, f"hs_object_id must be numeric, got {raw!r}") from None
        return value - HUBSPOT_ID_BASE.get(self.type_name, 900_000_000) if self.numeric_ids else value

    def _token(self, expr: str, raw: Any) -> str:
        """HubSpot token match: whole words (split on space, @, ., -), ``*`` as a wildcard."""
        token = str(raw or "").strip().lower()
        if not token:
            raise HubSpotError(400, "CONTAINS_TOKEN needs a value")
        escaped = token.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("*", "%")
        normalized = f"(' ' || replace(replace(replace(lower({expr}), '@', ' '), '.', ' '), '-', ' ') || ' ')"
        if "%" in escaped:
            self.params.append(escaped)
            return f"(lower({expr}) LIKE ? ESCAPE '\\')"
        spaced = " " + escaped.replace("@", " ").replace(".", " ").replace("-", " ") + " "
        self.params.append(f"%{spaced}%")
        return f"({normalized} LIKE ? ESCAPE '\\')"

    def _query(self, query: str) -> str:
        names = QUERY_PROPERTIES.get(self.type_name, ())
        if not names:
            return "0"
        pattern = "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        parts = []
        for name in names:
            parts.append(f"lower({prop_sql(name)}) LIKE ? ESCAPE '\\'")
            self.params.append(pattern)
        return "(" + " OR ".join(parts) + ")"

    def _sorts(self, sorts: list[Any]) -> list[tuple[str, bool]]:
        order: list[tuple[str, bool]] = []
        for item in sorts:
            if isinstance(item, str):
                name, descending = item.lstrip("-"), item.startswith("-")
            elif isinstance(item, dict):
                name = str(item.get("propertyName", ""))
                descending = str(item.get("direction", "ASCENDING")).upper() == "DESCENDING"
            else:
                raise HubSpotError(400, f"Invalid sort {item!r}")
            expr, _kind = self._operand(name)
            order.append((expr, descending))
        order.append(("seq", bool(order and order[0][1])))  # a total order, so offsets page without gaps or repeats
        return order


class TotalCounter:
    """Exact ``total`` for a search, counted once per query and store state.

    Counting a million matches costs tens of milliseconds and a client pages through the same query again and again,
    so counts are cached under the query and SQLite's ``total_changes`` (which moves on every write, whoever makes
    it); a last page gives its total for free.
    """

    MAX_ENTRIES = 256

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self._cache: dict[tuple[Any, ...], int] = {}

    def total(self, kind: str, compiled: Compiled, page_rows: int, has_more: bool) -> int:
        if not has_more and (page_rows or not compiled.offset):
            return compiled.offset + page_rows
        key = (kind, compiled.where, tuple(compiled.params), self.store.conn.total_changes)
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) >= self.MAX_ENTRIES:
                self._cache.clear()
            found = self._cache[key] = self.store.count(kind, where=compiled.where, params=compiled.params)
        return found


def search_routes(ctx: SandboxContext) -> list[BaseRoute]:
    """The search route over ``ctx``'s store."""
    store = ctx.store
    counter = TotalCounter(store)

    async def search(request: Request) -> Response:
        try:
            type_name = path_type(request)
            compiled = SearchCompiler(type_name, numeric_ids=_numeric_ids(ctx, type_name)).compile(
                await json_body(request)
            )
        except HubSpotError as exc:
            return exc.response()
        kind = kind_of(type_name)
        limit = min(compiled.limit, RESULT_CAP - compiled.offset)
        rows = _select(store, kind, compiled, limit + 1)
        total = counter.total(kind, compiled, min(len(rows), limit), len(rows) > limit)
        results = [public_object(type_name, obj, compiled.properties or None) for obj in rows[:limit]]
        body: dict[str, Any] = {"total": total, "results": results}
        if len(rows) > limit:  # at the cap this offers after=10000, which then answers 400 like HubSpot
            body["paging"] = {"next": {"after": str(compiled.offset + limit)}}
        return json_response(body)

    return [Route("/crm/v3/objects/{object_type}/search", search, methods=["POST"])]


def _select(store: ObjectStore, kind: str, compiled: Compiled, limit: int) -> list[StoredObject]:
    order = ", ".join(f"{expr} {'DESC' if desc else 'ASC'}" for expr, desc in compiled.order_by)
    return store.select(
        kind,
        where=compiled.where,
        params=compiled.params,
        order_sql=order,
        limit=limit,
        offset=compiled.offset,
        fields=stored_fields(kind.removeprefix("hubspot."), compiled.properties or None),
    )


def _numeric_ids(ctx: SandboxContext, type_name: str) -> bool:
    """Whether ids of this type are HubSpot's base + seq (then id filters can use the seq primary key)."""
    return ctx.store.id_for(kind_of(type_name), 1) == hubspot_id(type_name, 1)
