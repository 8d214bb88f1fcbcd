"""Injected faults: the spec language, reproducibility, and what the real clients see for each kind."""

from __future__ import annotations

import json
import time

import pytest
import requests
from hubspot.crm.contacts import PublicObjectSearchRequest
from hubspot.crm.contacts.exceptions import ApiException, ServiceException
from simple_salesforce.exceptions import SalesforceMalformedRequest
from urllib3 import Retry
from urllib3.exceptions import MaxRetryError, ProtocolError

from adapters.sandbox.faults import FaultInjector, FaultSpec


@pytest.mark.parametrize(
    ("spec", "side", "kind", "value"),
    [
        ("5xx=0.1", "hubspot", "5xx", 0.1),
        ("5xx=0.1", "salesforce", "5xx", 0.1),
        ("hubspot:429=0.5", "hubspot", "429", 0.5),
        ("salesforce:lock=0.05, reset=0.02", "salesforce", "reset", 0.02),
    ],
)
def test_spec_parsing(spec, side, kind, value):
    assert FaultSpec.parse(spec).sides[side].probabilities[kind] == value


@pytest.mark.parametrize(
    ("spec", "latency"),
    [("latency=50ms", (0.05, 0.05)), ("latency=0.2s", (0.2, 0.2)), ("latency=20-80ms", (0.02, 0.08))],
)
def test_latency_parsing(spec, latency):
    assert FaultSpec.parse(spec).sides["hubspot"].latency_s == pytest.approx(latency)


@pytest.mark.parametrize("spec", ["5xx", "boom=0.1", "5xx=2", "5xx=x", "zendesk:5xx=0.1", "latency=fast"])
def test_bad_specs_say_what_is_wrong(spec):
    with pytest.raises(ValueError, match="fault item"):
        FaultSpec.parse(spec)


def test_same_seed_same_faults():
    def run(seed):
        injector = FaultInjector("5xx=0.2,429=0.1,reset=0.05,lock=0.1", seed=seed)
        return [injector.draw("salesforce", write=i % 2 == 0).kind for i in range(300)]

    assert run(7) == run(7)
    assert run(7) != run(8)
    kinds = run(7)
    assert {"5xx", "429", "reset", "lock"} <= set(kinds)


def test_locks_only_hit_salesforce_writes():
    injector = FaultInjector("lock=1")
    assert injector.draw("salesforce", write=False).kind is None
    assert injector.draw("hubspot", write=True).kind is None
    assert injector.draw("salesforce", write=True).kind == "lock"


# -- through the real clients ---------------------------------------------------------------------
def test_5xx_reaches_the_hubspot_client_as_service_exception(sandbox, hubspot_client):
    with sandbox.faults("hubspot:5xx=1"), pytest.raises(ServiceException) as info:
        hubspot_client.crm.contacts.basic_api.create({"properties": {"email": "a@b.com"}})
    assert info.value.status in (500, 502, 503)
    assert json.loads(info.value.body)["status"] == "error"


def test_injected_429_is_hubspot_shaped_with_retry_after(sandbox, hubspot_client):
    sandbox.admin.set_faults("hubspot:429=1")
    with pytest.raises(ApiException) as info:
        hubspot_client.crm.contacts.search_api.do_search(PublicObjectSearchRequest())
    assert info.value.status == 429 and info.value.headers["Retry-After"] == "1"
    assert json.loads(info.value.body)["policyName"] == "SECONDLY"


def test_reset_is_a_connection_error_for_the_hubspot_client(sandbox):
    client = sandbox.hubspot_client(retry=Retry(0))
    sandbox.admin.set_faults("hubspot:reset=1")
    with pytest.raises((ProtocolError, MaxRetryError)):
        client.crm.contacts.basic_api.get_page()
    sandbox.admin.set_faults("")
    assert client.crm.contacts.basic_api.get_page().results == []  # the pool recovers with a new connection
    log = sandbox.admin.requests()
    assert log[0]["status"] == 0 and log[0]["fault"] == "reset"


def test_reset_is_a_connection_error_for_salesforce_too(sandbox):
    sandbox.admin.set_faults("salesforce:reset=1")
    with pytest.raises(requests.ConnectionError):
        sandbox.salesforce_session().get(sandbox.salesforce_url + "/services/data/", timeout=5)


def test_latency_is_added(sandbox, hubspot_client):
    hubspot_client.crm.contacts.basic_api.get_page()  # warm the connection
    with sandbox.faults("hubspot:latency=150ms"):
        started = time.perf_counter()
        hubspot_client.crm.contacts.basic_api.get_page()
        elapsed = time.perf_counter() - started
    assert elapsed >= 0.14  # asyncio timers may fire a hair early
    assert sandbox.admin.requests(1)[0]["latency_ms"] >= 140


def test_lock_hits_salesforce_writes_only(sandbox, sf):
    sandbox.admin.set_faults("salesforce:lock=1")
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Lead.create({"LastName": "Lock", "Company": "Acme"})
    assert info.value.content[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    assert sandbox.salesforce_session().get(sandbox.salesforce_url + "/services/data/", timeout=5).status_code == 200


def test_side_prefix_spares_the_other_crm(sandbox, hubspot_client):
    sandbox.admin.set_faults("salesforce:5xx=1")
    assert hubspot_client.crm.contacts.basic_api.get_page().results == []


def test_admin_is_never_faulted(sandbox):
    sandbox.admin.set_faults("5xx=1,reset=0")
    assert sandbox.admin.health() == {"status": "ok"}
    assert sandbox.admin.get_faults()["spec"] == "5xx=1,reset=0"


def test_a_dedicated_faulty_sandbox_is_reproducible():
    from adapters.sandbox.runner import running_sandbox

    def statuses():
        with running_sandbox(limits="off", faults="hubspot:5xx=0.3", fault_seed=11) as box:
            client = box.hubspot_client(retry=Retry(0))
            out = []
            for _ in range(20):
                try:
                    client.crm.contacts.basic_api.get_page()
                    out.append(200)
                except ApiException as exc:
                    out.append(exc.status)
            return out

    first = statuses()
    assert first == statuses() and any(s >= 500 for s in first) and 200 in first


@pytest.mark.parametrize(("spec", "statuses"), [("salesforce:5xx=1", {500, 502, 503}), ("salesforce:429=1", {429})])
def test_salesforce_client_sees_injected_errors(sandbox, sf, spec, statuses):
    from simple_salesforce.exceptions import SalesforceGeneralError

    sandbox.admin.set_faults(spec)
    with pytest.raises(SalesforceGeneralError) as info:
        sf.query("SELECT Id FROM Lead")
    assert info.value.status in statuses
    assert info.value.content[0]["errorCode"] in ("SERVER_UNAVAILABLE", "REQUEST_LIMIT_EXCEEDED")


def test_salesforce_budget_refusal_reaches_the_client_as_refused_request(sandbox, sf):
    from simple_salesforce.exceptions import SalesforceRefusedRequest

    sandbox.admin.set_limits("professional", salesforce_daily=1)
    sf.query("SELECT Id FROM Lead")
    assert sf.api_usage["api-usage"].used == 1
    with pytest.raises(SalesforceRefusedRequest) as info:
        sf.query("SELECT Id FROM Lead")
    assert info.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
