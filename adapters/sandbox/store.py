"""The sandbox's object store: every HubSpot and Salesforce record, in one SQLite table.

Records are addressed by ``kind`` (e.g. ``hubspot.contacts``, ``salesforce.Lead``) and a string id.
Properties are a JSON object; ``created_ms``/``updated_ms`` are columns so incremental queries use an
index. The API layers translate their filter languages to SQL over ``prop_sql(name)`` expressions and
bind every value as a parameter. One writer (the server's event loop thread) at a time.

Change listeners (``subscribe``) see every create/update/archive; the webhook sender and the Salesforce
assignment rule hang off them.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from adapters.sandbox.clock import Clock

_PROP_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
# Columns that may be used directly in WHERE/ORDER BY instead of a JSON property.
COLUMNS = {
    "id": "id",
    "seq": "seq",
    "created_ms": "created_ms",
    "updated_ms": "updated_ms",
    "archived": "archived",
}

IdFactory = Callable[[str, int], str]


@dataclass(frozen=True)
class StoredObject:
    """One record as the store holds it."""

    kind: str
    id: str
    seq: int
    properties: dict[str, Any]
    created_ms: int
    updated_ms: int
    archived: bool = False
    archived_ms: int | None = None


@dataclass(frozen=True)
class Change:
    """What a write did: ``action`` is ``created``, ``updated``, ``archived`` or ``restored``."""

    action: str
    before: StoredObject | None
    after: StoredObject
    changed: dict[str, Any] = field(default_factory=dict)
    source: str = "API"


@dataclass(frozen=True)
class Association:
    """A directed link between two records (HubSpot keeps one per direction, each with its own type id)."""

    from_kind: str
    from_id: str
    to_kind: str
    to_id: str
    type_id: int
    category: str = "HUBSPOT_DEFINED"
    label: str | None = None


def prop_sql(name: str) -> str:
    """SQL expression for a property (or a column); refuses names that are not plain identifiers."""
    if name in COLUMNS:
        return COLUMNS[name]
    if not _PROP_NAME.match(name):
        raise ValueError(f"invalid property name {name!r}")
    return f"json_extract(props, '$.\"{name}\"')"


def _field_sql(name: str) -> str:
    """A property's value for ``select(fields=...)``: JSON booleans stay booleans (json_extract gives 1/0)."""
    expr = prop_sql(name)
    kind_expr = expr.replace("json_extract(", "json_type(", 1)
    return f"CASE {kind_expr} WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE {expr} END"


def _default_id(_kind: str, seq: int) -> str:
    return str(seq)


class ObjectStore:
    """SQLite-backed store of sandbox records, with change notification."""

    def __init__(self, path: str = ":memory:", *, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode = WAL" if path != ":memory:" else "PRAGMA journal_mode = MEMORY")
        self.conn.execute("PRAGMA synchronous = OFF")  # a sandbox: speed over durability
        self.conn.executescript(
            """
            CREATE TABLE IF NOT EXISTS objects (
                kind TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, props TEXT NOT NULL,
                created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,
                archived INTEGER NOT NULL DEFAULT 0, archived_ms INTEGER,
                PRIMARY KEY (kind, seq)
            ) WITHOUT ROWID;
            CREATE UNIQUE INDEX IF NOT EXISTS objects_id ON objects (kind, id);
            CREATE INDEX IF NOT EXISTS objects_updated ON objects (kind, updated_ms, seq, archived);
            CREATE INDEX IF NOT EXISTS objects_created ON objects (kind, created_ms, seq, archived);
            CREATE TABLE IF NOT EXISTS sequences (kind TEXT PRIMARY KEY, last INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS associations (
                from_kind TEXT NOT NULL, from_id TEXT NOT NULL, to_kind TEXT NOT NULL, to_id TEXT NOT NULL,
                type_id INTEGER NOT NULL, category TEXT NOT NULL DEFAULT 'HUBSPOT_DEFINED', label TEXT,
                PRIMARY KEY (from_kind, from_id, to_kind, to_id, type_id)
            ) WITHOUT ROWID;
            """
        )
        self._id_factories: dict[str, IdFactory] = {}
        self._default_factory: IdFactory = _default_id
        self._listeners: list[Callable[[Change], None]] = []
        self._email_indexes: set[str] = set()

    # -- configuration -------------------------------------------------------------------------
    def set_id_factory(self, kind: str | None, factory: IdFactory) -> None:
        """Use ``factory(kind, seq)`` to make ids of ``kind`` (None: of every kind without its own)."""
        if kind is None:
            self._default_factory = factory
        else:
            self._id_factories[kind] = factory

    def id_for(self, kind: str, seq: int) -> str:
        """The id the ``seq``-th record of ``kind`` gets (seeders use it to write references ahead)."""
        return self._id_factories.get(kind, self._default_factory)(kind, seq)

    def index_property(self, kind: str, name: str, *, lower: bool = False) -> None:
        """Create an expression index on a property (e.g. email) for fast lookups.

        With ``lower`` the index is on ``lower(<property>)``, which serves case-insensitive equality; a query uses
        it when it compares ``kind = ?`` and exactly that expression. The index covers every kind (SQLite expression
        indexes cannot be partial on a bound parameter); ``kind`` only names it.
        """
        safe = re.sub(r"\W", "_", f"{kind}_{name}{'_lower' if lower else ''}")
        expr = f"lower({prop_sql(name)})" if lower else prop_sql(name)
        self.conn.execute(f"CREATE INDEX IF NOT EXISTS ix_{safe} ON objects (kind, {expr})")

    def subscribe(self, listener: Callable[[Change], None]) -> None:
        """Call ``listener`` after every write."""
        self._listeners.append(listener)

    # -- writes -----------------------------------------------------------------------------------
    def _next_seq(self, kind: str, count: int = 1) -> int:
        row = self.conn.execute(
            "INSERT INTO sequences (kind, last) VALUES (?, ?) "
            "ON CONFLICT(kind) DO UPDATE SET last = last + excluded.last RETURNING last",
            (kind, count),
        ).fetchone()
        return int(row[0]) - count + 1

    def last_seq(self, kind: str) -> int:
        """The highest sequence number handed out for ``kind`` so far (0 when none)."""
        row = self.conn.execute("SELECT last FROM sequences WHERE kind = ?", (kind,)).fetchone()
        return int(row[0]) if row else 0

    def new_id(self, kind: str) -> tuple[int, str]:
        """Reserve the next sequence number of ``kind`` and the id it maps to."""
        seq = self._next_seq(kind)
        return seq, self.id_for(kind, seq)

    def create(
        self, kind: str, properties: dict[str, Any], *, source: str = "API", created_ms: int | None = None
    ) -> StoredObject:
        """Insert a new record and return it."""
        seq, oid = self.new_id(kind)
        now = self.clock.now_ms()
        created = created_ms if created_ms is not None else now
        self.conn.execute(
            "INSERT INTO objects (kind, seq, id, props, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?)",
            (kind, seq, oid, json.dumps(properties), created, max(now, created)),
        )
        obj = StoredObject(kind, oid, seq, dict(properties), created, max(now, created))
        self._emit(Change("created", None, obj, dict(properties), source))
        return obj

    def bulk_create(self, kind: str, rows: Iterable[tuple[dict[str, Any], int | None]], *, batch: int = 5000) -> int:
        """Insert many records fast (seeding): ``rows`` yields (properties, created_ms). No listeners fire.

        Ids follow the sequence, so the n-th record seeded into an empty kind has ``id_for(kind, n)``.
        """
        total = 0
        chunk: list[tuple[dict[str, Any], int | None]] = []

        def flush() -> None:
            nonlocal total
            if not chunk:
                return
            first = self._next_seq(kind, len(chunk))
            now = self.clock.now_ms()
            values = []
            for offset, (props, created) in enumerate(chunk):
                c = created if created is not None else now
                seq = first + offset
                values.append((kind, seq, self.id_for(kind, seq), json.dumps(props), c, max(c, now)))
            self.conn.execute("BEGIN")
            self.conn.executemany(
                "INSERT INTO objects (kind, seq, id, props, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?)",
                values,
            )
            self.conn.execute("COMMIT")
            total += len(chunk)
            chunk.clear()

        for row in rows:
            chunk.append(row)
            if len(chunk) >= batch:
                flush()
        flush()
        return total

    def update(self, kind: str, oid: str, changes: dict[str, Any], *, source: str = "API") -> StoredObject:
        """Merge ``changes`` into a live record (a ``None`` value removes the property); bumps updated_ms."""
        before = self.get(kind, oid)
        if before is None:
            raise KeyError(oid)
        props = dict(before.properties)
        for key, value in changes.items():
            if value is None:
                props.pop(key, None)
            else:
                props[key] = value
        now = max(self.clock.now_ms(), before.updated_ms)
        self.conn.execute(
            "UPDATE objects SET props = ?, updated_ms = ? WHERE kind = ? AND id = ?",
            (json.dumps(props), now, kind, oid),
        )
        after = StoredObject(kind, oid, before.seq, props, before.created_ms, now, before.archived, before.archived_ms)
        changed = {k: v for k, v in changes.items() if before.properties.get(k) != v}
        self._emit(Change("updated", before, after, changed, source))
        return after

    def archive(self, kind: str, oid: str, *, source: str = "API") -> StoredObject:
        """Mark a record archived/deleted (it stays readable with include_archived)."""
        before = self.get(kind, oid)
        if before is None:
            raise KeyError(oid)
        now = max(self.clock.now_ms(), before.updated_ms)
        self.conn.execute(
            "UPDATE objects SET archived = 1, archived_ms = ?, updated_ms = ? WHERE kind = ? AND id = ?",
            (now, now, kind, oid),
        )
        after = StoredObject(kind, oid, before.seq, before.properties, before.created_ms, now, True, now)
        self._emit(Change("archived", before, after, {}, source))
        return after

    def restore(self, kind: str, oid: str, *, source: str = "API") -> StoredObject:
        """Bring an archived record back (HubSpot restores a contact re-created with the same email)."""
        before = self.get(kind, oid, include_archived=True)
        if before is None:
            raise KeyError(oid)
        now = max(self.clock.now_ms(), before.updated_ms)
        self.conn.execute(
            "UPDATE objects SET archived = 0, archived_ms = NULL, updated_ms = ? WHERE kind = ? AND id = ?",
            (now, kind, oid),
        )
        after = StoredObject(kind, oid, before.seq, before.properties, before.created_ms, now, False, None)
        self._emit(Change("restored", before, after, {}, source))
        return after

    # -- associations -----------------------------------------------------------------------------
    def associate(self, rows: Iterable[Association]) -> int:
        """Store associations (one row per direction; existing ones are kept). Returns how many were given."""
        values = [(a.from_kind, a.from_id, a.to_kind, a.to_id, a.type_id, a.category, a.label) for a in rows]
        self.conn.executemany(
            "INSERT OR IGNORE INTO associations (from_kind, from_id, to_kind, to_id, type_id, category, label) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            values,
        )
        return len(values)

    def dissociate(self, from_kind: str, from_id: str, to_kind: str, to_id: str) -> int:
        """Remove every association from one record to another (this direction only); returns rows removed."""
        cur = self.conn.execute(
            "DELETE FROM associations WHERE from_kind = ? AND from_id = ? AND to_kind = ? AND to_id = ?",
            (from_kind, from_id, to_kind, to_id),
        )
        return cur.rowcount

    def associations_of(self, from_kind: str, from_ids: Sequence[str], to_kind: str) -> dict[str, list[Association]]:
        """Associations from each of ``from_ids`` to records of ``to_kind``, in a stable order."""
        found: dict[str, list[Association]] = {}
        for start in range(0, len(from_ids), 500):
            part = list(from_ids[start : start + 500])
            marks = ",".join("?" * len(part))
            for row in self.conn.execute(
                "SELECT from_kind, from_id, to_kind, to_id, type_id, category, label FROM associations "
                f"WHERE from_kind = ? AND from_id IN ({marks}) AND to_kind = ? ORDER BY from_id, to_id, type_id",
                (from_kind, *part, to_kind),
            ):
                found.setdefault(row[1], []).append(Association(*row))
        return found

    def _emit(self, change: Change) -> None:
        for listener in self._listeners:
            listener(change)

    # -- reads ------------------------------------------------------------------------------------
    def get(self, kind: str, oid: str, *, include_archived: bool = False) -> StoredObject | None:
        """The record with this id, or None (archived ones only when asked)."""
        row = self.conn.execute(
            "SELECT kind, id, seq, props, created_ms, updated_ms, archived, archived_ms FROM objects "
            "WHERE kind = ? AND id = ?",
            (kind, oid),
        ).fetchone()
        if row is None or (row[6] and not include_archived):
            return None
        return _to_object(row)

    def get_many(self, kind: str, ids: Sequence[str], *, include_archived: bool = False) -> list[StoredObject]:
        """Records for ``ids`` that exist, in the order asked."""
        found = {}
        for start in range(0, len(ids), 500):
            part = list(ids[start : start + 500])
            marks = ",".join("?" * len(part))
            for row in self.conn.execute(
                "SELECT kind, id, seq, props, created_ms, updated_ms, archived, archived_ms FROM objects "
                f"WHERE kind = ? AND id IN ({marks})",
                (kind, *part),
            ):
                if include_archived or not row[6]:
                    found[row[1]] = _to_object(row)
        return [found[i] for i in ids if i in found]

    def select(
        self,
        kind: str,
        *,
        where: str = "1",
        params: Sequence[Any] = (),
        order_by: Sequence[tuple[str, bool]] = (("seq", False),),
        limit: int | None = None,
        offset: int = 0,
        archived: bool | None = False,
        order_sql: str | None = None,
        fields: Sequence[str] | None = None,
    ) -> list[StoredObject]:
        """Records matching a SQL ``where`` (built with ``prop_sql``, values bound in ``params``).

        ``archived``: False = live only, True = archived only, None = both. ``order_by`` is a list of
        (property-or-column, descending) pairs; ``order_sql`` replaces it with a ready ORDER BY expression
        list built by the caller from ``prop_sql`` pieces (e.g. typed casts). With ``fields`` the returned
        ``properties`` hold only those names (the ones set): SQLite extracts them, which is much cheaper than
        decoding every record's whole JSON when an API answer shows a few properties.
        """
        clauses = ["kind = ?", f"({where})"]
        if archived is not None:
            clauses.append("archived = ?")
        args: list[Any] = [kind, *params] + ([int(archived)] if archived is not None else [])
        order = order_sql or ", ".join(f"{prop_sql(n)} {'DESC' if d else 'ASC'}" for n, d in order_by) or "seq"
        columns = "props" if fields is None else ", ".join(["NULL", *map(_field_sql, fields)])
        head = f"SELECT kind, id, seq, created_ms, updated_ms, archived, archived_ms, {columns} FROM objects "
        filters = f"WHERE {' AND '.join(clauses)} ORDER BY {order}"
        rows: Iterable[tuple[Any, ...]]
        if limit is not None and offset > 0:
            rows = self._page_by_seq(kind, head, filters, args, limit=limit, offset=offset)
        elif limit is not None:
            rows = self.conn.execute(head + filters + " LIMIT ?", [*args, limit])
        else:
            rows = self.conn.execute(head + filters, args)
        if fields is None:
            return [StoredObject(r[0], r[1], r[2], json.loads(r[7]), r[3], r[4], bool(r[5]), r[6]) for r in rows]
        return [
            StoredObject(
                r[0],
                r[1],
                r[2],
                {n: v for n, v in zip(fields, r[8:], strict=True) if v is not None},
                r[3],
                r[4],
                bool(r[5]),
                r[6],
            )
            for r in rows
        ]

    def _page_by_seq(
        self, kind: str, head: str, filters: str, args: list[Any], *, limit: int, offset: int
    ) -> list[tuple[Any, ...]]:
        # OFFSET makes SQLite step over every skipped row; selecting only seq lets it skip inside a covering
        # index (e.g. updated_ms paging) instead of reading each big record, then the page is fetched by key.
        seqs = [
            r[0]
            for r in self.conn.execute(f"SELECT seq FROM objects {filters} LIMIT ? OFFSET ?", [*args, limit, offset])
        ]
        if not seqs:
            return []
        marks = ",".join("?" * len(seqs))
        found = {r[2]: r for r in self.conn.execute(head + f"WHERE kind = ? AND seq IN ({marks})", [kind, *seqs])}
        return [found[s] for s in seqs if s in found]

    def count(self, kind: str, *, where: str = "1", params: Sequence[Any] = (), archived: bool | None = False) -> int:
        """How many records match (same arguments as ``select``)."""
        clauses = ["kind = ?", f"({where})"]
        args: list[Any] = [kind, *params]
        if archived is not None:
            clauses.append("archived = ?")
            args.append(int(archived))
        return int(self.conn.execute(f"SELECT COUNT(*) FROM objects WHERE {' AND '.join(clauses)}", args).fetchone()[0])

    def iter_all(self, kind: str, *, archived: bool | None = False, batch: int = 2000) -> Iterator[StoredObject]:
        """Every record of ``kind`` in seq order, read in batches (constant memory)."""
        last = 0
        while True:
            rows = self.select(kind, where="seq > ?", params=(last,), limit=batch, archived=archived)
            if not rows:
                return
            yield from rows
            last = rows[-1].seq

    def kinds(self) -> dict[str, int]:
        """Record counts (live) per kind."""
        return dict(self.conn.execute("SELECT kind, COUNT(*) FROM objects WHERE archived = 0 GROUP BY kind"))

    def clear(self) -> None:
        """Forget every record (sequences restart)."""
        self.conn.execute("DELETE FROM objects")
        self.conn.execute("DELETE FROM sequences")
        self.conn.execute("DELETE FROM associations")


def _to_object(row: tuple[Any, ...]) -> StoredObject:
    return StoredObject(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5], bool(row[6]), row[7])
