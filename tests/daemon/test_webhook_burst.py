"""1,000 contacts created at once: every webhook event is stored once and every lead is decided exactly once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from daemon_harness import ENV, WEBHOOK_SECRET, create_contacts, free_port, go_live_now, wait_for, write_config

from adapters.slack.standin import SlackStandIn
from connector.daemon import Daemon
from connector.web import webhooks
from connector.web.app import create_app
from connector.web.server import WebServer

LEADS = 1000


@pytest.fixture
def running(tmp_path: Any, sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Daemon, str]]:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    with SlackStandIn() as slack:
        port = free_port()
        loaded = write_config(tmp_path, sandbox, slack.base_url, port=port, poll_s=3600, webhooks=True)
        go_live_now(loaded)
        daemon = Daemon(loaded)
        server = WebServer(create_app(daemon), "127.0.0.1", port).start()
        loop = threading.Thread(target=daemon.run, daemon=True)
        loop.start()
        try:
            yield daemon, f"http://127.0.0.1:{port}"
        finally:
            daemon.request_stop()
            loop.join(30)
            server.stop()
            daemon.close()


def test_a_burst_of_webhooks_is_stored_and_routed_once(running, sandbox):
    daemon, url = running
    sandbox.admin.set_webhooks(f"{url}/webhooks/hubspot", WEBHOOK_SECRET, properties=["email"])
    ids = {f"hubspot:contacts:{n}" for n in create_contacts(sandbox, LEADS)}
    db = daemon.route_db

    def decided() -> int:
        rows = db.conn.execute("SELECT lead_id FROM pipeline_leads").fetchall()
        return len(ids & {r[0] for r in rows})

    wait_for(lambda: decided() == LEADS, 60, what="every burst lead decided", every_s=0.25)
    stored = db.conn.execute("SELECT COUNT(*), COUNT(DISTINCT object_id) FROM webhook_events").fetchone()
    assert stored == (LEADS, LEADS), "each creation event stored once"
    delivered = sandbox.admin.webhooks()
    assert delivered["events_delivered"] == LEADS and delivered["batches_dropped"] == 0
    twice = db.conn.execute("SELECT lead_id FROM routing_decisions GROUP BY lead_id HAVING COUNT(*) > 1").fetchall()
    assert twice == [], "no lead decided twice"


def test_an_event_whose_contact_search_does_not_return_yet_stays_waiting(tmp_path, sandbox, monkeypatch):
    """HubSpot's search lags creations: such an event is retried, not dropped; a found contact's event is done."""
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    loaded = write_config(tmp_path, sandbox, "http://127.0.0.1:9", port=free_port(), poll_s=3600, webhooks=True)
    daemon = Daemon(loaded)
    try:
        daemon.run(burst=True)
        (known,) = create_contacts(sandbox, 1, tag="known")
        creation = {"subscriptionId": 1, "occurredAt": 1, "subscriptionType": "contact.creation"}
        events = [
            {**creation, "eventId": 1, "objectId": int(known)},
            {**creation, "eventId": 2, "objectId": 999_999_999},  # not (yet) returned by HubSpot's search
        ]
        webhooks.store(daemon.relay.db, "sig", str(int(time.time() * 1000)), events)
        daemon.turn(deliver=False)
        assert [e.object_id for e in webhooks.waiting(daemon.relay.db)] == ["999999999"]
    finally:
        daemon.close()
