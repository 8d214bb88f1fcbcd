"""Backfill and incremental sync of both CRMs against the sandbox, with the real client libraries over sockets."""

from __future__ import annotations

import random
import time

import pytest
import sqlite_utils

from adapters.sandbox.generate import iter_seed
from adapters.sandbox.runner import SandboxServer
from connector.cache import iter_accounts, iter_owners, people_changed_since, person_by_email
from connector.sync.engine import SyncEngine

from .world import assert_cache_matches, mutate_world, store_records


def _seed_world(sandbox: SandboxServer, contacts: int = 300, seed: int = 7) -> None:
    sandbox.admin.seed(list(iter_seed(contacts=contacts, seed=seed)))


def test_backfill_equals_the_sandbox(sandbox: SandboxServer, engine: SyncEngine, cache: sqlite_utils.Database) -> None:
    _seed_world(sandbox)

    report = engine.run_pass()

    assert report.ok and not report.paused
    assert_cache_matches(cache, sandbox)
    modes = {s.stream: s.mode for s in report.streams}
    assert modes["hubspot.contacts"] == "backfill" and modes["salesforce.Lead"] == "backfill"
    assert modes["hubspot.owners"] == "full"


def test_owners_are_one_person_across_crms(
    sandbox: SandboxServer, engine: SyncEngine, cache: sqlite_utils.Database
) -> None:
    _seed_world(sandbox, contacts=100)
    engine.run_pass()

    owners = list(iter_owners(cache))

    both = [o for o in owners if set(o.crm_ids) == {"hubspot", "salesforce"}]
    assert len(both) >= 24  # the demo team is in both CRMs with the same emails
    assert all(o.key == o.email for o in both)
    assert any(o.is_queue and o.key.startswith("queue:salesforce:") for o in owners)
    assert any(not o.active for o in both)  # the team's inactive rep: archived in HubSpot, IsActive false in SF


def test_incremental_after_random_changes_equals_the_sandbox(
    sandbox: SandboxServer, engine: SyncEngine, cache: sqlite_utils.Database
) -> None:
    _seed_world(sandbox)
    engine.run_pass()
    rng = random.Random(11)

    for _ in range(3):
        time.sleep(0.002)  # changes land after the previous pass's upper bound
        done = mutate_world(sandbox, rng, changes=40)
        report = engine.run_pass()
        assert report.ok
        assert_cache_matches(cache, sandbox)

    assert done["deleted"] and done["owner_changed"] and done["created"]
    changed = {s.stream: s.counts for s in report.streams}
    assert changed["hubspot.contacts"].updated + changed["salesforce.Lead"].updated > 0


def test_incremental_reads_only_what_changed(
    sandbox: SandboxServer, engine: SyncEngine, cache: sqlite_utils.Database
) -> None:
    _seed_world(sandbox, contacts=200)
    engine.run_pass()

    report = engine.run_pass()

    assert all(s.counts.created == s.counts.updated == s.counts.deleted == 0 for s in report.streams)
    # One query per stream, plus a second list where deletions are scanned (owner lists, archived lists).
    ceiling = sum(1 + (s.deletions != "inline") for reader in engine.readers for s in reader.streams())
    assert sum(report.requests.values()) <= ceiling


def test_change_feed_reports_created_updated_and_deleted_people(
    sandbox: SandboxServer, engine: SyncEngine, cache: sqlite_utils.Database
) -> None:
    _seed_world(sandbox, contacts=50)
    engine.run_pass()
    position = max(c.seq for c in people_changed_since(cache, 0, limit=10_000))
    store = sandbox.context.store
    contacts = list(store_records(sandbox, "hubspot.contacts"))
    time.sleep(0.002)
    new = sandbox.call(store.create, "hubspot.contacts", {"email": "fresh.lead@newco.io", "firstname": "Fresh"})
    sandbox.call(store.update, "hubspot.contacts", contacts[0], {"jobtitle": "VP Sales"})
    sandbox.call(store.archive, "hubspot.contacts", contacts[1])

    engine.run_pass()
    feed = {c.lead.native_id: c.change for c in people_changed_since(cache, position)}

    assert feed == {new.id: "created", contacts[0]: "updated", contacts[1]: "deleted"}
    assert person_by_email(cache, " Fresh.Lead@NEWCO.io ") is not None


def test_a_change_during_a_pass_is_picked_up_by_the_next(
    sandbox: SandboxServer, readers: list, cache: sqlite_utils.Database
) -> None:
    _seed_world(sandbox, contacts=200)
    SyncEngine(cache, readers).run_pass()
    store = sandbox.context.store
    first = next(iter(store_records(sandbox, "hubspot.contacts")))

    class ChangeMidway:
        """After the first page of a pass, a human edits a record the pass already read."""

        fired = False

        def start(self, stream: str, total: int | None) -> None: ...

        def finish(self, stream: str) -> None: ...

        def advance(self, stream: str, records: int) -> None:
            if stream == "hubspot.contacts" and not self.fired:
                self.fired = True
                sandbox.call(store.update, "hubspot.contacts", first, {"email": "edited.midway@acme-corp.io"})

    time.sleep(0.002)
    sandbox.call(store.update, "hubspot.contacts", first, {"jobtitle": "CTO"})
    engine = SyncEngine(cache, readers, progress=ChangeMidway())
    engine.run_pass()
    engine.run_pass()

    assert_cache_matches(cache, sandbox)


@pytest.mark.parametrize("full", [False, True])
def test_full_resync_deletes_what_the_crm_no_longer_has(
    sandbox: SandboxServer, engine: SyncEngine, cache: sqlite_utils.Database, full: bool
) -> None:
    _seed_world(sandbox, contacts=100)
    engine.run_pass()
    store = sandbox.context.store
    gone = next(iter(store_records(sandbox, "salesforce.Account")))
    # Purged outright (not soft-deleted): only a full re-read can notice.
    sandbox.call(store.conn.execute, "DELETE FROM objects WHERE kind = 'salesforce.Account' AND id = ?", (gone,))

    engine.run_pass(full=full)

    still_there = any(a.native_id == gone for a in iter_accounts(cache, crm="salesforce"))
    assert still_there is not full
