"""The real hubspot-api-client against the sandbox: basic CRUD, paging, lookups by email, batch operations."""

from __future__ import annotations

import json

import pytest
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.contacts.exceptions import ApiException, NotFoundException


def _contacts(n: int, domain: str = "example.com") -> list[dict]:
    return [
        {"kind": "hubspot.contacts", "properties": {"email": f"p{i}@{domain}", "firstname": f"P{i}", "lastname": "X"}}
        for i in range(n)
    ]


def test_create_get_update_archive_round_trip(hubspot_client):
    api = hubspot_client.crm.contacts.basic_api
    created = api.create(SimplePublicObjectInputForCreate(properties={"email": "ann@acme.com", "firstname": "Ann"}))
    assert created.id.isdigit()
    assert created.properties["email"] == "ann@acme.com"
    assert created.properties["hs_object_id"] == created.id

    fetched = api.get_by_id(created.id, properties=["email", "phone"])
    assert fetched.properties["phone"] is None  # requested but unset: present as null, like HubSpot
    assert fetched.created_at is not None and fetched.updated_at is not None

    updated = api.update(created.id, SimplePublicObjectInput(properties={"firstname": "Anna"}))
    assert updated.properties["firstname"] == "Anna"
    assert updated.properties["lastmodifieddate"] >= created.properties["lastmodifieddate"]

    api.archive(created.id)
    with pytest.raises(NotFoundException):
        api.get_by_id(created.id)
    archived = api.get_by_id(created.id, archived=True)
    assert archived.archived is True


def test_lookup_by_email_is_case_insensitive(hubspot_client):
    api = hubspot_client.crm.contacts.basic_api
    created = api.create(SimplePublicObjectInputForCreate(properties={"email": "Bob@Example.com"}))
    found = api.get_by_id("bob@example.COM", id_property="email")
    assert found.id == created.id


def test_duplicate_contact_email_is_a_conflict(hubspot_client):
    api = hubspot_client.crm.contacts.basic_api
    first = api.create(SimplePublicObjectInputForCreate(properties={"email": "dup@x.com"}))
    with pytest.raises(ApiException) as info:
        api.create(SimplePublicObjectInputForCreate(properties={"email": "DUP@x.com"}))
    assert info.value.status == 409
    assert first.id in info.value.body


def test_paging_walks_every_record_once(sandbox, hubspot_client):
    sandbox.admin.seed(_contacts(250))
    seen, after = [], None
    while True:
        page = hubspot_client.crm.contacts.basic_api.get_page(limit=100, after=after, properties=["email"])
        seen += [r.properties["email"] for r in page.results]
        if page.paging is None:
            break
        after = page.paging.next.after
        assert page.paging.next.link.endswith(f"after={after}")
    assert len(seen) == 250 and len(set(seen)) == 250


def test_page_size_is_clamped_to_100(sandbox, hubspot_client):
    sandbox.admin.seed(_contacts(120))
    page = hubspot_client.crm.contacts.basic_api.get_page(limit=500)
    assert len(page.results) == 100


def test_default_properties_per_object_type(hubspot_client):
    company = hubspot_client.crm.companies.basic_api.create(
        {"properties": {"name": "Acme", "domain": "acme.com", "industry": "COMPUTER_SOFTWARE"}}
    )
    assert set(company.properties) == {"createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"}
    task = hubspot_client.crm.objects.tasks.basic_api.create(
        {"properties": {"hs_timestamp": "2026-11-01T00:00:00Z", "hs_task_subject": "Call"}}
    )
    assert "hs_lastmodifieddate" in task.properties and "hs_task_subject" not in task.properties


def test_get_with_associations(sandbox, hubspot_client):
    company = hubspot_client.crm.companies.basic_api.create({"properties": {"name": "Acme"}})
    contact = hubspot_client.crm.contacts.basic_api.create(
        {
            "properties": {"email": "c@acme.com"},
            "associations": [
                {
                    "to": {"id": company.id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}],
                }
            ],
        }
    )
    got = hubspot_client.crm.contacts.basic_api.get_by_id(contact.id, associations=["companies"])
    assert [a.id for a in got.associations["companies"].results] == [company.id]
    assert got.associations["companies"].results[0].type == "contact_to_company"


def test_batch_create_read_update_upsert_archive(hubspot_client):
    batch = hubspot_client.crm.contacts.batch_api
    created = batch.create(
        BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=[{"properties": {"email": f"b{i}@x.com"}} for i in range(3)]
        )
    )
    assert created.status == "COMPLETE" and len(created.results) == 3
    ids = [r.id for r in created.results]

    read = batch.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[{"id": i} for i in ids], properties=["email"], properties_with_history=[]
        )
    )
    assert sorted(r.properties["email"] for r in read.results) == ["b0@x.com", "b1@x.com", "b2@x.com"]

    updated = batch.update(
        BatchInputSimplePublicObjectBatchInput(inputs=[{"id": ids[0], "properties": {"firstname": "Zed"}}])
    )
    assert updated.results[0].id == ids[0]

    upserted = batch.upsert(
        BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[
                {"id": "b1@x.com", "idProperty": "email", "properties": {"lastname": "Known"}},
                {"id": "new@x.com", "idProperty": "email", "properties": {"lastname": "Fresh"}},
            ]
        )
    )
    assert sorted((r.properties.get("email"), r.new) for r in upserted.results) == [
        ("b1@x.com", False),
        ("new@x.com", True),
    ]

    batch.archive(BatchInputSimplePublicObjectId(inputs=[{"id": i} for i in ids]))
    page = hubspot_client.crm.contacts.basic_api.get_page(limit=100)
    assert [r.properties["email"] for r in page.results] == ["new@x.com"]


def test_batch_read_with_missing_ids_is_207_with_errors(hubspot_client):
    created = hubspot_client.crm.contacts.basic_api.create({"properties": {"email": "one@x.com"}})
    answer = hubspot_client.crm.contacts.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[{"id": created.id}, {"id": "999"}], properties=[], properties_with_history=[]
        )
    )
    assert [r.id for r in answer.results] == [created.id]
    assert answer.num_errors == 1 and answer.errors[0].context == {"ids": ["999"]}


def test_batch_of_more_than_100_is_refused(hubspot_client):
    with pytest.raises(ApiException) as info:
        hubspot_client.crm.contacts.batch_api.create(
            BatchInputSimplePublicObjectBatchInputForCreate(
                inputs=[{"properties": {"email": f"m{i}@x.com"}} for i in range(101)]
            )
        )
    assert info.value.status == 400
    assert json.loads(info.value.body)["status"] == "error" and "correlationId" in json.loads(info.value.body)


def test_missing_token_is_401(sandbox):
    import requests

    answer = requests.get(f"{sandbox.hubspot_url}/crm/v3/objects/contacts", timeout=5)
    assert answer.status_code == 401 and answer.json()["category"] == "INVALID_AUTHENTICATION"


@pytest.mark.parametrize("path", ["/crm/v3/objects/widgets", "/crm/v3/objects/0-999"])
def test_unknown_object_type_is_400(sandbox, path):
    import requests

    answer = requests.get(sandbox.hubspot_url + path, headers={"Authorization": "Bearer t"}, timeout=5)
    assert answer.status_code == 400 and answer.json()["status"] == "error"


def test_object_type_ids_are_accepted(sandbox, hubspot_client):
    import requests

    hubspot_client.crm.contacts.basic_api.create({"properties": {"email": "t@x.com"}})
    answer = requests.get(sandbox.hubspot_url + "/crm/v3/objects/0-1", headers={"Authorization": "Bearer t"}, timeout=5)
    assert answer.json()["results"][0]["properties"]["email"] == "t@x.com"


def test_archived_list_shows_only_archived(hubspot_client):
    keep = hubspot_client.crm.contacts.basic_api.create({"properties": {"email": "keep@x.com"}})
    gone = hubspot_client.crm.contacts.basic_api.create({"properties": {"email": "gone@x.com"}})
    hubspot_client.crm.contacts.basic_api.archive(gone.id)
    live = hubspot_client.crm.contacts.basic_api.get_page()
    archived = hubspot_client.crm.contacts.basic_api.get_page(archived=True)
    assert [r.id for r in live.results] == [keep.id]
    assert [(r.id, r.archived) for r in archived.results] == [(gone.id, True)] and archived.results[0].archived_at


def test_unknown_crm_path_is_a_hubspot_shaped_404(sandbox):
    import requests

    answer = requests.get(
        sandbox.hubspot_url + "/crm/v3/nothing/here", headers={"Authorization": "Bearer t"}, timeout=5
    )
    assert answer.status_code == 404 and answer.json()["status"] == "error"
