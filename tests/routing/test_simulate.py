"""Backtesting a candidate rule file on logged leads."""

from __future__ import annotations

from datetime import timedelta

from connector.db import connect
from connector.routing.model import RoutingInput, Snapshot
from connector.routing.router import Router
from connector.routing.simulate import simulate
from connector.routing.store import decisions_since, history_since

from .builders import MONDAY_3PM_UTC, QUEUE, lead, rep, routing

TEAM = [rep("a@x.com"), rep("b@x.com"), rep("de@x.com")]
CURRENT = routing(TEAM)
CANDIDATE = routing(
    TEAM,
    steps=[
        {"kind": "rules", "rules": [{"name": "germany", "when": {"country": ["DE"]}, "to": {"rep": "de@x.com"}}]},
        {"kind": "pool", "pool": "rest"},
    ],
    pools=[{"name": "rest", "reps": ["a@x.com", "b@x.com"]}],
)


def _history(tmp_path, count=30):
    db = connect(tmp_path / "history.sqlite")
    router = Router(db, CURRENT, config_version="current")
    for i in range(count):
        country = "DE" if i % 3 == 0 else "US"
        router.route(RoutingInput(lead(i, country=country)), Snapshot(), MONDAY_3PM_UTC + timedelta(minutes=i))
    return list(history_since(db, MONDAY_3PM_UTC - timedelta(days=1)))


def test_simulation_compares_owners_and_explains_each_change(tmp_path):
    history = _history(tmp_path)
    report = simulate(CANDIDATE, history)
    assert report.total == 30
    counts = {c.owner: (c.before, c.after) for c in report.owners}
    assert counts == {"a@x.com": (10, 10), "b@x.com": (10, 10), "de@x.com": (10, 10)}
    assert report.changes, "the German leads move to de@x.com and the rest rebalance"
    german = [c for c in report.changes if c.after == "de@x.com"]
    assert german and all("rule germany matched" in c.why for c in german)
    assert all(c.via.startswith(("rules", "default pool")) for c in report.changes)
    assert report.fallbacks == () and report.fallbacks_before == 0


def test_simulation_replaying_the_same_file_changes_nothing(tmp_path):
    report = simulate(CURRENT, _history(tmp_path))
    assert report.changes == ()
    assert all(c.before == c.after for c in report.owners)


def test_simulation_reports_fallbacks_and_pressure(tmp_path):
    history = _history(tmp_path, count=12)
    capped = routing([rep("a@x.com", caps={"per_day": 2}), rep("b@x.com", caps={"per_day": 2})])
    report = simulate(capped, history)
    assert len(report.fallbacks) == 8
    assert {o.owner: o.after for o in report.owners}[QUEUE] == 8
    pressure = {(rep_, code): n for rep_, code, n in report.pressure}
    assert pressure[("a@x.com", "cap_day")] == 9 and pressure[("b@x.com", "cap_day")] == 8


def test_light_history_reads_the_same_leads_as_full_decisions(tmp_path):
    light = _history(tmp_path)
    full = [
        s.decision for s in decisions_since(connect(tmp_path / "history.sqlite"), MONDAY_3PM_UTC - timedelta(days=1))
    ]
    assert [(r.lead_id, r.owner, r.decided_at, r.input, r.reads) for r in light] == [
        (d.lead_id, d.owner, d.decided_at, d.input, d.reads) for d in full
    ]
    assert simulate(CANDIDATE, light) == simulate(CANDIDATE, full)
