"""Webhooks: batched, HubSpot-signed (v3) deliveries to a real receiver, with retries like HubSpot's."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hubspot.utils.signature import Signature

from adapters.sandbox.webhooks import RetryPolicy, sign_v3

SECRET = "client-secret-for-tests"


class Receiver:
    """A tiny webhook endpoint: answers with scripted statuses, checks signatures, records event batches."""

    def __init__(self) -> None:
        self.batches: list[list[dict]] = []
        self.valid: list[bool] = []
        self.script: list[tuple[int, dict[str, str]]] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                uri = f"http://127.0.0.1:{self.server.server_address[1]}{self.path}"
                ok = Signature.is_valid(
                    self.headers["X-HubSpot-Signature-v3"], SECRET, body, uri, "POST", "v3",
                    self.headers["X-HubSpot-Request-Timestamp"],
                )  # fmt: skip
                status, headers = receiver.script.pop(0) if receiver.script else (204, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with receiver.arrived:
                    receiver.valid.append(ok)
                    receiver.batches.append(json.loads(body))
                    receiver.arrived.notify_all()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/hubspot?portal=1"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def wait_for(self, batches: int, timeout: float = 5.0) -> list[list[dict]]:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.batches) < batches and time.monotonic() < deadline:
                self.arrived.wait(deadline - time.monotonic())
        return self.batches

    def events(self) -> list[dict]:
        return [event for batch in self.batches for event in batch]


def settled(sandbox, counter: str, timeout: float = 5.0) -> dict:
    """The sender's stats once ``counter`` is non-zero (the receiver sees a batch before the sender counts it)."""
    deadline = time.monotonic() + timeout
    stats = sandbox.admin.webhooks()
    while not stats[counter] and time.monotonic() < deadline:
        time.sleep(0.02)
        stats = sandbox.admin.webhooks()
    return stats


@pytest.fixture
def receiver(sandbox) -> Iterator[Receiver]:
    rec = Receiver()
    sandbox.admin.set_webhooks(rec.url, SECRET, properties=["hubspot_owner_id", "lifecyclestage"])
    yield rec
    sandbox.admin.set_webhooks(None)
    rec.server.shutdown()
    rec.server.server_close()


def test_sign_v3_matches_hubspots_own_check():
    body = b'[{"eventId":1}]'
    signature = sign_v3(SECRET, "POST", "https://example.com/hook?x=1", body, 1_700_000_000_000)
    expected = Signature.get_signature(
        SECRET, body.decode(), "v3", "https://example.com/hook?x=1", "POST", "1700000000000"
    )
    assert signature == expected


def test_creation_and_subscribed_changes_arrive_signed(sandbox, hubspot_client, receiver):
    contact = hubspot_client.crm.contacts.basic_api.create({"properties": {"email": "w@x.com"}})
    receiver.wait_for(1)
    hubspot_client.crm.contacts.basic_api.update(
        contact.id, {"properties": {"hubspot_owner_id": "40000001", "jobtitle": "CEO"}}
    )
    receiver.wait_for(2)
    assert all(receiver.valid)
    creation, change = receiver.events()
    assert creation["subscriptionType"] == "contact.creation" and creation["objectId"] == int(contact.id)
    assert change["subscriptionType"] == "contact.propertyChange"
    assert (change["propertyName"], change["propertyValue"]) == (
        "hubspot_owner_id",
        "40000001",
    )  # jobtitle: not subscribed
    for field in ("eventId", "subscriptionId", "portalId", "appId", "occurredAt", "attemptNumber", "changeSource"):
        assert field in change
    assert change["changeSource"] == "API" and change["attemptNumber"] == 0


def test_ui_owner_change_reports_crm_ui_source(sandbox, hubspot_client, receiver):
    contact = hubspot_client.crm.contacts.basic_api.create({"properties": {"email": "w@x.com"}})
    receiver.wait_for(1)
    sandbox.admin.change_owner("hubspot", contact.id, "40000002")
    receiver.wait_for(2)
    assert receiver.events()[-1]["changeSource"] == "CRM_UI"


def test_events_are_batched_up_to_100(sandbox, receiver):
    for i in range(150):
        sandbox.admin.create_lead("hubspot", {"email": f"b{i}@x.com"})
    deadline = time.monotonic() + 5
    while len(receiver.events()) < 150 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(receiver.events()) == 150
    assert max(len(b) for b in receiver.batches) <= 100
    assert len(receiver.batches) < 150  # batched, not one request per event


def test_retries_on_5xx_and_429_with_growing_attempt_number(sandbox, hubspot_client, receiver):
    receiver.script = [(503, {}), (429, {"Retry-After": "0"}), (200, {})]
    hubspot_client.crm.contacts.basic_api.create({"properties": {"email": "r@x.com"}})
    batches = receiver.wait_for(3)
    assert [b[0]["attemptNumber"] for b in batches] == [0, 1, 2]
    assert all(receiver.valid)  # every attempt is signed afresh
    stats = settled(sandbox, "batches_delivered")
    assert stats["batches_delivered"] == 1 and stats["retries"] == 2


def test_no_retry_on_4xx(sandbox, hubspot_client, receiver):
    receiver.script = [(400, {})]
    hubspot_client.crm.contacts.basic_api.create({"properties": {"email": "n@x.com"}})
    receiver.wait_for(1)
    assert settled(sandbox, "batches_dropped")["batches_dropped"] == 1
    time.sleep(0.2)
    assert len(receiver.batches) == 1


def test_gives_up_after_max_attempts(sandbox, hubspot_client, receiver):
    sender = sandbox.context.webhooks
    original = sender.policy
    sender.policy = RetryPolicy(max_attempts=3, backoff_s=0.01)
    try:
        receiver.script = [(500, {})] * 5
        hubspot_client.crm.contacts.basic_api.create({"properties": {"email": "g@x.com"}})
        receiver.wait_for(3)
        assert settled(sandbox, "batches_dropped")["batches_dropped"] == 1
        assert len(receiver.batches) == 3
    finally:
        sender.policy = original


@pytest.mark.parametrize(
    ("attempt", "retry_after", "expected"),
    [(1, None, 0.1), (3, None, 0.4), (10, None, 5.0), (1, "2", 2.0), (1, "999", 30.0)],
)
def test_retry_policy_delays(attempt, retry_after, expected):
    assert RetryPolicy().delay(attempt, retry_after) == expected
