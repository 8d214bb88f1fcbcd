"""Activity and deal streams against the sandbox: HubSpot tasks/calls/emails/meetings/deals with their contact and
company associations, Salesforce Task/Event/Opportunity; backfill and incremental passes equal the CRMs."""

from __future__ import annotations

import time

import sqlite_utils

from adapters.sandbox.generate import iter_seed
from adapters.sandbox.runner import SandboxServer
from connector.cache import account_by_id, live_counts
from connector.sync.engine import SyncEngine

from .activity_world import assert_activities_match, hubspot_linked
from .world import store_records


def _seed(sandbox: SandboxServer) -> None:
    sandbox.admin.seed(list(iter_seed(contacts=120, seed=5)))


def _some(sandbox: SandboxServer, kind: str, n: int) -> list[str]:
    return sorted(store_records(sandbox, kind))[:n]


def _add_hubspot_history(sandbox: SandboxServer) -> dict[str, str]:
    """One of each engagement plus a deal, on real contacts and companies; returns their ids."""
    store = sandbox.context.store
    contacts = _some(sandbox, "hubspot.contacts", 3)
    company = _some(sandbox, "hubspot.companies", 1)[0]
    owner = _some(sandbox, "hubspot.owners", 1)[0]

    def build() -> dict[str, str]:
        mine = {"hubspot_owner_id": owner, "hs_timestamp": "2026-11-02T10:00:00Z"}
        return {
            "task": hubspot_linked(
                store, "hubspot.tasks", {**mine, "hs_task_status": "COMPLETED"}, contacts=contacts[:1]
            ),
            "call": hubspot_linked(
                store, "hubspot.calls", {**mine, "hs_call_status": "NO_ANSWER"}, contacts=contacts[1:2]
            ),
            "email": hubspot_linked(
                store,
                "hubspot.emails",
                {**mine, "hs_email_direction": "EMAIL"},
                contacts=contacts[:2],
                companies=(company,),
            ),
            "meeting": hubspot_linked(
                store, "hubspot.meetings", {**mine, "hs_meeting_outcome": "SCHEDULED"}, contacts=contacts[2:]
            ),
            "company_only": hubspot_linked(
                store, "hubspot.tasks", {**mine, "hs_task_status": "COMPLETED"}, companies=(company,)
            ),
            "deal": hubspot_linked(
                store,
                "hubspot.deals",
                {"dealname": "Big", "dealstage": "qualifiedtobuy", "amount": "1200.50", "hubspot_owner_id": owner},
                contacts=contacts[:1],
                companies=(company,),
            ),
            "company": company,
            "contact": contacts[0],
        }

    return sandbox.call(build)


def test_backfill_equals_the_sandbox(sandbox: SandboxServer, engine: SyncEngine, cache: sqlite_utils.Database) -> None:
    _seed(sandbox)
    made = _add_hubspot_history(sandbox)

    report = engine.run_pass()

    assert report.ok
    assert_activities_match(cache, sandbox)
    counts = live_counts(cache)
    assert counts["hubspot.tasks"] >= 2 and counts["hubspot.deals"] >= 1 and counts["salesforce.Event"] >= 1
    row = cache.conn.execute(
        "SELECT kind, completed, account_id, person_ids FROM cache_activities WHERE id = ?",
        (f"hubspot:emails:{made['email']}",),
    ).fetchone()
    assert row[0] == "email" and row[1] == 1 and row[2] == f"hubspot:companies:{made['company']}"
    deal = cache.conn.execute(
        "SELECT stage, is_closed, is_won, amount, account_id FROM cache_deals WHERE id = ?",
        (f"hubspot:deals:{made['deal']}",),
    ).fetchone()
    assert deal == ("qualifiedtobuy", 0, 0, 1200.5, f"hubspot:companies:{made['company']}")


def test_open_deals_mark_the_account(sandbox: SandboxServer, engine: SyncEngine, cache: sqlite_utils.Database) -> None:
    _seed(sandbox)
    made = _add_hubspot_history(sandbox)
    engine.run_pass()
    account_id = f"hubspot:companies:{made['company']}"
    account = account_by_id(cache, account_id)
    assert account is not None and account.has_open_opportunity and account.open_deals >= 1

    time.sleep(0.002)
    sandbox.call(lambda: sandbox.context.store.update("hubspot.deals", made["deal"], {"dealstage": "closedwon"}))
    engine.run_pass()

    won = cache.conn.execute(
        "SELECT is_closed, is_won FROM cache_deals WHERE id = ?", (f"hubspot:deals:{made['deal']}",)
    )
    assert won.fetchone() == (1, 1)
    assert account_by_id(cache, account_id).open_deals == account.open_deals - 1  # type: ignore[union-attr]


def test_incremental_after_creates_updates_and_deletes_equals_the_sandbox(
    sandbox: SandboxServer, engine: SyncEngine, cache: sqlite_utils.Database
) -> None:
    _seed(sandbox)
    made = _add_hubspot_history(sandbox)
    engine.run_pass()
    store = sandbox.context.store
    lead = _some(sandbox, "salesforce.Lead", 1)[0]
    user = _some(sandbox, "salesforce.User", 1)[0]
    account = _some(sandbox, "salesforce.Account", 1)[0]
    time.sleep(0.002)

    def change() -> None:
        store.update("hubspot.meetings", made["meeting"], {"hs_meeting_outcome": "COMPLETED"})
        store.archive("hubspot.calls", made["call"])
        store.archive("hubspot.deals", made["deal"])
        hubspot_linked(store, "hubspot.meetings", {"hs_meeting_outcome": "SCHEDULED"}, contacts=(made["contact"],))
        store.create("salesforce.Task", {"WhoId": lead, "OwnerId": user, "Status": "Completed", "Subject": "Call"})
        store.create("salesforce.Task", {"WhatId": account, "OwnerId": user, "Status": "Not Started"})
        store.create("salesforce.Event", {"WhoId": lead, "OwnerId": user, "StartDateTime": "2026-11-03T15:00:00Z"})
        store.create(
            "salesforce.Opportunity",
            {
                "Name": "Won",
                "StageName": "Closed Won",
                "AccountId": account,
                "CloseDate": "2026-11-04",
                "OwnerId": user,
            },
        )

    sandbox.call(change)
    report = engine.run_pass()

    assert report.ok
    assert_activities_match(cache, sandbox)
    counts = {s.stream: s.counts for s in report.streams}
    assert counts["hubspot.calls"].deleted == 1 and counts["hubspot.deals"].deleted == 1
    assert counts["hubspot.meetings"].created == 1 and counts["hubspot.meetings"].updated == 1
    assert counts["salesforce.Task"].created == 2 and counts["salesforce.Opportunity"].created == 1
    gone = cache.conn.execute(
        "SELECT COUNT(*) FROM cache_activity_people WHERE activity_id = ?", (f"hubspot:calls:{made['call']}",)
    )
    assert gone.fetchone()[0] == 0  # a deleted activity links nobody
    won = cache.conn.execute("SELECT is_closed, is_won FROM cache_deals WHERE crm = 'salesforce' AND name = 'Won'")
    assert won.fetchone() == (1, 1)
    on_account = cache.conn.execute(
        "SELECT account_id, person_ids, completed FROM cache_activities"
        " WHERE crm = 'salesforce' AND account_id IS NOT NULL"
    ).fetchall()
    assert (f"salesforce:Account:{account}", "[]", 0) in on_account


def test_incremental_pass_costs_one_request_per_quiet_stream(
    sandbox: SandboxServer, engine: SyncEngine, cache: sqlite_utils.Database
) -> None:
    _seed(sandbox)
    _add_hubspot_history(sandbox)
    engine.run_pass()

    report = engine.run_pass()

    per_stream = {s.stream: s.requests for s in report.streams}
    new = ("tasks", "calls", "emails", "meetings", "deals")
    assert all(per_stream[f"hubspot.{o}"] == 2 for o in new)  # one search + one archived list; no association reads
    assert all(per_stream[f"salesforce.{o}"] == 1 for o in ("Task", "Event", "Opportunity"))
