"""Owner write-back and tasks in Salesforce, through the real simple-salesforce against the CRM sandbox (TLS)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlite_utils
from outbox_factories import HOSTILE, assignment
from sandbox_world import owner_of, records, salesforce_records, salesforce_users

from adapters.salesforce.writes import SalesforceOwnerWriter, SalesforceTaskWriter
from adapters.sandbox.runner import SandboxServer
from connector.config.actions import ActionsConfig, OutboxConfig
from connector.db import transaction
from connector.outbox import store
from connector.outbox.model import AccountCard, Assignment, EffectKind, ItemState, Outcome, RecordRef
from connector.outbox.worker import OutboxWorker
from connector.retry import RetryPolicy

FAST_RETRY = RetryPolicy(attempts=6, initial_s=0.01, max_s=0.05, jitter_s=0.0, max_retry_after_s=0.05)
FAST = OutboxConfig(backoff_s=0.01, backoff_max_s=0.05, poll_interval_s=0.01, max_attempts=10)
ACTIONS = ActionsConfig()


def _worker(db: sqlite_utils.Database, sf: Any) -> OutboxWorker:
    performers = [SalesforceOwnerWriter(sf, retry=FAST_RETRY), SalesforceTaskWriter(sf, ACTIONS, retry=FAST_RETRY)]
    return OutboxWorker(db, performers, FAST)


def _assign(record_id: str, n: int, previous: str, ours: str, sobject: str = "Lead", **extra: Any) -> Assignment:
    return assignment(
        n,
        crm="salesforce",
        lead=RecordRef("salesforce", sobject, record_id),
        previous_owner=previous,
        owner_id=ours,
        **extra,
    )


def _enqueue(db: sqlite_utils.Database, items: list[Assignment]) -> None:
    with transaction(db) as conn:
        for item in items:
            store.enqueue(conn, item, ACTIONS)


def test_the_assignment_rule_never_overrides_our_owner(
    db: sqlite_utils.Database, sandbox: SandboxServer, sf: Any
) -> None:
    rule_target, ours = salesforce_users(sandbox, 2)  # the rule would hand leads to the first active user
    leads = salesforce_records(sandbox, "Lead", 3, rule_target)
    _enqueue(db, [_assign(lead, n, rule_target, ours) for n, lead in enumerate(leads)])
    _worker(db, sf).run_until_empty(timeout_s=20)
    assert store.counts(db) == {"done": 6}
    assert [owner_of(sandbox, "salesforce.Lead", lead, "OwnerId") for lead in leads] == [ours] * 3
    tasks = records(sandbox, "salesforce.Task")
    assert sorted(t.properties["LeadRelay_Decision_Id__c"] for t in tasks) == ["dec-00000", "dec-00001", "dec-00002"]
    task = tasks[0].properties
    assert task["OwnerId"] == ours and task["WhoId"] in leads and "WhatId" not in task
    assert task["Type"] == "Call" and task["ActivityDate"] == "2027-01-15" and "Territory EMEA" in task["Description"]


def test_a_single_task_is_upserted_and_a_contact_task_is_on_its_account(
    db: sqlite_utils.Database, sandbox: SandboxServer, sf: Any
) -> None:
    previous, ours = salesforce_users(sandbox, 2)
    (contact,) = salesforce_records(sandbox, "Contact", 1, previous)
    account_id = sandbox.call(lambda: sandbox.context.store.create("salesforce.Account", {"Name": "Acme"}).id)
    account = AccountCard(name="Acme", record=RecordRef("salesforce", "Account", account_id))
    _enqueue(db, [_assign(contact, 1, previous, ours, "Contact", account=account)])
    _worker(db, sf).run_until_empty(timeout_s=20)
    (task,) = records(sandbox, "salesforce.Task")
    assert task.properties["WhatId"] == account_id and task.properties["WhoId"] == contact
    assert owner_of(sandbox, "salesforce.Contact", contact, "OwnerId") == ours


def test_a_human_reassignment_is_never_overwritten(db: sqlite_utils.Database, sandbox: SandboxServer, sf: Any) -> None:
    previous, ours, manager_pick = salesforce_users(sandbox, 3)
    leads = salesforce_records(sandbox, "Lead", 2, previous)
    _enqueue(db, [_assign(lead, n, previous, ours) for n, lead in enumerate(leads)])
    sandbox.admin.change_owner("salesforce", leads[1], manager_pick)
    _worker(db, sf).run_until_empty(timeout_s=20)
    assert owner_of(sandbox, "salesforce.Lead", leads[1], "OwnerId") == manager_pick
    assert owner_of(sandbox, "salesforce.Lead", leads[0], "OwnerId") == ours
    assert [i.decision_id for i in store.list_items(db, states=[ItemState.CONFLICT])] == ["dec-00001"]
    assert len(records(sandbox, "salesforce.Task")) == 1


def test_faults_never_double_a_task(db: sqlite_utils.Database, sandbox: SandboxServer, sf: Any) -> None:
    previous, ours = salesforce_users(sandbox, 2)
    leads = salesforce_records(sandbox, "Lead", 80, previous)
    _enqueue(db, [_assign(lead, n, previous, ours) for n, lead in enumerate(leads)])
    with sandbox.faults("5xx=0.2,429=0.1,reset=0.05,lock=0.05", seed=11):
        _worker(db, sf).run_until_empty(timeout_s=40)
    assert store.counts(db) == {"done": 160}
    per_decision: dict[str, int] = {}
    for task in records(sandbox, "salesforce.Task"):
        key = task.properties["LeadRelay_Decision_Id__c"]
        per_decision[key] = per_decision.get(key, 0) + 1
    assert per_decision == {f"dec-{n:05d}": 1 for n in range(80)}
    assert {owner_of(sandbox, "salesforce.Lead", lead, "OwnerId") for lead in leads} == {ours}


@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_values_reach_the_task_intact_but_bounded(
    db: sqlite_utils.Database, sandbox: SandboxServer, sf: Any, value: str
) -> None:
    previous, ours = salesforce_users(sandbox, 2)
    (lead,) = salesforce_records(sandbox, "Lead", 1, previous)
    _enqueue(db, [_assign(lead, 1, previous, ours, name=value, company=value, decision_id=f"x'{value[:20]}")])
    _worker(db, sf).run_until_empty(timeout_s=20)
    assert store.counts(db) == {"done": 2}
    (task,) = records(sandbox, "salesforce.Task")
    assert len(task.properties["Subject"]) <= 255 and len(task.properties["Description"]) <= 30_000
    assert not any(ord(c) < 32 and c != "\n" for c in task.properties["Description"])


def test_a_task_created_by_a_worker_that_died_is_not_created_again(
    db: sqlite_utils.Database, sandbox: SandboxServer, sf: Any
) -> None:
    previous, ours = salesforce_users(sandbox, 2)
    leads = salesforce_records(sandbox, "Lead", 2, previous)
    _enqueue(db, [_assign(lead, n, previous, ours) for n, lead in enumerate(leads)])
    owners = store.claim(db, EffectKind.SET_OWNER, "salesforce", limit=5, worker="dead", lease_s=60)
    store.complete(db, "dead", [(j.item, Outcome.done()) for j in owners], FAST)
    assert len(store.claim(db, EffectKind.CREATE_TASK, "salesforce", limit=5, worker="dead", lease_s=0)) == 2
    task = {"LeadRelay_Decision_Id__c": "dec-00000", "Subject": "made before the crash", "WhoId": leads[0]}
    sandbox.call(lambda: sandbox.context.store.create("salesforce.Task", task))
    _worker(db, sf).run_until_empty(timeout_s=20)
    assert store.counts(db) == {"done": 4}
    tasks = sorted(t.properties["LeadRelay_Decision_Id__c"] for t in records(sandbox, "salesforce.Task"))
    assert tasks == ["dec-00000", "dec-00001"]
