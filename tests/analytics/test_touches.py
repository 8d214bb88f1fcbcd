"""First-touch detection: the owner's own synced activities, else the record-level signals, and its bookkeeping."""

from __future__ import annotations

import pytest

from analytics.history import DAY, HOUR, MON
from connector.analytics.touches import detect_first_touches, first_touch
from connector.cache import writes
from connector.crm import ActivityRecord
from connector.db import transaction

ASSIGNED = MON + 10 * HOUR
ISO_11 = "2026-11-02T11:00:00Z"
SALES = "hs_last_sales_activity_timestamp"
CONTACTED = "notes_last_contacted"


@pytest.mark.parametrize(
    ("crm", "now", "then", "modified", "expected"),
    [
        ("hubspot", {SALES: ISO_11}, {}, ASSIGNED, (ASSIGNED + HOUR, SALES)),
        ("hubspot", {CONTACTED: str(ASSIGNED + 60_000)}, {}, ASSIGNED, (ASSIGNED + 60_000, CONTACTED)),
        ("hubspot", {"hs_last_sales_activity_timestamp": "2026-11-01T09:00:00Z"}, {}, ASSIGNED, None),  # before routing
        ("hubspot", {"hs_analytics_last_visit_timestamp": ISO_11}, {}, ASSIGNED, None),  # the lead's own visit
        ("hubspot", {"hs_lead_status": "IN_PROGRESS"}, {"hs_lead_status": "NEW"}, ASSIGNED + 5 * 60_000,
         (ASSIGNED + 5 * 60_000, "hs_lead_status NEW → IN_PROGRESS")),
        ("hubspot", {"hs_lead_status": "NEW"}, {"hs_lead_status": "NEW"}, ASSIGNED + HOUR, None),
        ("salesforce", {"LastActivityDate": "2026-11-02"}, {}, ASSIGNED + 2 * HOUR,
         (ASSIGNED + 2 * HOUR, "LastActivityDate")),
        ("salesforce", {"LastActivityDate": "2026-11-01"}, {}, ASSIGNED + 2 * HOUR, None),  # the day before
        ("salesforce", {"Status": "Working - Contacted"}, {"Status": "Open - Not Contacted"}, ASSIGNED + HOUR,
         (ASSIGNED + HOUR, "Status Open - Not Contacted → Working - Contacted")),
    ],
)  # fmt: skip
def test_signals(crm, now, then, modified, expected):
    assert first_touch(crm, now, then, ASSIGNED, modified) == expected


def test_detection_records_each_assignment_once(db, history):
    history.person("hubspot:contacts:1", created_ms=ASSIGNED, properties={"notes_last_contacted": ISO_11})
    history.person("hubspot:contacts:2", created_ms=ASSIGNED)
    history.routed("hubspot:contacts:1", at_ms=ASSIGNED, owner="a@x.io")
    history.routed("hubspot:contacts:2", at_ms=ASSIGNED, owner="b@x.io")
    assert detect_first_touches(db, now_ms=ASSIGNED + 31 * DAY) == []  # beyond the 30-day look-back
    found = detect_first_touches(db, now_ms=ASSIGNED + DAY)
    assert [(t.lead_id, t.owner, t.first_touch_ms - t.assigned_ms) for t in found] == [
        ("hubspot:contacts:1", "a@x.io", HOUR)
    ]
    assert detect_first_touches(db, now_ms=ASSIGNED + DAY) == []  # already recorded


def _activity(db, native: str, *, owner: str, lead: str, at_ms: int, completed: bool = True) -> None:
    record = ActivityRecord(
        id=f"hubspot:calls:{native}", crm="hubspot", object="calls", native_id=native, kind="call",
        owner_native_id=owner, person_ids=(lead,), account_id=None, occurred_ms=at_ms, completed=completed,
        outcome=None, subject=None, created_ms=at_ms, modified_ms=at_ms,
    )  # fmt: skip
    with transaction(db) as conn:
        writes.upsert(conn, "activity", [writes.to_row(record)[1]], sweep_token=None, now_ms=at_ms)


def test_with_synced_activities_only_the_owners_own_touch_counts(db, history):
    history.owner("hubspot", "7", "a@x.io")
    history.owner("hubspot", "8", "b@x.io")
    # The record says someone contacted the lead at 11:00; that was b, not the owner a: it must not count.
    history.person("hubspot:contacts:1", created_ms=ASSIGNED, properties={CONTACTED: ISO_11})
    history.routed("hubspot:contacts:1", at_ms=ASSIGNED, owner="a@x.io")
    _activity(db, "1", owner="8", lead="hubspot:contacts:1", at_ms=ASSIGNED + HOUR)
    _activity(db, "2", owner="7", lead="hubspot:contacts:1", at_ms=ASSIGNED + 2 * HOUR, completed=False)
    assert detect_first_touches(db, now_ms=ASSIGNED + DAY) == []

    _activity(db, "3", owner="7", lead="hubspot:contacts:1", at_ms=ASSIGNED + 3 * HOUR)
    [touch] = detect_first_touches(db, now_ms=ASSIGNED + DAY)
    assert (touch.first_touch_ms, touch.signal) == (ASSIGNED + 3 * HOUR, "call by owner (calls 3)")


def test_a_crm_without_synced_activities_keeps_the_record_level_signals(db, history):
    history.owner("hubspot", "7", "a@x.io")
    _activity(db, "1", owner="7", lead="hubspot:contacts:9", at_ms=ASSIGNED)  # HubSpot has activities; Salesforce not
    history.person("salesforce:Lead:1", created_ms=ASSIGNED, properties={"LastActivityDate": "2026-11-02"},
                   modified_ms=ASSIGNED + HOUR)  # fmt: skip
    history.routed("salesforce:Lead:1", at_ms=ASSIGNED, owner="a@x.io")
    [touch] = detect_first_touches(db, now_ms=ASSIGNED + DAY)
    assert (touch.lead_id, touch.signal) == ("salesforce:Lead:1", "LastActivityDate")
