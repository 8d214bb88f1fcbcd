"""Applying continuity suggestions through the outbox: one ``set_owner`` effect per record, nothing else.

A fix is an ``Assignment`` with a decision id ``audit-…`` and only the owner write enabled (no task, no nudge):
the outbox delivers it with compare-and-set against the owner the cache saw, so a record someone reassigned
since the audit ends as a conflict instead of being overwritten. ``plan`` is pure reading (the dry run).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import sqlite_utils

from connector.audit.continuity import Finding
from connector.cache import queries
from connector.config.actions import ActionsConfig
from connector.db import transaction
from connector.logs import get_logger
from connector.models import Owner, split_record_id
from connector.outbox import store as outbox_store
from connector.outbox.model import Assignee, Assignment, LeadCard, RecordRef

log = get_logger("leadrelay.audit.fix")
OWNER_ONLY = ActionsConfig(write_owner=True, create_task=False)


@dataclass(frozen=True)
class Fix:
    """Give ``target`` to ``owner`` (compare-and-set against ``previous_owner_id``)."""

    finding: Finding
    target: RecordRef
    owner: Owner
    previous_owner_id: str | None


@dataclass(frozen=True)
class Plan:
    """What a fix run would do, and which findings it leaves for a human, with why."""

    fixes: tuple[Fix, ...]
    skipped: tuple[tuple[Finding, str], ...]


def plan(db: sqlite_utils.Database, findings: Iterable[Finding]) -> Plan:
    """One fix per record with a usable suggestion (the first finding about a record wins)."""
    fixes: list[Fix] = []
    skipped: list[tuple[Finding, str]] = []
    seen: set[str] = set()
    owners: dict[str, Owner | None] = {}
    for finding in findings:
        reason = _why_not(finding, seen, owners, db)
        if reason is not None:
            skipped.append((finding, reason))
            continue
        owner = owners[finding.suggested_owner or ""]
        assert owner is not None  # checked by _why_not
        crm, obj, native = split_record_id(finding.record_id)
        fixes.append(Fix(finding, RecordRef(crm, obj, native), owner, _current_native_owner(db, finding.record_id)))
        seen.add(finding.record_id)
    return Plan(tuple(fixes), tuple(skipped))


def _why_not(
    finding: Finding, seen: set[str], owners: dict[str, Owner | None], db: sqlite_utils.Database
) -> str | None:
    if finding.suggested_owner is None:
        return "no owner to suggest: route it (or pick one) by hand"
    if finding.record_id in seen:
        return "already fixed by an earlier finding on the same record"
    key = finding.suggested_owner
    if key == finding.current_owner:
        return "already owned by the suggested owner (the records to move are listed on their own)"
    if key not in owners:
        owners[key] = queries.owner_by_key(db, key)
    owner = owners[key]
    crm = split_record_id(finding.record_id)[0]
    if owner is None or not owner.active:
        return f"suggested owner {key} is not an active user"
    if not owner.crm_ids.get(crm):
        return f"suggested owner {key} has no {crm} user"
    return None


def _current_native_owner(db: sqlite_utils.Database, record_id: str) -> str | None:
    for table in ("cache_people", "cache_accounts"):
        row = db.conn.execute(f"SELECT owner_native_id FROM {table} WHERE id = ?", (record_id,)).fetchone()
        if row is not None:
            return None if row[0] is None else str(row[0])
    return None


def apply(db: sqlite_utils.Database, fixes: Iterable[Fix], *, now_ms: int | None = None) -> int:
    """Enqueue every fix's owner write in one transaction; returns how many were enqueued."""
    outbox_store.install(db)
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    count = 0
    with transaction(db) as conn:
        for fix in fixes:
            if outbox_store.enqueue(conn, _assignment(fix, now), OWNER_ONLY):
                count += 1
    log.info("audit_fixes_enqueued", count=count)
    return count


def _assignment(fix: Fix, now_ms: int) -> Assignment:
    owner = fix.owner
    return Assignment(
        decision_id=f"audit-{uuid.uuid4().hex}",
        lead=fix.target,
        card=LeadCard(name=fix.finding.name),
        owner=Assignee(key=owner.key, name=owner.name, crm_ids=dict(owner.crm_ids), email=owner.email),
        due_ms=now_ms,
        next_action="research",
        why=(f"continuity audit ({fix.finding.kind}): {fix.finding.what}",),
        previous_owner_id=fix.previous_owner_id,
        decided_ms=now_ms,
    )
