"""Weighted round-robin you can see: shares track weights, PTO returns are calm, team changes reset nobody."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from itertools import pairwise

from connector.routing.ledger import LedgerState

from .builders import MONDAY_3PM_UTC, decide, lead, rep, routing


def _stream(config, ledger, count, *, start=0, now=MONDAY_3PM_UTC):
    return Counter(decide(config, lead(start + i), ledger=ledger, now=now).owner for i in range(count))


def test_shares_follow_weights_exactly_over_each_cycle():
    config = routing([rep("a@x.com", weight=3), rep("b@x.com", weight=2), rep("c@x.com", weight=1)])
    ledger = LedgerState()
    assert _stream(config, ledger, 600) == {"a@x.com": 300, "b@x.com": 200, "c@x.com": 100}
    # Smooth: no rep waits more than its fair gap (c gets one lead in every 6, never two in a row).
    owners = [decide(config, lead(i), ledger=ledger).owner for i in range(12)]
    assert Counter(owners[:6]) == {"a@x.com": 3, "b@x.com": 2, "c@x.com": 1}
    assert all(not (x == y == "c@x.com") for x, y in pairwise(owners))


def test_ledger_shows_expected_and_actual_per_rep():
    config = routing([rep("a@x.com", weight=3), rep("b@x.com", weight=1)])
    ledger = LedgerState()
    _stream(config, ledger, 10)
    a, b = ledger.entry("all", "a@x.com"), ledger.entry("all", "b@x.com")
    assert (round(a.expected, 6), a.assigned) == (7.5, 8)
    assert (round(b.expected, 6), b.assigned) == (2.5, 2)
    assert round(a.credit, 6) == -0.5 and round(b.credit, 6) == 0.5  # b is owed half a lead


def test_rep_returning_from_pto_resumes_at_weight_without_a_flood():
    pto = [{"start": "2026-11-23", "end": "2026-11-27"}]
    away = routing([rep("a@x.com"), rep("b@x.com"), rep("c@x.com", pto=pto)])
    ledger = LedgerState()
    _stream(away, ledger, 300)  # a week of leads while c is away
    back = MONDAY_3PM_UTC + timedelta(days=7)
    first_day = _stream(away, ledger, 30, start=1000, now=back)
    assert first_day == {"a@x.com": 10, "b@x.com": 10, "c@x.com": 10}


def test_catch_up_policy_gives_a_bounded_head_start_on_return():
    pto = [{"start": "2026-11-23", "end": "2026-11-27"}]
    config = routing(
        [rep("a@x.com"), rep("b@x.com"), rep("c@x.com", pto=pto)],
        fairness={"pto_return": "catch_up", "catch_up_limit": 2},
    )
    ledger = LedgerState()
    _stream(config, ledger, 300)
    assert round(ledger.entry("all", "c@x.com").credit, 6) == 2.0  # capped, not 100
    back = MONDAY_3PM_UTC + timedelta(days=7)
    first = [decide(config, lead(1000 + i), ledger=ledger, now=back).owner for i in range(3)]
    assert first[:2] == ["c@x.com", "c@x.com"]


def test_adding_or_removing_a_rep_resets_nobody():
    two = routing([rep("a@x.com", weight=2), rep("b@x.com")])
    ledger = LedgerState()
    _stream(two, ledger, 7)
    before = {k: ledger.entry("all", k) for k in ("a@x.com", "b@x.com")}
    three = routing([rep("a@x.com", weight=2), rep("b@x.com"), rep("n@x.com")])
    decide(three, lead(99), ledger=ledger)
    assert ledger.entry("all", "a@x.com").assigned + ledger.entry("all", "b@x.com").assigned >= sum(
        e.assigned for e in before.values()
    )
    assert ledger.entry("all", "a@x.com").expected > before["a@x.com"].expected  # history kept, not reset
    assert ledger.entry("all", "n@x.com").expected > 0
    # The newcomer starts level, not with a backlog of leads "owed" since the pool was created.
    assert ledger.entry("all", "n@x.com").credit < 1


def test_a_bulk_import_spreads_across_the_pool():
    config = routing([rep(f"r{i}@x.com") for i in range(5)])
    ledger = LedgerState()
    burst = _stream(config, ledger, 50)  # fifty leads at the same instant
    assert burst == {f"r{i}@x.com": 10 for i in range(5)}


def test_rep_away_does_not_lose_standing_and_others_absorb_the_load():
    config = routing([rep("a@x.com"), rep("b@x.com", caps={"per_day": 5})])
    ledger = LedgerState()
    counts = _stream(config, ledger, 40)
    assert counts == {"a@x.com": 35, "b@x.com": 5}
    # b was skipped (capped), not charged: b's expected only grew while b was eligible.
    assert round(ledger.entry("all", "b@x.com").expected, 6) <= 5.5


def test_least_loaded_prefers_the_rep_with_the_fewest_open_leads_per_weight():
    from connector.routing.model import Snapshot

    reps = [rep("a@x.com", weight=2), rep("b@x.com"), rep("c@x.com")]
    config = routing(reps, [{"name": "all", "reps": [r["email"] for r in reps], "strategy": "least_loaded"}])
    snapshot = Snapshot(open_leads={"a@x.com": 10, "b@x.com": 4, "c@x.com": 6})
    ledger = LedgerState()
    owners = [decide(config, lead(i), snapshot=snapshot, ledger=ledger).owner for i in range(4)]
    # Loads per weight: a 10/2 = 5, b 4, c 6. b takes leads until level with a (5), then a and b alternate.
    assert owners == ["b@x.com", "a@x.com", "b@x.com", "a@x.com"]
