"""The daemon's delivery lanes: owner writes go out at once, never behind a slow task or Slack nudge."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from daemon_harness import wait_for

from connector.config.actions import ActionsConfig, OutboxConfig, SlackConfig
from connector.daemon.delivery import DeliveryLanes
from connector.db import connect, transaction
from connector.outbox import Assignee, Assignment, EffectKind, Job, LeadCard, Outcome, RecordRef, enqueue, install
from connector.outbox.store import counts
from connector.outbox.worker import PassPacer


@dataclass
class Performer:
    """A CRM or Slack stand-in that records what it did; ``gate`` (when given) holds every call until set."""

    kind: EffectKind
    target: str
    gate: threading.Event | None = None
    batch_size: int = 100
    done: list[str] = field(default_factory=list)
    batches: list[int] = field(default_factory=list)

    def perform(self, jobs: Sequence[Job]) -> list[Outcome]:
        if self.gate is not None:
            self.gate.wait(10)
        self.batches.append(len(jobs))
        self.done += [j.item.decision_id for j in jobs]
        return [Outcome.done("ok")] * len(jobs)


def _assignment(n: int) -> Assignment:
    return Assignment(
        decision_id=f"dec-{n}",
        lead=RecordRef("hubspot", "contacts", str(1000 + n)),
        card=LeadCard(name=f"Lead {n}"),
        owner=Assignee(key="rep@example.com", name="Rita Rep", crm_ids={"hubspot": "200"}, email="rep@example.com"),
        due_ms=1_800_000_000_000,
        previous_owner_id=None,
    )


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "outbox.sqlite"
    db = connect(path)
    install(db)
    db.conn.close()
    return path


@pytest.fixture
def slack_gate() -> Iterator[threading.Event]:
    gate = threading.Event()
    yield gate
    gate.set()


def _enqueue(database: Path, numbers: range) -> None:
    actions = ActionsConfig(slack=SlackConfig(enabled=True, token="xoxb-test"))
    db = connect(database)
    with transaction(db) as conn:
        for n in numbers:
            enqueue(conn, _assignment(n), actions)
    db.conn.close()


def test_owner_writes_are_not_held_up_by_a_stuck_slack_nudge(database, slack_gate):
    owners = Performer(EffectKind.SET_OWNER, "hubspot")
    tasks = Performer(EffectKind.CREATE_TASK, "hubspot")
    slack = Performer(EffectKind.NOTIFY_SLACK, "slack", gate=slack_gate)
    lanes = DeliveryLanes(str(database), [owners, tasks, slack], OutboxConfig(poll_interval_s=5.0))
    lanes.start()
    try:
        _enqueue(database, range(3))
        lanes.wake()
        wait_for(lambda: len(slack.batches) == 0 and len(tasks.done) == 3, 5, what="first decisions' tasks")
        _enqueue(database, range(3, 6))  # Slack is now stuck on the first three nudges
        started = time.monotonic()
        lanes.wake()
        wait_for(lambda: len(owners.done) == 6, 5, what="the later owner writes while Slack hangs", every_s=0.01)
        assert time.monotonic() - started < 1.0, "woken at once, not at the next poll"
        assert slack.done == []
        slack_gate.set()
        wait_for(lambda: len(slack.done) == 6 and len(tasks.done) == 6, 10, what="the rest after Slack recovers")
    finally:
        lanes.stop(5)
        lanes.close()
    db = connect(database)
    assert counts(db) == {"done": 18}
    db.conn.close()


def test_each_lane_delivers_only_its_own_kinds_and_owners_come_first(database):
    owners = Performer(EffectKind.SET_OWNER, "hubspot")
    tasks = Performer(EffectKind.CREATE_TASK, "hubspot")
    slack = Performer(EffectKind.NOTIFY_SLACK, "slack")
    lanes = DeliveryLanes(str(database), [owners, tasks, slack], OutboxConfig(poll_interval_s=5.0))
    _enqueue(database, range(10))
    assert lanes.follow_up.deliver() == 0, "tasks and nudges wait for their owner write"
    assert lanes.owners.deliver() == 10 and owners.batches == [10], "one batch for all due owner writes"
    assert lanes.owners.deliver() == 0
    assert lanes.follow_up.deliver() == 20
    assert (tasks.batches, slack.batches) == ([10], [10])
    lanes.close()


class Ticks:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_paced_passes_go_at_once_after_a_quiet_spell_and_one_per_interval_under_load():
    clock = Ticks()
    pacer = PassPacer(0.2, burst=2, clock=clock)
    assert [pacer.spend(), pacer.spend()] == [0.0, 0.0], "a burst of two passes is not held back"
    assert pacer.spend() == pytest.approx(0.2), "the third waits one interval"
    clock.now += 0.2
    assert pacer.spend() == pytest.approx(0.2), "sustained: one pass per interval"
    clock.now += 5.0  # quiet: the bucket refills, but never beyond the burst
    assert [pacer.spend(), pacer.spend(), pacer.spend()] == [0.0, 0.0, pytest.approx(0.2)]
