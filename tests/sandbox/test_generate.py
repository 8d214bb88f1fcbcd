"""The sandbox data generator: deterministic bytes, references that resolve under the store's id rule,
the demo team in both CRMs, the CLI command, and the records loading into the real object store."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pycountry
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.sandbox.gen_team import load_team
from adapters.sandbox.generate import DEFAULT_START_MS, generate_command, iter_seed, write_seed
from adapters.sandbox.ids import store_id_factory
from adapters.sandbox.seed import load_seed
from adapters.sandbox.store import ObjectStore
from connector.errors import ConfigError

KIND_ORDER = [
    "hubspot.owners",
    "salesforce.User",
    "salesforce.Group",
    "hubspot.companies",
    "salesforce.Account",
    "hubspot.deals",
    "salesforce.Opportunity",
    "hubspot.contacts",
    "salesforce.Contact",
    "salesforce.Lead",
    "hubspot.meetings",
    "salesforce.Event",
]
# Which kinds each reference property may point at.
REFERENCES = {
    "hubspot_owner_id": ("hubspot.owners",),
    "associatedcompanyid": ("hubspot.companies",),
    "hs_parent_company_id": ("hubspot.companies",),
    "OwnerId": ("salesforce.User", "salesforce.Group"),
    "AccountId": ("salesforce.Account",),
    "ParentId": ("salesforce.Account",),
    "WhoId": ("salesforce.Contact", "salesforce.Lead"),
    "WhatId": ("salesforce.Account", "salesforce.Opportunity"),
}


@pytest.fixture(scope="module")
def world() -> list[dict[str, Any]]:
    """A small generated world (3,000 people), as records."""
    return list(iter_seed(contacts=3000, seed=7))


def _ids_by_kind(records: list[dict[str, Any]]) -> dict[str, set[str]]:
    """The id every record gets when seeded into an empty store: the n-th of its kind gets id n."""
    counts = Counter(record["kind"] for record in records)
    return {kind: {store_id_factory(kind, n) for n in range(1, count + 1)} for kind, count in counts.items()}


def test_same_arguments_write_the_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    first, again, other = tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz", tmp_path / "c.jsonl.gz"
    counts = write_seed(first, contacts=1000, seed=11)
    assert write_seed(again, contacts=1000, seed=11) == counts
    write_seed(other, contacts=1000, seed=12)
    assert first.read_bytes() == again.read_bytes()
    assert first.read_bytes() != other.read_bytes()
    plain = tmp_path / "a.jsonl"
    write_seed(plain, contacts=1000, seed=11)
    assert gzip.decompress(first.read_bytes()) == plain.read_bytes()


def test_written_file_is_one_record_per_line_with_the_reported_counts(tmp_path: Path) -> None:
    path = tmp_path / "world.jsonl"
    counts = write_seed(path, contacts=800, seed=3)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == sum(counts.values())
    assert Counter(json.loads(line)["kind"] for line in lines) == counts


def test_start_date_moves_the_whole_history_and_nothing_is_dated_after_it() -> None:
    default = [r for r in iter_seed(contacts=300, seed=5) if r["kind"] == "hubspot.contacts"]
    later = [
        r
        for r in iter_seed(contacts=300, seed=5, start_ms=DEFAULT_START_MS + 86_400_000)
        if r["kind"] == "hubspot.contacts"
    ]
    assert [r["created_ms"] + 86_400_000 for r in default] == [r["created_ms"] for r in later]
    two_years = 730 * 86_400_000
    assert all(DEFAULT_START_MS - two_years <= r["created_ms"] < DEFAULT_START_MS for r in default)


def test_kinds_come_in_dependency_order_each_contiguous(world: list[dict[str, Any]]) -> None:
    runs = [kind for i, kind in enumerate(r["kind"] for r in world) if i == 0 or world[i - 1]["kind"] != kind]
    assert runs == KIND_ORDER


def test_every_reference_points_at_an_emitted_record(world: list[dict[str, Any]]) -> None:
    ids = _ids_by_kind(world)
    checked = 0
    for record in world:
        for prop, kinds in REFERENCES.items():
            value = record["properties"].get(prop)
            if value is not None:
                assert any(value in ids[kind] for kind in kinds), (record["kind"], prop, value)
                checked += 1
        for link in record.get("associations", ()):
            assert link["to_id"] in ids[link["to_kind"]], (record["kind"], link)
            checked += 1
    assert checked > 5000


@settings(max_examples=30, deadline=None)
@given(
    contacts=st.integers(min_value=0, max_value=80),
    companies=st.integers(min_value=0, max_value=25),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_any_world_size_keeps_references_resolvable_and_kinds_in_order(
    contacts: int, companies: int, seed: int
) -> None:
    records = list(iter_seed(contacts=contacts, companies=companies, seed=seed))
    ids = _ids_by_kind(records)
    for record in records:
        for prop, kinds in REFERENCES.items():
            value = record["properties"].get(prop)
            assert value is None or any(value in ids.get(kind, ()) for kind in kinds), (prop, value)
        assert all(link["to_id"] in ids[link["to_kind"]] for link in record.get("associations", ()))
    runs = [kind for i, kind in enumerate(r["kind"] for r in records) if i == 0 or records[i - 1]["kind"] != kind]
    assert runs == [kind for kind in KIND_ORDER if kind in ids]


def test_leads_are_owned_by_reps_or_queues_and_contacts_by_their_accounts_owner(world: list[dict[str, Any]]) -> None:
    ids = _ids_by_kind(world)
    lead_owners = Counter(
        "queue" if r["properties"]["OwnerId"] in ids["salesforce.Group"] else "user"
        for r in world
        if r["kind"] == "salesforce.Lead"
    )
    assert lead_owners["queue"] > 0.2 * sum(lead_owners.values())
    assert lead_owners["user"] > 0.2 * sum(lead_owners.values())
    account_owner = {
        store_id_factory("salesforce.Account", n): r["properties"]["OwnerId"]
        for n, r in enumerate((r for r in world if r["kind"] == "salesforce.Account"), start=1)
    }
    contacts = [r["properties"] for r in world if r["kind"] == "salesforce.Contact"]
    assert contacts
    assert all(c["OwnerId"] == account_owner[c["AccountId"]] for c in contacts)


def test_world_loads_into_the_object_store_and_references_resolve_there(world: list[dict[str, Any]]) -> None:
    store = ObjectStore()
    store.set_id_factory(None, store_id_factory)
    counts = load_seed(store, iter(world))
    assert counts == dict(Counter(r["kind"] for r in world))
    contact = next(r for r in world if r["kind"] == "hubspot.contacts" and "associatedcompanyid" in r["properties"])
    assert store.get("hubspot.companies", contact["properties"]["associatedcompanyid"]) is not None
    sf_contact = next(r for r in world if r["kind"] == "salesforce.Contact")
    account = store.get("salesforce.Account", sf_contact["properties"]["AccountId"])
    assert account is not None
    assert store.get("salesforce.User", account.properties["OwnerId"]) is not None


def test_the_24_reps_are_owners_and_users_with_the_same_emails(world: list[dict[str, Any]]) -> None:
    team = load_team()
    reps = {rep.email for rep in team.reps}
    owners = {r["properties"]["email"]: r for r in world if r["kind"] == "hubspot.owners"}
    users = {r["properties"]["Email"]: r for r in world if r["kind"] == "salesforce.User"}
    assert len(reps) == 24
    assert reps <= owners.keys()
    assert reps <= users.keys()
    assert set(owners) == set(users)  # staff (marketing ops, integration user) too
    inactive = [rep.email for rep in team.reps if not rep.active]
    assert len(inactive) == 1
    assert owners[inactive[0]].get("archived") is True
    assert users[inactive[0]]["properties"]["IsActive"] is False
    assert all(not r.get("archived") for email, r in owners.items() if email not in inactive)
    queues = [r["properties"] for r in world if r["kind"] == "salesforce.Group"]
    assert {q["Name"] for q in queues} == {"Unassigned Leads", "Nurture"}
    assert all(q["Type"] == "Queue" for q in queues)


def test_owner_teams_name_the_reps_pod(world: list[dict[str, Any]]) -> None:
    pods = {rep.email: rep.team for rep in load_team().reps}
    for record in world:
        if record["kind"] == "hubspot.owners" and record["properties"]["email"] in pods:
            primary = [t for t in record["properties"]["teams"] if t["primary"]]
            assert [t["name"] for t in primary] == [pods[record["properties"]["email"]]]


def test_team_json_is_the_demo_team_the_routing_config_expects() -> None:
    raw = json.loads((Path("adapters/sandbox/data/team.json")).read_text(encoding="utf-8"))
    reps = raw["reps"]
    assert len(reps) == 24
    assert Counter(rep["role"] for rep in reps) == {"SDR": 10, "AE": 10, "CSM": 4}
    assert len({rep["email"] for rep in reps}) == 24
    assert sum(not rep["active"] for rep in reps) == 1
    for rep in reps:
        local = rep["email"].removesuffix("@northwind-demo.com")
        assert re.fullmatch(r"[a-z]+\.[a-z]+", local), rep["email"]
        assert rep["booking_link"] == "https://cal.example/" + local.replace(".", "-")
        ZoneInfo(rep["timezone"])
        assert re.fullmatch(r"\d\d:\d\d-\d\d:\d\d", rep["working_hours"])
        assert rep["weight"] in (0.5, 1.0, 1.5)
        assert rep["segment"] in ("SMB", "MidMarket", "Enterprise")
        assert set(rep["products"]) <= {"core", "analytics", "enterprise-security"}
        assert all(pycountry.languages.get(alpha_2=code) for code in rep["languages"])
        for territory in rep["territories"]:
            found = (
                pycountry.subdivisions.get(code=territory)
                if "-" in territory
                else pycountry.countries.get(alpha_2=territory)
            )
            assert found is not None, territory
    assert {queue["name"] for queue in raw["queues"]} == {"Unassigned Leads", "Nurture"}


def test_generate_command_writes_the_file_and_prints_counts(tmp_path: Path) -> None:
    out = tmp_path / "seed.jsonl.gz"
    result = CliRunner().invoke(generate_command, ["--contacts", "400", "--seed", "9", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "hubspot.contacts" in result.output
    assert "salesforce.Lead" in result.output
    total = re.search(r"total\s+([\d,]+)", result.output)
    assert total is not None
    with gzip.open(out, "rt", encoding="utf-8") as handle:
        assert sum(1 for _ in handle) == int(total.group(1).replace(",", ""))


def test_negative_sizes_are_refused() -> None:
    with pytest.raises(ConfigError):
        next(iter_seed(contacts=-1))


def test_an_empty_world_still_has_the_team() -> None:
    kinds = Counter(r["kind"] for r in iter_seed(contacts=0))
    assert kinds == {"hubspot.owners": 26, "salesforce.User": 26, "salesforce.Group": 2}
