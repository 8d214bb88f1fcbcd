"""Continuity findings over the synced cache: who owns what, and where that breaks the one-owner-per-account rule.

Five checks, each one SQL pass over indexed columns (the audit must stay fast at a million contacts):

* ``contact_account_owner``: a contact owned by someone other than its account's owner;
* ``inactive_owner``: a person or account owned by a deactivated, archived or unknown user;
* ``split_account``: an account whose contacts are spread over several owners;
* ``stuck_lead``: an open lead with no owner, or with a queue, past ``analytics.audit.stuck_after_hours``;
* ``crm_owner_mismatch``: one person (same email) owned by different people in HubSpot and Salesforce.

Each ``Finding`` says what is wrong, why it matters and whom to give the record to (``suggested_owner``, an owner
key, or None when only routing can decide); ``fix`` turns suggestions into outbox effects.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
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


# CROSS JOIN keeps the written join order: one sequential scan of the big table, then index lookups in the small
# ones. Left to itself the planner starts from the owners and reads people in owner order, i.e. at random.
_OWNER = "CROSS JOIN cache_owners {a} ON {a}.crm = {t}.crm AND {a}.native_id = {t}.owner_native_id"
_LEFT_OWNER = "LEFT JOIN cache_owners {a} ON {a}.crm = {t}.crm AND {a}.native_id = {t}.owner_native_id"
_ACTIVE = "{a}.active = 1 AND {a}.deleted = 0 AND {a}.is_queue = 0"
_NAME = "COALESCE(NULLIF(TRIM(COALESCE(p.first_name, '') || ' ' || COALESCE(p.last_name, '')), ''), p.email, p.id)"


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
    for kind in kinds:
        yield from checks[kind]()


def contact_account_owner(db: sqlite_utils.Database) -> Iterator[Finding]:
    """Contacts owned by someone other than their account's (active) owner."""
    sql = f"""
        SELECT p.id, {_NAME}, po.key, ao.key, a.name FROM cache_people p
        CROSS JOIN cache_accounts a ON a.id = p.account_id
        {_OWNER.format(a="po", t="p")}
        {_OWNER.format(a="ao", t="a")}
        WHERE p.deleted = 0 AND a.deleted = 0 AND {_ACTIVE.format(a="ao")} AND po.key != ao.key
    """
    for record_id, name, owner, account_owner, account in db.conn.execute(sql):
        what = f"owned by {owner}, but account {account} is owned by {account_owner}"
        yield Finding("contact_account_owner", record_id, name, owner, account_owner, what)


def inactive_owner(db: sqlite_utils.Database) -> Iterator[Finding]:
    """People and accounts owned by a deactivated, archived or unknown user (suggest the account owner if active)."""
    people = f"""
        SELECT p.id, {_NAME}, COALESCE(o.key, p.owner_native_id), o.id IS NULL,
            (SELECT ao.key FROM cache_accounts a {_OWNER.format(a="ao", t="a")}
             WHERE a.id = p.account_id AND a.deleted = 0 AND {_ACTIVE.format(a="ao")})
        FROM cache_people p {_LEFT_OWNER.format(a="o", t="p")}
        WHERE p.deleted = 0 AND p.owner_native_id IS NOT NULL
          AND (o.id IS NULL OR ((o.active = 0 OR o.deleted = 1) AND o.is_queue = 0))
    """
    for record_id, name, owner, unknown, suggestion in db.conn.execute(people):
        yield Finding("inactive_owner", record_id, name, owner, suggestion, _inactive_what(owner, bool(unknown)))
    accounts = f"""
        SELECT a.id, a.name, COALESCE(o.key, a.owner_native_id), o.id IS NULL,
            (SELECT po.key FROM cache_people p {_OWNER.format(a="po", t="p")}
             WHERE p.account_id = a.id AND p.deleted = 0 AND {_ACTIVE.format(a="po")}
             GROUP BY po.key ORDER BY COUNT(*) DESC, po.key LIMIT 1)
        FROM cache_accounts a {_LEFT_OWNER.format(a="o", t="a")}
        WHERE a.deleted = 0 AND a.owner_native_id IS NOT NULL
          AND (o.id IS NULL OR ((o.active = 0 OR o.deleted = 1) AND o.is_queue = 0))
    """
    for record_id, name, owner, unknown, suggestion in db.conn.execute(accounts):
        what = _inactive_what(owner, bool(unknown)) + (
            "; most of its contacts are owned by " + suggestion if suggestion else ""
        )
        yield Finding("inactive_owner", record_id, name, owner, suggestion, what)


def _inactive_what(owner: str, unknown: bool) -> str:
    return f"owner {owner} is not a known user" if unknown else f"owner {owner} is deactivated or archived"


def split_account(db: sqlite_utils.Database) -> Iterator[Finding]:
    """Accounts whose live contacts have more than one owner (suggest the account owner, else the most common)."""
    # One ordered pass over the account index, grouped here: a SQL "top owner per account" subquery re-scans the
    # grouped rows once per account and was the audit's slowest part by far.
    per_owner = f"""
        SELECT p.account_id, o.key, COUNT(*) FROM cache_people p {_OWNER.format(a="o", t="p")}
        WHERE p.account_id IS NOT NULL AND p.deleted = 0 AND o.is_queue = 0
        GROUP BY p.account_id, o.key ORDER BY p.account_id
    """
    account = f"""
        SELECT a.name, ao.key, {_ACTIVE.format(a="ao")} FROM cache_accounts a {_LEFT_OWNER.format(a="ao", t="a")}
        WHERE a.id = ? AND a.deleted = 0
    """
    for account_id, counts in groupby(db.conn.execute(per_owner), key=lambda row: row[0]):
        owners = sorted(((str(key), int(n)) for _, key, n in counts), key=lambda kn: (-kn[1], kn[0]))
        if len(owners) < 2:
            continue
        row = db.conn.execute(account, (account_id,)).fetchone()
        if row is None:
            continue
        name, owner, active = row
        what = f"contacts are split across owners ({', '.join(f'{k} {n}' for k, n in owners)})"
        yield Finding("split_account", account_id, name, owner, owner if active else owners[0][0], what)


def stuck_lead(db: sqlite_utils.Database, now_ms: int, limit_hours: int) -> Iterator[Finding]:
    """Open leads older than ``limit_hours`` that have no owner or sit with a queue."""
    sql = f"""
        SELECT p.id, {_NAME}, o.key, p.created_ms,
            (SELECT ao.key FROM cache_accounts a {_OWNER.format(a="ao", t="a")}
             WHERE a.id = p.account_id AND a.deleted = 0 AND {_ACTIVE.format(a="ao")})
        FROM cache_people p {_LEFT_OWNER.format(a="o", t="p")}
        WHERE p.deleted = 0 AND p.created_ms < ? AND (p.owner_native_id IS NULL OR o.is_queue = 1)
          AND COALESCE(json_extract(p.properties, '$.IsConverted'), 0) IN (0, 'false')
          AND COALESCE(json_extract(p.properties, '$.lifecyclestage'), 'lead')
              IN ('subscriber', 'lead', 'marketingqualifiedlead', 'salesqualifiedlead')
          AND COALESCE(json_extract(p.properties, '$.Status'), '') NOT LIKE 'Closed%'
    """
    for record_id, name, queue, created, suggestion in db.conn.execute(sql, (now_ms - limit_hours * 3_600_000,)):
        where = f"in queue {queue}" if queue else "without an owner"
        what = f"open lead {where} for {(now_ms - created) // 3_600_000} h (limit {limit_hours} h)"
        yield Finding("stuck_lead", record_id, name, queue, suggestion, what)


def crm_owner_mismatch(db: sqlite_utils.Database, system_of_record: str) -> Iterator[Finding]:
    """People in both CRMs (same email) owned by different people; the system of record's owner wins."""
    # Scan the CRM with fewer people and look its emails up in the other: the cost follows the smaller side.
    counts = dict(db.conn.execute("SELECT crm, COUNT(*) FROM cache_people WHERE deleted = 0 GROUP BY crm"))
    small, big = sorted(("hubspot", "salesforce"), key=lambda crm: (counts.get(crm, 0), crm))
    sql = f"""
        SELECT s.id, {_NAME.replace("p.", "s.")}, so.key, b.id, {_NAME.replace("p.", "b.")}, bo.key
        FROM cache_people s
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
