"""The in-process runner: addresses, both listeners, the CA, running code on the loop thread, helpers."""

from __future__ import annotations

from pathlib import Path

import requests

from adapters.sandbox.runner import SandboxServer, running_sandbox


def test_addresses_and_both_listeners(sandbox):
    assert sandbox.hubspot_url.startswith("http://127.0.0.1:")
    assert sandbox.salesforce_url == f"https://{sandbox.salesforce_instance}"
    assert requests.get(sandbox.hubspot_url + "/_sandbox/health", timeout=5).json() == {"status": "ok"}
    # the whole app is on the HTTPS listener too, trusted through the test CA
    assert sandbox.salesforce_session().get(sandbox.salesforce_url + "/_sandbox/health", timeout=5).ok
    assert Path(sandbox.ca_path).read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_call_runs_on_the_loop_thread(sandbox, hubspot_client):
    created = hubspot_client.crm.contacts.basic_api.create({"properties": {"email": "x@y.com"}})
    stored = sandbox.call(sandbox.context.store.get, "hubspot.contacts", created.id)
    assert stored.properties["email"] == "x@y.com"


def test_faults_and_limits_helpers_restore_settings(sandbox):
    with sandbox.faults("hubspot:5xx=0.5", seed=3):
        assert sandbox.admin.get_faults()["spec"] == "hubspot:5xx=0.5"
    assert sandbox.admin.get_faults()["spec"] == ""
    with sandbox.limits("starter", hubspot_burst=7):
        assert sandbox.admin.get_limits()["settings"]["hubspot_burst"] == 7
    assert sandbox.admin.get_limits()["settings"]["name"] == "off"


def test_seeded_sandbox_on_a_file_database(tmp_path):
    seed = [{"kind": "hubspot.contacts", "properties": {"email": f"{i}@x.com"}} for i in range(5)]
    with running_sandbox(limits="off", seed=seed, db_path=str(tmp_path / "sandbox.db")) as box:
        assert box.seeded == {"hubspot.contacts": 5}
        assert box.hubspot_client().crm.contacts.basic_api.get_page().results[0].properties["email"] == "0@x.com"
    assert (tmp_path / "sandbox.db").exists()


def test_start_stop_is_idempotent_and_quick():
    import time

    box = SandboxServer(limits="off")
    box.start()
    box.start()
    box.hubspot_client().crm.contacts.basic_api.get_page()
    started = time.monotonic()
    box.stop()
    box.stop()
    assert time.monotonic() - started < 3
