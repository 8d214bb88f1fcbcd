"""Writing CRM records into the cache: upserts that know created from updated from unchanged, tombstones, sweeps.

Every function takes the open connection of the caller's transaction (``connector.db.transaction``), so a page
of records and the stream cursor that covers it commit together or not at all.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any

from connector.crm import AccountRecord, ActivityRecord, CacheRecord, DealRecord, OwnerRecord, PersonRecord
from connector.sync.streams import Entity

TABLES: dict[Entity, str] = {
    "person": "cache_people",
    "account": "cache_accounts",
    "owner": "cache_owners",
    "activity": "cache_activities",
    "deal": "cache_deals",
}
# Entities whose rows link to people: (link table, its column naming the record).
LINKS: dict[Entity, tuple[str, str]] = {
    "activity": ("cache_activity_people", "activity_id"),
    "deal": ("cache_deal_people", "deal_id"),
}
_CHUNK = 500  # ids per IN (...) list, well under SQLite's bound-parameter limit


@dataclass
class WriteCounts:
    """What a write did to the cache."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    def add(self, other: WriteCounts) -> None:
        """Accumulate ``other`` into this one."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str, ensure_ascii=False)


def _person_row(record: PersonRecord) -> dict[str, Any]:
    lead = record.lead
    activity = {f.name: getattr(lead.activity, f.name) for f in fields(lead.activity)}
    return {
        "id": lead.id,
        "crm": lead.crm,
        "object": lead.object,
        "native_id": lead.native_id,
        "email": lead.email,
        "email_domain": lead.email_domain,
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "company": lead.company,
        "title": lead.title,
        "phone": lead.phone,
        "country": lead.country,
        "state": lead.state,
        "postal_code": lead.postal_code,
        "city": lead.city,
        "employees": lead.employees,
        "industry": lead.industry,
        "source": lead.source,
        "language": lead.language,
        "products": _json(list(lead.products)),
        "owner_native_id": record.owner_native_id,
        "account_id": lead.account_id,
        "activity": _json(activity),
        "properties": _json(dict(lead.properties)),
        "created_ms": lead.created_ms,
        "modified_ms": record.modified_ms,
    }


def _account_row(record: AccountRecord) -> dict[str, Any]:
    a = record.account
    return {
        "id": a.id,
        "crm": a.crm,
        "object": a.id.split(":", 2)[1],
        "native_id": a.native_id,
        "name": a.name,
        "domain": a.domain,
        "extra_domains": _json(list(a.extra_domains)),
        "country": a.country,
        "state": a.state,
        "postal_code": a.postal_code,
        "parent_id": a.parent_id,
        "owner_native_id": record.owner_native_id,
        "employees": a.employees,
        "industry": a.industry,
        "is_customer": int(a.is_customer),
        "has_open_opportunity": int(a.has_open_opportunity),
        "last_activity_ms": a.last_activity_ms,
        "properties": _json(dict(record.properties)),
        "created_ms": record.created_ms,
        "modified_ms": record.modified_ms,
    }


def _owner_row(record: OwnerRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "crm": record.crm,
        "object": record.object,
        "native_id": record.native_id,
        "key": record.key,
        "email": record.email,
        "name": record.name,
        "active": int(record.active),
        "is_queue": int(record.is_queue),
        "teams": _json(list(record.teams)),
        "properties": _json(dict(record.properties)),
        "created_ms": 0,
        "modified_ms": record.modified_ms,
    }


def _activity_row(record: ActivityRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "crm": record.crm,
        "object": record.object,
        "native_id": record.native_id,
        "kind": record.kind,
        "owner_native_id": record.owner_native_id,
        "person_ids": _json(sorted(set(record.person_ids))),
        "account_id": record.account_id,
        "occurred_ms": record.occurred_ms,
        "completed": None if record.completed is None else int(record.completed),
        "outcome": record.outcome,
        "subject": record.subject,
        "properties": _json(dict(record.properties)),
        "created_ms": record.created_ms,
        "modified_ms": record.modified_ms,
    }


def _deal_row(record: DealRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "crm": record.crm,
        "object": record.object,
        "native_id": record.native_id,
        "name": record.name,
        "account_id": record.account_id,
        "person_ids": _json(sorted(set(record.person_ids))),
        "owner_native_id": record.owner_native_id,
        "stage": record.stage,
        "pipeline": record.pipeline,
        "is_closed": int(record.is_closed),
        "is_won": int(record.is_won),
        "amount": record.amount,
        "close_ms": record.close_ms,
        "closed_ms": record.closed_ms,
        "properties": _json(dict(record.properties)),
        "created_ms": record.created_ms,
        "modified_ms": record.modified_ms,
    }


def to_row(record: CacheRecord) -> tuple[Entity, dict[str, Any]]:
    """The table row a cache record becomes, with the entity (table) it belongs to."""
    if isinstance(record, PersonRecord):
        return "person", _person_row(record)
    if isinstance(record, AccountRecord):
        return "account", _account_row(record)
    if isinstance(record, ActivityRecord):
        return "activity", _activity_row(record)
    if isinstance(record, DealRecord):
        return "deal", _deal_row(record)
    return "owner", _owner_row(record)


def _content_hash(row: dict[str, Any]) -> str:
    # The CRM's modified stamp moves when properties we do not read change; that is not a change for us.
    content = {k: v for k, v in row.items() if k != "modified_ms"}
    return hashlib.blake2b(_json(content).encode(), digest_size=16).hexdigest()


def _existing(conn: sqlite3.Connection, table: str, ids: Sequence[str]) -> dict[str, tuple[str, int]]:
    found: dict[str, tuple[str, int]] = {}
    for start in range(0, len(ids), _CHUNK):
        part = ids[start : start + _CHUNK]
        marks = ",".join("?" * len(part))
        for rid, digest, deleted in conn.execute(
            f"SELECT id, content_hash, deleted FROM {table} WHERE id IN ({marks})", part
        ):
            found[rid] = (digest, deleted)
    return found


def _next_seq(conn: sqlite3.Connection, table: str) -> int:
    # Safe without a sequence table: callers hold a BEGIN IMMEDIATE transaction, so no one else writes meanwhile.
    return int(conn.execute(f"SELECT COALESCE(MAX(change_seq), 0) FROM {table}").fetchone()[0]) + 1


def upsert(
    conn: sqlite3.Connection,
    entity: Entity,
    rows: Iterable[dict[str, Any]],
    *,
    sweep_token: str | None,
    now_ms: int,
) -> WriteCounts:
    """Insert new rows, update changed (or deleted) ones, refresh stamps of unchanged ones; one table per call."""
    table = TABLES[entity]
    by_id = {row["id"]: row for row in rows}  # last one wins if a page repeats a record
    existing = _existing(conn, table, list(by_id))
    seq = _next_seq(conn, table)
    counts = WriteCounts()
    changed: list[dict[str, Any]] = []
    touched: list[tuple[int, str | None, int, str]] = []
    for rid, row in by_id.items():
        digest = _content_hash(row)
        before = existing.get(rid)
        if before is not None and before[0] == digest and not before[1]:
            counts.unchanged += 1
            touched.append((row["modified_ms"], sweep_token, now_ms, rid))
            continue
        if before is None:
            counts.created += 1
        else:
            counts.updated += 1
        changed.append(
            {**row, "content_hash": digest, "change_seq": seq, "created_seq": seq, "sweep_token": sweep_token}
        )
        seq += 1
    _write_changed(conn, table, changed, now_ms)
    conn.executemany(f"UPDATE {table} SET modified_ms = ?, sweep_token = ?, synced_ms = ? WHERE id = ?", touched)
    if entity == "account" and changed:
        _index_domains(conn, changed)
    if entity in LINKS and changed:
        _index_people(conn, entity, changed)
    return counts


def _write_changed(conn: sqlite3.Connection, table: str, rows: list[dict[str, Any]], now_ms: int) -> None:
    if not rows:
        return
    columns = [*rows[0].keys(), "deleted", "deleted_ms", "synced_ms"]
    marks = ",".join("?" * len(columns))
    keep = {"id", "created_seq"}  # an update keeps the seq it was created at: the feed tells created from updated
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in keep)
    conn.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) ON CONFLICT (id) DO UPDATE SET {updates}",
        [(*row.values(), 0, None, now_ms) for row in rows],
    )


def _index_domains(conn: sqlite3.Connection, rows: list[dict[str, Any]]) -> None:
    ids = [row["id"] for row in rows]
    conn.executemany("DELETE FROM cache_account_domains WHERE account_id = ?", [(i,) for i in ids])
    pairs = {
        (row["id"], domain) for row in rows for domain in (row["domain"], *json.loads(row["extra_domains"])) if domain
    }
    conn.executemany("INSERT OR IGNORE INTO cache_account_domains (account_id, domain) VALUES (?, ?)", sorted(pairs))


def _index_people(conn: sqlite3.Connection, entity: Entity, rows: list[dict[str, Any]]) -> None:
    """Rewrite the person links of changed activity/deal rows from their ``person_ids``."""
    table, column = LINKS[entity]
    conn.executemany(f"DELETE FROM {table} WHERE {column} = ?", [(row["id"],) for row in rows])
    pairs = sorted({(row["id"], person) for row in rows for person in json.loads(row["person_ids"])})
    conn.executemany(f"INSERT OR IGNORE INTO {table} ({column}, person_id) VALUES (?, ?)", pairs)


def mark_deleted(conn: sqlite3.Connection, entity: Entity, ids: Iterable[str], *, deleted_ms: int, now_ms: int) -> int:
    """Tombstone the live records among ``ids``; returns how many were live (unknown ids are ignored)."""
    table = TABLES[entity]
    ids = list(dict.fromkeys(ids))  # read twice below: a generator must not run dry after the first pass
    seq = _next_seq(conn, table)
    deleted = 0
    for rid in ids:
        cursor = conn.execute(
            f"UPDATE {table} SET deleted = 1, deleted_ms = ?, change_seq = ?, synced_ms = ? "
            "WHERE id = ? AND deleted = 0",
            (deleted_ms, seq, now_ms, rid),
        )
        if cursor.rowcount:
            deleted += 1
            seq += 1
    if entity == "account" and deleted:
        conn.executemany("DELETE FROM cache_account_domains WHERE account_id = ?", [(i,) for i in ids])
    if entity in LINKS and deleted:
        # A deleted activity or deal no longer links anyone; a restore rewrites the links with the record.
        table, column = LINKS[entity]
        conn.executemany(f"DELETE FROM {table} WHERE {column} = ?", [(i,) for i in ids])
    return deleted


def sweep(
    conn: sqlite3.Connection, entity: Entity, crm: str, obj: str, *, token: str, deleted_ms: int, now_ms: int
) -> int:
    """Tombstone live records of ``crm``/``obj`` that the full read marked ``token`` did not see."""
    table = TABLES[entity]
    stale = [
        row[0]
        for row in conn.execute(
            f"SELECT id FROM {table} WHERE crm = ? AND object = ? AND deleted = 0 "
            "AND (sweep_token IS NULL OR sweep_token != ?)",
            (crm, obj, token),
        )
    ]
    return mark_deleted(conn, entity, stale, deleted_ms=deleted_ms, now_ms=now_ms)
