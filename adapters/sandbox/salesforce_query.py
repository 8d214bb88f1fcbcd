"""SOQL over the store, answered the way ``/query`` and ``/queryAll`` answer: pages, cursors and parent fields.

A query's matching sequence numbers are listed once, in query order, when it first runs; later pages
(``nextRecordsUrl``) read from that list, so paging neither skips nor repeats a record even while writes go on
(records show their current values, like Salesforce's cursors). Cursors live in ``ctx.state`` (a sandbox reset
forgets them); the least recently used are dropped past ``MAX_CURSORS`` or ``MAX_CURSOR_ROWS``.
"""

from __future__ import annotations

import secrets
from array import array
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from adapters.sandbox.context import SandboxContext
from adapters.sandbox.salesforce_records import SalesforceApiError, fetch_by_ids, render
from adapters.sandbox.salesforce_schema import Field, SObject, sobject
from adapters.sandbox.soql import parse
from adapters.sandbox.soql_compile import CompiledQuery, SelectedField, compile_query, field_sql, format_datetime
from adapters.sandbox.store import StoredObject
from connector.logs import get_logger

log = get_logger("sandbox.salesforce.query")

DEFAULT_BATCH = 2000
MIN_BATCH = 200
MAX_CURSORS = 64
MAX_CURSOR_ROWS = 5_000_000  # sequence numbers held by all open cursors (8 bytes each)
_STATE_KEY = "salesforce.cursors"
_ANALYZED_KEY = "salesforce.analyzed_rows"


@dataclass(frozen=True)
class Cursor:
    """An open query: what it selects, the sequence numbers of its rows in order, and its page size."""

    compiled: CompiledQuery
    seqs: array[int]
    batch: int


def batch_size(header: str | None) -> int:
    """The page size from ``Sforce-Query-Options: batchSize=N`` (clamped to 200..2000), else 2000."""
    for option in (header or "").split(","):
        name, _, value = option.partition("=")
        if name.strip().lower() == "batchsize" and value.strip().isdigit():
            return max(MIN_BATCH, min(DEFAULT_BATCH, int(value)))
    return DEFAULT_BATCH


def run_query(ctx: SandboxContext, soql: str, *, include_deleted: bool, batch: int, version: str) -> dict[str, Any]:
    """Run ``soql`` and answer with its first page (and a ``nextRecordsUrl`` when there are more)."""
    compiled = compile_query(parse(soql), now_ms=ctx.clock.now_ms())
    _refresh_statistics(ctx)
    if compiled.count_only:
        sql, params = compiled.count_sql(include_deleted=include_deleted)
        total = int(ctx.store.conn.execute(sql, params).fetchone()[0])
        return {"totalSize": total, "done": True, "records": []}
    sql, params = compiled.select_sql(include_deleted=include_deleted)
    seqs = array("q", (row[0] for row in ctx.store.conn.execute(sql, params)))
    log.debug("soql_run", sobject=compiled.sobject.name, total=len(seqs), include_deleted=include_deleted)
    return _page(ctx, Cursor(compiled, seqs, batch), 0, version)


def more_results(ctx: SandboxContext, locator: str, version: str) -> dict[str, Any]:
    """The page a ``nextRecordsUrl`` locator (``01g...-2000``) points at."""
    cursor_id, _, position = locator.rpartition("-")
    cursor = _cursors(ctx).get(cursor_id)
    if cursor is None or not position.isdigit() or int(position) > len(cursor.seqs):
        raise SalesforceApiError(400, "invalid query locator", "INVALID_QUERY_LOCATOR")
    _cursors(ctx).move_to_end(cursor_id)
    return _page(ctx, cursor, int(position), version, cursor_id)


def _refresh_statistics(ctx: SandboxContext) -> None:
    """Sample planner statistics once the store has grown (workaround: the store never gathers any).

    Without statistics SQLite prefers the ``(kind, seq)`` primary key to the store's ``lower(Email)`` expression
    index, so a lookup by email scans every lead (about 1.5 s at a million). A sampled ANALYZE takes ~1 ms.
    """
    conn = ctx.store.conn
    rows = int(conn.execute("SELECT coalesce(sum(last), 0) FROM sequences").fetchone()[0])
    if rows <= 2 * ctx.state.get(_ANALYZED_KEY, 0) + 1000:
        return
    conn.execute("PRAGMA analysis_limit = 1000")
    conn.execute("ANALYZE objects")
    ctx.state[_ANALYZED_KEY] = rows
    log.debug("soql_statistics_refreshed", rows=rows)


def _cursors(ctx: SandboxContext) -> OrderedDict[str, Cursor]:
    cursors: OrderedDict[str, Cursor] = ctx.state.setdefault(_STATE_KEY, OrderedDict())
    return cursors


def _page(
    ctx: SandboxContext, cursor: Cursor, start: int, version: str, cursor_id: str | None = None
) -> dict[str, Any]:
    end = min(start + cursor.batch, len(cursor.seqs))
    compiled = cursor.compiled
    records, references = _project(ctx, compiled.sobject, compiled.fields, cursor.seqs[start:end], version)
    _nest_parents(ctx, records, compiled.fields, references.__getitem__, version)
    answer: dict[str, Any] = {"totalSize": len(cursor.seqs), "done": end >= len(cursor.seqs), "records": records}
    if end < len(cursor.seqs):
        cursor_id = cursor_id or _remember(ctx, cursor)
        answer["nextRecordsUrl"] = f"/services/data/v{version}/query/{cursor_id}-{end}"
    return answer


def _project(
    ctx: SandboxContext, owner: SObject, fields: tuple[SelectedField, ...], seqs: Sequence[int], version: str
) -> tuple[list[dict[str, Any]], dict[str, list[Any]]]:
    """One page's records with just the selected fields, read by SQL (no full JSON decode per record), and the
    values of the reference fields that parent fields hang off (``OwnerId`` for ``Owner.Email``)."""
    direct = [f.leaf for f in fields if not f.hops]
    references = list({f.hops[0].name: f.hops[0] for f in fields if f.hops}.values())
    exprs = ", ".join(["objects.seq", "objects.id", *(field_sql(owner, f) for f in (*direct, *references))])
    rows: dict[int, tuple[Any, ...]] = {}
    for chunk in range(0, len(seqs), 1000):
        part = list(seqs[chunk : chunk + 1000])
        sql = f"SELECT {exprs} FROM objects WHERE objects.kind = ? AND objects.seq IN ({', '.join('?' * len(part))})"
        rows.update((row[0], row) for row in ctx.store.conn.execute(sql, [owner.kind, *part]))
    ordered = [rows[s] for s in seqs if s in rows]
    base = f"/services/data/v{version}/sobjects/{owner.name}/"
    records = []
    for row in ordered:
        record: dict[str, Any] = {"attributes": {"type": owner.name, "url": base + row[1]}}
        for position, leaf in enumerate(direct, start=2):
            record[leaf.name] = _shown(leaf, row[position])
        records.append(record)
    offset = 2 + len(direct)
    values = {ref.name: [row[offset + i] for row in ordered] for i, ref in enumerate(references)}
    return records, values


def _shown(leaf: Field, value: Any) -> Any:
    """A value read by SQL as the API shows it: datetimes from epoch columns, booleans as booleans."""
    if leaf.name in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
        return format_datetime(value)
    if leaf.type == "boolean":
        return bool(value)
    return value


def _remember(ctx: SandboxContext, cursor: Cursor) -> str:
    cursors = _cursors(ctx)
    cursor_id = "01g" + secrets.token_hex(8)[:15].upper()
    cursors[cursor_id] = cursor
    # Cursors stay after their last page (a client may retry it); the least recently used go first.
    while len(cursors) > MAX_CURSORS or sum(len(c.seqs) for c in cursors.values()) > MAX_CURSOR_ROWS:
        if len(cursors) == 1:
            break
        cursors.popitem(last=False)
    return cursor_id


def render_selected(
    ctx: SandboxContext, rows: list[StoredObject], owner: SObject, fields: tuple[SelectedField, ...], version: str
) -> list[dict[str, Any]]:
    """Records showing exactly the selected fields, parent fields nested as Salesforce nests them."""
    direct = [f.leaf for f in fields if not f.hops]
    records = [render(row, owner, version, direct) for row in rows]
    _nest_parents(ctx, records, fields, lambda name: [row.properties.get(name) for row in rows], version)
    return records


def _nest_parents(
    ctx: SandboxContext,
    records: list[dict[str, Any]],
    fields: tuple[SelectedField, ...],
    reference_values: Callable[[str], list[Any]],
    version: str,
) -> None:
    """Nest each selected relationship (``Owner``, ``Account``...) into the records, one fetch per relationship."""
    by_reference: dict[str, list[SelectedField]] = {}
    for selected in fields:
        if selected.hops:
            by_reference.setdefault(selected.hops[0].name, []).append(selected)
    for name, group in by_reference.items():
        _fill_parents(ctx, reference_values(name), records, group, version)


def _fill_parents(
    ctx: SandboxContext, ids: list[Any], records: list[dict[str, Any]], group: list[SelectedField], version: str
) -> None:
    """Nest one relationship into each record (``ids``: each record's reference value), recursing for deeper ones."""
    reference = group[0].hops[0]
    inner = tuple(SelectedField(f.path[1:], f.hops[1:], f.leaf) for f in group)
    kinds = [f"salesforce.{name}" for name in reference.reference_to]
    parents = fetch_by_ids(ctx.store, kinds, ids)
    rendered: dict[str, dict[str, Any]] = {}
    for parent in parents.values():
        parent_type = sobject(parent.kind.partition(".")[2])
        if parent_type is not None:
            shown = render_selected(ctx, [parent], parent_type, _fields_of(parent_type, inner), version)
            rendered[parent.id] = shown[0]
    for parent_id, record in zip(ids, records, strict=True):
        record[str(reference.relationship)] = rendered.get(str(parent_id))


def _fields_of(parent_type: SObject, inner: tuple[SelectedField, ...]) -> tuple[SelectedField, ...]:
    """The selected fields a polymorphic parent (a Group owner, say) actually has."""
    return tuple(f for f in inner if f.hops or parent_type.field(f.leaf.name) is not None)
