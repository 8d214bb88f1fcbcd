"""Compile a parsed SOQL query (see ``soql.py``) into SQL over the sandbox object store. Pure: no I/O.

Every value from the query is bound as a parameter; the only text spliced into SQL is field names checked
against ``salesforce_schema`` (or ``*__c`` identifiers) and sObject kinds from that same table.

Semantics kept from Salesforce: string comparison, ``IN`` and ``ORDER BY`` are case-insensitive; ``!=`` and
``NOT IN`` also match nulls; ``NOT`` of a condition matches rows where the condition is unknown (null); system
fields map to indexed columns (``SystemModstamp``/``LastModifiedDate`` → ``updated_ms``, ``CreatedDate`` →
``created_ms``, ``Id`` → ``id``, ordering by ``Id`` → ``seq``) so incremental queries stay fast; a query is
always totally ordered (``seq`` breaks ties). Relative date literals are resolved in UTC.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from adapters.sandbox.salesforce_schema import NUMBER_TYPES, SYSTEM_COLUMNS, Field, SObject, sobject, to_id18
from adapters.sandbox.soql import (
    And,
    BoolValue,
    Comparison,
    Condition,
    DateConstant,
    DateTimeValue,
    DateValue,
    FieldPath,
    FieldsMacro,
    InList,
    Like,
    Not,
    NullValue,
    NumberValue,
    Or,
    OrderItem,
    Query,
    SoqlError,
    StringValue,
    Value,
)

_DAY_MS = 86_400_000
_COMPUTED_NAME = frozenset({"Lead", "Contact", "User"})  # Name is FirstName + LastName on these


@dataclass(frozen=True)
class SelectedField:
    """A field in the SELECT list: canonical ``path`` (``("Owner", "Email")``), the reference fields followed
    to reach it (``hops``) and the field itself (``leaf``)."""

    path: tuple[str, ...]
    hops: tuple[Field, ...]
    leaf: Field


@dataclass(frozen=True)
class CompiledQuery:
    """A query ready to run: WHERE/ORDER BY SQL fragments over table ``objects`` plus bound parameters."""

    sobject: SObject
    fields: tuple[SelectedField, ...]
    count_only: bool
    where_sql: str
    params: tuple[Any, ...]
    order_sql: str
    limit: int | None
    offset: int

    def select_sql(self, *, include_deleted: bool, columns: str = "objects.seq") -> tuple[str, list[Any]]:
        """SQL (and parameters) listing ``columns`` of every matching row, in query order, LIMIT/OFFSET applied."""
        clauses = ["objects.kind = ?"]
        params: list[Any] = [self.sobject.kind]
        if not include_deleted:
            clauses.append("objects.archived = 0")
        if self.where_sql:
            clauses.append(f"({self.where_sql})")
            params.extend(self.params)
        sql = f"SELECT {columns} FROM objects WHERE {' AND '.join(clauses)} ORDER BY {self.order_sql} LIMIT ? OFFSET ?"
        params += [-1 if self.limit is None else self.limit, self.offset]
        return sql, params

    def count_sql(self, *, include_deleted: bool) -> tuple[str, list[Any]]:
        """SQL counting the rows ``select_sql`` would list."""
        inner, params = self.select_sql(include_deleted=include_deleted)
        return f"SELECT COUNT(*) FROM ({inner})", params


def compile_query(query: Query, *, now_ms: int) -> CompiledQuery:
    """Check ``query`` against the schema and translate it; raises SoqlError (INVALID_TYPE, INVALID_FIELD, ...)."""
    target = sobject(query.sobject)
    if target is None:
        raise SoqlError(f"sObject type '{query.sobject}' is not supported.", "INVALID_TYPE")
    compiler = _Compiler(target, now_ms)
    where_sql = compiler.condition(query.where) if query.where is not None else ""
    return CompiledQuery(
        sobject=target,
        fields=() if query.count else _select_list(target, query.fields),
        count_only=query.count,
        where_sql=where_sql,
        params=tuple(compiler.params),
        order_sql=_order_sql(target, query.order_by),
        limit=query.limit,
        offset=query.offset or 0,
    )


# -- field resolution -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Resolved:
    sql: str
    selected: SelectedField


def _resolve(owner: SObject, parts: tuple[str, ...], table: str = "objects", depth: int = 0) -> _Resolved:
    """SQL expression for a (possibly dotted) field of ``owner``'s row in ``table``."""
    if len(parts) == 1:
        leaf = owner.field(parts[0])
        if leaf is None:
            raise SoqlError(f"No such column '{parts[0]}' on entity '{owner.name}'.", "INVALID_FIELD")
        return _Resolved(_leaf_sql(owner, leaf, table), SelectedField((leaf.name,), (), leaf))
    reference = owner.relationship(parts[0])
    if reference is None or reference.relationship is None:
        raise SoqlError(f"Didn't understand relationship '{parts[0]}' in field path.", "INVALID_FIELD")
    inner_table = f"p{depth + 1}"
    parents = [p for p in (sobject(name) for name in reference.reference_to) if p is not None]
    inner = _resolve_first(parents, parts[1:], inner_table, depth + 1)
    kinds = ", ".join(f"'{p.kind}'" for p in parents)
    sql = (
        f"(SELECT {inner.sql} FROM objects {inner_table} WHERE {inner_table}.kind IN ({kinds}) "
        f"AND {inner_table}.id = {_leaf_sql(owner, reference, table)})"
    )
    selected = SelectedField(
        (reference.relationship, *inner.selected.path), (reference, *inner.selected.hops), inner.selected.leaf
    )
    return _Resolved(sql, selected)


def field_sql(owner: SObject, leaf: Field, table: str = "objects") -> str:
    """SQL expression for a direct field of ``owner``'s row in ``table`` (system fields are columns)."""
    return _leaf_sql(owner, leaf, table)


def _resolve_first(parents: list[SObject], parts: tuple[str, ...], table: str, depth: int) -> _Resolved:
    """Resolve against the first parent type that has the field (polymorphic Owner, Who, What)."""
    error: SoqlError | None = None
    for parent in parents:
        try:
            return _resolve(parent, parts, table, depth)
        except SoqlError as exc:
            error = exc
    raise error or SoqlError("relationship has no target", "INVALID_FIELD")


def _leaf_sql(owner: SObject, leaf: Field, table: str) -> str:
    if leaf.name in SYSTEM_COLUMNS:
        return f"{table}.{SYSTEM_COLUMNS[leaf.name]}"
    prop = f"json_extract({table}.props, '$.\"{leaf.name}\"')"
    if leaf.type == "boolean":
        return f"coalesce({prop}, 0)"  # Salesforce booleans are never null: absent means false
    if leaf.name == "Name" and owner.name in _COMPUTED_NAME:
        first = f"json_extract({table}.props, '$.\"FirstName\"')"
        last = f"json_extract({table}.props, '$.\"LastName\"')"
        return f"coalesce({prop}, nullif(trim(coalesce({first}, '') || ' ' || coalesce({last}, '')), ''))"
    return prop


_TYPE_CATEGORY = {"boolean": "bool", "date": "date", "datetime": "datetime", "id": "id", "reference": "id"}
_TYPE_CATEGORY |= dict.fromkeys(NUMBER_TYPES, "number")


def _category(leaf: Field) -> str:
    """How values compare against this field: ms, id, bool, number, date, datetime, text or any."""
    if leaf.name in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
        return "ms"
    if leaf.type == "anyType":
        return "any"  # an undeclared custom field: compare with whatever type the literal has
    return _TYPE_CATEGORY.get(leaf.type, "text")


def _select_list(target: SObject, items: tuple[FieldPath | FieldsMacro, ...]) -> tuple[SelectedField, ...]:
    selected: list[SelectedField] = []
    seen: set[str] = set()
    for item in items:
        if isinstance(item, FieldsMacro):
            for leaf in _macro_fields(target, item.which):
                if leaf.name.lower() not in seen:
                    seen.add(leaf.name.lower())
                    selected.append(SelectedField((leaf.name,), (), leaf))
            continue
        resolved = _resolve(target, item.parts).selected
        key = ".".join(resolved.path).lower()
        if key in seen:
            raise SoqlError(f"duplicate field selected: {item}")
        seen.add(key)
        selected.append(resolved)
    return tuple(selected)


def _macro_fields(target: SObject, which: str) -> list[Field]:
    fields = list(target.fields.values())
    if which == "STANDARD":
        return [f for f in fields if not f.custom]
    if which == "CUSTOM":
        return [f for f in fields if f.custom]
    return fields


# -- ORDER BY -------------------------------------------------------------------------------------------
def _order_sql(target: SObject, items: tuple[OrderItem, ...]) -> str:
    parts: list[str] = []
    for item in items:
        resolved = _resolve(target, item.field.parts)
        if resolved.selected.path == ("Id",):
            expr = "objects.seq"  # ids sort like their sequence numbers, and seq is the primary key
        elif _category(resolved.selected.leaf) in ("text", "any"):
            expr = f"{resolved.sql} COLLATE NOCASE"
        else:
            expr = resolved.sql
        nulls = "" if item.nulls_last is None else (" NULLS LAST" if item.nulls_last else " NULLS FIRST")
        parts.append(f"{expr} {'DESC' if item.descending else 'ASC'}{nulls}")
    if not any(i.field.parts[-1].lower() == "id" and len(i.field.parts) == 1 for i in items):
        parts.append("objects.seq ASC")  # a total order, so paging never repeats or skips a row
    return ", ".join(parts)


# -- WHERE ----------------------------------------------------------------------------------------------
class _Compiler:
    """Translates conditions to SQL, collecting bound parameters in order."""

    def __init__(self, target: SObject, now_ms: int) -> None:
        self.target = target
        self.today = datetime.fromtimestamp(now_ms / 1000, tz=UTC).date()
        self.params: list[Any] = []

    def condition(self, node: Condition) -> str:
        if isinstance(node, And | Or):
            joiner = " AND " if isinstance(node, And) else " OR "
            return "(" + joiner.join(self.condition(item) for item in node.items) + ")"
        if isinstance(node, Not):
            return f"NOT coalesce({self.condition(node.inner)}, 0)"
        if isinstance(node, Comparison):
            return self.comparison(node)
        if isinstance(node, InList):
            return self.in_list(node)
        return self.like(node)

    def field(self, path: FieldPath) -> tuple[str, str, str]:
        resolved = _resolve(self.target, path.parts)
        return resolved.sql, _category(resolved.selected.leaf), ".".join(resolved.selected.path)

    def comparison(self, node: Comparison) -> str:
        expr, category, name = self.field(node.field)
        if isinstance(node.value, NullValue):
            if node.op not in ("=", "!="):
                raise SoqlError(f"null can only be compared with = or != (field {name})")
            return f"{expr} IS {'NOT ' if node.op == '!=' else ''}NULL"
        if isinstance(node.value, DateConstant):
            return self.date_range(expr, category, node.op, node.value, name)
        if category == "bool" and node.op not in ("=", "!="):
            raise SoqlError(f"invalid operator {node.op} on boolean field {name}", "INVALID_QUERY_FILTER_OPERATOR")
        self.params.append(_bind(category, node.value, name))
        text = _is_text(category, node.value)
        if text and node.op in ("=", "!="):
            # lower() on both sides: case-insensitive, and the form the store's lower(Email) index serves
            test = f"lower({expr}) {node.op} lower(?)"
        else:
            test = f"{expr} {node.op} ?{' COLLATE NOCASE' if text else ''}"
        return f"({expr} IS NULL OR {test})" if node.op == "!=" else test

    def in_list(self, node: InList) -> str:
        expr, category, name = self.field(node.field)
        values = [v for v in node.values if not isinstance(v, NullValue)]
        with_null = len(values) < len(node.values)
        if any(isinstance(v, DateConstant) for v in values):
            raise SoqlError(f"relative date literals cannot be used in IN (field {name})")
        self.params.extend(_bind(category, v, name) for v in values)
        text = bool(values) and _is_text(category, values[0])
        marks = ", ".join(("lower(?)" if text else "?") for _ in values)
        left = f"lower({expr})" if text else expr
        if node.negated:
            test = f"({expr} IS NULL OR {left} NOT IN ({marks}))" if values else "1"
            return f"({test} AND {expr} IS NOT NULL)" if with_null else test
        test = f"{left} IN ({marks})" if values else "0"
        return f"({test} OR {expr} IS NULL)" if with_null else test

    def like(self, node: Like) -> str:
        expr, category, name = self.field(node.field)
        if category not in ("text", "any", "id"):
            raise SoqlError(f"LIKE can only be used on text fields (field {name})", "INVALID_QUERY_FILTER_OPERATOR")
        self.params.append(node.pattern.like)
        return f"{expr} LIKE ? ESCAPE '\\'"

    def date_range(self, expr: str, category: str, op: str, value: DateConstant, name: str) -> str:
        """A relative date literal is a half-open range [lo, hi) of days; each operator compares to an end."""
        if category not in ("ms", "date", "datetime"):
            raise SoqlError(f"{value.name} can only be compared with a date or datetime field (field {name})")
        lo_day, hi_day = _date_range(value, self.today)
        lo, hi = _day_bound(category, lo_day), _day_bound(category, hi_day)
        templates = {
            "=": (f"({expr} >= ? AND {expr} < ?)", [lo, hi]),
            "!=": (f"({expr} IS NULL OR {expr} < ? OR {expr} >= ?)", [lo, hi]),
            "<": (f"{expr} < ?", [lo]),
            "<=": (f"{expr} < ?", [hi]),
            ">": (f"{expr} >= ?", [hi]),
            ">=": (f"{expr} >= ?", [lo]),
        }
        sql, params = templates[op]
        self.params.extend(params)
        return sql


def _is_text(category: str, value: Value) -> bool:
    return category == "text" or (category == "any" and isinstance(value, StringValue))


def _bind(category: str, value: Value, name: str) -> Any:
    """The SQL parameter for ``value`` compared against a field of ``category``; refuses mismatched types."""
    if category in ("text", "id"):
        if isinstance(value, StringValue):
            return to_id18(value.value) if category == "id" else value.value  # 15-character ids work too
        raise SoqlError(f"value of filter criterion for field '{name}' must be of type string and should be quoted")
    if category == "bool" and isinstance(value, BoolValue):
        return int(value.value)
    if category == "number" and isinstance(value, NumberValue):
        return value.value
    if category == "date" and isinstance(value, DateValue):
        return value.value.isoformat()
    if category in ("datetime", "ms") and isinstance(value, DateTimeValue | DateValue):
        ms = value.ms if isinstance(value, DateTimeValue) else _midnight_ms(value.value)
        return ms if category == "ms" else format_datetime(ms)
    if category == "any":
        return _bind_any(value)
    raise SoqlError(f"value of filter criterion for field '{name}' has the wrong type for a {category} field")


def _bind_any(value: Value) -> Any:
    if isinstance(value, StringValue | NumberValue):
        return value.value
    if isinstance(value, BoolValue):
        return int(value.value)
    if isinstance(value, DateTimeValue):
        return format_datetime(value.ms)
    if isinstance(value, DateValue):
        return value.value.isoformat()
    raise SoqlError("unsupported value")


def _date_range(value: DateConstant, today: date) -> tuple[date, date]:
    """[first day, day after last) for a relative date literal; weeks start on Sunday as in en_US orgs."""
    n = value.n or 0
    day = timedelta(days=1)
    week_start = today - timedelta(days=(today.weekday() + 1) % 7)
    month_start = today.replace(day=1)
    ranges = {
        "TODAY": (today, today + day),
        "YESTERDAY": (today - day, today),
        "TOMORROW": (today + day, today + 2 * day),
        "THIS_WEEK": (week_start, week_start + 7 * day),
        "LAST_WEEK": (week_start - 7 * day, week_start),
        "NEXT_WEEK": (week_start + 7 * day, week_start + 14 * day),
        "THIS_MONTH": (month_start, _add_months(month_start, 1)),
        "LAST_MONTH": (_add_months(month_start, -1), month_start),
        "NEXT_MONTH": (_add_months(month_start, 1), _add_months(month_start, 2)),
        "THIS_YEAR": (date(today.year, 1, 1), date(today.year + 1, 1, 1)),
        "LAST_YEAR": (date(today.year - 1, 1, 1), date(today.year, 1, 1)),
        "NEXT_YEAR": (date(today.year + 1, 1, 1), date(today.year + 2, 1, 1)),
        "LAST_90_DAYS": (today - 90 * day, today + day),
        "NEXT_90_DAYS": (today + day, today + 91 * day),
        "LAST_N_DAYS": (today - n * day, today + day),
        "NEXT_N_DAYS": (today + day, today + (n + 1) * day),
        "N_DAYS_AGO": (today - n * day, today - (n - 1) * day),
    }
    return ranges[value.name]


def _add_months(first_of_month: date, months: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _midnight_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000


def _day_bound(category: str, day: date) -> Any:
    if category == "date":
        return day.isoformat()
    ms = _midnight_ms(day)
    return ms if category == "ms" else format_datetime(ms)


@lru_cache(maxsize=65_536)  # pages of records often share timestamps (seeded or bulk-written together)
def format_datetime(ms: int) -> str:
    """Salesforce's datetime format for epoch milliseconds: ``2024-01-01T00:00:00.000+0000``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(ms // 1000)) + f"{ms % 1000:03d}+0000"
