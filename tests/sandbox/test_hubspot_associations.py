"""Associations v4, owners and properties through the real hubspot-api-client."""

from __future__ import annotations

import pytest
from hubspot.crm.associations.v4 import AssociationSpec, BatchInputPublicFetchAssociationsBatchRequest
from hubspot.crm.associations.v4.exceptions import ApiException as AssociationsApiException
from hubspot.crm.objects.tasks import SimplePublicObjectInputForCreate as TaskInput
from hubspot.crm.owners.exceptions import NotFoundException as OwnerNotFound


@pytest.fixture
def world(sandbox, hubspot_client):
    company = hubspot_client.crm.companies.basic_api.create({"properties": {"name": "Acme", "domain": "acme.com"}})
    contacts = [
        hubspot_client.crm.contacts.basic_api.create({"properties": {"email": f"p{i}@acme.com"}}) for i in range(3)
    ]
    return company, contacts


def test_default_association_is_visible_from_both_sides(hubspot_client, world):
    company, contacts = world
    v4 = hubspot_client.crm.associations.v4
    answer = v4.basic_api.create_default("contacts", contacts[0].id, "companies", company.id)
    assert answer.results[0].association_spec.association_type_id == 279
    back = v4.basic_api.get_page("companies", company.id, "contacts")
    assert [r.to_object_id for r in back.results] == [contacts[0].id]
    assert back.results[0].association_types[0].type_id == 280


def test_labelled_association_and_archive(hubspot_client, world):
    company, contacts = world
    v4 = hubspot_client.crm.associations.v4
    pair = v4.basic_api.create(
        "contacts",
        contacts[1].id,
        "companies",
        company.id,
        [AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=1)],
    )
    assert pair.labels == ["Primary"] and pair.from_object_type_id == "0-1"
    v4.basic_api.archive("contacts", contacts[1].id, "companies", company.id)
    assert v4.basic_api.get_page("contacts", contacts[1].id, "companies").results == []


def test_batch_create_and_read(hubspot_client, world):
    company, contacts = world
    v4 = hubspot_client.crm.associations.v4
    inputs = [
        {
            "from": {"id": c.id},
            "to": {"id": company.id},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}],
        }
        for c in contacts[:2]
    ]
    created = v4.batch_api.create("contacts", "companies", {"inputs": inputs})
    assert len(created.results) == 2
    read = v4.batch_api.get_page(
        "contacts", "companies", BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": c.id} for c in contacts])
    )
    assert sorted(r._from.id for r in read.results) == sorted(c.id for c in contacts[:2])
    assert read.num_errors == 1  # the third contact has no company: reported, like HubSpot's 207


def test_batch_read_caps_at_100_ids(hubspot_client, world):
    with pytest.raises(AssociationsApiException) as info:
        hubspot_client.crm.associations.v4.batch_api.get_page(
            "contacts", "companies", {"inputs": [{"id": str(i)} for i in range(101)]}
        )
    assert info.value.status == 400


def test_task_created_with_associations_is_linked(hubspot_client, world):
    company, contacts = world
    task = hubspot_client.crm.objects.tasks.basic_api.create(
        TaskInput(
            properties={
                "hs_timestamp": "2026-11-22T10:00:00.000Z",
                "hs_task_subject": "Call back",
                "hs_task_type": "CALL",
            },
            associations=[
                {
                    "to": {"id": contacts[0].id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 204}],
                },
                {
                    "to": {"id": company.id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 192}],
                },
            ],
        )
    )
    v4 = hubspot_client.crm.associations.v4.basic_api
    assert [r.to_object_id for r in v4.get_page("tasks", task.id, "contacts").results] == [contacts[0].id]
    from_contact = v4.get_page("contacts", contacts[0].id, "tasks").results
    assert from_contact[0].to_object_id == task.id and from_contact[0].association_types[0].type_id == 203
    assert [r.to_object_id for r in v4.get_page("companies", company.id, "tasks").results] == [task.id]


def test_task_with_a_wrong_association_type_is_refused(hubspot_client, world):
    from hubspot.crm.objects.tasks.exceptions import ApiException

    _company, contacts = world
    with pytest.raises(ApiException) as info:
        hubspot_client.crm.objects.tasks.basic_api.create(
            TaskInput(
                properties={"hs_timestamp": "2026-11-22T10:00:00.000Z"},
                associations=[
                    {
                        "to": {"id": contacts[0].id},
                        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}],
                    }
                ],
            )
        )
    assert info.value.status == 400


OWNERS = [
    {"email": "ana@northwind-demo.com", "firstName": "Ana", "lastName": "Silva", "userId": 9001,
     "teams": [{"id": "11", "name": "LATAM", "primary": True}]},
    {"email": "ben@northwind-demo.com", "firstName": "Ben", "lastName": "Ode", "userId": 9002, "teams": []},
    {"email": "gone@northwind-demo.com", "firstName": "Gone", "lastName": "Rep", "userId": 9003, "teams": []},
]  # fmt: skip


@pytest.fixture
def owners(sandbox):
    sandbox.admin.seed(
        {"kind": "hubspot.owners", "properties": o, "archived": o["firstName"] == "Gone"} for o in OWNERS
    )
    return sandbox


def test_owners_page_email_filter_and_archived(owners, hubspot_client):
    api = hubspot_client.crm.owners.owners_api
    live = api.get_page(limit=1)
    assert live.results[0].email == "ana@northwind-demo.com" and live.results[0].teams[0].name == "LATAM"
    second = api.get_page(limit=1, after=live.paging.next.after)
    assert second.results[0].email == "ben@northwind-demo.com" and second.paging is None
    assert [o.user_id for o in api.get_page(email="BEN@northwind-demo.com").results] == [9002]
    archived = api.get_page(archived=True)
    assert [o.email for o in archived.results] == ["gone@northwind-demo.com"] and archived.results[0].archived


def test_owner_by_id_and_by_user_id(owners, hubspot_client):
    api = hubspot_client.crm.owners.owners_api
    first = api.get_page().results[0]
    assert api.get_by_id(int(first.id)).email == first.email
    assert api.get_by_id(9002, id_property="userId").email == "ben@northwind-demo.com"
    with pytest.raises(OwnerNotFound):
        api.get_by_id(123)


def test_properties_list_includes_custom_ones(hubspot_client):
    names = {p.name for p in hubspot_client.crm.properties.core_api.get_all("contacts").results}
    assert {"email", "hubspot_owner_id", "lastmodifieddate", "product_interest"} <= names
    one = hubspot_client.crm.properties.core_api.get_by_name("contacts", "lifecyclestage")
    assert one.type == "enumeration" and "lead" in [o.value for o in one.options]
