"""SOQL through the sandbox's query/queryAll resources, driven by the real simple-salesforce over TLS."""

from __future__ import annotations

import pytest
from simple_salesforce import format_soql
from simple_salesforce.exceptions import SalesforceMalformedRequest

from adapters.sandbox.runner import SandboxServer

from .test_salesforce_api import _leads, _queue, _user, harness, store  # shared fixtures and seeding helpers

__all__ = ["harness", "store"]  # fixtures pytest finds by name in this module


# -- query -------------------------------------------------------------------------------------------------
def test_query_returns_selected_fields_with_attributes_and_nested_owner(sf, store):
    owner = _user(store, "Ortiz")
    lead = store.create(
        "salesforce.Lead",
        {"LastName": "Smith", "FirstName": "Jo", "Company": "Acme", "Email": "Jo@Acme.test", "OwnerId": owner},
    )
    result = sf.query("SELECT Id, Name, Email, Owner.Email, Owner.Name FROM Lead WHERE Email = 'jo@acme.TEST'")
    assert result["totalSize"] == 1 and result["done"] is True
    record = result["records"][0]
    assert record["attributes"] == {"type": "Lead", "url": f"/services/data/v59.0/sobjects/Lead/{lead.id}"}
    assert record["Id"] == lead.id and record["Name"] == "Jo Smith" and record["Email"] == "Jo@Acme.test"
    assert record["Owner"]["attributes"]["type"] == "User"
    assert record["Owner"]["Email"] == "Ortiz@x.test" and record["Owner"]["Name"] == "Ann Ortiz"


def test_queue_owner_and_contact_account_parent_fields(sf, store):
    queue = _queue(store)
    store.create("salesforce.Lead", {"LastName": "Q", "Company": "C", "OwnerId": queue})
    account = store.create("salesforce.Account", {"Name": "Globex"})
    store.create("salesforce.Contact", {"LastName": "K", "AccountId": account.id})
    lead = sf.query("SELECT Owner.Name FROM Lead WHERE Owner.Name = 'Unassigned Leads'")["records"][0]
    assert lead["Owner"]["attributes"]["type"] == "Group" and lead["Owner"]["Name"] == "Unassigned Leads"
    contact = sf.query("SELECT Account.Name FROM Contact WHERE Account.Name LIKE 'glob%'")["records"][0]
    assert contact["Account"]["Name"] == "Globex"


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Company = 'C1'", [1, 8]),
        ("Company != 'C1' AND LastName < 'L00003'", [0, 2]),
        ("Company IN ('C2', 'C3') AND LastName <= 'L00003'", [2, 3]),
        ("Company NOT IN ('C0','C1','C2','C3','C4')", [5, 6]),
        ("(Company = 'C0' OR Company = 'C1') AND NOT LastName = 'L00000'", [1, 7, 8]),
        ("LastName LIKE 'L0000_'", list(range(9))),
        ("NumberOfEmployees >= 7", [7, 8]),
        ("Title = null", list(range(9))),
        ("Title != null", []),
        ("IsConverted = false AND CreatedDate = TODAY", list(range(9))),
        ("CreatedDate < 2020-01-01T00:00:00Z", []),
        ("SystemModstamp > 2020-01-01T00:00:00.000+00:00", list(range(9))),
    ],
)
def test_where_filters(sf, store, where, expected):
    for i in range(9):
        store.create("salesforce.Lead", {"LastName": f"L{i:05d}", "Company": f"C{i % 7}", "NumberOfEmployees": i})
    records = sf.query_all(f"SELECT LastName FROM Lead WHERE {where} ORDER BY LastName")["records"]
    assert [r["LastName"] for r in records] == [f"L{i:05d}" for i in expected]


def test_order_by_desc_nulls_limit_offset_and_count(sf, store):
    for i, title in enumerate(["b", None, "a", "c"]):
        store.create("salesforce.Lead", {"LastName": f"N{i}", "Company": "C", **({"Title": title} if title else {})})
    titles = [r["Title"] for r in sf.query("SELECT Title FROM Lead ORDER BY Title DESC NULLS FIRST")["records"]]
    assert titles == [None, "c", "b", "a"]
    page = sf.query("SELECT Title FROM Lead ORDER BY Title ASC NULLS LAST LIMIT 2 OFFSET 1")["records"]
    assert [r["Title"] for r in page] == ["b", "c"]
    assert sf.query("SELECT COUNT() FROM Lead WHERE Title != null")["totalSize"] == 3


def test_paging_through_next_records_url(sf, store, harness):
    _leads(store, 450)
    first = sf.query(
        "SELECT Id FROM Lead ORDER BY SystemModstamp, Id", headers={"Sforce-Query-Options": "batchSize=200"}
    )
    assert first["totalSize"] == 450 and not first["done"] and len(first["records"]) == 200
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    assert first["nextRecordsUrl"].endswith("-200")
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert len(second["records"]) == 200 and not second["done"]
    ids = [r["Id"] for r in sf.query_all_iter("SELECT Id FROM Lead", headers={"Sforce-Query-Options": "batchSize=200"})]
    assert len(ids) == len(set(ids)) == 450
    assert ids == sorted(ids)  # Id order is the creation order
    last = sf.query_more(second["nextRecordsUrl"], identifier_is_url=True)
    assert last["done"] and len(last["records"]) == 50
    again = sf.query_more(second["nextRecordsUrl"], identifier_is_url=True)  # a retried page answers the same
    assert again["records"] == last["records"]


def test_default_batch_is_2000(sf, store):
    _leads(store, 2100)
    first = sf.query("SELECT Id FROM Lead")
    assert len(first["records"]) == 2000 and first["nextRecordsUrl"].endswith("-2000")
    assert len(sf.query_all("SELECT Id FROM Lead")["records"]) == 2100


def test_unknown_query_locator_is_refused(sf):
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query_more("/services/data/v59.0/query/01gNOPE-2000", identifier_is_url=True)
    assert caught.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_query_all_includes_deleted_rows(sf, store):
    keep = store.create("salesforce.Lead", {"LastName": "Keep", "Company": "C"})
    gone = store.create("salesforce.Lead", {"LastName": "Gone", "Company": "C"})
    sf.Lead.delete(gone.id)
    assert [r["Id"] for r in sf.query("SELECT Id FROM Lead")["records"]] == [keep.id]
    rows = sf.query_all("SELECT Id, IsDeleted FROM Lead ORDER BY Id", include_deleted=True)["records"]
    assert [(r["Id"], r["IsDeleted"]) for r in rows] == [(keep.id, False), (gone.id, True)]
    deleted = sf.query_all("SELECT Id FROM Lead WHERE IsDeleted = TRUE", include_deleted=True)["records"]
    assert [r["Id"] for r in deleted] == [gone.id]


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Id FROM Lead WHERE", "MALFORMED_QUERY"),
        ("SELECT Id FROM Lead WHERE A = 1 AND B = 2 OR C = 3", "MALFORMED_QUERY"),
        ("SELECT Id FROM Lead WHERE LastName = 'unterminated", "MALFORMED_QUERY"),
        ("SELECT Id, Id FROM Lead", "MALFORMED_QUERY"),
        ("SELECT Id FROM Lead GROUP BY Company", "MALFORMED_QUERY"),
        ("SELECT Bogus FROM Lead", "INVALID_FIELD"),
        ("SELECT Owner.Bogus FROM Lead", "INVALID_FIELD"),
        ("SELECT Id FROM Lead WHERE Bogus__x = 1", "INVALID_FIELD"),
        ("SELECT Id FROM Widget", "INVALID_TYPE"),
        ("SELECT Id FROM Lead WHERE LastName = 5", "MALFORMED_QUERY"),
        ("SELECT Id FROM Lead OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE"),
    ],
)
def test_bad_queries_are_refused_like_salesforce(sf, soql, code):
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query(soql)
    assert caught.value.content[0]["errorCode"] == code
    assert caught.value.content[0]["message"]


@pytest.mark.parametrize(
    "hostile",
    [
        "x' OR LastName != 'x",
        "x\\' OR LastName != \\'x",
        "x\\",
        "%",
        "_",
        "'; DROP TABLE objects; --",
        'x") OR 1=1 --',
        "line\nbreak\ttab",
        "O'Brien",
    ],
)
def test_values_from_format_soql_cannot_escape_their_literal(sf, store, hostile):
    store.create("salesforce.Lead", {"LastName": "Innocent", "Company": "C"})
    target = store.create("salesforce.Lead", {"LastName": hostile, "Company": "C"})
    exact = sf.query(format_soql("SELECT Id, LastName FROM Lead WHERE LastName = {}", hostile))["records"]
    assert [(r["Id"], r["LastName"]) for r in exact] == [(target.id, hostile)]
    like = sf.query(format_soql("SELECT Id FROM Lead WHERE LastName LIKE '{:like}'", hostile))["records"]
    assert [r["Id"] for r in like] == [target.id]
    assert store.count("salesforce.Lead") == 2


def test_hand_written_injection_attempts_are_malformed(sf, store):
    store.create("salesforce.Lead", {"LastName": "Innocent", "Company": "C"})
    for soql in (
        "SELECT Id FROM Lead WHERE LastName = 'x' OR 1=1",
        "SELECT Id FROM Lead WHERE LastName = 'x'; DELETE FROM objects",
        "SELECT Id FROM Lead WHERE json_extract(props, '$.x') = 1",
    ):
        with pytest.raises(SalesforceMalformedRequest):
            sf.query(soql)
    # an escaped quote stays inside the literal: this asks for a LastName of "x' OR LastName != "
    assert sf.query("SELECT Id FROM Lead WHERE LastName = 'x\\' OR LastName != '")["totalSize"] == 0
    assert store.count("salesforce.Lead") == 1


def test_keyset_resume_over_tied_timestamps(sf, store, harness):
    clock = harness.context.clock
    clock.freeze()
    try:
        ids = [store.create("salesforce.Lead", {"LastName": f"T{i}", "Company": "C"}).id for i in range(5)]
        clock.advance(1)
        later = store.create("salesforce.Lead", {"LastName": "Later", "Company": "C"}).id
    finally:
        clock.unfreeze()
    page = sf.query("SELECT Id, SystemModstamp FROM Lead ORDER BY SystemModstamp, Id LIMIT 2")["records"]
    assert [r["Id"] for r in page] == ids[:2]
    mark, last_id = page[-1]["SystemModstamp"], page[-1]["Id"]
    resumed = sf.query(
        f"SELECT Id FROM Lead WHERE SystemModstamp > {mark} OR (SystemModstamp = {mark} AND Id > '{last_id}') "
        "ORDER BY SystemModstamp, Id"
    )["records"]
    assert [r["Id"] for r in resumed] == [*ids[2:], later]


# -- the generated world -------------------------------------------------------------------------------------
@pytest.fixture
def world(harness: SandboxServer) -> dict[str, int]:
    from adapters.sandbox.generate import iter_seed

    return harness.admin.seed(list(iter_seed(contacts=300, seed=7)))


@pytest.mark.parametrize("name", ["Lead", "Contact", "Account", "User", "Group", "Event", "Opportunity"])
def test_generated_records_are_readable_through_every_field(sf, world, name):
    records = sf.query_all(f"SELECT FIELDS(ALL) FROM {name}")["records"]
    assert len(records) == world.get(f"salesforce.{name}", 0)
    for record in records[:20]:
        assert sf.restful(f"sobjects/{name}/{record['Id']}")["Id"] == record["Id"]


def test_queries_a_router_makes_on_generated_leads(sf, world):
    open_leads = sf.query_all(
        "SELECT Id, Email, Company, Owner.Name, Owner.Type FROM Lead "
        "WHERE Status = 'Open - Not Contacted' AND Owner.Type = 'Queue' ORDER BY CreatedDate DESC"
    )["records"]
    assert open_leads and all(r["Owner"]["attributes"]["type"] == "Group" for r in open_leads)
    engaged = sf.query("SELECT COUNT() FROM Lead WHERE Demo_Requested__c = true OR Page_Views__c > 10")
    everyone = sf.query("SELECT COUNT() FROM Lead")["totalSize"]
    assert 0 < engaged["totalSize"] < everyone
    by_owner = sf.query_all("SELECT Owner.Name FROM Lead ORDER BY Owner.Name DESC NULLS LAST, Id")["records"]
    names = [r["Owner"]["Name"] for r in by_owner if r["Owner"]]
    assert names == sorted(names, key=str.lower, reverse=True)
    active = sf.query_all("SELECT Id, Email FROM User WHERE IsActive = true ORDER BY Email")["records"]
    assert [r["Email"] for r in active] == sorted((r["Email"] for r in active), key=str.lower)
