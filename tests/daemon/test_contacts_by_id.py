"""HubSpot contacts read by id (the webhook path) against the sandbox, with the real client."""

from __future__ import annotations

from typing import Any

import pytest
from daemon_harness import create_contacts

from adapters.hubspot import HubSpotReader
from adapters.hubspot.contacts_by_id import BATCH_LIMIT, HubSpotContactsById
from connector.cache import open_cache, person_by_id
from connector.config.crm import HubSpotConfig
from connector.daemon.people_by_id import cache_people, read_all
from connector.db import transaction
from connector.ratelimit import unlimited
from connector.retry import RetryPolicy
from connector.sync.engine import SyncEngine


@pytest.fixture
def config(sandbox: Any) -> HubSpotConfig:
    return HubSpotConfig(enabled=True, access_token="sandbox-token", base_url=sandbox.hubspot_url, limits_enabled=False)


@pytest.fixture
def reader(config: HubSpotConfig, hubspot_client: Any) -> HubSpotReader:
    return HubSpotReader(config, client=hubspot_client, limiter=unlimited("hubspot"))


@pytest.fixture
def by_id(reader: HubSpotReader, hubspot_client: Any) -> HubSpotContactsById:
    contacts = next(s for s in reader.streams() if s.object == "contacts")
    retry = RetryPolicy(attempts=6, initial_s=0.01, max_s=0.05, jitter_s=0.0)
    return HubSpotContactsById(hubspot_client, contacts, limiter=reader.limiter, retry=retry)


def test_named_contacts_are_read_and_unknown_ids_reported_missing(sandbox, by_id):
    ids = create_contacts(sandbox, 3, tag="named")
    found = by_id.read([*ids, "999999999", ids[0]])
    assert sorted(r.lead.native_id for r in found.records) == sorted(ids)
    assert found.missing == ("999999999",)
    lead = next(r.lead for r in found.records if r.lead.native_id == ids[0])
    assert lead.email == "lead0@named-example.com" and lead.country == "DE" and lead.created_ms > 0


def test_a_contact_cached_by_id_is_unchanged_for_the_next_sync_pass(sandbox, by_id, reader, tmp_path):
    """The webhook path writes exactly what the sync would: the scheduled pass finds nothing to change."""
    db = open_cache(tmp_path / "cache.sqlite")
    SyncEngine(db, [reader]).run_pass()  # the portal as it was: cursors set
    ids = create_contacts(sandbox, 2, tag="fresh")
    with transaction(db) as conn:
        counts = cache_people(conn, by_id.read(ids).records, now_ms=1)
    assert counts.created == 2
    assert person_by_id(db, f"hubspot:contacts:{ids[0]}") is not None
    report = SyncEngine(db, [reader]).run_pass()
    contacts = next(s for s in report.streams if s.stream == "hubspot.contacts")
    assert contacts.counts.created == 0 and contacts.counts.updated == 0 and contacts.counts.unchanged >= 2


def test_more_ids_than_one_call_takes_are_read_in_batches(sandbox, by_id):
    ids = create_contacts(sandbox, BATCH_LIMIT + 5, tag="many")
    found = read_all(by_id, [*ids, *ids[:10]])
    assert len(found.records) == BATCH_LIMIT + 5 and not found.missing
    with pytest.raises(ValueError):
        by_id.read(ids)


def test_server_errors_are_retried_within_the_read(sandbox, by_id):
    ids = create_contacts(sandbox, 1, tag="flaky")
    with sandbox.faults("5xx=0.5", seed=3):
        found = by_id.read(ids)
    assert [r.lead.native_id for r in found.records] == ids
