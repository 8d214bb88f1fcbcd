"""The cache as the rest of leadrelay reads it: people by email, accounts by domain, owners across CRMs, the change
feed, tombstones and sweeps. Records are written the way the sync engine writes them (``writes`` in a transaction)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlite_utils
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.cache import (
    account_by_id,
    accounts_by_domain,
    iter_accounts,
    iter_owners,
    iter_people,
    latest_change_seq,
    open_cache,
    owner_by_key,
    people_changed_since,
    person_by_email,
    person_by_id,
    writes,
)
from connector.cache.schema import MIGRATIONS
from connector.crm import AccountRecord, CacheRecord, OwnerRecord, PersonRecord
from connector.db import schema_version, transaction
from connector.models import Account, Lead, record_id


@pytest.fixture
def db() -> Iterator[sqlite_utils.Database]:
    database = open_cache(":memory:")
    yield database
    database.conn.close()


def person(crm: str, obj: str, native: str, email: str | None, **extra: object) -> PersonRecord:
    owner = extra.pop("owner", None)
    lead = Lead(id=record_id(crm, obj, native), crm=crm, native_id=native, object=obj, email=email, **extra)  # type: ignore[arg-type]
    return PersonRecord(lead, owner, modified_ms=int(extra.get("created_ms", 0) or 1))  # type: ignore[arg-type]


def account(crm: str, native: str, domain: str | None, *extra_domains: str, owner: str | None = None) -> AccountRecord:
    obj = "companies" if crm == "hubspot" else "Account"
    model = Account(
        id=record_id(crm, obj, native),
        crm=crm,
        native_id=native,
        name=f"Acme {native}",
        domain=domain,
        extra_domains=extra_domains,
    )
    return AccountRecord(model, owner, modified_ms=1)


def owner(crm: str, native: str, email: str, *, active: bool = True, teams: tuple[str, ...] = ()) -> OwnerRecord:
    obj = "owners" if crm == "hubspot" else "User"
    return OwnerRecord(
        record_id(crm, obj, native),
        crm,
        obj,
        native,
        email,
        email,
        email.split("@", maxsplit=1)[0],
        active,  # type: ignore[arg-type]
        False,
        teams,
        1,
    )


def write(db: sqlite_utils.Database, *records: CacheRecord, token: str | None = None) -> writes.WriteCounts:
    total = writes.WriteCounts()
    with transaction(db) as conn:
        for record in records:
            entity, row = writes.to_row(record)
            total.add(writes.upsert(conn, entity, [row], sweep_token=token, now_ms=1))
    return total


def test_schema_is_versioned_and_reopening_is_a_no_op(tmp_path) -> None:
    path = tmp_path / "c.sqlite"
    open_cache(path).conn.close()
    again = open_cache(path)
    assert schema_version(again, "cache") == MIGRATIONS[-1].version
    assert again.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert again.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_upsert_tells_created_updated_and_unchanged_apart(db: sqlite_utils.Database) -> None:
    assert write(db, person("hubspot", "contacts", "1", "a@acme.com")).created == 1
    assert write(db, person("hubspot", "contacts", "1", "a@acme.com")).unchanged == 1
    assert write(db, person("hubspot", "contacts", "1", "b@acme.com")).updated == 1
    assert person_by_id(db, "hubspot:contacts:1").email == "b@acme.com"  # type: ignore[union-attr]


def test_person_by_email_prefers_the_system_of_record_then_account_then_owner(db: sqlite_utils.Database) -> None:
    write(
        db,
        owner("salesforce", "005A", "rep@corp.com"),
        person("hubspot", "contacts", "1", "jane@acme.com", account_id="hubspot:companies:9"),
        person("salesforce", "Lead", "00Q1", "jane@acme.com"),
        person("salesforce", "Contact", "0031", "jane@acme.com", owner="005A"),
    )

    assert person_by_email(db, " JANE@Acme.com ", prefer_crm="salesforce").id == "salesforce:Contact:0031"  # type: ignore[union-attr]
    assert person_by_email(db, "jane@acme.com", prefer_crm="hubspot").id == "hubspot:contacts:1"  # type: ignore[union-attr]
    assert person_by_email(db, "nobody@acme.com") is None
    assert person_by_email(db, "not an email") is None


def test_a_persons_owner_key_follows_the_owner_record(db: sqlite_utils.Database) -> None:
    write(db, person("hubspot", "contacts", "1", "a@acme.com", owner="77"))
    assert person_by_id(db, "hubspot:contacts:1").owner_key is None  # type: ignore[union-attr]

    write(db, owner("hubspot", "77", "ann@corp.com"))  # the owner arrives later: no rewrite of the person needed

    assert person_by_id(db, "hubspot:contacts:1").owner_key == "ann@corp.com"  # type: ignore[union-attr]


def test_accounts_are_found_by_any_of_their_domains(db: sqlite_utils.Database) -> None:
    write(db, account("hubspot", "1", "acme.com", "acme.de", "acme.co.uk"), account("salesforce", "0011", "acme.de"))

    assert [a.id for a in accounts_by_domain(db, "acme.de")] == ["hubspot:companies:1", "salesforce:Account:0011"]
    assert [a.id for a in accounts_by_domain(db, "acme.co.uk")] == ["hubspot:companies:1"]
    write(db, account("hubspot", "1", "acme.com"))  # the extra domains were removed in the CRM
    assert [a.id for a in accounts_by_domain(db, "acme.co.uk")] == []


def test_account_contact_count_and_owner(db: sqlite_utils.Database) -> None:
    write(
        db,
        owner("hubspot", "5", "ann@corp.com"),
        account("hubspot", "1", "acme.com", owner="5"),
        *(person("hubspot", "contacts", str(i), f"p{i}@acme.com", account_id="hubspot:companies:1") for i in range(3)),
    )
    found = account_by_id(db, "hubspot:companies:1")
    assert found is not None and found.contact_count == 3 and found.owner_key == "ann@corp.com"


def test_owners_with_the_same_email_are_one_owner_active_only_if_active_everywhere(db: sqlite_utils.Database) -> None:
    write(
        db,
        owner("hubspot", "40", "rep@corp.com", teams=("EMEA",)),
        owner("salesforce", "005A", "rep@corp.com", active=False, teams=("Sales",)),
        owner("hubspot", "41", "solo@corp.com"),
    )

    owners = {o.key: o for o in iter_owners(db)}

    assert owners["rep@corp.com"].crm_ids == {"hubspot": "40", "salesforce": "005A"}
    assert owners["rep@corp.com"].active is False and owners["rep@corp.com"].teams == ("EMEA", "Sales")
    assert owners["solo@corp.com"].active is True
    assert owner_by_key(db, "rep@corp.com") == owners["rep@corp.com"]


def test_change_feed_reports_each_change_once_in_order(db: sqlite_utils.Database) -> None:
    start = latest_change_seq(db)
    write(db, person("hubspot", "contacts", "1", "a@acme.com"), person("hubspot", "contacts", "2", "b@acme.com"))
    write(db, person("hubspot", "contacts", "1", "a2@acme.com"))
    write(db, person("hubspot", "contacts", "2", "b@acme.com"))  # unchanged: not in the feed
    with transaction(db) as conn:
        writes.mark_deleted(conn, "person", ["hubspot:contacts:2", "hubspot:contacts:404"], deleted_ms=5, now_ms=5)

    feed = people_changed_since(db, start)

    assert [(c.lead.native_id, c.change) for c in feed] == [("1", "updated"), ("2", "deleted")]
    assert people_changed_since(db, feed[-1].seq) == []
    assert [lead.native_id for lead in iter_people(db)] == ["1"]


def test_sweep_tombstones_what_a_full_read_did_not_see(db: sqlite_utils.Database) -> None:
    write(db, account("salesforce", "A", "a.com"), account("salesforce", "B", "b.com"), token="old")
    write(db, account("salesforce", "A", "a.com"), token="new")

    with transaction(db) as conn:
        swept = writes.sweep(conn, "account", "salesforce", "Account", token="new", deleted_ms=9, now_ms=9)

    assert swept == 1
    assert [a.native_id for a in iter_accounts(db)] == ["A"]
    assert accounts_by_domain(db, "b.com") == []


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 15), st.sampled_from(["x", "y", "z"]), st.booleans()), max_size=40))
def test_the_cache_holds_exactly_the_last_state_of_each_record(operations: list[tuple[int, str, bool]]) -> None:
    db = open_cache(":memory:")
    truth: dict[str, str] = {}
    for native, email_user, delete in operations:
        rid = record_id("hubspot", "contacts", str(native))
        if delete:
            with transaction(db) as conn:
                writes.mark_deleted(conn, "person", [rid], deleted_ms=1, now_ms=1)
            truth.pop(rid, None)
        else:
            write(db, person("hubspot", "contacts", str(native), f"{email_user}@acme.com"))
            truth[rid] = f"{email_user}@acme.com"

    assert {lead.id: lead.email for lead in iter_people(db)} == truth
    seqs = [c.seq for c in people_changed_since(db, 0, limit=1000)]
    assert seqs == sorted(set(seqs))
