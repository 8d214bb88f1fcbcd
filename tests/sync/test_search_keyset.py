"""HubSpot incremental search: runs of equal and unique stamps, in any mix across page boundaries, lose nothing.

After a page that ended on a stamp no other record shares, the reader asks the plain range ``stamp >= last`` and
drops the one record it saw again; inside runs of equal stamps it asks by (stamp, id) keyset. Both must agree.
"""

from __future__ import annotations

import random

import pytest
import sqlite_utils

from adapters.hubspot import HubSpotReader
from adapters.sandbox.runner import SandboxServer
from connector.sync.engine import SyncEngine

from .world import hubspot_config, store_records


def _seed_runs(sandbox: SandboxServer, rng: random.Random, runs: int) -> None:
    """Contacts in ``runs`` runs of 1 to 70 equal modified stamps, one millisecond apart."""
    sandbox.admin.freeze_clock()  # now; seeding takes longer than the runs' milliseconds, so they stay in the past
    made = 0
    for _ in range(runs):
        size = 1 if rng.random() < 0.6 else rng.randint(2, 70)
        batch = [{"kind": "hubspot.contacts", "properties": {"email": f"k{made + i}@keyset.io"}} for i in range(size)]
        sandbox.admin.seed(batch)
        sandbox.admin.advance_clock(1)
        made += size
    sandbox.admin.unfreeze_clock()


def _cached_contacts(cache: sqlite_utils.Database) -> set[str]:
    rows = cache.conn.execute("SELECT native_id FROM cache_people WHERE crm = 'hubspot' AND object = 'contacts'")
    return {row[0] for row in rows}


@pytest.mark.parametrize("seed", [3, 11])
def test_mixed_runs_of_stamps_reach_the_cache_exactly_once(
    sandbox: SandboxServer, cache: sqlite_utils.Database, seed: int
) -> None:
    engine = SyncEngine(cache, [HubSpotReader(hubspot_config(sandbox, page_size=50, search_page_size=60))])
    engine.run_pass()  # empty portal: every stream is incremental from here
    _seed_runs(sandbox, random.Random(seed), runs=80)

    report = engine.run_pass()

    contacts = {s.stream: s for s in report.streams}["hubspot.contacts"]
    expected = set(store_records(sandbox, "hubspot.contacts"))
    assert _cached_contacts(cache) == expected
    assert contacts.counts.created == len(expected)  # none twice
    assert contacts.pages >= len(expected) // 60  # paged, across many run boundaries
