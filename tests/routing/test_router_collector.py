"""A batch is routed with the cyclic garbage collector paused, and the collector is left as the batch found it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from connector.db import connect
from connector.routing.model import RoutingInput, Snapshot
from connector.routing.router import Router

from .builders import MONDAY_3PM_UTC, lead, rep, routing

CONFIG = routing([rep("a@x.com"), rep("b@x.com")], steps=[{"kind": "pool", "pool": "all"}])


@pytest.fixture
def router(tmp_path) -> Iterator[Router]:
    was_on = gc.isenabled()
    yield Router(connect(tmp_path / "leadrelay.sqlite"), CONFIG)
    if was_on:
        gc.enable()


@pytest.mark.parametrize("on_before", [True, False])
def test_the_collector_is_paused_during_a_batch_and_left_as_it_was(router, on_before):
    seen = []
    (gc.enable if on_before else gc.disable)()
    decisions = router.route_many(
        [RoutingInput(lead(i)) for i in range(3)],
        Snapshot(),
        MONDAY_3PM_UTC,
        on_decided=lambda conn, decision: seen.append(gc.isenabled()),
    )
    assert [d.owner for d in decisions] == ["a@x.com", "b@x.com", "a@x.com"]
    assert seen == [False, False, False]
    assert gc.isenabled() is on_before


def test_a_failed_batch_still_gives_the_collector_back(router):
    gc.enable()

    def fail(conn, decision):
        raise RuntimeError("outbox write failed")

    with pytest.raises(RuntimeError):
        router.route_many([RoutingInput(lead(1))], Snapshot(), MONDAY_3PM_UTC, on_decided=fail)
    assert gc.isenabled()
    assert router.route(RoutingInput(lead(2)), Snapshot(), MONDAY_3PM_UTC).owner == "a@x.com"  # rolled back
