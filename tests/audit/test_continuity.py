"""Every continuity finding and fix against the hand-built world in conftest.

| record | owner          | account (owner)   | expected                                                       |
| P1     | alice          | A1 (alice)        | –                                                              |
| P2     | bob            | A1 (alice)        | contact_account_owner → alice; A1 split (alice 1, bob 1)       |
| P3, P4 | bob            | A2 (carol, gone)  | A2 inactive_owner → bob (owns most of its contacts)            |
| P5     | carol (gone)   | A3 (alice)        | contact_account_owner → alice; inactive_owner → alice          |
| P6     | –, 48 h, lead  |                   | stuck_lead                                                     |
| P7     | queue, 30 h    |                   | stuck_lead                                                     |
| P8/P9  | –, 2 h / customer |                | – (too young / not an open lead)                               |
| S3     | –, 48 h, converted |               | – (converted Salesforce lead)                                  |
| P10    | unknown id 77  |                   | inactive_owner, no suggestion                                  |
| P11    | alice          | SF twin S1: dave  | crm_owner_mismatch → dave (Salesforce is the system of record) |
| P12    | bob            | SF twin S2: alice | crm_owner_mismatch → alice                                     |
"""

from __future__ import annotations

from collections import Counter

import pytest

from audit.conftest import NOW
from connector.audit import fix
from connector.audit.continuity import WHY, audit
from connector.config.root import LeadrelayConfig


@pytest.fixture
def findings(world, db):
    return list(audit(db, LeadrelayConfig(), now_ms=NOW))


def _by_kind(findings):
    found: dict[str, dict[str, tuple[str | None, str | None]]] = {}
    for f in findings:
        found.setdefault(f.kind, {})[f.record_id.rsplit(":", 1)[1]] = (f.current_owner, f.suggested_owner)
    return found


def test_every_finding_with_its_suggestion(findings):
    assert _by_kind(findings) == {
        "contact_account_owner": {"P2": ("bob@x.io", "alice@x.io"), "P5": ("carol@x.io", "alice@x.io")},
        "inactive_owner": {"P5": ("carol@x.io", "alice@x.io"), "P10": ("77", None), "A2": ("carol@x.io", "bob@x.io")},
        "split_account": {"A1": ("alice@x.io", "alice@x.io")},
        "stuck_lead": {"P6": (None, None), "P7": ("queue:hubspot:9", None)},
        "crm_owner_mismatch": {"P11": ("alice@x.io", "dave@x.io"), "P12": ("bob@x.io", "alice@x.io")},
    }


def test_each_finding_says_what_and_why(findings):
    texts = {(f.kind, f.record_id.rsplit(":", 1)[1]): f.what for f in findings}
    assert texts[("contact_account_owner", "P2")] == "owned by bob@x.io, but account Acme A1 is owned by alice@x.io"
    assert texts[("inactive_owner", "P10")] == "owner 77 is not a known user"
    assert "alice@x.io 1" in texts[("split_account", "A1")] and "bob@x.io 1" in texts[("split_account", "A1")]
    assert texts[("stuck_lead", "P6")] == "open lead without an owner for 48 h (limit 24 h)"
    assert texts[("crm_owner_mismatch", "P11")].startswith("owned by alice@x.io here but by dave@x.io in salesforce")
    assert all(f.why == WHY[f.kind] and f.why for f in findings)


def test_stuck_limit_comes_from_config(world, db):
    config = LeadrelayConfig.model_validate({"analytics": {"audit": {"stuck_after_hours": 40}}})
    stuck = [f.record_id for f in audit(db, config, kinds=("stuck_lead",), now_ms=NOW)]
    assert stuck == ["hubspot:contacts:P6"]


def test_fix_plan_and_apply_through_the_outbox(findings, db):
    plan = fix.plan(db, findings)
    fixed = {(f.target.native_id, f.owner.key, f.previous_owner_id) for f in plan.fixes}
    assert fixed == {("P2", "alice@x.io", "2"), ("P5", "alice@x.io", "3"), ("A2", "bob@x.io", "3"),
                     ("P12", "alice@x.io", "2")}  # fmt: skip
    reasons = Counter(reason.split(" ")[0] for _, reason in plan.skipped)
    assert len(plan.skipped) == len(findings) - 4
    assert reasons["no"] == 3  # P10, P6, P7: nothing to suggest
    skipped = {f.record_id.rsplit(":", 1)[1]: reason for f, reason in plan.skipped}
    assert skipped["P11"] == "suggested owner dave@x.io has no hubspot user"
    assert skipped["A1"].startswith("already owned by the suggested owner")

    assert fix.apply(db, plan.fixes, now_ms=NOW) == 4
    items = Counter(db.conn.execute("SELECT kind, target FROM outbox_items").fetchall())
    assert items == {("set_owner", "hubspot"): 4}
    assert fix.apply(db, (), now_ms=NOW) == 0


def test_the_audit_leaves_no_lookup_tables_and_survives_an_abandoned_run(world, db):
    abandoned = audit(db, LeadrelayConfig(), now_ms=NOW)
    next(abandoned)  # a reader that stops after one finding (e.g. a closed pipe)
    abandoned.close()
    again = list(audit(db, LeadrelayConfig(), now_ms=NOW))
    assert len(again) == 10
    temp = db.conn.execute("SELECT name FROM sqlite_temp_master WHERE name LIKE 'audit_%'").fetchall()
    assert temp == []
