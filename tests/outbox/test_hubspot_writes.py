"""Owner write-back and tasks in HubSpot, through the real hubspot-api-client against the CRM sandbox."""

from __future__ import annotations

from typing import Any

import pytest
import sqlite_utils
from outbox_factories import HOSTILE, assignment
from sandbox_world import associations, hubspot_company, hubspot_contacts, owner_of, records

from adapters.hubspot.writes import HubSpotOwnerWriter, HubSpotTaskWriter
from adapters.sandbox.runner import SandboxServer
from connector.config.actions import ActionsConfig, OutboxConfig
from connector.db import transaction
from connector.outbox import store
from connector.outbox.model import Assignment, EffectKind, ItemState, Outcome, RecordRef
from connector.outbox.worker import OutboxWorker
from connector.retry import RetryPolicy

FAST_RETRY = RetryPolicy(attempts=6, initial_s=0.01, max_s=0.05, jitter_s=0.0, max_retry_after_s=0.05)
FAST = OutboxConfig(backoff_s=0.01, backoff_max_s=0.05, poll_interval_s=0.01, max_attempts=10)
ACTIONS = ActionsConfig()


def _worker(db: sqlite_utils.Database, client: Any) -> OutboxWorker:
    performers = [
        HubSpotOwnerWriter(client, retry=FAST_RETRY),
        HubSpotTaskWriter(client, ACTIONS, retry=FAST_RETRY),
    ]
    return OutboxWorker(db, performers, FAST)


def _assign(contact_id: str, n: int, **extra: Any) -> Assignment:
    return assignment(n, lead=RecordRef("hubspot", "contacts", contact_id), **extra)


def _enqueue(db: sqlite_utils.Database, items: list[Assignment]) -> None:
    with transaction(db) as conn:
        for item in items:
            store.enqueue(conn, item, ACTIONS)


def test_owner_and_task_are_written_once_with_associations(
    db: sqlite_utils.Database, sandbox: SandboxServer, hubspot_client: Any
) -> None:
    (contact,) = hubspot_contacts(sandbox, 1)
    account = hubspot_company(sandbox)
    _enqueue(db, [_assign(contact, 1, account=account)])
    _worker(db, hubspot_client).run_until_empty(timeout_s=20)
    assert store.counts(db) == {"done": 2}
    assert owner_of(sandbox, "hubspot.contacts", contact) == "200"
    (task,) = records(sandbox, "hubspot.tasks")
    props = task.properties
    assert props["hubspot_owner_id"] == "200" and props["leadrelay_decision_id"] == "dec-00001"
    assert props["hs_task_type"] == "CALL" and props["hs_task_subject"].startswith("Call: Ada Lovelace")
    assert "Territory EMEA" in props["hs_task_body"] and "prospect" in props["hs_task_body"]
    assert associations(sandbox, "hubspot.tasks", task.id, "hubspot.contacts") == [204]
    assert associations(sandbox, "hubspot.tasks", task.id, "hubspot.companies") == [192]


def test_a_human_reassignment_is_never_overwritten(
    db: sqlite_utils.Database, sandbox: SandboxServer, hubspot_client: Any
) -> None:
    contacts = hubspot_contacts(sandbox, 2)
    _enqueue(db, [_assign(c, n) for n, c in enumerate(contacts)])
    sandbox.admin.change_owner("hubspot", contacts[0], "777")  # a manager reassigns before we write
    _worker(db, hubspot_client).run_until_empty(timeout_s=20)
    assert owner_of(sandbox, "hubspot.contacts", contacts[0]) == "777"
    assert owner_of(sandbox, "hubspot.contacts", contacts[1]) == "200"
    conflict = store.list_items(db, states=[ItemState.CONFLICT])
    assert [i.decision_id for i in conflict] == ["dec-00000"] and "777" in (conflict[0].result or "")
    skipped = store.list_items(db, states=[ItemState.SKIPPED])
    assert [(i.decision_id, i.kind) for i in skipped] == [("dec-00000", EffectKind.CREATE_TASK)]
    assert len(records(sandbox, "hubspot.tasks")) == 1


def test_a_burst_uses_batch_calls(db: sqlite_utils.Database, sandbox: SandboxServer, hubspot_client: Any) -> None:
    contacts = hubspot_contacts(sandbox, 150)
    _enqueue(db, [_assign(c, n) for n, c in enumerate(contacts)])
    before = sandbox.admin.stats()["requests"]["total"]
    _worker(db, hubspot_client).run_until_empty(timeout_s=30)
    calls = sandbox.admin.stats()["requests"]["total"] - before
    assert store.counts(db) == {"done": 300}
    assert calls == 6  # per 100 leads: one owner read, one owner update, one task create
    assert len(records(sandbox, "hubspot.tasks")) == 150


def test_faults_never_double_a_task(db: sqlite_utils.Database, sandbox: SandboxServer, hubspot_client: Any) -> None:
    contacts = hubspot_contacts(sandbox, 60)
    _enqueue(db, [_assign(c, n) for n, c in enumerate(contacts)])
    with sandbox.faults("5xx=0.2,429=0.1,reset=0.05", seed=7):
        _worker(db, hubspot_client).run_until_empty(timeout_s=40)
    assert store.counts(db) == {"done": 120}
    per_decision: dict[str, int] = {}
    for task in records(sandbox, "hubspot.tasks"):
        key = task.properties["leadrelay_decision_id"]
        per_decision[key] = per_decision.get(key, 0) + 1
    assert per_decision == {f"dec-{n:05d}": 1 for n in range(60)}
    assert all(owner_of(sandbox, "hubspot.contacts", c) == "200" for c in contacts)


@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_values_reach_the_task_escaped(
    db: sqlite_utils.Database, sandbox: SandboxServer, hubspot_client: Any, value: str
) -> None:
    (contact,) = hubspot_contacts(sandbox, 1)
    _enqueue(db, [_assign(contact, 1, name=value, company=value, why=(value,))])
    _worker(db, hubspot_client).run_until_empty(timeout_s=20)
    (task,) = records(sandbox, "hubspot.tasks")
    body, subject = task.properties["hs_task_body"], task.properties["hs_task_subject"]
    assert "<script>" not in body and "<b>bold</b>" not in body and "<!channel>" not in body
    assert len(subject) <= 255 and len(body) <= 30_000
    assert not any(ord(c) < 32 for c in subject + body)


def test_a_task_created_by_a_worker_that_died_is_not_created_again(
    db: sqlite_utils.Database, sandbox: SandboxServer, hubspot_client: Any
) -> None:

    contacts = hubspot_contacts(sandbox, 2)
    _enqueue(db, [_assign(c, n) for n, c in enumerate(contacts)])
    # A worker wrote the owners, claimed the tasks, created the first one, and was killed before recording it.
    owners = store.claim(db, EffectKind.SET_OWNER, "hubspot", limit=5, worker="dead", lease_s=60)
    store.complete(db, "dead", [(j.item, Outcome.done()) for j in owners], FAST)
    claimed = store.claim(db, EffectKind.CREATE_TASK, "hubspot", limit=5, worker="dead", lease_s=0)
    assert len(claimed) == 2  # and the lease has already run out
    sandbox.call(
        lambda: sandbox.context.store.create(
            "hubspot.tasks", {"leadrelay_decision_id": "dec-00000", "hs_task_subject": "made before the crash"}
        )
    )
    _worker(db, hubspot_client).run_until_empty(timeout_s=20)
    assert store.counts(db) == {"done": 4}
    tasks = sorted(t.properties["leadrelay_decision_id"] for t in records(sandbox, "hubspot.tasks"))
    assert tasks == ["dec-00000", "dec-00001"]
    assert "existed already" in (store.list_items(db, decision_id="dec-00000", states=[ItemState.DONE])[0].result or "")


def test_a_contact_deleted_before_the_write_fails_alone_and_its_neighbours_are_written(
    db: sqlite_utils.Database, sandbox: SandboxServer, hubspot_client: Any
) -> None:
    contacts = hubspot_contacts(sandbox, 3)
    _enqueue(db, [_assign(c, n) for n, c in enumerate(contacts)])
    sandbox.call(lambda: sandbox.context.store.archive("hubspot.contacts", contacts[1]))  # deleted in HubSpot
    _worker(db, hubspot_client).run_until_empty(timeout_s=20)
    assert [owner_of(sandbox, "hubspot.contacts", c) for c in (contacts[0], contacts[2])] == ["200", "200"]
    dead = {i.kind: i for i in store.list_items(db, states=[ItemState.DEAD])}
    assert {i.decision_id for i in dead.values()} == {"dec-00001"}  # the batch's other records went through
    assert "not found" in (dead[EffectKind.SET_OWNER].last_error or "")  # from the batch read's 207 errors
    assert "does not exist" in (dead[EffectKind.CREATE_TASK].last_error or "")  # from the batch create's 207 errors
    assert len(records(sandbox, "hubspot.tasks")) == 2
