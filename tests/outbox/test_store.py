"""The outbox tables: enqueue in the caller's transaction, leases, outcomes, dead letter, operator actions."""

from __future__ import annotations

import pytest
import sqlite_utils
from outbox_factories import assignment

from connector.config.actions import ActionsConfig, EmailConfig, OutboxConfig, SlackConfig
from connector.db import transaction
from connector.outbox import store
from connector.outbox.model import Assignment, EffectKind, ItemState, Outcome

NOTIFY_ALL = ActionsConfig(slack=SlackConfig(enabled=True), email=EmailConfig(enabled=True))


def _enqueue(db: sqlite_utils.Database, item: Assignment, actions: ActionsConfig = NOTIFY_ALL) -> None:
    with transaction(db) as conn:
        store.enqueue(conn, item, actions, now=1000.0)


def test_enqueue_writes_every_effect_in_the_callers_transaction(db: sqlite_utils.Database) -> None:
    _enqueue(db, assignment(1))
    kinds = {i.kind for i in store.list_items(db)}
    assert kinds == {EffectKind.SET_OWNER, EffectKind.CREATE_TASK, EffectKind.NOTIFY_SLACK, EffectKind.NOTIFY_EMAIL}
    assert store.assignment_of(db, "dec-00001") == assignment(1)


def test_enqueue_rolls_back_with_the_decision(db: sqlite_utils.Database) -> None:
    with pytest.raises(RuntimeError, match="decision failed"), transaction(db) as conn:
        store.enqueue(conn, assignment(1), NOTIFY_ALL)
        raise RuntimeError("decision failed")
    assert store.list_items(db) == []
    assert store.assignment_of(db, "dec-00001") is None


def test_enqueue_outside_a_transaction_is_refused(db: sqlite_utils.Database) -> None:
    with pytest.raises(RuntimeError, match="transaction"):
        store.enqueue(db.conn, assignment(1))


def test_enqueueing_a_decision_twice_adds_nothing(db: sqlite_utils.Database) -> None:
    _enqueue(db, assignment(1))
    with transaction(db) as conn:
        assert store.enqueue(conn, assignment(1), NOTIFY_ALL) == ()
    assert len(store.list_items(db)) == 4


def test_a_leased_item_is_not_claimed_again_until_the_lease_expires(db: sqlite_utils.Database) -> None:
    _enqueue(db, assignment(1))
    first = store.claim(db, EffectKind.SET_OWNER, "hubspot", limit=10, worker="a", lease_s=30, now=1000)
    assert [j.item.decision_id for j in first] == ["dec-00001"]
    assert not first[0].item.maybe_done
    assert store.claim(db, EffectKind.SET_OWNER, "hubspot", limit=10, worker="b", lease_s=30, now=1029) == []
    again = store.claim(db, EffectKind.SET_OWNER, "hubspot", limit=10, worker="b", lease_s=30, now=1031)
    assert again[0].item.maybe_done  # the first worker may have written before it died


def test_a_late_worker_cannot_file_an_outcome_after_losing_its_lease(db: sqlite_utils.Database) -> None:
    _enqueue(db, assignment(1))
    (stale,) = store.claim(db, EffectKind.SET_OWNER, "hubspot", limit=1, worker="a", lease_s=1, now=1000)
    (fresh,) = store.claim(db, EffectKind.SET_OWNER, "hubspot", limit=1, worker="b", lease_s=30, now=1002)
    (filed,) = store.complete(db, "a", [(stale.item, Outcome("dead", "boom"))], OutboxConfig(), now=1003)
    assert filed.lost_lease
    store.complete(db, "b", [(fresh.item, Outcome.done())], OutboxConfig(), now=1004)
    assert store.list_items(db, states=[ItemState.DONE])[0].kind is EffectKind.SET_OWNER


def test_tasks_and_nudges_wait_for_the_owner_write(db: sqlite_utils.Database) -> None:
    _enqueue(db, assignment(1))
    assert store.claim(db, EffectKind.CREATE_TASK, "hubspot", limit=5, worker="w", lease_s=30, now=1000) == []
    (owner,) = store.claim(db, EffectKind.SET_OWNER, "hubspot", limit=5, worker="w", lease_s=30, now=1000)
    store.complete(db, "w", [(owner.item, Outcome.done())], OutboxConfig(), now=1001)
    assert len(store.claim(db, EffectKind.CREATE_TASK, "hubspot", limit=5, worker="w", lease_s=30, now=1001)) == 1


def test_a_conflicting_owner_write_skips_the_task_and_nudges(db: sqlite_utils.Database) -> None:
    _enqueue(db, assignment(1))
    (owner,) = store.claim(db, EffectKind.SET_OWNER, "hubspot", limit=5, worker="w", lease_s=30, now=1000)
    store.complete(db, "w", [(owner.item, Outcome.conflict("owner is now 999"))], OutboxConfig(), now=1001)
    states = {i.kind: i.state for i in store.list_items(db)}
    assert states[EffectKind.SET_OWNER] is ItemState.CONFLICT
    assert {states[k] for k in states if k is not EffectKind.SET_OWNER} == {ItemState.SKIPPED}


@pytest.mark.parametrize(
    ("attempts_before", "outcome", "expected"),
    [
        (0, Outcome("retry", "503"), ItemState.PENDING),
        (2, Outcome("retry", "503"), ItemState.DEAD),  # third claim hits max_attempts=3
        (0, Outcome("dead", "400 bad property"), ItemState.DEAD),
        (0, Outcome.done("ok"), ItemState.DONE),
    ],
)
def test_outcomes_are_filed_with_backoff_and_a_dead_letter(
    db: sqlite_utils.Database, attempts_before: int, outcome: Outcome, expected: ItemState
) -> None:
    _enqueue(db, assignment(1))
    policy = OutboxConfig(max_attempts=3, backoff_s=10)
    now = 1000.0
    for _ in range(attempts_before):
        (job,) = store.claim(db, EffectKind.SET_OWNER, "hubspot", limit=1, worker="w", lease_s=5, now=now)
        store.complete(db, "w", [(job.item, Outcome("retry", "503"))], policy, now=now)
        now += 1000
    (job,) = store.claim(db, EffectKind.SET_OWNER, "hubspot", limit=1, worker="w", lease_s=5, now=now)
    (filed,) = store.complete(db, "w", [(job.item, outcome)], policy, now=now)
    assert filed.state is expected
    (item,) = [i for i in store.list_items(db, states=[expected]) if i.kind is EffectKind.SET_OWNER]
    if expected is ItemState.PENDING:
        assert item.next_at == now + 10


def test_retry_after_is_honoured_when_longer_than_the_backoff(db: sqlite_utils.Database) -> None:
    _enqueue(db, assignment(1))
    (job,) = store.claim(db, EffectKind.SET_OWNER, "hubspot", limit=1, worker="w", lease_s=5, now=1000)
    store.complete(db, "w", [(job.item, Outcome("retry", "429", retry_after=60))], OutboxConfig(), now=1000)
    assert store.claim(db, EffectKind.SET_OWNER, "hubspot", limit=1, worker="w", lease_s=5, now=1059) == []
    assert store.claim(db, EffectKind.SET_OWNER, "hubspot", limit=1, worker="w", lease_s=5, now=1060)


def test_operators_retry_and_drop_dead_items(db: sqlite_utils.Database) -> None:
    for n in (1, 2):
        _enqueue(db, assignment(n), ActionsConfig())
    jobs = store.claim(db, EffectKind.SET_OWNER, "hubspot", limit=5, worker="w", lease_s=5, now=1000)
    store.complete(db, "w", [(j.item, Outcome("dead", "400")) for j in jobs], OutboxConfig(), now=1000)
    dead = store.list_items(db, states=[ItemState.DEAD])
    assert store.drop(db, [dead[0].id]) == 1
    assert store.retry(db) == 1  # all dead ones: the other item
    assert store.counts(db) == {"dropped": 1, "pending": 3}
    retried = store.claim(db, EffectKind.SET_OWNER, "hubspot", limit=5, worker="w", lease_s=5, now=2_000_000_000)
    assert [j.item.attempts for j in retried] == [1]
    assert retried[0].item.maybe_done  # a fresh budget, but it was tried before


def test_a_spent_daily_budget_defers_without_using_up_attempts(db: sqlite_utils.Database) -> None:
    _enqueue(db, assignment(1))
    policy = OutboxConfig(max_attempts=2)
    now = 1000.0
    for _ in range(5):
        (job,) = store.claim(db, EffectKind.SET_OWNER, "hubspot", limit=1, worker="w", lease_s=5, now=now)
        store.complete(db, "w", [(job.item, Outcome("defer", "daily limit", retry_after=3600))], policy, now=now)
        assert store.claim(db, EffectKind.SET_OWNER, "hubspot", limit=1, worker="w", lease_s=5, now=now + 3599) == []
        now += 3600
    (item,) = [i for i in store.list_items(db) if i.kind is EffectKind.SET_OWNER]
    assert item.state is ItemState.PENDING and item.attempts == 0
