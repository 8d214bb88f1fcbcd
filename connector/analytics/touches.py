"""First-touch detection: when did the owner first act on a routed lead, as the synced cache shows it.

When the lead's CRM has its activities synced (``engagement.activity_crms``), the first touch is the earliest
activity **by the assigned owner** on the lead at or after the assignment (``engagement.first_owner_touch``: a
completed task, a dialled call, a sent email, a booked meeting/Event), and the signal names that activity. Someone
else's touch does not count.

Only for a CRM without synced activities does the record-level fallback apply (what the sync keeps in each
person's raw ``properties``):

* HubSpot: ``hs_last_sales_activity_timestamp`` (a logged call, email, meeting or completed task) and
  ``notes_last_contacted``, when either is at or after the assignment; a change of ``hs_lead_status`` away from
  the status the lead had when it was routed counts at the record's modification time.
* Salesforce: ``LastActivityDate`` (a Task or Event on the record; a date only, so the touch is placed at the
  record's modification stamp, never before the assignment) and a ``Status`` change since routing.

The fallback cannot tell who touched the lead: a touch by anyone while the lead is assigned counts. Page visits
(``hs_analytics_last_visit_timestamp``) are the lead's own activity, not a rep's, and never count.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlite_utils

from connector.analytics import store
from connector.analytics.engagement import activity_crms, first_owner_touch
from connector.cache.schema import migrate_cache
from connector.db import transaction
from connector.logs import get_logger

log = get_logger("leadrelay.analytics.touches")

_HUBSPOT_STAMPS = ("hs_last_sales_activity_timestamp", "notes_last_contacted")

_OPEN_ASSIGNMENTS = """
SELECT p.lead_id, p.decision_id, d.owner, d.decided_at_ms, json_extract(d.payload, '$.input.lead.properties'),
    c.crm, c.properties, c.modified_ms, c.account_id
FROM pipeline_leads p
JOIN routing_decisions d ON d.id = (
    SELECT id FROM routing_decisions WHERE lead_id = p.lead_id ORDER BY decided_at_ms DESC, id DESC LIMIT 1)
JOIN cache_people c ON c.id = p.lead_id
LEFT JOIN analytics_touches t ON t.decision_id = p.decision_id
WHERE p.status = 'routed' AND t.decision_id IS NULL AND d.final_fallback = 0 AND d.owner NOT LIKE 'queue:%'
  AND d.decided_at_ms >= ?
"""
# A touch a month after routing says nothing about speed-to-lead; bounding the look-back keeps each sweep's scan to
# recent assignments instead of every lead ever left untouched.
TOUCH_WINDOW_MS = 30 * 86_400_000


@dataclass(frozen=True)
class Touch:
    """The first touch seen on one assignment: when, and which signal showed it."""

    lead_id: str
    decision_id: str
    owner: str
    assigned_ms: int
    first_touch_ms: int
    signal: str


def first_touch(
    crm: str, properties: Mapping[str, Any], routed_properties: Mapping[str, Any], assigned_ms: int, modified_ms: int
) -> tuple[int, str] | None:
    """(touch ms, signal) when the record shows a rep's touch since ``assigned_ms``, else None (pure)."""
    if crm == "hubspot":
        stamps = [(ms, name) for name in _HUBSPOT_STAMPS if (ms := _ms(properties.get(name))) and ms >= assigned_ms]
        if stamps:
            return min(stamps)
        return _status_change(properties, routed_properties, "hs_lead_status", assigned_ms, modified_ms)
    if crm == "salesforce":
        day = _date(properties.get("LastActivityDate"))
        if day is not None and day >= datetime.fromtimestamp(assigned_ms / 1000, UTC).date():
            return max(modified_ms, assigned_ms), "LastActivityDate"
        return _status_change(properties, routed_properties, "Status", assigned_ms, modified_ms)
    return None


def _status_change(
    now: Mapping[str, Any], then: Mapping[str, Any], field: str, assigned_ms: int, modified_ms: int
) -> tuple[int, str] | None:
    before, after = then.get(field), now.get(field)
    if after and after != before:
        return max(modified_ms, assigned_ms), f"{field} {before or 'unset'} → {after}"
    return None


def _ms(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return int(value)
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp() * 1000)


def _date(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def detect_first_touches(db: sqlite_utils.Database, *, now_ms: int | None = None) -> list[Touch]:
    """Record the first touch of each current, untouched assignment of the last 30 days the cache shows touched."""
    store.install(db)
    migrate_cache(db)
    at = now_ms if now_ms is not None else int(time.time() * 1000)
    with_activities = activity_crms(db.conn)
    found: list[Touch] = []
    rows = db.conn.execute(_OPEN_ASSIGNMENTS, (at - TOUCH_WINDOW_MS,)).fetchall()
    for lead_id, decision_id, owner, decided, routed_props, crm, props, modified, account_id in rows:
        if crm in with_activities:
            by_owner = first_owner_touch(db.conn, lead_id, account_id, owner, int(decided))
            hit = (by_owner.at_ms, by_owner.signal) if by_owner else None
        else:
            routed = json.loads(routed_props) if routed_props else {}
            hit = first_touch(crm, json.loads(props), routed, int(decided), int(modified))
        if hit is not None and decision_id is not None:
            found.append(Touch(lead_id, decision_id, owner, int(decided), hit[0], hit[1]))
    if found:
        with transaction(db) as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO analytics_touches"
                " (decision_id, lead_id, owner, assigned_ms, first_touch_ms, signal) VALUES (?, ?, ?, ?, ?, ?)",
                [(t.decision_id, t.lead_id, t.owner, t.assigned_ms, t.first_touch_ms, t.signal) for t in found],
            )
    for touch in found:
        log.info("lead_first_touch", lead_id=touch.lead_id, owner=touch.owner, signal=touch.signal, at_ms=at)
    return found


def touched_decisions(db: sqlite_utils.Database) -> set[str]:
    """Decision ids whose owner has touched the lead."""
    store.install(db)
    return {str(row[0]) for row in db.conn.execute("SELECT decision_id FROM analytics_touches")}
