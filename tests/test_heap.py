"""The collector policy: a running daemon keeps its loaded data out of CPython's cyclic collector, re-settles so that
nothing frozen leaks, never pays a full collection per lead, and gives the collector back as it found it."""

from __future__ import annotations

import gc
import os
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from daemon.daemon_harness import ENV, free_port, go_live_now, hot_api_lead, wait_for, write_config

from adapters.sandbox.generate import iter_seed
from adapters.slack.standin import SlackStandIn
from connector import heap
from connector.config.loader import load_config
from connector.daemon import Daemon
from connector.relay import CrmParts

EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "leadrelay.example.yaml"


@pytest.fixture(autouse=True)
def collector() -> Iterator[tuple[tuple[int, int, int], int]]:
    """The collector's process-wide state before the test; put back afterwards whatever the test did."""
    before = (gc.get_threshold(), gc.get_freeze_count())
    yield before
    while heap.claimed():
        heap.release()
    if gc.get_freeze_count() and not before[1]:
        gc.unfreeze()
    gc.set_threshold(*before[0])


class Node:
    """Something that can sit in a reference cycle."""

    partner: Node | None = None


def _cycle() -> tuple[Node, weakref.ref[Node]]:
    node = Node()
    node.partner = node  # only the cyclic collector can free it
    return node, weakref.ref(node)


def _frozen(obj: object) -> bool:
    """Whether ``obj`` sits in the permanent generation: tracked, yet in none of the three collected generations."""
    return gc.is_tracked(obj) and not any(o is obj for o in gc.get_objects())


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- the policy on its own --------------------------------------------------------------------------------------------
def test_a_settle_freezes_what_is_loaded_and_stop_gives_the_collector_back(collector):
    thresholds, frozen_before = collector
    loaded = {"accounts": [{"id": n, "domains": [f"a{n}.example"]} for n in range(1000)]}
    policy = heap.HeapPolicy(active=True)
    done = policy.start()
    assert done is not None and done.frozen >= 1000 and done.ms >= 0
    assert _frozen(loaded) and _frozen(loaded["accounts"][0])
    assert gc.get_threshold() == (heap.YOUNG_THRESHOLD, *heap.OLDER_THRESHOLDS)
    policy.stop()
    assert not _frozen(loaded)
    assert (gc.get_threshold(), gc.get_freeze_count()) == (thresholds, frozen_before)


def test_a_frozen_cycle_waits_for_the_resettle_after_the_data_is_replaced_and_is_then_collected():
    clock = FakeClock()
    policy = heap.HeapPolicy(active=True, clock=clock)
    old_index, gone = _cycle()
    finalized: list[str] = []
    weakref.finalize(old_index, finalized.append, "old index")
    policy.start()
    del old_index  # the index is replaced: its cycle is garbage now
    gc.collect()
    assert gone() is not None, "frozen garbage is invisible to collections: the risk the re-settle exists for"
    policy.replaced("account_index")
    assert policy.tend() is None, "too soon after the last settle: the re-settle waits"
    clock.now += heap.MIN_RESETTLE_S
    done = policy.tend()
    assert done is not None and done.reason == "account_index" and done.collected >= 1
    assert gone() is None and finalized == ["old index"]
    policy.stop()


@pytest.mark.parametrize(
    ("changes", "index_size", "reason"),
    [
        (500, 1000, None),  # under MIN_CHURN
        (heap.MIN_CHURN, 5000, "accounts_changed"),
        (4000, 50_000, None),  # 8% of the index
        (5000, 50_000, "accounts_changed"),  # 10%
    ],
)
def test_accounts_churn_resettles_once_a_share_of_the_index_changed(changes, index_size, reason):
    clock = FakeClock()
    policy = heap.HeapPolicy(active=True, clock=clock)
    policy.start(account_changes=100)
    clock.now += heap.MIN_RESETTLE_S
    done = policy.tend(lambda: 100 + changes, lambda: index_size)
    assert (done.reason if done else None) == reason
    policy.stop()


def test_an_old_settle_is_renewed_even_when_nothing_said_so():
    clock = FakeClock()
    policy = heap.HeapPolicy(active=True, clock=clock)
    policy.start()
    clock.now += heap.MAX_SETTLED_AGE_S - 1
    assert policy.tend() is None
    clock.now += 1 + heap.MIN_RESETTLE_S
    done = policy.tend()
    assert done is not None and done.reason == "periodic"
    policy.stop()


def test_the_policy_never_runs_a_full_collection_per_lead():
    """A lead every 10 ms for 20 minutes, each one saying big data was replaced and accounts changed: full
    collections stay at one per ``MIN_RESETTLE_S``, never one per lead."""
    clock = FakeClock()
    policy = heap.HeapPolicy(active=True, clock=clock)
    policy.start()
    leads = [0]  # each lead also changes an account: churn is always over the share
    with heap.watch_collector() as stats:
        while clock.now < 1000.0 + 1200.0:
            clock.now += 0.01
            policy.replaced("config_reload")
            policy.tend(lambda: leads[0] * heap.MIN_CHURN, lambda: 10)
            leads[0] += 1
    policy.stop()
    assert leads[0] >= 119_000
    assert 1 <= stats.collections[2] <= 1200 / heap.MIN_RESETTLE_S + 1


def test_two_users_share_the_collector_and_the_last_one_restores_it(collector):
    thresholds, frozen_before = collector
    first, second = heap.HeapPolicy(active=True), heap.HeapPolicy(active=True)
    first.start()
    second.start()
    first.stop()
    first.stop()  # idempotent: a closed daemon closed again releases nothing more
    assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD, "the other user still holds the collector"
    second.stop()
    assert (gc.get_threshold(), gc.get_freeze_count()) == (thresholds, frozen_before)


def test_an_embedders_own_freeze_survives_the_daemon(collector):
    thresholds, _ = collector
    theirs = {"preloaded": list(range(10))}
    gc.freeze()  # an embedder (a pre-fork server) froze its data before starting a daemon
    policy = heap.HeapPolicy(active=True)
    policy.start()
    policy.stop()
    assert _frozen(theirs) and gc.get_threshold() == thresholds


@pytest.mark.parametrize(("value", "active"), [(None, True), ("settle", True), ("default", False), ("DEFAULT", False)])
def test_leadrelay_collector_default_leaves_the_collector_alone(value, active):
    environ = {} if value is None else {heap.ENV_SWITCH: value}
    assert heap.enabled(environ) is active


# -- in the daemon ----------------------------------------------------------------------------------------------------
@contextmanager
def running(daemon: Daemon) -> Iterator[Daemon]:
    """The daemon's loop on a thread from its first turn on; stopped (and the daemon closed) on the way out."""
    loop = threading.Thread(target=daemon.run, daemon=True)
    loop.start()
    try:
        wait_for(lambda: daemon.turns > 0, 10, what="the daemon's first turn", every_s=0.02)
        yield daemon
    finally:
        daemon.request_stop()
        loop.join(20)
        daemon.close()
    assert not loop.is_alive()


def test_a_running_daemon_keeps_its_account_index_out_of_the_collector_and_gives_it_back(
    tmp_path, sandbox, monkeypatch, collector
):
    thresholds, frozen_before = collector
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(heap.ENV_SWITCH, raising=False)
    sandbox.admin.seed(iter_seed(contacts=20, seed=5))
    with SlackStandIn() as slack:
        loaded = write_config(tmp_path, sandbox, slack.base_url, port=free_port(), poll_s=3600, webhooks=False)
        go_live_now(loaded)
        with running(Daemon(loaded)) as daemon:
            index = daemon.pipeline.preparer.index
            assert len(index) > 0, "the catch-up sync loaded the portal's companies"
            assert _frozen(index) and _frozen(next(iter(index)))
            assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD
    assert not _frozen(index)
    assert (gc.get_threshold(), gc.get_freeze_count()) == (thresholds, frozen_before)


def _config_file(tmp_path: Path) -> Path:
    text = "\n".join(line for line in EXAMPLE.read_text().splitlines() if not line.startswith("database:"))
    path = tmp_path / "leadrelay.yaml"
    path.write_text(f"database: {tmp_path / 'db.sqlite'}\n{text}\ndaemon:\n  idle_wait_s: 0.05\n", encoding="utf-8")
    return path


def test_a_config_reload_rebuilds_the_index_and_the_old_one_is_collected_even_in_a_cycle(tmp_path, collector):
    path = _config_file(tmp_path)
    policy = heap.HeapPolicy(min_interval_s=0, active=True)
    with running(Daemon(load_config(path), parts=CrmParts(), heap_policy=policy)) as daemon:
        old: Any = daemon.pipeline.preparer
        old.itself = old  # a cycle through the replaced index: only a collection can free it, and it is frozen
        gone = weakref.ref(old)
        assert _frozen(old)
        del old
        text = path.read_text(encoding="utf-8").replace("decision_retention_days: 730", "decision_retention_days: 365")
        path.write_text(text, encoding="utf-8")
        stamp = time.time() + 5
        os.utime(path, (stamp, stamp))
        daemon.wake()
        wait_for(lambda: gone() is None, 10, what="the replaced index collected after the re-settle", every_s=0.02)
        wait_for(lambda: _frozen(daemon.pipeline.preparer), 10, what="the new index settled too", every_s=0.05)
        assert daemon.loaded.config.routing.decision_retention_days == 365
    assert (gc.get_threshold(), gc.get_freeze_count()) == collector


def test_routing_leads_through_a_running_daemon_runs_no_full_collection(tmp_path):
    daemon = Daemon(load_config(_config_file(tmp_path)), parts=CrmParts(), heap_policy=heap.HeapPolicy(active=True))
    with running(daemon), heap.watch_collector() as stats:
        routed = sum(daemon.route_lead(hot_api_lead(n), write_back=False).routed for n in range(200))
    assert routed == 200
    assert stats.collections[2] <= 1, stats.render()
