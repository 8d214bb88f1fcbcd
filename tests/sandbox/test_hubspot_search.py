"""HubSpot search through the real client: operators, groups, sorts, paging, the 10,000 cap and its limits."""

from __future__ import annotations

import json

import pytest
import requests
from hubspot.crm.contacts import PublicObjectSearchRequest
from hubspot.crm.contacts.exceptions import ApiException
from hypothesis import given, settings
from hypothesis import strategies as st

PEOPLE = [
    {"email": "ann@acme.com", "firstname": "Ann", "country": "US", "hs_analytics_num_page_views": "12"},
    {"email": "bob@acme.com", "firstname": "Bob", "country": "DE", "hs_analytics_num_page_views": "3"},
    {"email": "cy@globex.io", "firstname": "Cy", "country": "us", "hs_analytics_num_page_views": "40"},
    {"email": "dee@gmail.com", "firstname": "Dee", "hs_analytics_num_page_views": "7", "jobtitle": "VP Sales"},
]


@pytest.fixture
def people(sandbox):
    sandbox.admin.seed({"kind": "hubspot.contacts", "properties": p} for p in PEOPLE)
    return sandbox


def search(client, *, filters=None, groups=None, **kwargs):
    filter_groups = groups if groups is not None else ([{"filters": filters}] if filters else [])
    request = PublicObjectSearchRequest(filter_groups=filter_groups, properties=["email"], **kwargs)
    return client.crm.contacts.search_api.do_search(request)


def emails(answer) -> list[str]:
    return sorted(r.properties["email"] for r in answer.results)


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"propertyName": "country", "operator": "EQ", "value": "US"}, ["ann@acme.com", "cy@globex.io"]),
        ({"propertyName": "country", "operator": "NEQ", "value": "us"}, ["bob@acme.com", "dee@gmail.com"]),
        (
            {"propertyName": "hs_analytics_num_page_views", "operator": "GT", "value": "7"},
            ["ann@acme.com", "cy@globex.io"],
        ),
        (
            {"propertyName": "hs_analytics_num_page_views", "operator": "LTE", "value": "7"},
            ["bob@acme.com", "dee@gmail.com"],
        ),
        ({"propertyName": "hs_analytics_num_page_views", "operator": "LT", "value": "4"}, ["bob@acme.com"]),
        ({"propertyName": "hs_analytics_num_page_views", "operator": "GTE", "value": "40"}, ["cy@globex.io"]),
        (
            {"propertyName": "hs_analytics_num_page_views", "operator": "BETWEEN", "value": "5", "highValue": "20"},
            ["ann@acme.com", "dee@gmail.com"],
        ),
        ({"propertyName": "firstname", "operator": "IN", "values": ["ann", "bob"]}, ["ann@acme.com", "bob@acme.com"]),
        (
            {"propertyName": "firstname", "operator": "NOT_IN", "values": ["ann", "bob"]},
            ["cy@globex.io", "dee@gmail.com"],
        ),
        ({"propertyName": "jobtitle", "operator": "HAS_PROPERTY"}, ["dee@gmail.com"]),
        ({"propertyName": "country", "operator": "NOT_HAS_PROPERTY"}, ["dee@gmail.com"]),
        ({"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "acme"}, ["ann@acme.com", "bob@acme.com"]),
        ({"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "*@gmail.com"}, ["dee@gmail.com"]),
        (
            {"propertyName": "email", "operator": "NOT_CONTAINS_TOKEN", "value": "acme"},
            ["cy@globex.io", "dee@gmail.com"],
        ),
    ],
)
def test_operators(people, hubspot_client, flt, expected):
    assert emails(search(hubspot_client, filters=[flt])) == expected


def test_groups_are_ored_and_filters_anded(people, hubspot_client):
    groups = [
        {"filters": [{"propertyName": "country", "operator": "EQ", "value": "US"},
                     {"propertyName": "firstname", "operator": "EQ", "value": "Ann"}]},
        {"filters": [{"propertyName": "jobtitle", "operator": "HAS_PROPERTY"}]},
    ]  # fmt: skip
    answer = search(hubspot_client, groups=groups)
    assert emails(answer) == ["ann@acme.com", "dee@gmail.com"] and answer.total == 2


def test_query_string_and_sorts(people, hubspot_client):
    answer = search(hubspot_client, query="acme", sorts=[{"propertyName": "firstname", "direction": "DESCENDING"}])
    assert [r.properties["email"] for r in answer.results] == ["bob@acme.com", "ann@acme.com"]
    numeric = search(hubspot_client, sorts=[{"propertyName": "hs_analytics_num_page_views", "direction": "ASCENDING"}])
    assert [r.properties["email"] for r in numeric.results][:2] == ["bob@acme.com", "dee@gmail.com"]  # 3 < 7, not "12"


def test_modified_date_filter_uses_epoch_ms_and_moves_on_write(sandbox, people, hubspot_client):
    start = sandbox.admin.advance_clock(60_000)
    bob = search(
        hubspot_client, filters=[{"propertyName": "email", "operator": "EQ", "value": "bob@acme.com"}]
    ).results[0]
    hubspot_client.crm.contacts.basic_api.update(bob.id, {"properties": {"jobtitle": "CTO"}})
    flt = {"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(start)}
    answer = search(
        hubspot_client, filters=[flt], sorts=[{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}]
    )
    assert emails(answer) == ["bob@acme.com"]
    assert int(answer.results[0].properties["hs_object_id"]) == int(bob.id)


def test_hs_object_id_filter_and_sort(people, hubspot_client):
    everyone = search(hubspot_client, sorts=[{"propertyName": "hs_object_id", "direction": "ASCENDING"}])
    ids = [r.id for r in everyone.results]
    after_first = search(
        hubspot_client,
        filters=[{"propertyName": "hs_object_id", "operator": "GT", "value": ids[0]}],
        sorts=[{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
    )
    assert [r.id for r in after_first.results] == ids[1:]


def test_paging_stops_at_the_10000_result_cap(sandbox, hubspot_client):
    sandbox.admin.seed({"kind": "hubspot.contacts", "properties": {"email": f"n{i}@big.com"}} for i in range(10_050))
    # Walk the pages over plain HTTP (the client's model parsing would cost ~10 s here), then cross the cap with it.
    http = requests.Session()
    http.headers["Authorization"] = "Bearer t"
    seen, after = set(), None
    while after != "10000":
        body = {"limit": 200, "after": after, "properties": ["email"]}
        answer = http.post(f"{sandbox.hubspot_url}/crm/v3/objects/contacts/search", json=body, timeout=10).json()
        seen |= {r["id"] for r in answer["results"]}
        after = answer["paging"]["next"]["after"]
    assert len(seen) == 10_000 and answer["total"] == 10_050

    last = search(hubspot_client, limit=200, after="9800")
    assert len(last.results) == 200 and last.total == 10_050 and last.paging.next.after == "10000"
    with pytest.raises(ApiException) as info:
        search(hubspot_client, limit=200, after="10000")
    assert info.value.status == 400 and "10000" in json.loads(info.value.body)["message"]


@pytest.mark.parametrize(
    ("groups", "reason"),
    [
        ([{"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}]}] * 6, "groups"),
        ([{"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}] * 11}], "group"),
        ([{"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}] * 9}] * 3, "all"),
    ],
)
def test_filter_limits_are_enforced(people, hubspot_client, groups, reason):
    with pytest.raises(ApiException) as info:
        search(hubspot_client, groups=groups)
    assert info.value.status == 400 and reason in json.loads(info.value.body)["message"]


def test_limit_above_200_is_refused(people, hubspot_client):
    with pytest.raises(ApiException) as info:
        search(hubspot_client, limit=201)
    assert info.value.status == 400


def test_hostile_values_are_bound_not_executed(people, hubspot_client):
    for value in ["' OR 1=1 --", '") OR 1=1 --', "%", "_"]:
        answer = search(hubspot_client, filters=[{"propertyName": "email", "operator": "EQ", "value": value}])
        assert answer.total == 0
    with pytest.raises(ApiException):
        search(hubspot_client, filters=[{"propertyName": "x') OR 1=1 --", "operator": "EQ", "value": "1"}])


@settings(max_examples=25, deadline=None)
@given(
    values=st.lists(st.integers(min_value=-1000, max_value=1000), min_size=1, max_size=30),
    pivot=st.integers(-1000, 1000),
)
def test_numeric_filters_agree_with_python(sandbox_server, values, pivot):
    sandbox_server.admin.reset()
    sandbox_server.admin.seed(
        {"kind": "hubspot.contacts", "properties": {"email": f"h{i}@x.com", "hs_analytics_num_page_views": str(v)}}
        for i, v in enumerate(values)
    )
    client = sandbox_server.hubspot_client()
    flt = {"propertyName": "hs_analytics_num_page_views", "operator": "GT", "value": str(pivot)}
    answer = search(client, filters=[flt], limit=100)
    assert answer.total == sum(1 for v in values if v > pivot)


def test_iso_dated_properties_filter_as_epoch_ms(sandbox, hubspot_client):
    sandbox.admin.seed(
        {"kind": "hubspot.contacts", "properties": {"email": f"d{i}@x.com", "hs_analytics_last_visit_timestamp": stamp}}
        for i, stamp in enumerate(["2026-01-01T00:00:00.000Z", "2026-06-01T12:30:00.250Z", "2026-09-01T00:00:00Z"])
    )
    june = "1780317000250"  # 2026-06-01T12:30:00.250Z
    flt = {"propertyName": "hs_analytics_last_visit_timestamp", "operator": "GTE", "value": june}
    assert emails(search(hubspot_client, filters=[flt])) == ["d1@x.com", "d2@x.com"]
    flt = {"propertyName": "hs_analytics_last_visit_timestamp", "operator": "LT", "value": june}
    assert emails(search(hubspot_client, filters=[flt])) == ["d0@x.com"]


def test_total_stays_exact_across_pages_writes_and_past_the_end(people, hubspot_client):
    first = search(hubspot_client, limit=2)
    assert first.total == 4 and first.paging.next.after == "2"
    hubspot_client.crm.contacts.basic_api.create({"properties": {"email": "eve@acme.com"}})
    assert search(hubspot_client, limit=2).total == 5  # a write invalidates the cached count
    assert search(hubspot_client, limit=2, after="4").total == 5  # last page
    past = search(hubspot_client, limit=2, after="50")
    assert past.results == [] and past.total == 5
