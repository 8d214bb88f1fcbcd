"""The decision log and persistent ledger: what a router writes, what survives a restart, and exact replay."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from structlog.testing import capture_logs

from connector.db import connect
from connector.logs import configure
from connector.routing.codec import detail_v1, dumps
from connector.routing.explain import explain
from connector.routing.model import RoutingInput, Snapshot
from connector.routing.router import Router
from connector.routing.simulate import replay
from connector.routing.store import (
    decisions_for_lead,
    decisions_since,
    history_since,
    ledger_rows,
    load_ledger,
    prune,
)

from .builders import MONDAY_3PM_UTC, QUEUE, account, lead, rep, routing


@pytest.fixture
def db(tmp_path):
    return connect(tmp_path / "leadrelay.sqlite")


CONFIG = routing(
    [
        rep("a@x.com", weight=2, team="T"),
        rep("b@x.com", team="T"),
        rep("c@x.com", pto=[{"start": "2026-11-23", "end": "2026-11-24"}]),
    ],
    steps=[{"kind": "account_owner"}, {"kind": "pool", "pool": "all"}],
)


def test_ledger_survives_a_restart_and_the_rotation_continues(db):
    first = Router(db, CONFIG, config_version="v1")
    owners = [first.route(RoutingInput(lead(i)), Snapshot(), MONDAY_3PM_UTC).owner for i in range(4)]
    again = Router(connect(db.conn.execute("PRAGMA database_list").fetchone()[2]), CONFIG)
    assert again.ledger == first.ledger
    owners += [again.route(RoutingInput(lead(10 + i)), Snapshot(), MONDAY_3PM_UTC).owner for i in range(2)]
    assert Counter(owners) == {"a@x.com": 4, "b@x.com": 2}
    rows = {(r.pool, r.rep): r for r in ledger_rows(db)}
    assert rows[("all", "a@x.com")].assigned == 4
    assert ("all", "c@x.com") not in rows  # away on PTO: neither charged nor credited


def test_a_stored_decision_explains_itself_and_replays_to_the_same_owner(db):
    router = Router(db, CONFIG, config_version="v1")
    for i in range(5):
        router.route(RoutingInput(lead(i)), Snapshot(), MONDAY_3PM_UTC)
    inp = RoutingInput(
        lead(42, email="jo@acme.example", country="US"),
        account("c@x.com"),
        match_method="domain",
        match_confidence=0.9,
        fit="A",
        activity="2",
        grade="A2",
        score_breakdown=("fit +30: 250 employees", "activity +20: demo request"),
    )
    original = router.route(inp, Snapshot(open_leads={"a@x.com": 3}), MONDAY_3PM_UTC)
    (stored,) = decisions_for_lead(db, inp.lead.id)
    assert stored.decision == original
    text = "\n".join(explain(stored.decision))
    for expected in (
        "Account Acme (hubspot:companies:77), matched by domain, confidence 0.90, owned by c@x.com",
        "grade A2, fit A, activity 2",
        "fit +30: 250 employees",
        "account owner c@x.com is unavailable: on PTO until 2026-11-24",
        "rule file version v1",
    ):
        assert expected in text
    replayed = replay(stored.decision, CONFIG)
    assert replayed.assignments == original.assignments
    assert replayed.trace == original.trace
    assert replayed.delta == original.delta


def test_final_fallback_is_flagged_stored_and_logged_as_a_warning(db):
    router = Router(db, routing([rep("a@x.com", working_hours="09:00-17:00", working_days=["mon"])]))
    with capture_logs() as logs:
        decision = router.route(RoutingInput(lead(1)), Snapshot(), MONDAY_3PM_UTC + timedelta(days=6))  # Sunday
    assert decision.owner == QUEUE and decision.final_fallback
    warning = next(e for e in logs if e["event"] == "lead_sent_to_final_fallback")
    assert warning["log_level"] == "warning" and "outside working hours" in warning["reason"]
    flagged = db.conn.execute("SELECT final_fallback FROM routing_decisions").fetchone()
    assert flagged == (1,)


def test_a_batch_is_all_or_nothing(db):
    router = Router(db, CONFIG)
    bad = RoutingInput(lead(3, properties={"not json": object()}))
    with pytest.raises(TypeError):
        router.route_many([RoutingInput(lead(1)), RoutingInput(lead(2)), bad], Snapshot(), MONDAY_3PM_UTC)
    assert db.conn.execute("SELECT COUNT(*) FROM routing_decisions").fetchone() == (0,)
    assert router.ledger == load_ledger(db)
    assert router.ledger.entries == {}


def test_retention_prunes_old_decisions_only_when_configured(db):
    router = Router(db, CONFIG)
    router.route(RoutingInput(lead(1)), Snapshot(), MONDAY_3PM_UTC - timedelta(days=100))
    router.route(RoutingInput(lead(2)), Snapshot(), MONDAY_3PM_UTC)
    assert prune(db, now=MONDAY_3PM_UTC, retention_days=90) == 0  # not yet in the ledger checkpoint: still needed
    router.checkpoint()
    assert prune(db, now=MONDAY_3PM_UTC, retention_days=None) == 0
    assert prune(db, now=MONDAY_3PM_UTC, retention_days=90) == 1
    assert [s.decision.lead_id for s in decisions_since(db, MONDAY_3PM_UTC - timedelta(days=365))] == [lead(2).id]


def test_router_housekeeping_keeps_credits_and_recent_cap_counters(db):
    config = routing([rep("a@x.com"), rep("b@x.com")], decision_retention_days=30)
    router = Router(db, config)
    router.route(RoutingInput(lead(1)), Snapshot(), MONDAY_3PM_UTC - timedelta(days=40))
    router.route(RoutingInput(lead(2)), Snapshot(), MONDAY_3PM_UTC)
    assert router.prune(MONDAY_3PM_UTC) == 1
    assert {k[1] for k in router.ledger.counts} == {"d:2026-11-23", "w:2026-W48"}
    assert sum(e.assigned for e in router.ledger.entries.values()) == 2  # fairness history is never pruned


def _route_some(db):
    router = Router(db, CONFIG, config_version="v1")
    inputs = [RoutingInput(lead(i)) for i in range(3)] + [RoutingInput(lead(9), account("c@x.com"), "domain", 0.9)]
    return [router.route(inp, Snapshot(), MONDAY_3PM_UTC + timedelta(minutes=i)) for i, inp in enumerate(inputs)]


def test_a_stored_decision_reads_back_equal_to_the_one_routed_and_stays_small(db):
    decisions = _route_some(db)
    assert [s.decision for s in decisions_since(db, MONDAY_3PM_UTC)] == decisions
    sizes = [n for (n,) in db.conn.execute("SELECT length(payload) + length(trace_z) FROM routing_decisions")]
    whole = [len(dumps(d)) for d in decisions]  # what the first schema stored: the whole decision as JSON
    assert all(size < full * 0.75 for size, full in zip(sizes, whole, strict=True))


def test_decisions_logged_before_the_compact_format_still_explain_and_replay(db):
    decisions = _route_some(db)
    # Rewrite the rows as the first schema stored them: the whole decision as JSON in the payload.
    for (row_id,), decision in zip(
        db.conn.execute("SELECT id FROM routing_decisions ORDER BY id"), decisions, strict=True
    ):
        db.conn.execute(
            "UPDATE routing_decisions SET payload = ?, trace_z = NULL WHERE id = ?", (dumps(decision), row_id)
        )
    assert [s.decision for s in decisions_since(db, MONDAY_3PM_UTC)] == decisions
    assert [explain(s.decision) for s in decisions_for_lead(db, decisions[0].lead_id)] == [explain(decisions[0])]
    assert [h.reads for h in history_since(db, MONDAY_3PM_UTC)] == [d.reads for d in decisions]


def _router_with(db, decisions_of_reps: int):
    reps = [rep(f"r{i}@x.com", team="T") for i in range(decisions_of_reps)]
    return Router(db, routing(reps, steps=[{"kind": "pool", "pool": "all"}]), config_version="v1")


@pytest.mark.parametrize("reps", [1, 80])
def test_decisions_of_small_and_large_teams_are_stored_in_the_current_format_and_read_back(db, reps):
    router = _router_with(db, reps)
    decisions = [router.route(RoutingInput(lead(i)), Snapshot(), MONDAY_3PM_UTC) for i in range(3)]
    details = [detail for (detail,) in db.conn.execute("SELECT trace_z FROM routing_decisions ORDER BY id")]
    # The format tag: v5 (7) is what this version writes, whatever the team's size (tests/routing/test_codec_v5.py
    # covers its layout; older rows are read by test_codec_v4.py, test_codec_v3.py and the tests below).
    assert {detail[0] for detail in details} == {7}
    assert [s.decision for s in decisions_since(db, MONDAY_3PM_UTC)] == decisions
    assert load_ledger(db) == router.ledger


def test_decisions_logged_in_the_first_compressed_format_still_explain_replay_and_load(db):
    decisions = _route_some(db)
    # Rewrite the details as they were written before the versioned format: zlib of one row per item.
    for (row_id,), decision in zip(
        db.conn.execute("SELECT id FROM routing_decisions ORDER BY id"), decisions, strict=True
    ):
        db.conn.execute("UPDATE routing_decisions SET trace_z = ? WHERE id = ?", (detail_v1(decision), row_id))
    assert [s.decision for s in decisions_since(db, MONDAY_3PM_UTC)] == decisions
    assert [explain(s.decision) for s in decisions_for_lead(db, decisions[0].lead_id)] == [explain(decisions[0])]
    assert [h.reads for h in history_since(db, MONDAY_3PM_UTC)] == [d.reads for d in decisions]
    assert load_ledger(db) == Router(db, CONFIG).ledger
    stored = decisions_for_lead(db, decisions[-1].lead_id)[0]
    assert replay(stored.decision, CONFIG).assignments == decisions[-1].assignments


@pytest.fixture
def log_level():
    """Set the log level for a test; the default configuration comes back afterwards."""
    yield lambda level: configure(json=True, level=level)
    configure()


def test_a_quiet_daemon_logs_no_routed_leads_and_a_level_change_takes_effect_at_once(db, log_level):
    router = Router(db, CONFIG)
    log_level("WARNING")
    with capture_logs() as quiet:
        router.route(RoutingInput(lead(1)), Snapshot(), MONDAY_3PM_UTC)
    log_level("INFO")
    with capture_logs() as chatty:
        router.route(RoutingInput(lead(2)), Snapshot(), MONDAY_3PM_UTC)
    assert [e["event"] for e in quiet] == []
    assert [(e["event"], e["lead_id"]) for e in chatty] == [("lead_routed", "hubspot:contacts:2")]
