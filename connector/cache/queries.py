"""Reading the cache as domain models: people by email or id, accounts by domain, owners merged across CRMs,
and the change feed the router polls for new and updated leads.

Deleted (tombstoned) records are never returned as live models; the change feed reports them as ``deleted``.
A person's or account's ``owner_key`` is resolved on read from the owners table, so an owner synced after the
record (or renamed later) is still reflected without rewriting the record.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlite_utils

from connector import normalize
from connector.errors import InvalidRecordError
from connector.models import Account, Activity, Lead, Owner

_PERSON_SELECT = (
    "SELECT p.*, o.key AS owner_key FROM cache_people p "
    "LEFT JOIN cache_owners o ON o.crm = p.crm AND o.native_id = p.owner_native_id"
)
# Open deals are counted from the synced deals (an index lookup per account); the CRM's own summary flag
# (HubSpot ``hs_num_open_deals``) still counts when the deals themselves are not synced.
_ACCOUNT_SELECT = (
    "SELECT a.*, o.key AS owner_key, "
    "(SELECT COUNT(*) FROM cache_people c WHERE c.account_id = a.id AND c.deleted = 0) AS contact_count, "
    "(SELECT COUNT(*) FROM cache_deals d WHERE d.account_id = a.id AND d.is_closed = 0 AND d.deleted = 0)"
    " AS open_deals "
    "FROM cache_accounts a LEFT JOIN cache_owners o ON o.crm = a.crm AND o.native_id = a.owner_native_id"
)
_BATCH = 1000


def _rows(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    for values in cursor:
        yield dict(zip(names, values, strict=True))


def _lead(row: dict[str, Any]) -> Lead:
    return Lead(
        id=row["id"],
        crm=row["crm"],
        native_id=row["native_id"],
        object=row["object"],
        email=row["email"],
        email_domain=row["email_domain"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        company=row["company"],
        title=row["title"],
        phone=row["phone"],
        country=row["country"],
        state=row["state"],
        postal_code=row["postal_code"],
        city=row["city"],
        employees=row["employees"],
        industry=row["industry"],
        source=row["source"],
        language=row["language"],
        products=tuple(json.loads(row["products"])),
        owner_key=row["owner_key"],
        account_id=row["account_id"],
        created_ms=row["created_ms"],
        activity=Activity(**json.loads(row["activity"])),
        properties=json.loads(row["properties"]),
    )


def _account(row: dict[str, Any]) -> Account:
    return Account(
        id=row["id"],
        crm=row["crm"],
        native_id=row["native_id"],
        name=row["name"],
        domain=row["domain"],
        extra_domains=tuple(json.loads(row["extra_domains"])),
        country=row["country"],
        state=row["state"],
        postal_code=row["postal_code"],
        parent_id=row["parent_id"],
        owner_key=row["owner_key"],
        employees=row["employees"],
        industry=row["industry"],
        is_customer=bool(row["is_customer"]),
        has_open_opportunity=bool(row["has_open_opportunity"]) or row["open_deals"] > 0,
        last_activity_ms=row["last_activity_ms"],
        contact_count=row["contact_count"],
        open_deals=row["open_deals"],
    )


# -- people ------------------------------------------------------------------------------------------------------
def person_by_id(db: sqlite_utils.Database, record_id: str) -> Lead | None:
    """The live person with this cache-wide id, or None."""
    rows = _rows(db.conn, f"{_PERSON_SELECT} WHERE p.id = ? AND p.deleted = 0", (record_id,))
    row = next(rows, None)
    return _lead(row) if row else None


def people_by_email(db: sqlite_utils.Database, email: str) -> list[Lead]:
    """Every live person (either CRM) whose normalized email equals ``email`` normalized; [] if it is unparseable."""
    try:
        wanted = normalize.email(email)
    except InvalidRecordError:
        return []
    if wanted is None:
        return []
    sql = f"{_PERSON_SELECT} WHERE p.email = ? AND p.deleted = 0 ORDER BY p.modified_ms DESC, p.id"
    return [_lead(row) for row in _rows(db.conn, sql, (wanted,))]


def person_by_email(db: sqlite_utils.Database, email: str, *, prefer_crm: str | None = None) -> Lead | None:
    """The one person to continue with for ``email``: the system of record's (``prefer_crm``) first, then one
    linked to an account, then one with an owner, then the most recently modified; None when nobody has it."""
    people = people_by_email(db, email)
    if not people:
        return None

    def rank(lead: Lead) -> tuple[bool, bool, bool]:
        return (lead.crm != prefer_crm, lead.account_id is None, lead.owner_key is None)

    return min(people, key=rank)  # min is stable: ties keep the most recent first


def iter_people(db: sqlite_utils.Database, *, crm: str | None = None) -> Iterator[Lead]:
    """Every live person, in id order, read in batches (constant memory)."""
    yield from _iter(db, _PERSON_SELECT, "p", _lead, crm)


@dataclass(frozen=True)
class PersonChange:
    """One entry of the people change feed: the cache's sequence number, what happened and the person now."""

    seq: int
    change: Literal["created", "updated", "deleted"]
    lead: Lead


def people_changed_since(db: sqlite_utils.Database, seq: int, *, limit: int = 500) -> list[PersonChange]:
    """People created, updated or deleted after change-feed position ``seq``, oldest first; pass the last
    entry's ``seq`` to the next call. The positions are the cache's own, independent of CRM clocks."""
    sql = f"{_PERSON_SELECT} WHERE p.change_seq > ? ORDER BY p.change_seq LIMIT ?"
    changes = []
    for row in _rows(db.conn, sql, (seq, limit)):
        if row["deleted"]:
            kind: Literal["created", "updated", "deleted"] = "deleted"
        else:
            kind = "created" if row["created_seq"] == row["change_seq"] else "updated"
        changes.append(PersonChange(row["change_seq"], kind, _lead(row)))
    return changes


def latest_change_seq(db: sqlite_utils.Database) -> int:
    """The newest position of the people change feed (start here to see only future changes)."""
    return int(db.conn.execute("SELECT COALESCE(MAX(change_seq), 0) FROM cache_people").fetchone()[0])


# -- accounts ----------------------------------------------------------------------------------------------------
def account_by_id(db: sqlite_utils.Database, account_id: str) -> Account | None:
    """The live account with this cache-wide id, or None."""
    row = next(_rows(db.conn, f"{_ACCOUNT_SELECT} WHERE a.id = ? AND a.deleted = 0", (account_id,)), None)
    return _account(row) if row else None


def accounts_by_domain(db: sqlite_utils.Database, domain: str) -> list[Account]:
    """Live accounts whose website domain or any extra domain is ``domain`` (a registered domain), by id."""
    sql = (
        f"{_ACCOUNT_SELECT} WHERE a.id IN (SELECT account_id FROM cache_account_domains WHERE domain = ?) "
        "AND a.deleted = 0 ORDER BY a.id"
    )
    return [_account(row) for row in _rows(db.conn, sql, (domain.lower(),))]


def iter_accounts(db: sqlite_utils.Database, *, crm: str | None = None) -> Iterator[Account]:
    """Every live account, in id order, read in batches (constant memory)."""
    yield from _iter(db, _ACCOUNT_SELECT, "a", _account, crm)


def _iter(db: sqlite_utils.Database, select: str, alias: str, build: Any, crm: str | None) -> Iterator[Any]:
    last = ""
    crm_clause = f" AND {alias}.crm = ?" if crm else ""
    while True:
        params: list[Any] = [last, *([crm] if crm else []), _BATCH]
        sql = f"{select} WHERE {alias}.id > ? AND {alias}.deleted = 0{crm_clause} ORDER BY {alias}.id LIMIT ?"
        rows = list(_rows(db.conn, sql, params))
        if not rows:
            return
        yield from (build(row) for row in rows)
        last = rows[-1]["id"]


# -- owners ------------------------------------------------------------------------------------------------------
def iter_owners(db: sqlite_utils.Database) -> Iterator[Owner]:
    """Every owner, one per person across CRMs (same normalized email), by key.

    An owner is active only if every CRM that knows them says so: deactivated anywhere usually means gone.
    """
    sql = "SELECT * FROM cache_owners WHERE deleted = 0 ORDER BY key, crm, native_id"
    group: list[dict[str, Any]] = []
    for row in _rows(db.conn, sql):
        if group and row["key"] != group[0]["key"]:
            yield _merge_owner(group)
            group = []
        group.append(row)
    if group:
        yield _merge_owner(group)


def owner_by_key(db: sqlite_utils.Database, key: str) -> Owner | None:
    """The owner with this key (normalized email or ``queue:crm:id``), or None."""
    rows = list(_rows(db.conn, "SELECT * FROM cache_owners WHERE key = ? AND deleted = 0 ORDER BY crm", (key,)))
    return _merge_owner(rows) if rows else None


def _merge_owner(rows: list[dict[str, Any]]) -> Owner:
    teams = dict.fromkeys(team for row in rows for team in json.loads(row["teams"]))
    first = rows[0]
    return Owner(
        key=first["key"],
        email=next((r["email"] for r in rows if r["email"]), None),
        name=next((r["name"] for r in rows if r["name"]), first["key"]),
        active=all(r["active"] for r in rows),
        crm_ids={r["crm"]: r["native_id"] for r in rows},
        is_queue=bool(first["is_queue"]),
        teams=tuple(teams),
    )


# -- counts ------------------------------------------------------------------------------------------------------
def live_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """Live records per ``crm.object`` across the record tables (for reports and tests)."""
    counts: dict[str, int] = {}
    for table in ("cache_owners", "cache_accounts", "cache_people", "cache_activities", "cache_deals"):
        for crm, obj, n in db.conn.execute(
            f"SELECT crm, object, COUNT(*) FROM {table} WHERE deleted = 0 GROUP BY crm, object"
        ):
            counts[f"{crm}.{obj}"] = n
    return counts
