"""Activities and deals in the cache: the v1 → v2 upgrade, person links kept equal to each row's people through
updates, deletes and restores, and accounts' open deals derived from the synced deals."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.cache import account_by_id, open_cache, writes
from connector.cache.schema import MIGRATIONS
from connector.crm import AccountRecord, ActivityRecord, DealRecord
from connector.db import connect, migrate, schema_version, transaction
from connector.models import Account


def _activity(native: str, people: tuple[str, ...], *, completed: bool | None = True) -> ActivityRecord:
    return ActivityRecord(
        id=f"hubspot:tasks:{native}",
        crm="hubspot",
        object="tasks",
        native_id=native,
        kind="task",
        owner_native_id="7",
        person_ids=people,
        account_id=None,
        occurred_ms=1_000,
        completed=completed,
        outcome=None,
        subject="Follow up",
        created_ms=900,
        modified_ms=1_000,
    )


def _deal(native: str, account: str, *, closed: bool, won: bool = False) -> DealRecord:
    return DealRecord(
        id=f"hubspot:deals:{native}",
        crm="hubspot",
        object="deals",
        native_id=native,
        name="Deal",
        account_id=account,
        person_ids=(),
        owner_native_id="7",
        stage="closedwon" if won else "closedlost" if closed else "qualifiedtobuy",
        pipeline="default",
        is_closed=closed,
        is_won=won,
        amount=100.0,
        close_ms=5_000,
        created_ms=1_000,
        modified_ms=1_000,
    )


def _write(db: sqlite_utils.Database, *records: ActivityRecord | DealRecord | AccountRecord) -> writes.WriteCounts:
    rows = [writes.to_row(r) for r in records]
    with transaction(db) as conn:
        return writes.upsert(conn, rows[0][0], [row for _, row in rows], sweep_token=None, now_ms=2_000)


def _links(db: sqlite_utils.Database) -> set[tuple[str, str]]:
    return set(db.conn.execute("SELECT activity_id, person_id FROM cache_activity_people").fetchall())


@pytest.fixture
def db(tmp_path: Path) -> sqlite_utils.Database:
    return open_cache(tmp_path / "cache.sqlite")


def test_a_version_1_cache_upgrades_and_keeps_its_records(tmp_path: Path) -> None:
    old = connect(tmp_path / "old.sqlite")
    migrate(old, "cache", MIGRATIONS[:1])
    old.conn.execute(
        "INSERT INTO cache_accounts (id, crm, object, native_id, name, modified_ms, content_hash, change_seq,"
        " created_seq, synced_ms) VALUES ('hubspot:companies:1', 'hubspot', 'companies', '1', 'Acme', 1, 'x', 1, 1, 1)"
    )
    old.conn.close()

    db = open_cache(tmp_path / "old.sqlite")

    assert schema_version(db, "cache") == 2
    assert {"cache_activities", "cache_deals", "cache_activity_people", "cache_deal_people"} <= set(db.table_names())
    account = account_by_id(db, "hubspot:companies:1")
    assert account is not None and account.name == "Acme" and account.open_deals == 0


def test_links_follow_the_activity_through_update_delete_and_restore(db: sqlite_utils.Database) -> None:
    first = _write(db, _activity("1", ("hubspot:contacts:a", "hubspot:contacts:b")))
    assert first.created == 1
    assert _links(db) == {("hubspot:tasks:1", "hubspot:contacts:a"), ("hubspot:tasks:1", "hubspot:contacts:b")}

    again = _write(db, _activity("1", ("hubspot:contacts:b", "hubspot:contacts:a")))  # same people, other order
    assert again.unchanged == 1

    moved = _write(db, _activity("1", ("hubspot:contacts:c",)))
    assert moved.updated == 1 and _links(db) == {("hubspot:tasks:1", "hubspot:contacts:c")}

    with transaction(db) as conn:
        deleted = writes.mark_deleted(conn, "activity", iter(["hubspot:tasks:1"]), deleted_ms=3_000, now_ms=3_000)
    assert deleted == 1 and _links(db) == set()

    restored = _write(db, _activity("1", ("hubspot:contacts:c",)))
    assert restored.updated == 1 and _links(db) == {("hubspot:tasks:1", "hubspot:contacts:c")}


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sets(st.sampled_from("abcdef"), max_size=4), min_size=1, max_size=6))
def test_link_table_always_equals_the_last_written_people(tmp_path_factory: pytest.TempPathFactory, steps) -> None:
    db = open_cache(tmp_path_factory.mktemp("links") / "cache.sqlite")
    for people in steps:
        _write(db, _activity("9", tuple(f"hubspot:contacts:{p}" for p in people)))
    assert _links(db) == {("hubspot:tasks:9", f"hubspot:contacts:{p}") for p in steps[-1]}
    db.conn.close()


def test_open_deals_are_derived_from_the_synced_deals(db: sqlite_utils.Database) -> None:
    company = AccountRecord(Account("hubspot:companies:5", "hubspot", "5", "Acme"), "7", 1_000)
    _write(db, company)
    assert account_by_id(db, company.account.id).has_open_opportunity is False  # type: ignore[union-attr]

    _write(db, _deal("1", company.account.id, closed=False), _deal("2", company.account.id, closed=True, won=True))
    account = account_by_id(db, company.account.id)
    assert account is not None and account.has_open_opportunity and account.open_deals == 1

    _write(db, _deal("1", company.account.id, closed=True))
    closed = account_by_id(db, company.account.id)
    assert closed is not None and not closed.has_open_opportunity and closed.open_deals == 0
    won = db.conn.execute("SELECT closed_ms FROM cache_deals WHERE id = 'hubspot:deals:2'").fetchone()
    assert won == (5_000,)
