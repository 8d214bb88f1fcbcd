"""The ledger lives in memory and is checkpointed: nothing is lost between checkpoints, even to kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import pytest

from connector.db import connect, migrate
from connector.routing.ledger import LedgerState
from connector.routing.model import RoutingInput, Snapshot
from connector.routing.router import Router
from connector.routing.store import MIGRATIONS, decisions_since, ensure_schema, ledger_rows, load_ledger

from .builders import MONDAY_3PM_UTC, lead, rep, routing

CONFIG = routing(
    [rep("a@x.com", weight=2), rep("b@x.com", caps={"per_day": 5}), rep("c@x.com", weight=0.5)],
    pools=[{"name": "all", "reps": ["a@x.com", "b@x.com", "c@x.com"]}],
)


def _route(router: Router, first: int, count: int) -> list[str]:
    return [
        router.route(RoutingInput(lead(i)), Snapshot(), MONDAY_3PM_UTC + timedelta(minutes=i)).owner
        for i in range(first, first + count)
    ]


def _replayed_from_the_log(db_path: Path) -> LedgerState:
    """The ledger as the sum of every logged decision's delta, from nothing."""
    ledger = LedgerState()
    for stored in decisions_since(connect(db_path), MONDAY_3PM_UTC - timedelta(days=1)):
        ledger.apply(stored.decision.delta)
    return ledger


def test_pools_show_the_same_ledger_whether_or_not_it_was_checkpointed(tmp_path):
    every = Router(connect(tmp_path / "every.sqlite"), CONFIG, checkpoint_every=1)
    rarely = Router(connect(tmp_path / "rarely.sqlite"), CONFIG, checkpoint_every=1_000)
    assert _route(every, 0, 40) == _route(rarely, 0, 40)
    assert ledger_rows(rarely.db) == ledger_rows(every.db)
    assert rarely.db.conn.execute("SELECT COUNT(*) FROM routing_ledger").fetchone() == (0,)  # nothing written yet
    rarely.close()
    assert rarely.db.conn.execute("SELECT COUNT(*) FROM routing_ledger").fetchone() == (3,)
    assert ledger_rows(rarely.db) == ledger_rows(every.db)


def test_a_router_that_never_closed_comes_back_with_every_decision_and_the_rotation_continues(tmp_path):
    path = tmp_path / "leadrelay.sqlite"
    crashed = Router(connect(path), CONFIG, checkpoint_every=7)
    owners = _route(crashed, 0, 30)  # checkpoints after 7, 14, 21, 28 decisions; two decisions only in the log
    restarted = Router(connect(path), CONFIG, checkpoint_every=7)
    assert restarted.ledger == crashed.ledger == _replayed_from_the_log(path)
    uninterrupted = Router(connect(tmp_path / "other.sqlite"), CONFIG)
    assert _route(uninterrupted, 0, 50) == owners + _route(restarted, 30, 20)


def test_a_second_router_on_the_same_database_sees_the_first_ones_decisions(tmp_path):
    path = tmp_path / "leadrelay.sqlite"
    first, second = Router(connect(path), CONFIG), Router(connect(path), CONFIG)
    alone = Router(connect(tmp_path / "alone.sqlite"), CONFIG)
    owners = _route(first, 0, 3) + _route(second, 3, 3) + _route(first, 6, 3)
    assert owners == _route(alone, 0, 9)
    assert first.ledger == load_ledger(second.db) == alone.ledger


def test_a_database_from_before_checkpoints_keeps_its_ledger_without_counting_old_decisions_twice(tmp_path):
    db = connect(tmp_path / "old.sqlite")
    migrate(db, "routing", MIGRATIONS[:2])  # the schema when every decision also updated the ledger tables
    db.conn.execute("INSERT INTO routing_ledger VALUES ('all', 'a@x.com', 0.4, 6.4, 6, 1)")
    db.conn.execute(
        "INSERT INTO routing_decisions (lead_id, stage, decided_at_ms, owner, step, final_fallback, config_version,"
        " payload) VALUES ('x', 'inbound', 1, 'a@x.com', 'default pool', 0, 'v0', ?)",
        ('{"delta": {"credits": [["all", "a@x.com", 0.4, 0.6, 1]], "counts": []}}',),
    )
    ensure_schema(db)
    assert load_ledger(db).entry("all", "a@x.com").assigned == 6


_ROUTE_FOREVER = textwrap.dedent(
    """
    import sys
    from datetime import timedelta
    from connector.db import connect
    from connector.logs import configure
    from connector.routing.model import RoutingInput, Snapshot
    from connector.routing.router import Router
    from tests.routing.builders import MONDAY_3PM_UTC, lead
    from tests.routing.test_ledger_checkpoint import CONFIG

    configure(json=True, level="WARNING")
    router = Router(connect(sys.argv[1]), CONFIG, checkpoint_every=10)
    for i in range(100_000):
        router.route(RoutingInput(lead(i)), Snapshot(), MONDAY_3PM_UTC + timedelta(minutes=i))
        print(i, flush=True)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_kill_9_between_checkpoints_loses_no_ledger_change(tmp_path):
    path = tmp_path / "leadrelay.sqlite"
    root = Path(__file__).resolve().parents[2]
    child = subprocess.Popen(
        [sys.executable, "-c", _ROUTE_FOREVER, str(path)],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert child.stdout is not None
    deadline = time.monotonic() + 60
    while int(child.stdout.readline() or -1) < 64 and time.monotonic() < deadline:
        pass  # past several checkpoints (every 10), then killed at an arbitrary point of the stream
    child.send_signal(signal.SIGKILL)
    child.wait()
    logged = connect(path).conn.execute("SELECT COUNT(*) FROM routing_decisions").fetchone()[0]
    assert logged >= 65
    restarted = Router(connect(path), CONFIG)
    assert restarted.ledger == _replayed_from_the_log(path)
    uninterrupted = Router(connect(tmp_path / "other.sqlite"), CONFIG)
    _route(uninterrupted, 0, logged)
    assert restarted.ledger == uninterrupted.ledger
