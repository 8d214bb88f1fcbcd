"""Crash safety of the whole daemon: SIGKILL ``leadrelay run`` twenty times while it syncs, routes and delivers
against a faulty sandbox; after the restarts every lead was decided once, and each routed lead got exactly one owner
change (to the decided owner), one task and one Slack nudge.

The outbox's own crash test kills only the delivery worker; this one kills the process that routes, at random
points of sync, decision and delivery alike.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from daemon_harness import DaemonProcess, free_port, go_live_now, wait_for, write_config

from adapters.sandbox.generate import iter_seed
from adapters.sandbox.inbound import InboundStream
from adapters.sandbox.store import Change
from adapters.slack.standin import SlackStandIn
from connector.cache import iter_owners
from connector.db import connect
from connector.demo import FormClients

# The suite runs 120 leads; the full run: LEADRELAY_CRASH_LEADS=1000 pytest tests/daemon/test_kill9_while_routing.py
KILLS = int(os.environ.get("LEADRELAY_CRASH_KILLS", "20"))
LEADS = int(os.environ.get("LEADRELAY_CRASH_LEADS", "120"))
FINAL_STATES = "('done', 'conflict', 'skipped', 'dead', 'dropped')"
OWNER_FIELDS = {"hubspot.contacts": "hubspot_owner_id", "salesforce.Lead": "OwnerId"}


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        yield standin


class OwnerChanges:
    """Counts owner changes made through the CRM APIs, per record (the assignment rule's own writes excluded)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_record: Counter[str] = Counter()
        self.last: dict[str, str] = {}

    def __call__(self, change: Change) -> None:
        field = OWNER_FIELDS.get(change.after.kind)
        if change.action != "updated" or field is None or field not in change.changed:
            return
        with self.lock:
            self.by_record[f"{change.after.kind}:{change.after.id}"] += 1
            self.last[f"{change.after.kind}:{change.after.id}"] = str(change.changed[field])


def _db_rows(loaded: Any, sql: str) -> list[Any]:
    db = connect(loaded.config.database)
    try:
        return db.conn.execute(sql).fetchall()
    finally:
        db.conn.close()


@pytest.mark.slow
def test_sigkill_twenty_times_while_routing_loses_nothing_and_doubles_nothing(tmp_path, sandbox, slack):
    sandbox.admin.seed(iter_seed(contacts=200, seed=3))
    port = free_port()
    loaded = write_config(tmp_path, sandbox, slack.base_url, port=port, poll_s=0.5, webhooks=False)
    go_live_now(loaded)
    assert loaded.path is not None
    changes = OwnerChanges()
    sandbox.call(sandbox.context.store.subscribe, changes)
    clients, stream = FormClients(loaded), InboundStream(sandbox.context.store, seed=23)
    created = []
    for _ in range(LEADS):
        lead = sandbox.call(stream.next)
        created.append((lead.crm, clients.create(lead.crm, lead.properties)))
    changes.by_record.clear()  # the Salesforce assignment rule's queue assignment on create is not ours

    rng = random.Random(2026)
    with sandbox.faults("5xx=0.1,429=0.05,reset=0.02", seed=5):
        for round_ in range(KILLS):
            daemon = DaemonProcess(loaded.path, port, tmp_path / f"daemon-{round_}.log")
            time.sleep(rng.uniform(1.0, 3.5))  # start-up takes ~1 s: kills land in sync, routing and delivery
            daemon.kill()
        final = DaemonProcess(loaded.path, port, tmp_path / "daemon-final.log")
        try:
            ids = {f"hubspot:contacts:{n}" if crm == "hubspot" else f"salesforce:Lead:{n}" for crm, n in created}

            def settled() -> bool:
                try:
                    handled = {row[0] for row in _db_rows(loaded, "SELECT lead_id FROM pipeline_leads")}
                    pending = _db_rows(loaded, f"SELECT COUNT(*) FROM outbox_items WHERE state NOT IN {FINAL_STATES}")
                except sqlite3.OperationalError:  # on a loaded machine no killed run may have got to migrating
                    return False
                return ids <= handled and pending[0][0] == 0

            wait_for(
                settled,
                120 + LEADS // 5,
                what=f"every lead handled and delivered; log: {final.logs()[-1500:]}",
                every_s=0.5,
            )
            assert final.stop() == 0
        finally:
            final.kill()

    decided = Counter(row[0] for row in _db_rows(loaded, "SELECT lead_id FROM routing_decisions"))
    assert all(decided[i] <= 1 for i in ids), "no lead was decided twice"
    routed = dict(_db_rows(loaded, "SELECT lead_id, decision_id FROM pipeline_leads WHERE status = 'routed'"))
    assert routed and set(routed) <= ids
    assert {i for i in ids if decided[i] == 1} == set(routed)
    dead = _db_rows(loaded, "SELECT COUNT(*) FROM outbox_items WHERE state IN ('dead', 'conflict')")[0][0]
    assert dead == 0, "faults were all ridden out by retries; no human changed an owner"

    db = connect(loaded.config.database)
    owners = {o.key: o for o in iter_owners(db)}
    decision_owner = dict(db.conn.execute("SELECT lead_id, owner FROM routing_decisions").fetchall())
    db.conn.close()
    tasks = Counter(
        t.properties.get("leadrelay_decision_id")
        for t in sandbox.call(lambda: list(sandbox.context.store.iter_all("hubspot.tasks")))
    )
    tasks.update(
        t.properties.get("LeadRelay_Decision_Id__c")
        for t in sandbox.call(lambda: list(sandbox.context.store.iter_all("salesforce.Task")))
    )
    nudges = slack.per_decision()
    for lead_id, decision_id in routed.items():
        crm, _obj, native = lead_id.split(":", 2)
        key = f"{'hubspot.contacts' if crm == 'hubspot' else 'salesforce.Lead'}:{native}"
        assert changes.by_record[key] == 1, f"{lead_id}: {changes.by_record[key]} owner writes"
        assert changes.last[key] == owners[decision_owner[lead_id]].crm_ids[crm]
        assert tasks[decision_id] == 1, f"{lead_id}: {tasks[decision_id]} tasks"
        assert nudges.get(decision_id) == 1, f"{lead_id}: {nudges.get(decision_id)} Slack messages"
