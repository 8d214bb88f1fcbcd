"""The delivery loop: batching per kind and target, retries, dead letter, independence of effects."""

from __future__ import annotations

import sqlite_utils
from hypothesis import given, settings
from hypothesis import strategies as st
from outbox_factories import FakeCrm, RecordingPerformer, assignment

from connector.config.actions import ActionsConfig, OutboxConfig, SlackConfig
from connector.db import connect, transaction
from connector.errors import AuthError, ServerError
from connector.outbox import store
from connector.outbox.model import EffectKind, ItemState
from connector.outbox.worker import OutboxWorker

FAST = OutboxConfig(backoff_s=0.01, backoff_max_s=0.02, max_attempts=4, poll_interval_s=0.01)
WITH_SLACK = ActionsConfig(slack=SlackConfig(enabled=True))


def _performers(crm: FakeCrm) -> dict[EffectKind, RecordingPerformer]:
    return {
        EffectKind.SET_OWNER: RecordingPerformer(EffectKind.SET_OWNER, "hubspot", crm),
        EffectKind.CREATE_TASK: RecordingPerformer(EffectKind.CREATE_TASK, "hubspot", crm),
        EffectKind.NOTIFY_SLACK: RecordingPerformer(EffectKind.NOTIFY_SLACK, "slack", crm, batch_size=20),
    }


def _enqueue(db: sqlite_utils.Database, count: int) -> None:
    with transaction(db) as conn:
        for n in range(count):
            store.enqueue(conn, assignment(n), WITH_SLACK)


def test_a_burst_is_delivered_in_full_batches(db: sqlite_utils.Database) -> None:
    crm = FakeCrm()
    performers = _performers(crm)
    _enqueue(db, 250)
    OutboxWorker(db, performers.values(), FAST).run_until_empty(timeout_s=10)
    assert performers[EffectKind.SET_OWNER].batches == [100, 100, 50]
    assert performers[EffectKind.CREATE_TASK].batches == [100, 100, 50]
    assert store.counts(db) == {"done": 750}


def test_transient_failures_are_retried_until_done(db: sqlite_utils.Database) -> None:
    crm = FakeCrm()
    performers = _performers(crm)
    performers[EffectKind.SET_OWNER].failures = [ServerError("503", status=503), ServerError("502", status=502)]
    _enqueue(db, 3)
    OutboxWorker(db, performers.values(), FAST).run_until_empty(timeout_s=10)
    assert store.counts(db) == {"done": 9}
    assert all(crm.count(EffectKind.SET_OWNER, f"dec-{n:05d}") == 1 for n in range(3))


def test_slack_down_never_blocks_owner_writes_or_tasks(db: sqlite_utils.Database) -> None:
    crm = FakeCrm()
    performers = _performers(crm)
    performers[EffectKind.NOTIFY_SLACK].failures = [AuthError("invalid_auth")] * 10
    _enqueue(db, 5)
    OutboxWorker(db, performers.values(), FAST).run_until_empty(timeout_s=10)
    assert store.counts(db) == {"done": 10, "dead": 5}
    dead = store.list_items(db, states=[ItemState.DEAD])
    assert {i.kind for i in dead} == {EffectKind.NOTIFY_SLACK}
    assert all("invalid_auth" in (i.last_error or "") for i in dead)


def test_retries_run_out_into_the_dead_letter(db: sqlite_utils.Database) -> None:
    crm = FakeCrm()
    performers = _performers(crm)
    performers[EffectKind.CREATE_TASK].failures = [ServerError("503", status=503)] * 10
    _enqueue(db, 1)
    OutboxWorker(db, performers.values(), FAST).run_until_empty(timeout_s=10)
    (dead,) = store.list_items(db, states=[ItemState.DEAD])
    assert dead.kind is EffectKind.CREATE_TASK and dead.attempts == FAST.max_attempts


def test_a_missing_performer_leaves_its_items_pending(db: sqlite_utils.Database) -> None:
    crm = FakeCrm()
    performers = _performers(crm)
    _enqueue(db, 2)
    worker = OutboxWorker(db, [performers[EffectKind.SET_OWNER], performers[EffectKind.CREATE_TASK]], FAST)
    worker.deliver()
    worker.deliver()
    assert store.counts(db) == {"done": 4, "pending": 2}


@settings(max_examples=25, deadline=None)
@given(failures=st.lists(st.booleans(), min_size=0, max_size=6), count=st.integers(min_value=1, max_value=30))
def test_every_effect_is_performed_exactly_once(failures: list[bool], count: int) -> None:
    db = connect(":memory:")
    store.install(db)
    crm = FakeCrm()
    performers = _performers(crm)
    for kind, fail in zip(EffectKind, failures, strict=False):
        if fail and kind in performers:
            performers[kind].failures = [ServerError("503", status=503)]
    _enqueue(db, count)
    OutboxWorker(db, performers.values(), FAST).run_until_empty(timeout_s=10)
    for kind in performers:
        assert sorted(crm.performed[kind.value]) == sorted(f"dec-{n:05d}" for n in range(count))


def test_a_spent_budget_pauses_the_item_until_the_budget_resumes(db: sqlite_utils.Database) -> None:
    import time

    from connector.errors import BudgetExhaustedError

    crm = FakeCrm()
    performers = _performers(crm)
    performers[EffectKind.SET_OWNER].failures = [BudgetExhaustedError("daily", resume_at=time.time() + 3600)]
    _enqueue(db, 1)
    OutboxWorker(db, performers.values(), FAST).deliver()
    (item,) = [i for i in store.list_items(db) if i.kind is EffectKind.SET_OWNER]
    assert item.state is ItemState.PENDING and item.attempts == 0 and item.next_at > time.time() + 3500
