"""What the synced activities and deals say about a routed lead: the owner's first touch, meetings, deals.

The cache holds HubSpot tasks, calls, emails and meetings and Salesforce Tasks and Events (``cache_activities``,
linked to people through ``cache_activity_people``), and deals/Opportunities (``cache_deals``). This module turns
them into the facts analytics needs:

* **first touch by the owner**: the earliest activity *by the assigned owner* on the lead at or after the
  assignment. A task counts once completed, a call once dialled, an email once sent (the lead's own incoming email
  does not), a meeting or Event when it is booked (its creation) unless it was cancelled. HubSpot engagements
  count only when the lead is associated with them (an engagement on the company alone is not a touch of this
  lead); a Salesforce Task or Event on the lead's account with no person on it (``WhatId`` the account, no
  ``WhoId``) counts for the account's contacts;
* **meetings booked**: HubSpot meetings and Salesforce Events linked to the lead and created at or after the
  assignment, cancelled ones left out;
* **deal stage**: 3 when a deal/Opportunity linked to the lead, or on its account, was created at or after the
  assignment; 4 when one of those is won.

A CRM whose activity (or deal) streams have never been synced has no rows to judge by; ``activity_crms`` and
``deal_crms`` say which CRMs have them, and callers fall back to the record-level signals for the others.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

ACTIVITY_STREAMS: dict[str, tuple[str, ...]] = {
    "hubspot": ("hubspot.tasks", "hubspot.calls", "hubspot.emails", "hubspot.meetings"),
    "salesforce": ("salesforce.Task", "salesforce.Event"),
}
DEAL_STREAMS: dict[str, tuple[str, ...]] = {"hubspot": ("hubspot.deals",), "salesforce": ("salesforce.Opportunity",)}
MEETING_KINDS = ("meeting", "event")
CANCELLED = "CANCELED"  # HubSpot's spelling of a cancelled meeting's outcome

# When an activity is a touch: meetings and Events when booked; everything else once done, when it happened.
_TOUCH_MS = "CASE WHEN a.kind IN ('meeting', 'event') THEN a.created_ms ELSE COALESCE(a.occurred_ms, a.created_ms) END"
_IS_TOUCH = f"((a.kind IN ('meeting', 'event') AND COALESCE(a.outcome, '') != '{CANCELLED}') OR a.completed = 1)"
_BY_OWNER = "a.owner_native_id IN (SELECT native_id FROM cache_owners WHERE crm = a.crm AND key = :owner)"
_FIRST_TOUCH = f"""
SELECT touch_ms, kind, object, native_id FROM (
    SELECT {_TOUCH_MS} AS touch_ms, a.kind, a.object, a.native_id
    FROM cache_activity_people l JOIN cache_activities a ON a.id = l.activity_id
    WHERE l.person_id = :lead AND a.deleted = 0 AND {_IS_TOUCH} AND {_BY_OWNER}
    UNION ALL
    SELECT {_TOUCH_MS}, a.kind, a.object, a.native_id
    FROM cache_activities a
    WHERE :account IS NOT NULL AND a.account_id = :account AND a.crm = 'salesforce' AND a.person_ids = '[]'
      AND a.deleted = 0 AND {_IS_TOUCH} AND {_BY_OWNER}
)
WHERE touch_ms >= :since
ORDER BY touch_ms, native_id
LIMIT 1
"""

# Per-lead subqueries for the period's facts (``facts._FIRST_DECISIONS`` embeds them; ``d`` is the first decision,
# ``c`` the cached person).
MEETINGS_BOOKED_SQL = f"""
(SELECT COUNT(*) FROM cache_activity_people ml JOIN cache_activities ma ON ma.id = ml.activity_id
 WHERE ml.person_id = d.lead_id AND ma.kind IN ('meeting', 'event') AND ma.deleted = 0
   AND ma.created_ms >= d.decided_at_ms AND COALESCE(ma.outcome, '') != '{CANCELLED}')
"""
DEAL_STAGE_SQL = """
MAX(
  COALESCE((SELECT MAX(CASE WHEN x.is_won = 1 THEN 4 ELSE 3 END)
            FROM cache_deal_people xl JOIN cache_deals x ON x.id = xl.deal_id
            WHERE xl.person_id = d.lead_id AND x.deleted = 0 AND x.created_ms >= d.decided_at_ms), 0),
  COALESCE((SELECT MAX(CASE WHEN y.is_won = 1 THEN 4 ELSE 3 END)
            FROM cache_deals y
            WHERE y.account_id = c.account_id AND y.deleted = 0 AND y.created_ms >= d.decided_at_ms), 0)
)
"""


@dataclass(frozen=True)
class OwnerTouch:
    """The first activity by the owner on a lead: when, and which activity (``signal``)."""

    at_ms: int
    signal: str


def activity_crms(conn: sqlite3.Connection) -> set[str]:
    """CRMs whose activities are synced: activity rows exist, or an activity stream finished its backfill."""
    return _synced(conn, "cache_activities", ACTIVITY_STREAMS)


def deal_crms(conn: sqlite3.Connection) -> set[str]:
    """CRMs whose deals/Opportunities are synced (rows exist, or the deal stream finished its backfill)."""
    return _synced(conn, "cache_deals", DEAL_STREAMS)


def _synced(conn: sqlite3.Connection, table: str, streams: dict[str, tuple[str, ...]]) -> set[str]:
    found = {str(row[0]) for row in conn.execute(f"SELECT DISTINCT crm FROM {table}")}
    for crm, keys in streams.items():
        marks = ",".join("?" * len(keys))
        sql = f"SELECT 1 FROM cache_sync_state WHERE stream IN ({marks}) AND phase = 'incremental' LIMIT 1"
        if conn.execute(sql, keys).fetchone():
            found.add(crm)
    return found


def first_owner_touch(
    conn: sqlite3.Connection, lead_id: str, account_id: str | None, owner: str, since_ms: int
) -> OwnerTouch | None:
    """The earliest touch by ``owner`` (an owner key) on the lead at or after ``since_ms``, or None."""
    row = conn.execute(
        _FIRST_TOUCH, {"lead": lead_id, "account": account_id, "owner": owner, "since": since_ms}
    ).fetchone()
    if row is None:
        return None
    touch_ms, kind, obj, native = row
    verb = "booked" if kind in MEETING_KINDS else "by owner"
    return OwnerTouch(int(touch_ms), f"{kind} {verb} ({obj} {native})")
