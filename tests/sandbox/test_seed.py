"""Seeding: JSON Lines in, records with the ids the generator predicted, associations, archived owners."""

from __future__ import annotations

import gzip
import json
import tracemalloc

import pytest

from adapters.sandbox.context import build_context
from adapters.sandbox.ids import hubspot_id, salesforce_id
from adapters.sandbox.seed import iter_jsonl_lines, load_seed

RECORDS = [
    {"kind": "hubspot.owners", "properties": {"email": "a@x.com", "userId": 1}},
    {"kind": "hubspot.owners", "properties": {"email": "b@x.com", "userId": 2}, "archived": True},
    {
        "kind": "hubspot.companies",
        "properties": {"name": "Acme", "domain": "acme.com"},
        "created_ms": 1_600_000_000_000,
    },
    {
        "kind": "hubspot.contacts",
        "properties": {"email": "p@acme.com", "hubspot_owner_id": hubspot_id("owners", 1)},
        "associations": [{"to_kind": "hubspot.companies", "to_id": hubspot_id("companies", 1), "type_id": 1}],
    },
    {"kind": "salesforce.User", "properties": {"Email": "a@x.com", "IsActive": True}},
    {"kind": "salesforce.Lead", "properties": {"LastName": "L", "Company": "C", "OwnerId": salesforce_id("User", 1)}},
]


@pytest.fixture
def ctx():
    return build_context(limits="off")


def test_ids_follow_the_per_kind_sequence(ctx):
    counts = load_seed(ctx.store, RECORDS)
    assert counts == {
        "hubspot.owners": 2,
        "hubspot.companies": 1,
        "hubspot.contacts": 1,
        "salesforce.User": 1,
        "salesforce.Lead": 1,
    }
    contact = ctx.store.get("hubspot.contacts", hubspot_id("contacts", 1))
    assert contact.properties["hubspot_owner_id"] == hubspot_id("owners", 1)
    lead = ctx.store.select("salesforce.Lead")[0]
    assert ctx.store.get("salesforce.User", lead.properties["OwnerId"]) is not None
    assert ctx.store.get("hubspot.companies", hubspot_id("companies", 1)).created_ms == 1_600_000_000_000


def test_associations_are_stored_both_ways(ctx):
    load_seed(ctx.store, RECORDS)
    contact_id, company_id = hubspot_id("contacts", 1), hubspot_id("companies", 1)
    forward = ctx.store.associations_of("hubspot.contacts", [contact_id], "hubspot.companies")[contact_id]
    back = ctx.store.associations_of("hubspot.companies", [company_id], "hubspot.contacts")[company_id]
    assert [(a.to_id, a.type_id) for a in forward] == [(company_id, 1)]
    assert [(a.to_id, a.type_id) for a in back] == [(contact_id, 2)]


def test_archived_records_are_archived(ctx):
    load_seed(ctx.store, RECORDS)
    assert ctx.store.get("hubspot.owners", hubspot_id("owners", 2)) is None
    assert ctx.store.get("hubspot.owners", hubspot_id("owners", 2), include_archived=True).archived


def test_jsonl_and_gzip_files(ctx, tmp_path):
    plain, packed = tmp_path / "seed.jsonl", tmp_path / "seed.jsonl.gz"
    text = "\n".join(json.dumps(r) for r in RECORDS) + "\n\n"
    plain.write_text(text)
    with gzip.open(packed, "wt") as out:
        out.write(text)
    assert load_seed(ctx.store, plain) == load_seed(build_context().store, packed)


def test_bad_line_is_named():
    with pytest.raises(ValueError, match="seed line 2"):
        list(iter_jsonl_lines(['{"kind": "a"}', "{nope"]))


def test_seeding_streams_in_constant_memory(ctx):
    def records(n):
        for i in range(n):
            yield {"kind": "hubspot.contacts", "properties": {"email": f"c{i}@x.com", "firstname": "F" * 20}}

    def peak(n):
        store = build_context().store
        tracemalloc.start()
        load_seed(store, records(n), batch_size=300)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, large = peak(1_500), peak(6_000)
    assert large < small * 1.5  # 4x the records, about the same peak: batches, not the whole file
