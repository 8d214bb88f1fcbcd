"""The admin surface and the world actions, as tests and the demo use them."""

from __future__ import annotations

import pytest
from hubspot.crm.contacts.exceptions import NotFoundException

from adapters.sandbox.admin import AdminError


def test_stats_count_requests_per_endpoint_and_status(sandbox, hubspot_client):
    hubspot_client.crm.contacts.basic_api.get_page()
    hubspot_client.crm.contacts.basic_api.get_page()
    with pytest.raises(NotFoundException):
        hubspot_client.crm.contacts.basic_api.get_by_id("1")
    stats = sandbox.admin.stats()
    endpoints = stats["requests"]["endpoints"]
    assert endpoints["GET /crm/v3/objects/{object_type}"] == {"200": 2}
    assert endpoints["GET /crm/v3/objects/{object_type}/{object_id}"] == {"404": 1}
    assert stats["requests"]["total"] == 3


def test_request_log_keeps_method_path_status_latency(sandbox, hubspot_client):
    hubspot_client.crm.contacts.basic_api.create({"properties": {"email": "x@y.com"}})
    (entry,) = sandbox.admin.requests()
    assert entry["method"] == "POST" and entry["path"] == "/crm/v3/objects/contacts"
    assert entry["status"] == 201 and entry["latency_ms"] >= 0 and entry["side"] == "hubspot"


def test_reset_empties_store_log_and_faults(sandbox, hubspot_client):
    hubspot_client.crm.contacts.basic_api.create({"properties": {"email": "x@y.com"}})
    sandbox.admin.set_faults("hubspot:latency=1ms")
    sandbox.admin.reset(keep_faults=True)
    assert sandbox.admin.get_faults()["spec"] == "hubspot:latency=1ms"
    assert sandbox.admin.stats()["store"] == {} and sandbox.admin.requests() == []
    sandbox.admin.reset()
    assert sandbox.admin.get_faults()["spec"] == ""


def test_seed_counts_and_store_counts(sandbox):
    counts = sandbox.admin.seed(
        [{"kind": "hubspot.companies", "properties": {"name": "A"}}]
        + [{"kind": "hubspot.contacts", "properties": {"email": f"{i}@a.com"}} for i in range(3)]
    )
    assert counts == {"hubspot.companies": 1, "hubspot.contacts": 3}
    assert sandbox.admin.stats()["store"] == {"hubspot.companies": 1, "hubspot.contacts": 3}


def test_clock_freeze_advance_unfreeze(sandbox, hubspot_client):
    frozen = sandbox.admin.freeze_clock(1_800_000_000_000)
    a = hubspot_client.crm.contacts.basic_api.create({"properties": {"email": "a@x.com"}})
    b = hubspot_client.crm.contacts.basic_api.create({"properties": {"email": "b@x.com"}})
    assert frozen == 1_800_000_000_000
    assert a.properties["createdate"] == b.properties["createdate"] == "2027-01-15T08:00:00.000Z"
    assert sandbox.admin.advance_clock(1000) == 1_800_000_001_000
    assert sandbox.admin.unfreeze_clock() >= 1_800_000_001_000


@pytest.mark.parametrize(
    ("body", "status"),
    [({"spec": "nonsense=1"}, 400), ({"spec": "5xx=7"}, 400)],
)
def test_bad_admin_input_is_400(sandbox, body, status):
    with pytest.raises(AdminError) as info:
        sandbox.admin.set_faults(body["spec"])
    assert info.value.status == status


def test_unknown_limit_override_is_refused(sandbox):
    with pytest.raises(AdminError, match="unknown limit settings"):
        sandbox.admin.set_limits("starter", per_minute=3)


# -- world actions --------------------------------------------------------------------------------
def test_hubspot_touch_creates_completed_task_and_activity_dates(sandbox, hubspot_client):
    sandbox.admin.seed([{"kind": "hubspot.owners", "properties": {"email": "o@x.com", "userId": 1}}])
    owner_id = hubspot_client.crm.owners.owners_api.get_page().results[0].id
    contact = hubspot_client.crm.contacts.basic_api.create(
        {"properties": {"email": "lead@x.com", "hubspot_owner_id": owner_id}}
    )
    task = sandbox.admin.touch("hubspot", contact.id)
    assert task["kind"] == "hubspot.tasks"
    assert task["properties"]["hs_task_status"] == "COMPLETED" and task["properties"]["hubspot_owner_id"] == owner_id
    touched = hubspot_client.crm.contacts.basic_api.get_by_id(
        contact.id, properties=["hs_last_sales_activity_timestamp"]
    )
    assert touched.properties["hs_last_sales_activity_timestamp"].endswith("Z")
    linked = hubspot_client.crm.associations.v4.basic_api.get_page("contacts", contact.id, "tasks").results
    assert [r.to_object_id for r in linked] == [task["id"]]


def test_hubspot_touch_with_a_call(sandbox, hubspot_client):
    contact = hubspot_client.crm.contacts.basic_api.create({"properties": {"email": "c@x.com"}})
    call = sandbox.admin.touch("hubspot", contact.id, owner_id="40000001", activity="call")
    assert call["kind"] == "hubspot.calls" and call["properties"]["hs_call_status"] == "COMPLETED"


def test_change_owner_and_deactivate_owner_on_hubspot(sandbox, hubspot_client):
    sandbox.admin.seed([{"kind": "hubspot.owners", "properties": {"email": "o@x.com", "userId": 1}}])
    owner = hubspot_client.crm.owners.owners_api.get_page().results[0]
    contact = hubspot_client.crm.contacts.basic_api.create({"properties": {"email": "c@x.com"}})
    sandbox.admin.change_owner("hubspot", contact.id, owner.id)
    got = hubspot_client.crm.contacts.basic_api.get_by_id(contact.id, properties=["hubspot_owner_id"])
    assert got.properties["hubspot_owner_id"] == owner.id
    sandbox.admin.deactivate_user("hubspot", owner.id)
    assert hubspot_client.crm.owners.owners_api.get_page().results == []


def test_create_lead_on_hubspot_looks_like_a_form(sandbox, hubspot_client):
    made = sandbox.admin.create_lead("hubspot", {"email": "new@x.com", "firstname": "New"})
    got = hubspot_client.crm.contacts.basic_api.get_by_id(made["id"], properties=["lifecyclestage", "email"])
    assert got.properties["lifecyclestage"] == "lead" and got.properties["email"] == "new@x.com"


def test_salesforce_world_actions(sandbox, sf):
    sandbox.admin.seed(
        [
            {
                "kind": "salesforce.User",
                "properties": {"Username": "u@x.com", "Email": "u@x.com", "LastName": "U", "IsActive": True},
            },
            {"kind": "salesforce.Group", "properties": {"Name": "Unassigned Leads", "Type": "Queue"}},
        ]
    )
    user_id = sf.query("SELECT Id FROM User")["records"][0]["Id"]
    queue_id = sf.query("SELECT Id FROM Group")["records"][0]["Id"]
    lead = sandbox.admin.create_lead("salesforce", {"LastName": "Form", "Company": "Acme", "Email": "f@acme.com"})
    assert lead["properties"]["OwnerId"] == queue_id  # web-to-lead lands in the fallback queue
    sandbox.admin.change_owner("salesforce", lead["id"], user_id)
    assert sf.Lead.get(lead["id"])["OwnerId"] == user_id
    task = sandbox.admin.touch("salesforce", lead["id"])
    assert task["properties"]["WhoId"] == lead["id"] and task["properties"]["OwnerId"] == user_id
    assert task["properties"]["Status"] == "Completed"
    sandbox.admin.deactivate_user("salesforce", user_id)
    assert sf.User.get(user_id)["IsActive"] is False


def test_world_action_on_a_missing_record_is_404(sandbox):
    with pytest.raises(AdminError) as info:
        sandbox.admin.touch("hubspot", "100999999")
    assert info.value.status == 404
