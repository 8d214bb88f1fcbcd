"""POST /v1/route: authenticated, rate-limited, validated; answers with owner, booking link and reasons at once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from daemon_harness import API_KEY, ENV, free_port, go_live_now, write_config
from hubspot.crm.contacts import SimplePublicObjectInputForCreate
from starlette.testclient import TestClient

from adapters.sandbox.generate import iter_seed
from connector.daemon import Daemon
from connector.web.app import create_app

LEAD = {"email": "maria.keller@newco-gmbh.de", "first_name": "Maria", "last_name": "Keller", "company": "NewCo GmbH",
        "country": "Germany", "employees": 250, "title": "VP Sales"}  # fmt: skip
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture(scope="module")
def daemon(sandbox_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """One daemon for the module over a small seeded portal (the tests here add records, never reset them)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in ENV.items():
            patch.setenv(name, value)
        sandbox_server.admin.reset()
        sandbox_server.admin.seed(iter_seed(contacts=60, seed=5))
        workdir = tmp_path_factory.mktemp("route-api")
        loaded = write_config(workdir, sandbox_server, "http://127.0.0.1:9", port=free_port(), poll_s=3600,
                              webhooks=False)  # fmt: skip
        go_live_now(loaded)
        running = Daemon(loaded)
        running.run(burst=True)  # owners and accounts in the cache
        yield running
        running.close()


@pytest.fixture
def client(daemon: Daemon) -> TestClient:
    return TestClient(create_app(daemon))


def test_a_lead_gets_an_owner_with_reasons_and_nothing_is_written_back(client, daemon):
    answer = client.post("/v1/route", json=LEAD, headers=AUTH)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "routed"
    assert body["owner"]["key"]
    assert body["reasons"], "the decision explains itself"
    assert body["config_version"] == daemon.loaded.version
    assert body["write_back"] is False
    assert daemon.route_db.conn.execute("SELECT COUNT(*) FROM outbox_items").fetchone()[0] == 0


def test_a_crm_record_is_written_back_through_the_outbox(client, daemon, sandbox_server):
    sandbox = sandbox_server
    created = sandbox.hubspot_client().crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": LEAD["email"], "firstname": "Maria"})
    )
    answer = client.post("/v1/route", json={**LEAD, "crm": "hubspot", "record_id": str(created.id)}, headers=AUTH)
    body = answer.json()
    assert body["status"] == "routed" and body["write_back"] is True
    daemon.run(burst=True)
    record = sandbox.call(sandbox.context.store.get, "hubspot.contacts", str(created.id))
    assert record.properties.get("hubspot_owner_id"), "the owner was written to the HubSpot contact"
    again = client.post("/v1/route", json={**LEAD, "crm": "hubspot", "record_id": str(created.id)}, headers=AUTH)
    assert again.json()["status"] == "already_handled", "a record is routed once"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"X-Api-Key": "wrong"}, {"Authorization": API_KEY}],
)
def test_requests_without_a_valid_key_are_refused(client, headers):
    assert client.post("/v1/route", json=LEAD, headers=headers).status_code == 401


def test_the_x_api_key_header_is_accepted(client):
    assert client.post("/v1/route", json=LEAD, headers={"X-Api-Key": API_KEY}).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**LEAD, "employees": -3}, "employees"),
        ({**LEAD, "crm": "pipedrive", "record_id": "1"}, "crm"),
        ({**LEAD, "favourite_colour": "blue"}, "favourite_colour"),
        ({"first_name": "Only"}, "(body)"),
        ({**LEAD, "crm": "hubspot"}, "(body)"),
    ],
)
def test_invalid_leads_get_422_with_the_field(client, body, field):
    answer = client.post("/v1/route", json=body, headers=AUTH)
    assert answer.status_code == 422
    assert field in [e["field"] for e in answer.json()["errors"]]


def test_an_oversized_body_gets_413(client):
    answer = client.post("/v1/route", json={**LEAD, "title": "x" * 70_000}, headers=AUTH)
    assert answer.status_code == 413


def test_a_key_over_its_rate_gets_429_with_retry_after(daemon):
    config = daemon.loaded.config
    slow = config.daemon.route_api.model_copy(update={"requests_per_second": 0.5, "burst": 2})
    original = daemon.loaded
    daemon.loaded = replace(original, config=config.model_copy(update={"daemon": config.daemon.model_copy(
        update={"route_api": slow})}))  # fmt: skip
    try:
        client = TestClient(create_app(daemon))
        statuses = [client.post("/v1/route", json=LEAD, headers=AUTH).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        limited = client.post("/v1/route", json=LEAD, headers=AUTH)
        assert int(limited.headers["Retry-After"]) >= 1
    finally:
        daemon.loaded = original


def test_the_openapi_document_is_served(client):
    spec = client.get("/openapi.json").json()
    assert "/v1/route" in spec["paths"] and "/webhooks/hubspot" in spec["paths"]


@pytest.mark.parametrize(
    "hostile",
    [
        {"country": "日本"},
        {"email": "not-an-address"},
        {"phone": "call me maybe"},
        {"first_name": "n/a", "last_name": "\u202e\u200b"},
        {"website": "javascript:alert(1)"},
    ],
)
def test_unusable_values_are_dropped_and_the_lead_still_routed(client, hostile):
    answer = client.post("/v1/route", json={**LEAD, **hostile}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] in {"routed", "nurture"}
