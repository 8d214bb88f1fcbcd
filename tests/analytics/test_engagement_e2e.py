"""First touch by the owner, meeting rate and the deal funnel, from a known history built in the sandbox and read
through a real sync (HubSpot and Salesforce clients over sockets), checked against hand-computed values.

The history (minutes after T0; every lead is routed at +10 by its owner):

* L1 (HubSpot, ann): ann's completed task and a meeting at +5 (before routing, so neither counts); bob's task at +20
  (not the owner's); ann's call at +30 (the first touch) and a meeting booked at +40; a deal won, created at +70.
  First touch +30 (call), 1 meeting, closed won.
* L2 (HubSpot, ann): ann's open task at +15, a completed task on the company alone at +16, the lead's incoming
  email at +17, a cancelled meeting at +50, a lost deal at +80. Untouched, 0 meetings, opportunity.
* L3 (HubSpot, bob): bob touches it (the sandbox's world action) at +60; its only deal was opened the day before
  routing. First touch +60 (task), 0 meetings, MQL.
* S1 (Salesforce, ann): ann books an Event at +25; converted to an account with a won Opportunity at +90.
  First touch +25 (event booked), 1 meeting, closed won.
* S2 (Salesforce, bob): ann (not the owner) touches it at +35. Untouched, 0 meetings, MQL.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlite_utils
from sync.activity_world import hubspot_linked
from sync.world import hubspot_config, salesforce_config

from adapters.hubspot import HubSpotReader
from adapters.salesforce import SalesforceReader
from adapters.sandbox.runner import SandboxServer
from adapters.sandbox.shapes import iso_ms
from analytics.history import History
from connector.analytics import store
from connector.analytics.metrics import compute
from connector.analytics.report_data import to_dict
from connector.analytics.report_html import render_html
from connector.analytics.touches import detect_first_touches
from connector.cache import open_cache
from connector.config.routing import RoutingConfig
from connector.crm import CrmReader
from connector.pipeline import intake
from connector.routing.store import ensure_schema
from connector.sync.engine import SyncEngine

MIN = 60_000
ANN, BOB = "ann@x.io", "bob@x.io"


@pytest.fixture
def t0() -> int:
    """A whole minute a day ago: every record is stamped before the sync pass's upper bound."""
    return (int(time.time() * 1000) - 86_400_000) // MIN * MIN


def _at(sandbox: SandboxServer, ms: int) -> None:
    sandbox.admin.freeze_clock(ms)


def _build(sandbox: SandboxServer, t0: int) -> dict[str, Any]:
    """The history of the module docstring in the sandbox; returns the ids it created."""
    crm = sandbox.context.store
    call = sandbox.call
    _at(sandbox, t0 - 86_400_000)
    ids: dict[str, Any] = {}
    ids["hs_ann"] = call(lambda: crm.create("hubspot.owners", {"email": ANN, "firstName": "Ann", "userId": 1}).id)
    ids["hs_bob"] = call(lambda: crm.create("hubspot.owners", {"email": BOB, "firstName": "Bob", "userId": 2}).id)
    user = {"LastName": "U", "IsActive": True}
    ids["sf_ann"] = call(lambda: crm.create("salesforce.User", {**user, "Email": ANN}).id)
    ids["sf_bob"] = call(lambda: crm.create("salesforce.User", {**user, "Email": BOB}).id)
    ids["company"] = call(lambda: crm.create("hubspot.companies", {"name": "Acme", "domain": "acme.io"}).id)
    ids["account"] = call(lambda: crm.create("salesforce.Account", {"Name": "Initech"}).id)
    for name, owner in (("L1", "hs_ann"), ("L2", "hs_ann"), ("L3", "hs_bob")):
        props = {"email": f"{name.lower()}@acme.io", "lifecyclestage": "lead", "hubspot_owner_id": ids[owner]}
        ids[name] = call(lambda p=props: crm.create("hubspot.contacts", p).id)
    for name, owner in (("S1", "sf_ann"), ("S2", "sf_bob")):
        props = {"LastName": name, "Company": "Initech", "Status": "Open - Not Contacted", "OwnerId": ids[owner]}
        ids[name] = call(lambda p=props: crm.create("salesforce.Lead", p).id)
    # The day before routing: an open deal on L3 (not this lead's conversion).
    deal = {"dealname": "Old", "dealstage": "qualifiedtobuy", "hubspot_owner_id": ids["hs_bob"]}
    call(lambda: hubspot_linked(crm, "hubspot.deals", deal, contacts=[ids["L3"]]))

    def engagement(minute: int, kind: str, owner: str, lead: str | None, **props: Any) -> None:
        _at(sandbox, t0 + minute * MIN)
        body = {"hubspot_owner_id": ids[owner], "hs_timestamp": iso_ms(t0 + minute * MIN), **props}
        contacts = [ids[lead]] if lead else []
        companies = [] if lead else [ids["company"]]
        call(lambda: hubspot_linked(crm, kind, body, contacts=contacts, companies=companies))

    engagement(5, "hubspot.tasks", "hs_ann", "L1", hs_task_status="COMPLETED")
    engagement(5, "hubspot.meetings", "hs_ann", "L1", hs_meeting_outcome="COMPLETED")
    engagement(15, "hubspot.tasks", "hs_ann", "L2", hs_task_status="NOT_STARTED")
    engagement(16, "hubspot.tasks", "hs_ann", None, hs_task_status="COMPLETED")
    engagement(17, "hubspot.emails", "hs_ann", "L2", hs_email_direction="INCOMING_EMAIL")
    engagement(20, "hubspot.tasks", "hs_bob", "L1", hs_task_status="COMPLETED")
    _at(sandbox, t0 + 25 * MIN)
    event = {"WhoId": ids["S1"], "OwnerId": ids["sf_ann"], "Subject": "Demo", "StartDateTime": iso_ms(t0 + DAY_MS)}
    call(lambda: crm.create("salesforce.Event", event))
    engagement(30, "hubspot.calls", "hs_ann", "L1", hs_call_status="COMPLETED")
    _at(sandbox, t0 + 35 * MIN)
    sandbox.admin.touch("salesforce", ids["S2"], owner_id=ids["sf_ann"])
    engagement(40, "hubspot.meetings", "hs_ann", "L1", hs_meeting_outcome="SCHEDULED")
    engagement(50, "hubspot.meetings", "hs_ann", "L2", hs_meeting_outcome="CANCELED")
    _at(sandbox, t0 + 60 * MIN)
    sandbox.admin.touch("hubspot", ids["L3"], owner_id=ids["hs_bob"])
    for minute, lead, stage in ((70, "L1", "closedwon"), (80, "L2", "closedlost")):
        _at(sandbox, t0 + minute * MIN)
        props = {"dealname": lead, "dealstage": stage, "hubspot_owner_id": ids["hs_ann"]}
        call(lambda p=props, c=[ids[lead]]: hubspot_linked(crm, "hubspot.deals", p, contacts=c))
    _at(sandbox, t0 + 90 * MIN)
    won = {"Name": "Initech", "StageName": "Closed Won", "IsWon": True, "IsClosed": True, "CloseDate": "2026-11-20"}
    call(lambda: crm.create("salesforce.Opportunity", {**won, "AccountId": ids["account"], "OwnerId": ids["sf_ann"]}))
    converted = {"IsConverted": True, "ConvertedAccountId": ids["account"], "Status": "Closed - Converted"}
    call(lambda: crm.update("salesforce.Lead", ids["S1"], converted))
    return ids


DAY_MS = 86_400_000


@pytest.fixture
def synced(sandbox: SandboxServer, tmp_path, t0: int) -> Iterator[tuple[sqlite_utils.Database, dict[str, Any]]]:
    """The history built, synced into a cache, and every lead routed at +10 by its owner."""
    ids = _build(sandbox, t0)
    db = open_cache(tmp_path / "leadrelay.sqlite")
    for install in (intake.install, ensure_schema, store.install):
        install(db)
    readers: list[CrmReader] = [HubSpotReader(hubspot_config(sandbox)), SalesforceReader(salesforce_config(sandbox))]
    assert SyncEngine(db, readers).run_pass().ok
    history = History(db)
    for name, owner in (("L1", ANN), ("L2", ANN), ("L3", BOB), ("S1", ANN), ("S2", BOB)):
        crm, obj = ("hubspot", "contacts") if name.startswith("L") else ("salesforce", "Lead")
        ids[f"decision_{name}"] = history.routed(f"{crm}:{obj}:{ids[name]}", at_ms=t0 + 10 * MIN, owner=owner, pool="p")
    yield db, ids
    db.conn.close()


def _lead(ids: dict[str, Any], name: str) -> str:
    return f"hubspot:contacts:{ids[name]}" if name.startswith("L") else f"salesforce:Lead:{ids[name]}"


def test_first_touch_is_the_owners_own_earliest_activity_since_assignment(synced, t0: int) -> None:
    db, ids = synced

    touches = {t.lead_id: t for t in detect_first_touches(db, now_ms=t0 + 120 * MIN)}

    expected = {"L1": (30, "call"), "L3": (60, "task"), "S1": (25, "event booked")}
    assert {lead: touch.first_touch_ms for lead, touch in touches.items()} == {
        _lead(ids, name): t0 + minute * MIN for name, (minute, _) in expected.items()
    }
    for name, (_, signal) in expected.items():
        assert touches[_lead(ids, name)].signal.startswith(signal)


def test_meeting_rate_and_deal_funnel(synced, t0: int) -> None:
    db, _ids = synced
    detect_first_touches(db, now_ms=t0 + 120 * MIN)
    routing = RoutingConfig.model_validate(
        {
            "final_fallback": {"owner": "queue:hubspot:9", "name": "Queue"},
            "reps": [{"email": ANN}, {"email": BOB}],
            "pools": [{"name": "p", "reps": [ANN, BOB]}],
            "stages": [{"name": "sdr", "steps": [{"kind": "pool", "pool": "p"}]}],
        }
    )

    metrics = compute(db, routing, t0, t0 + DAY_MS)

    overall = metrics.overall
    assert (overall.leads, overall.touched, overall.meeting_leads, overall.met, overall.meetings) == (5, 3, 5, 2, 2)
    assert overall.meeting_rate == pytest.approx(2 / 5)
    assert overall.funnel == (5, 3, 3, 2)  # MQL, SQL (a deal implies it), opportunity, closed won
    reps = {g.key: g for g in metrics.groups["rep"]}
    assert (reps[ANN].met, reps[ANN].leads, reps[BOB].met) == (2, 3, 0)
    assert reps[ANN].funnel == (3, 3, 3, 2) and reps[BOB].funnel == (2, 0, 0, 0)
    assert metrics.notes == ()
    report = to_dict(metrics)
    assert report["overall"]["meeting_rate"] == pytest.approx(0.4)
    assert report["overall"]["funnel_conversion"]["Opportunity → Closed won"] == pytest.approx(2 / 3)
    html = render_html(metrics)
    assert "Meeting rate" in html and "40.0%" in html
