"""Continuity findings over the synced cache: who owns what, and where that breaks the one-owner-per-account rule.

Five checks, each at most one sequential pass over the people table (the audit must stay fast at a million
contacts); the ones that concern few people (unknown or deactivated owners, queues, no owner) find them through the
(crm, owner) index instead, and every owner or account lookup goes to small temp tables built once per audit:

* ``contact_account_owner``: a contact owned by someone other than its account's owner;
* ``inactive_owner``: a person or account owned by a deactivated, archived or unknown user;
* ``split_account``: an account whose contacts are spread over several owners;
* ``stuck_lead``: an open lead with no owner, or with a queue, past ``analytics.audit.stuck_after_hours``;
* ``crm_owner_mismatch``: one person (same email) owned by different people in HubSpot and Salesforce.

Each ``Finding`` says what is wrong, why it matters and whom to give the record to (``suggested_owner``, an owner
key, or None when only routing can decide); ``fix`` turns suggestions into outbox effects.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from itertools import groupby

import sqlite_utils

from connector.cache.schema import migrate_cache
from connector.config.root import LeadrelayConfig

KINDS = ("contact_account_owner", "inactive_owner", "split_account", "stuck_lead", "crm_owner_mismatch")
WHY = {
    "contact_account_owner": "two reps working one account confuse the buyer and split the pipeline credit",
    "inactive_owner": "nobody follows up on records owned by someone who left; replies and renewals go unanswered",
    "split_account": "an account with several owners gets uncoordinated outreach and no single view of the deal",
    "stuck_lead": "a lead waiting in a queue or without an owner cools off: response time drives conversion",
    "crm_owner_mismatch": "the CRMs disagree on who owns the person, so each side's reports and tasks name another rep",
}


@dataclass(frozen=True)
class Finding:
    """One continuity problem on one record, and the owner that would fix it."""

    kind: str
    record_id: str  # cache id of the record whose owner should change
    name: str
    current_owner: str | None  # owner key, or the raw native id when the owner is unknown
    suggested_owner: str | None
    what: str

    @property
    def why(self) -> str:
        """Why this kind of finding matters."""
        return WHY[self.kind]


# Every check looks each person's owner (and many their account) up: a million lookups per check. Two small
# WITHOUT ROWID copies in the connection's temp schema, built once per audit, answer each lookup with one b-tree
# descent into a narrow row, and carry the derived flags (usable owner, gone owner, the account's owner key)
# instead of re-deriving them per person. They cost ~0.3 s for 100,000 accounts and are dropped afterwards.
_LOOKUPS = (
    "DROP TABLE IF EXISTS temp.audit_owners",
    """CREATE TEMP TABLE audit_owners (
        crm TEXT NOT NULL, native_id TEXT NOT NULL, key TEXT NOT NULL,
        usable INTEGER NOT NULL,   -- active, not deleted, not a queue: may own records
        gone INTEGER NOT NULL,     -- a deactivated or deleted user (not a queue)
        is_queue INTEGER NOT NULL,
        PRIMARY KEY (crm, native_id)) WITHOUT ROWID""",
    """INSERT INTO audit_owners SELECT crm, native_id, key, active = 1 AND deleted = 0 AND is_queue = 0,
        (active = 0 OR deleted = 1) AND is_queue = 0, is_queue FROM cache_owners""",
    "DROP TABLE IF EXISTS temp.audit_accounts",
    """CREATE TEMP TABLE audit_accounts (
        id TEXT PRIMARY KEY, name TEXT NOT NULL,
        owner TEXT,                -- the owner's key; NULL for an unknown owner
        owner_usable INTEGER NOT NULL) WITHOUT ROWID""",
    """INSERT INTO audit_accounts SELECT a.id, a.name, o.key, COALESCE(o.usable, 0) FROM cache_accounts a
        LEFT JOIN audit_owners o ON o.crm = a.crm AND o.native_id = a.owner_native_id WHERE a.deleted = 0""",
)
_DROP_LOOKUPS = ("DROP TABLE IF EXISTS temp.audit_owners", "DROP TABLE IF EXISTS temp.audit_accounts")

# CROSS JOIN keeps the written join order: one sequential scan of the big table, then lookups in the small ones.
# Left to itself the planner may start from the owners and read people in owner order, i.e. at random.
_OWNER = "CROSS JOIN audit_owners {a} ON {a}.crm = {t}.crm AND {a}.native_id = {t}.owner_native_id"
_LEFT_OWNER = "LEFT JOIN audit_owners {a} ON {a}.crm = {t}.crm AND {a}.native_id = {t}.owner_native_id"
_NAME = "COALESCE(NULLIF(TRIM(COALESCE(p.first_name, '') || ' ' || COALESCE(p.last_name, '')), ''), p.email, p.id)"
_CRMS = ("hubspot", "salesforce")


def audit(
    db: sqlite_utils.Database, config: LeadrelayConfig, *, kinds: tuple[str, ...] = KINDS, now_ms: int | None = None
) -> Iterator[Finding]:
    """Every finding of the chosen kinds, streamed kind by kind."""
    migrate_cache(db)
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    checks = {
        "contact_account_owner": lambda: contact_account_owner(db),
        "inactive_owner": lambda: inactive_owner(db),
        "split_account": lambda: split_account(db),
        "stuck_lead": lambda: stuck_lead(db, now, config.analytics.audit.stuck_after_hours),
        "crm_owner_mismatch": lambda: crm_owner_mismatch(db, config.crms.system_of_record),
    }
    with lookups(db):
        for kind in kinds:
            yield from checks[kind]()


@contextmanager
def lookups(db: sqlite_utils.Database) -> Iterator[None]:
    """The owner and account lookup tables the checks read, built for the duration of the block."""
    for statement in _LOOKUPS:
        db.conn.execute(statement)
    try:
        yield
    finally:
        for statement in _DROP_LOOKUPS:
            with suppress(sqlite3.OperationalError):  # an abandoned reader still holds it: the next audit drops it
                db.conn.execute(statement)


def contact_account_owner(db: sqlite_utils.Database) -> Iterator[Finding]:
    """Contacts owned by someone other than their account's (active) owner (inside ``lookups``)."""
    sql = f"""
        SELECT p.id, {_NAME}, po.key, a.owner, a.name FROM cache_people p
        CROSS JOIN audit_accounts a ON a.id = p.account_id
        {_OWNER.format(a="po", t="p")}
        WHERE p.deleted = 0 AND a.owner_usable = 1 AND po.key != a.owner
    """
    for record_id, name, owner, account_owner, account in db.conn.execute(sql):
        what = f"owned by {owner}, but account {account} is owned by {account_owner}"
        yield Finding("contact_account_owner", record_id, name, owner, account_owner, what)


def inactive_owner(db: sqlite_utils.Database) -> Iterator[Finding]:
    """People and accounts owned by a deactivated, archived or unknown user (suggest the account owner if active;
    inside ``lookups``)."""
    # The few owner ids that are unknown or gone come from one pass over the (crm, owner) index; their people are
    # then fetched through it, in table order, instead of reading every person.
    people = f"""
        WITH bad(crm, native_id) AS (
            SELECT d.crm, d.owner_native_id
            FROM (SELECT DISTINCT crm, owner_native_id FROM cache_people WHERE owner_native_id IS NOT NULL) d
            LEFT JOIN audit_owners o ON o.crm = d.crm AND o.native_id = d.owner_native_id
            WHERE o.key IS NULL OR o.gone = 1)
        SELECT p.id, {_NAME}, COALESCE(o.key, p.owner_native_id), o.key IS NULL,
            (SELECT a.owner FROM audit_accounts a WHERE a.id = p.account_id AND a.owner_usable = 1)
        FROM cache_people p {_LEFT_OWNER.format(a="o", t="p")}
        WHERE p.rowid IN (
            SELECT c.rowid FROM bad CROSS JOIN cache_people c ON c.crm = bad.crm AND c.owner_native_id = bad.native_id)
          AND p.deleted = 0
        ORDER BY p.rowid
    """
    for record_id, name, owner, unknown, suggestion in db.conn.execute(people):
        yield Finding("inactive_owner", record_id, name, owner, suggestion, _inactive_what(owner, bool(unknown)))
    accounts = f"""
        SELECT a.id, a.name, COALESCE(o.key, a.owner_native_id), o.key IS NULL,
            (SELECT po.key FROM cache_people p {_OWNER.format(a="po", t="p")}
             WHERE p.account_id = a.id AND p.deleted = 0 AND po.usable = 1
             GROUP BY po.key ORDER BY COUNT(*) DESC, po.key LIMIT 1)
        FROM cache_accounts a {_LEFT_OWNER.format(a="o", t="a")}
        WHERE a.deleted = 0 AND a.owner_native_id IS NOT NULL AND (o.key IS NULL OR o.gone = 1)
    """
    for record_id, name, owner, unknown, suggestion in db.conn.execute(accounts):
        what = _inactive_what(owner, bool(unknown)) + (
            "; most of its contacts are owned by " + suggestion if suggestion else ""
        )
        yield Finding("inactive_owner", record_id, name, owner, suggestion, what)


def _inactive_what(owner: str, unknown: bool) -> str:
    return f"owner {owner} is not a known user" if unknown else f"owner {owner} is deactivated or archived"


def split_account(db: sqlite_utils.Database) -> Iterator[Finding]:
    """Accounts whose live contacts have more than one owner (suggest the account owner, else the most common;
    inside ``lookups``)."""
    # One sequential pass over people, grouped by (account, owner) in a sorter, then grouped per account here:
    # walking the account index instead reads every person row at random, and a SQL "top owner per account"
    # subquery re-scans the grouped rows once per account. ORDER BY names both group columns so the sorter's
    # output order serves it (ordering by the account alone made SQLite sort the groups a second time).
    per_owner = f"""
        SELECT p.account_id, o.key, COUNT(*) FROM cache_people p NOT INDEXED {_OWNER.format(a="o", t="p")}
        WHERE p.account_id IS NOT NULL AND p.deleted = 0 AND o.is_queue = 0
        GROUP BY p.account_id, o.key ORDER BY p.account_id, o.key
    """
    account = "SELECT name, owner, owner_usable FROM audit_accounts WHERE id = ?"
    for account_id, counts in groupby(db.conn.execute(per_owner), key=lambda row: row[0]):
        owners = sorted(((str(key), int(n)) for _, key, n in counts), key=lambda kn: (-kn[1], kn[0]))
        if len(owners) < 2:
            continue
        row = db.conn.execute(account, (account_id,)).fetchone()
        if row is None:
            continue
        name, owner, usable = row
        what = f"contacts are split across owners ({', '.join(f'{k} {n}' for k, n in owners)})"
        yield Finding("split_account", account_id, name, owner, owner if usable else owners[0][0], what)


def stuck_lead(db: sqlite_utils.Database, now_ms: int, limit_hours: int) -> Iterator[Finding]:
    """Open leads older than ``limit_hours`` that have no owner or sit with a queue (inside ``lookups``)."""
    # Only people without an owner or with a queue can be stuck: find those few through the (crm, owner) index
    # instead of reading every person's properties. ``rowid IN (...)`` visits them in table order; a join on the
    # candidates instead made SQLite build a Bloom filter over the whole people table.
    crms = ", ".join(f"('{crm}')" for crm in _CRMS)
    sql = f"""
        WITH crms(crm) AS (VALUES {crms})
        SELECT p.id, {_NAME}, o.key, p.created_ms,
            (SELECT a.owner FROM audit_accounts a WHERE a.id = p.account_id AND a.owner_usable = 1)
        FROM cache_people p {_LEFT_OWNER.format(a="o", t="p")}
        WHERE p.rowid IN (
            SELECT c.rowid FROM crms CROSS JOIN cache_people c ON c.crm = crms.crm AND c.owner_native_id IS NULL
            UNION ALL
            SELECT c.rowid FROM audit_owners q CROSS JOIN cache_people c
                ON c.crm = q.crm AND c.owner_native_id = q.native_id WHERE q.is_queue = 1)
          AND p.deleted = 0 AND p.created_ms < ?
          AND COALESCE(json_extract(p.properties, '$.IsConverted'), 0) IN (0, 'false')
          AND COALESCE(json_extract(p.properties, '$.lifecyclestage'), 'lead')
              IN ('subscriber', 'lead', 'marketingqualifiedlead', 'salesqualifiedlead')
          AND COALESCE(json_extract(p.properties, '$.Status'), '') NOT LIKE 'Closed%'
        ORDER BY p.rowid
    """
    for record_id, name, queue, created, suggestion in db.conn.execute(sql, (now_ms - limit_hours * 3_600_000,)):
        where = f"in queue {queue}" if queue else "without an owner"
        what = f"open lead {where} for {(now_ms - created) // 3_600_000} h (limit {limit_hours} h)"
        yield Finding("stuck_lead", record_id, name, queue, suggestion, what)


def crm_owner_mismatch(db: sqlite_utils.Database, system_of_record: str) -> Iterator[Finding]:
    """People in both CRMs (same email) owned by different people; the system of record's owner wins (inside
    ``lookups``)."""
    # Take the CRM with fewer people and look its emails up in the other. Its people are read by one sequential
    # scan (NOT INDEXED): walking the (crm, owner) index would fetch each row at random, which costs more at 100,000.
    # Counted from that index alone: a ``deleted = 0`` filter here would read every row at random.
    counts = dict(db.conn.execute("SELECT crm, COUNT(*) FROM cache_people GROUP BY crm"))
    small, big = sorted(_CRMS, key=lambda crm: (counts.get(crm, 0), crm))
    sql = f"""
        SELECT s.id, {_NAME.replace("p.", "s.")}, so.key, b.id, {_NAME.replace("p.", "b.")}, bo.key
        FROM cache_people s NOT INDEXED
        CROSS JOIN cache_people b ON b.email = s.email AND b.crm = ? AND b.deleted = 0
        {_OWNER.format(a="so", t="s")}
        {_OWNER.format(a="bo", t="b")}
        WHERE s.crm = ? AND s.deleted = 0 AND s.email IS NOT NULL AND so.key != bo.key
    """
    for s_id, s_name, s_owner, b_id, b_name, b_owner in db.conn.execute(sql, (big, small)):
        if small == system_of_record:
            record_id, name, owner, sor_id, sor_owner = b_id, b_name, b_owner, s_id, s_owner
        else:
            record_id, name, owner, sor_id, sor_owner = s_id, s_name, s_owner, b_id, b_owner
        what = f"owned by {owner} here but by {sor_owner} in {system_of_record} ({sor_id})"
        yield Finding("crm_owner_mismatch", record_id, name, owner, sor_owner, what)
