"""The sandbox's Salesforce REST API (sObjects, collections, replication, assignment rule, auth), driven by the real
simple-salesforce over TLS. The fixtures and seeding helpers here are shared with test_salesforce_query.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from adapters.sandbox.runner import SandboxServer
from adapters.sandbox.store import ObjectStore


class _StoreOnLoop:
    """The sandbox's store, each call run on the server's loop thread (where the store lives)."""

    def __init__(self, sandbox: SandboxServer) -> None:
        self._sandbox = sandbox
        self._store: ObjectStore = sandbox.context.store

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._store, name)
        return lambda *args, **kwargs: self._sandbox.call(lambda: method(*args, **kwargs))


@pytest.fixture
def harness(sandbox: SandboxServer) -> Iterator[SandboxServer]:
    """The shared sandbox; the Salesforce settings a test changes are put back afterwards."""
    settings = sandbox.context.settings
    yield sandbox
    settings.salesforce_assignment_owner = None
    settings.extra.pop("salesforce_assignment_rule", None)


@pytest.fixture
def store(harness: SandboxServer) -> Any:
    return _StoreOnLoop(harness)


def _user(store, last: str = "Rep", *, active: bool = True) -> str:
    props = {"Username": f"{last.lower()}@x.test", "LastName": last, "FirstName": "Ann", "Email": f"{last}@x.test"}
    return store.create("salesforce.User", {**props, "IsActive": active}).id


def _queue(store, name: str = "Unassigned Leads") -> str:
    return store.create("salesforce.Group", {"Name": name, "Type": "Queue"}).id


def _leads(store, count: int, **props) -> None:
    rows = (
        (dict({"LastName": f"L{i:05d}", "Company": f"C{i % 7}", "Email": f"l{i}@x.test"}, **props), None)
        for i in range(count)
    )
    store.bulk_create("salesforce.Lead", rows)


# -- sObjects ----------------------------------------------------------------------------------------------
def _valid_bodies(store) -> dict[str, tuple[dict, dict]]:
    """A minimal valid create body and an update for every sObject served."""
    account = store.create("salesforce.Account", {"Name": "Parent"}).id
    return {
        "Lead": ({"LastName": "Lee", "Company": "Acme"}, {"Title": "CTO"}),
        "Contact": ({"LastName": "Cole", "AccountId": account}, {"Department": "Ops"}),
        "Account": ({"Name": "Initech", "Website": "initech.test"}, {"Industry": "Software"}),
        "User": ({"Username": "u@x.test", "LastName": "U", "Email": "u@x.test", "IsActive": True}, {"Title": "AE"}),
        "Group": ({"Name": "West Queue", "Type": "Queue"}, {"Email": "west@x.test"}),
        "Task": ({"Subject": "Call"}, {"Status": "Completed", "ActivityDate": "2026-01-02"}),
        "Event": ({"Subject": "Demo", "StartDateTime": "2026-01-02T10:00:00Z"}, {"DurationInMinutes": 30}),
        "Opportunity": ({"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-03-01"}, {"Amount": 1200.5}),
    }


@pytest.mark.parametrize("name", ["Lead", "Contact", "Account", "User", "Group", "Task", "Event", "Opportunity"])
def test_create_read_update_delete_every_sobject(sf, store, name):
    body, change = _valid_bodies(store)[name]
    api = getattr(sf, name)
    created = api.create(body)
    assert created["success"] is True and created["errors"] == []
    assert created["id"].startswith(store.id_for(f"salesforce.{name}", 1)[:3])
    record = api.get(created["id"])
    assert record["attributes"]["type"] == name
    assert all(record[k] == v for k, v in body.items() if not k.endswith("DateTime"))
    assert record["CreatedDate"].endswith("+0000") and record["IsDeleted"] is False
    assert api.update(created["id"], change, headers={"Sforce-Auto-Assign": "FALSE"}) == 204
    updated = api.get(created["id"])
    assert all(updated[k] == v for k, v in change.items())
    assert updated["SystemModstamp"] >= record["SystemModstamp"]
    assert api.upsert(f"Id/{created['id']}", change, headers={"Sforce-Auto-Assign": "FALSE"}) == 204  # by Id: update
    assert api.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound) as caught:
        api.get(created["id"])
    assert caught.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_datetimes_are_stored_in_salesforce_format(sf):
    created = sf.Event.create({"Subject": "Demo", "StartDateTime": "2026-01-02T11:00:00+01:00"})
    assert sf.Event.get(created["id"])["StartDateTime"] == "2026-01-02T10:00:00.000+0000"
    found = sf.query("SELECT Id FROM Event WHERE StartDateTime = 2026-01-02T10:00:00Z")["records"]
    assert [r["Id"] for r in found] == [created["id"]]


@pytest.mark.parametrize(
    ("name", "body", "code", "fields"),
    [
        ("Lead", {"LastName": "X"}, "REQUIRED_FIELD_MISSING", ["Company"]),
        ("Lead", {"Company": "X"}, "REQUIRED_FIELD_MISSING", ["LastName"]),
        ("Contact", {"FirstName": "X"}, "REQUIRED_FIELD_MISSING", ["LastName"]),
        ("Account", {"Website": "x.test"}, "REQUIRED_FIELD_MISSING", ["Name"]),
        ("Lead", {"LastName": "X", "Company": "Y", "Shoe_Size": 9}, "INVALID_FIELD", []),
        (
            "Lead",
            {"LastName": "X", "Company": "Y", "CreatedDate": "2020-01-01"},
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            ["CreatedDate"],
        ),
        (
            "Lead",
            {"LastName": "X", "Company": "Y", "NumberOfEmployees": "many"},
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
            ["NumberOfEmployees"],
        ),
        (
            "Lead",
            {"LastName": "X", "Company": "Y", "OwnerId": "005000000000ZZZAAA"},
            "INVALID_CROSS_REFERENCE_KEY",
            ["OwnerId"],
        ),
    ],
)
def test_invalid_writes_are_refused(sf, name, body, code, fields):
    with pytest.raises(SalesforceMalformedRequest) as caught:
        getattr(sf, name).create(body, headers={"Sforce-Auto-Assign": "FALSE"})
    assert caught.value.content[0]["errorCode"] == code
    assert caught.value.content[0]["fields"] == fields


def test_task_needs_nothing_and_custom_fields_are_accepted(sf):
    created = sf.Task.create({})
    assert sf.Task.get(created["id"])["Subject"] is None
    sf.Task.update(created["id"], {"Routing_Score__c": 87})
    assert sf.Task.get(created["id"])["Routing_Score__c"] == 87
    assert sf.query("SELECT Id FROM Task WHERE Routing_Score__c > 80")["totalSize"] == 1


def test_inactive_owner_is_refused(sf, store):
    gone = _user(store, "Gone", active=False)
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.create({"LastName": "C", "OwnerId": gone})
    assert caught.value.content[0]["errorCode"] == "INACTIVE_OWNER_OR_USER"


@pytest.mark.parametrize("bad_id", ["00Q000000000000ZZZ", "001000000000001AAA", "nope", "00Q00000000001"])
def test_bad_ids_are_not_found(sf, store, bad_id):
    store.create("salesforce.Account", {"Name": "A"})
    for call in (
        lambda: sf.Lead.get(bad_id),
        lambda: sf.Lead.update(bad_id, {"Title": "x"}),
        lambda: sf.Lead.delete(bad_id),
    ):
        with pytest.raises(SalesforceResourceNotFound) as caught:
            call()
        assert caught.value.content[0]["errorCode"] == "NOT_FOUND"


def test_fifteen_character_ids_are_accepted(sf, store):
    lead = store.create("salesforce.Lead", {"LastName": "L", "Company": "C"})
    assert sf.Lead.get(lead.id[:15])["Id"] == lead.id
    found = sf.query(format_soql("SELECT Id FROM Lead WHERE Id IN {}", [lead.id[:15]]))["records"]
    assert [r["Id"] for r in found] == [lead.id]


def test_get_with_fields_parameter(sf, store):
    lead = store.create("salesforce.Lead", {"LastName": "L", "Company": "C", "Email": "l@x.test"})
    record = sf.Lead.get(lead.id, params={"fields": "Email,Company"})
    assert set(record) == {"attributes", "Email", "Company"}


def test_upsert_by_external_id_creates_then_updates(sf, store):
    assert sf.Task.upsert("LeadRelay_Decision_Id__c/dec-1", {"Subject": "Call"}) == 201
    assert sf.Task.upsert("LeadRelay_Decision_Id__c/dec-1", {"Subject": "Call back"}) == 204
    assert store.count("salesforce.Task") == 1
    record = sf.Task.get_by_custom_id("LeadRelay_Decision_Id__c", "dec-1")
    assert record["Subject"] == "Call back" and record["LeadRelay_Decision_Id__c"] == "dec-1"
    raw = sf.Task.upsert("LeadRelay_Decision_Id__c/dec-2", {"Subject": "New"}, raw_response=True)
    assert raw.status_code == 201 and raw.json()["created"] is True


def test_upsert_with_several_matches_answers_300(sf, store):
    for _ in range(2):
        store.create("salesforce.Task", {"LeadRelay_Decision_Id__c": "dup"})
    with pytest.raises(SalesforceMoreThanOneRecord) as caught:
        sf.Task.upsert("LeadRelay_Decision_Id__c/dup", {"Subject": "x"})
    assert len(caught.value.content) == 2
    with pytest.raises(SalesforceResourceNotFound):
        sf.Task.upsert("Subject/x", {"Status": "Open"})  # not an external id field


def test_describe_lists_fields_with_types_and_external_ids(sf):
    described = sf.Task.describe()
    fields = {f["name"]: f for f in described["fields"]}
    assert described["keyPrefix"] == "00T"
    assert fields["LeadRelay_Decision_Id__c"]["externalId"] is True
    assert fields["WhoId"]["referenceTo"] == ["Lead", "Contact"] and fields["WhoId"]["relationshipName"] == "Who"
    assert fields["SystemModstamp"]["type"] == "datetime" and not fields["SystemModstamp"]["updateable"]
    assert {s["name"] for s in sf.describe()["sobjects"]} >= {"Lead", "Contact", "Account", "User", "Group", "Task"}
    assert sf.Lead.metadata()["objectDescribe"]["name"] == "Lead"


# -- sObject Collections -------------------------------------------------------------------------------------
def _lead_body(i: int, **extra) -> dict:
    return {"attributes": {"type": "Lead"}, "LastName": f"B{i}", "Company": "C", **extra}


def test_collections_create_update_read_delete(sf, store):
    created = sf.restful(
        "composite/sobjects", method="POST", json={"allOrNone": True, "records": [_lead_body(i) for i in range(3)]}
    )
    assert [r["success"] for r in created] == [True] * 3
    ids = [r["id"] for r in created]
    updates = [{"attributes": {"type": "Lead"}, "Id": i, "Title": "VP"} for i in ids]
    updated = sf.restful("composite/sobjects", method="PATCH", json={"allOrNone": False, "records": updates})
    assert [(r["id"], r["success"]) for r in updated] == [(i, True) for i in ids]
    read = sf.restful("composite/sobjects/Lead", params={"ids": ",".join(ids), "fields": "Id,Title"})
    assert [r["Title"] for r in read] == ["VP"] * 3
    deleted = sf.restful("composite/sobjects", method="DELETE", params={"ids": ",".join(ids), "allOrNone": "true"})
    assert [r["success"] for r in deleted] == [True] * 3
    assert store.count("salesforce.Lead") == 0


def test_collections_all_or_none_rolls_back_every_record(sf, store):
    records = [_lead_body(0), {"attributes": {"type": "Lead"}, "LastName": "NoCompany"}, _lead_body(2)]
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": records})
    assert [r["success"] for r in results] == [False, False, False]
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert store.count("salesforce.Lead") == 0


def test_collections_partial_success_without_all_or_none(sf, store):
    lead = store.create("salesforce.Lead", {"LastName": "L", "Company": "C"})
    updates = [
        {"attributes": {"type": "Lead"}, "Id": lead.id, "Title": "CFO"},
        {"attributes": {"type": "Lead"}, "Id": "00Q000000000zzzAAA", "Title": "CFO"},
        {"attributes": {"type": "Lead"}, "Id": lead.id, "Bogus": 1},
    ]
    results = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={"allOrNone": False, "records": updates},
        headers={"Sforce-Auto-Assign": "FALSE"},
    )
    assert [r["success"] for r in results] == [True, False, False]
    assert results[1]["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"
    assert results[2]["errors"][0]["statusCode"] == "INVALID_FIELD"
    assert store.get("salesforce.Lead", lead.id).properties["Title"] == "CFO"


def test_collections_refuse_more_than_200_records(sf, store):
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.restful("composite/sobjects", method="POST", json={"records": [_lead_body(i) for i in range(201)]})
    assert caught.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    assert store.count("salesforce.Lead") == 0
    results = sf.restful("composite/sobjects", method="POST", json={"records": [_lead_body(i) for i in range(200)]})
    assert len(results) == 200 and store.count("salesforce.Lead") == 200


# -- getUpdated / getDeleted -------------------------------------------------------------------------------
def test_get_updated_and_get_deleted(sf, store, harness):
    clock = harness.context.clock
    start = datetime.now(UTC) - timedelta(minutes=5)
    old = store.create("salesforce.Contact", {"LastName": "Old"})
    fresh = store.create("salesforce.Contact", {"LastName": "Fresh"})
    sf.Contact.delete(old.id)
    clock.advance(120_000)  # getUpdated covers whole minutes up to now
    try:
        end = datetime.now(UTC) + timedelta(minutes=3)
        updated = sf.Contact.updated(start, end)
        assert updated["ids"] == [fresh.id] and updated["latestDateCovered"].endswith(":00.000+0000")
        deleted = sf.Contact.deleted(start, end)
        assert [d["id"] for d in deleted["deletedRecords"]] == [old.id]
        assert deleted["deletedRecords"][0]["deletedDate"].endswith("+0000")
        assert "earliestDateAvailable" in deleted
    finally:
        clock.advance(-120_000)


@pytest.mark.parametrize(("resource", "days"), [("updated", 31), ("deleted", 16)])
def test_replication_windows_are_limited(sf, resource, days):
    end = datetime.now(UTC)
    with pytest.raises(SalesforceMalformedRequest) as caught:
        getattr(sf.Lead, resource)(end - timedelta(days=days), end)
    assert caught.value.content[0]["errorCode"] == "INVALID_REPLICATION_DATE"


# -- the lead assignment rule ------------------------------------------------------------------------------
def test_assignment_rule_assigns_new_leads_to_the_queue_unless_told_not_to(sf, store):
    rep = _user(store, "Rep")
    queue = _queue(store)
    fired = sf.Lead.create({"LastName": "A", "Company": "C", "OwnerId": rep})
    assert sf.Lead.get(fired["id"])["OwnerId"] == queue
    for header in ("FALSE", "false", "0"):
        kept = sf.Lead.create({"LastName": "B", "Company": "C", "OwnerId": rep}, headers={"Sforce-Auto-Assign": header})
        assert sf.Lead.get(kept["id"])["OwnerId"] == rep


def test_assignment_rule_fires_on_update_and_in_collections(sf, store):
    rep = _user(store, "Rep")
    other = _user(store, "Other")
    queue = _queue(store)
    lead = store.create("salesforce.Lead", {"LastName": "L", "Company": "C", "OwnerId": rep})
    sf.Lead.update(lead.id, {"OwnerId": other})
    assert store.get("salesforce.Lead", lead.id).properties["OwnerId"] == queue
    sf.Lead.update(lead.id, {"OwnerId": other}, headers={"Sforce-Auto-Assign": "FALSE"})
    assert store.get("salesforce.Lead", lead.id).properties["OwnerId"] == other
    created = sf.restful("composite/sobjects", method="POST", json={"records": [_lead_body(1, OwnerId=rep)]})
    assert store.get("salesforce.Lead", created[0]["id"]).properties["OwnerId"] == queue
    contact = sf.Contact.create({"LastName": "C", "OwnerId": rep})  # the rule is for leads only
    assert sf.Contact.get(contact["id"])["OwnerId"] == rep


def test_assignment_rule_target_is_configurable(sf, store, harness):
    first = _user(store, "First")
    chosen = _user(store, "Chosen")
    assert sf.Lead.get(sf.Lead.create({"LastName": "A", "Company": "C"})["id"])["OwnerId"] == first
    harness.context.settings.salesforce_assignment_owner = chosen
    assert sf.Lead.get(sf.Lead.create({"LastName": "B", "Company": "C"})["id"])["OwnerId"] == chosen
    harness.context.settings.extra["salesforce_assignment_rule"] = False
    assert sf.Lead.get(sf.Lead.create({"LastName": "C", "Company": "C"})["id"])["OwnerId"] is None


# -- auth and org resources ---------------------------------------------------------------------------------
def test_missing_or_empty_bearer_token_is_refused(harness):
    session = harness.salesforce_session()
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Basic abc"}):
        answer = session.get(
            f"{harness.salesforce_url}/services/data/v59.0/query/?q=SELECT+Id+FROM+Lead", headers=headers
        )
        assert answer.status_code == 401
        assert answer.json() == [
            {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID", "fields": []}
        ]
    bad = Salesforce(instance_url=harness.salesforce_url, session_id="", session=session)
    with pytest.raises(SalesforceExpiredSession):
        bad.query("SELECT Id FROM Lead")


def test_versions_limits_and_unknown_paths(sf, harness):
    listed = harness.salesforce_session().get(f"{harness.salesforce_url}/services/data/").json()
    assert {"version": "59.0", "url": "/services/data/v59.0", "label": "Winter '24"} in listed
    daily = sf.limits()["DailyApiRequests"]
    assert daily["Max"] == harness.context.limits.settings.salesforce_daily and daily["Remaining"] <= daily["Max"]
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.restful("no/such/thing")
    assert caught.value.content[0]["errorCode"] == "NOT_FOUND"
    assert sf.restful("")["query"] == "/services/data/v59.0/query"


def test_oauth_token_flows_hand_out_a_usable_session(harness):
    session = harness.salesforce_session()
    for form in (
        {"grant_type": "password", "client_id": "ck", "client_secret": "cs", "username": "u", "password": "p"},
        {"grant_type": "client_credentials", "client_id": "ck", "client_secret": "cs"},
    ):
        token = session.post(f"{harness.salesforce_url}/services/oauth2/token", data=form).json()
        assert token["instance_url"] == harness.salesforce_url and token["token_type"] == "Bearer"
        sf = Salesforce(instance_url=token["instance_url"], session_id=token["access_token"], session=session)
        assert sf.query("SELECT COUNT() FROM Lead")["done"] is True
    refused = session.post(f"{harness.salesforce_url}/services/oauth2/token", data={"grant_type": "magic"})
    assert refused.status_code == 400 and refused.json()["error"] == "unsupported_grant_type"


def test_daily_budget_shows_in_api_usage_limits_and_refusals(sf, harness):
    from simple_salesforce.exceptions import SalesforceRefusedRequest

    with harness.limits("professional", salesforce_daily=3):
        sf.query("SELECT COUNT() FROM Lead")
        assert sf.api_usage["api-usage"].used == 1 and sf.api_usage["api-usage"].total == 3
        assert sf.limits()["DailyApiRequests"] == {"Max": 3, "Remaining": 1}
        sf.query("SELECT COUNT() FROM Lead")
        with pytest.raises(SalesforceRefusedRequest) as caught:
            sf.query("SELECT COUNT() FROM Lead")
        assert caught.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
