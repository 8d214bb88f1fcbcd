"""Sync under the failures production brings: timestamp ties at page boundaries, crashes mid-backfill, injected
faults, broken records. Everything runs against the sandbox with the real client libraries."""

from __future__ import annotations

import time

import pytest
import sqlite_utils
import structlog

from adapters.hubspot import HubSpotReader
from adapters.salesforce import SalesforceReader
from adapters.sandbox.generate import iter_seed
from adapters.sandbox.runner import SandboxServer
from connector.cache import person_by_id
from connector.crm import CrmReader
from connector.sync import cursors
from connector.sync.engine import SyncEngine

from .world import SYNCED_KINDS, assert_cache_matches, hubspot_config, salesforce_config, store_records


def _seed(sandbox: SandboxServer, contacts: int = 300) -> None:
    sandbox.admin.seed(list(iter_seed(contacts=contacts, seed=5)))


def test_ties_on_the_cursor_timestamp_across_page_boundaries_lose_nothing(
    sandbox: SandboxServer, engine: SyncEngine, cache: sqlite_utils.Database
) -> None:
    engine.run_pass()  # empty CRMs: every stream is now incremental
    time.sleep(0.005)
    sandbox.admin.freeze_clock()  # every write below gets the very same timestamp
    tied = [{"kind": "hubspot.contacts", "properties": {"email": f"tie{i}@tie-corp.com"}} for i in range(250)]
    tied += [
        {"kind": "salesforce.Lead", "properties": {"LastName": f"Tie{i}", "Company": "Tie", "Email": f"t{i}@tie.io"}}
        for i in range(450)
    ]
    sandbox.admin.seed(tied)
    time.sleep(0.005)  # the pass's upper bound is after the frozen instant

    report = engine.run_pass()

    pages = {s.stream: s.pages for s in report.streams}
    assert pages["hubspot.contacts"] >= 5 and pages["salesforce.Lead"] >= 3  # 60 and 200 per page: ties span pages
    assert_cache_matches(cache, sandbox)


def test_backfill_aborted_after_some_pages_resumes_without_duplicates_or_gaps(
    sandbox: SandboxServer, readers: list[CrmReader], cache: sqlite_utils.Database
) -> None:
    _seed(sandbox, contacts=400)
    pages = 0

    def stop_after_four_pages() -> bool:
        nonlocal pages
        pages += 1
        return pages > 4

    first = SyncEngine(cache, readers, should_stop=stop_after_four_pages).run_pass()
    assert first.stopped
    state = cursors.load_state(cache.conn, "hubspot.contacts")
    assert state.phase == "backfill"

    second = SyncEngine(cache, readers).run_pass()

    assert_cache_matches(cache, sandbox)
    created = sum(s.counts.created for s in first.streams + second.streams if s.stream in SYNCED_KINDS)
    assert created == sum(
        len(store_records(sandbox, k, archived=None if k == "hubspot.owners" else False)) for k in SYNCED_KINDS
    )  # every record created exactly once across the two runs


def test_a_crash_mid_backfill_resumes_from_the_last_committed_page(
    sandbox: SandboxServer, cache: sqlite_utils.Database
) -> None:
    _seed(sandbox, contacts=400)
    reader = HubSpotReader(hubspot_config(sandbox, page_size=50, retry={"attempts": 1}))
    engine = SyncEngine(cache, [reader])
    original_list_page = reader.list_page
    calls = 0

    def list_page_then_die(stream, after):  # the process dies while fetching the 6th page
        nonlocal calls
        calls += 1
        if calls == 6:
            raise KeyboardInterrupt
        return original_list_page(stream, after)

    reader.list_page = list_page_then_die  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        engine.run_pass()
    saved = cursors.load_state(cache.conn, "hubspot.contacts")

    reader.list_page = original_list_page  # type: ignore[method-assign]
    report = SyncEngine(cache, [reader]).run_pass()

    assert saved.phase == "backfill" and saved.list_after is not None
    assert report.ok
    contacts = next(s for s in report.streams if s.stream == "hubspot.contacts")
    assert contacts.counts.unchanged == 0  # it resumed: nothing already committed was read again
    assert set(store_records(sandbox, "hubspot.contacts")) == {
        row[0] for row in cache.conn.execute("SELECT native_id FROM cache_people WHERE crm = 'hubspot'")
    }


@pytest.mark.parametrize("fault_seed", [3, 8])
def test_sync_under_faults_converges(
    sandbox: SandboxServer, readers: list[CrmReader], cache: sqlite_utils.Database, fault_seed: int
) -> None:
    _seed(sandbox, contacts=300)
    engine = SyncEngine(cache, readers)

    with sandbox.faults("5xx=0.2,429=0.1,reset=0.05", seed=fault_seed):
        first = engine.run_pass()
        store = sandbox.context.store
        some = list(store_records(sandbox, "salesforce.Lead"))[:5]
        for lead_id in some:
            sandbox.call(store.update, "salesforce.Lead", lead_id, {"Email": f"moved.{lead_id}@faulty.io"})
        second = engine.run_pass()
        injected = sandbox.admin.get_faults()

    assert first.ok and second.ok, (first.failed, second.failed)
    assert not first.paused and not second.paused
    assert sum(injected["injected"].values()) >= 5 and injected["injected"].get("5xx")
    assert_cache_matches(cache, sandbox)


def test_broken_field_values_are_dropped_and_the_record_kept(
    sandbox: SandboxServer, engine: SyncEngine, cache: sqlite_utils.Database
) -> None:
    sandbox.admin.seed(
        [
            {"kind": "hubspot.contacts", "properties": {"email": "not an email", "numemployees": "lots"}},
            {"kind": "hubspot.contacts", "properties": {"email": ["a", "list"], "firstname": {"x": 1}}},
            {"kind": "hubspot.contacts", "properties": {"email": "fine@good-corp.com"}},
            {"kind": "salesforce.Lead", "properties": {"LastName": 12345, "Company": None, "Email": "N/A"}},
        ]
    )

    report = engine.run_pass()

    assert report.ok
    assert_cache_matches(cache, sandbox)
    emails = {row[0] for row in cache.conn.execute("SELECT email FROM cache_people")}
    assert emails == {None, "fine@good-corp.com"}


class _ForgingReader:
    """Wraps a real reader and forges records into its first page, as a hostile or buggy CRM might send."""

    def __init__(self, inner: CrmReader, forged: list) -> None:
        self.inner, self.forged = inner, forged
        self.crm, self.limiter = inner.crm, inner.limiter

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def list_page(self, stream, after):
        page = self.inner.list_page(stream, after)
        if stream.object == "contacts" and after is None:
            from connector.crm import Page

            return Page(tuple(self.forged) + page.records, page.next_after, page.more)
        return page


def test_forged_records_are_skipped_with_a_logged_reason_and_the_rest_continue(
    sandbox: SandboxServer, cache: sqlite_utils.Database
) -> None:
    from connector.crm import RawRecord

    sandbox.admin.seed([{"kind": "hubspot.contacts", "properties": {"email": f"p{i}@ok-corp.com"}} for i in range(30)])
    forged = [
        RawRecord("", 1, {"email": "no.id@x.com"}),  # missing id
        RawRecord("hub:spot", 1, {"email": "bad.id@x.com"}),  # an id that would break cache ids
        RawRecord("999", -1, {"email": "no.stamp@x.com"}),  # unreadable modified date
        RawRecord("998", 1, "garbage"),  # type: ignore[arg-type]  # properties that are not an object
    ]
    reader = _ForgingReader(HubSpotReader(hubspot_config(sandbox)), forged)

    with structlog.testing.capture_logs() as logs:
        report = SyncEngine(cache, [reader]).run_pass()

    contacts = next(s for s in report.streams if s.stream == "hubspot.contacts")
    assert contacts.skipped == 4 and contacts.counts.created == 30
    reasons = sorted(e["reason"] for e in logs if e["event"] == "record_skipped")
    assert reasons == ["bad_modified_date", "missing_id", "missing_id", "properties_not_object"]
    assert person_by_id(cache, "hubspot:contacts:998") is None


@pytest.mark.parametrize("crm", ["hubspot", "salesforce"])
def test_a_failing_crm_does_not_stop_the_other(sandbox: SandboxServer, cache: sqlite_utils.Database, crm: str) -> None:
    _seed(sandbox, contacts=50)
    broken = {"hubspot": "hubspot:5xx=1.0", "salesforce": "salesforce:5xx=1.0"}[crm]
    readers: list[CrmReader] = [
        HubSpotReader(hubspot_config(sandbox, retry={"attempts": 2, "initial_backoff_s": 0})),
        SalesforceReader(salesforce_config(sandbox, retry={"attempts": 2, "initial_backoff_s": 0})),
    ]

    with sandbox.faults(broken):
        report = SyncEngine(cache, readers).run_pass()

    assert set(report.failed) == {crm}
    other = "salesforce" if crm == "hubspot" else "hubspot"
    assert any(s.stream.startswith(other) and s.counts.created for s in report.streams)
