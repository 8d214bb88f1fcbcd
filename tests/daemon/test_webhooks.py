"""POST /webhooks/hubspot: only fresh, correctly signed, unseen, well-formed deliveries are stored, each event once."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from adapters.sandbox.webhooks import sign_v3
from connector.config.loader import load_config
from connector.daemon import Daemon
from connector.relay import CrmParts
from connector.web import webhooks
from connector.web.app import create_app

SECRET = "whsec-unit-secret"
URL = "http://testserver/webhooks/hubspot"


def _config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "leadrelay.yaml"
    path.write_text(
        f"""
database: {tmp_path / "db.sqlite"}
daemon:
  webhooks:
    enabled: true
    client_secret: {SECRET}
    max_body_bytes: 4096
{extra}""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    running = Daemon(load_config(_config(tmp_path)), parts=CrmParts())
    yield running
    running.close()


@pytest.fixture
def client(daemon: Daemon) -> TestClient:
    return TestClient(create_app(daemon))


def _events(n: int, *, start: int = 1, attempt: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "eventId": i,
            "subscriptionId": 1_000_001,
            "portalId": 1,
            "appId": 2,
            "occurredAt": 1_700_000_000_000 + i,
            "subscriptionType": "contact.creation",
            "attemptNumber": attempt,
            "objectId": 100_000 + i,
            "changeSource": "CRM_UI",
        }
        for i in range(start, start + n)
    ]


def _signed(body: bytes, *, secret: str = SECRET, url: str = URL, stamp: int | None = None) -> dict[str, str]:
    timestamp = int(time.time() * 1000) if stamp is None else stamp
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": sign_v3(secret, "POST", url, body, timestamp),
        "X-HubSpot-Request-Timestamp": str(timestamp),
    }


def _stored(daemon: Daemon) -> int:
    return int(daemon.relay.db.conn.execute("SELECT COUNT(*) FROM webhook_events").fetchone()[0])


def test_a_signed_delivery_is_stored_and_wakes_the_loop(client, daemon):
    body = json.dumps(_events(3)).encode()
    answer = client.post("/webhooks/hubspot", content=body, headers=_signed(body))
    assert answer.status_code == 200
    assert answer.json() == {"accepted": 3, "new": 3}
    assert _stored(daemon) == 3
    assert daemon.woken.is_set()


BODY = json.dumps(_events(2)).encode()


@pytest.mark.parametrize(
    ("name", "body", "headers", "status"),
    [
        ("forged", BODY, _signed(BODY, secret="not-the-secret"), 401),
        ("tampered body", BODY.replace(b"100001", b"100009"), _signed(BODY), 401),
        ("stale", BODY, _signed(BODY, stamp=int(time.time() * 1000) - 6 * 60 * 1000), 401),
        ("unsigned", BODY, {"Content-Type": "application/json"}, 401),
        ("not json", b"{nope", _signed(b"{nope"), 400),
        ("not an array", b'{"eventId": 1}', _signed(b'{"eventId": 1}'), 400),
        ("event without id", b'[{"eventId": 1}]', _signed(b'[{"eventId": 1}]'), 400),
        ("oversized", b"[" + b" " * 5000 + b"]", _signed(b"[" + b" " * 5000 + b"]"), 413),
    ],
)
def test_bad_deliveries_are_rejected_and_nothing_is_stored(client, daemon, name, body, headers, status):
    answer = client.post("/webhooks/hubspot", content=body, headers=headers)
    assert answer.status_code == status, name
    assert _stored(daemon) == 0


def test_a_replayed_request_is_refused(client, daemon):
    body = json.dumps(_events(2)).encode()
    headers = _signed(body)
    assert client.post("/webhooks/hubspot", content=body, headers=headers).status_code == 200
    assert client.post("/webhooks/hubspot", content=body, headers=headers).status_code == 401
    assert _stored(daemon) == 2


def test_a_redelivery_stores_nothing_new(client, daemon):
    first = json.dumps(_events(5)).encode()
    again = json.dumps(_events(5, attempt=1) + _events(1, start=6)).encode()
    assert client.post("/webhooks/hubspot", content=first, headers=_signed(first)).json()["new"] == 5
    assert client.post("/webhooks/hubspot", content=again, headers=_signed(again)).json() == {"accepted": 6, "new": 1}
    assert _stored(daemon) == 6


def test_same_event_id_in_another_subscription_is_a_different_event(client, daemon):
    events = _events(1)
    other = [{**events[0], "subscriptionId": 1_000_150, "subscriptionType": "contact.propertyChange"}]
    body = json.dumps(events + other).encode()
    assert client.post("/webhooks/hubspot", content=body, headers=_signed(body)).json()["new"] == 2


def test_the_public_url_is_what_is_signed_behind_a_proxy(tmp_path):
    extra = "  public_base_url: https://leadrelay.example.com/\n"
    daemon = Daemon(load_config(_config(tmp_path, extra)), parts=CrmParts())
    try:
        client = TestClient(create_app(daemon))
        body = json.dumps(_events(1)).encode()
        # HubSpot signs the URI with these escapes decoded: %3A -> ':' and %2C -> ','
        public = "https://leadrelay.example.com/webhooks/hubspot?app=a:b,c"
        answer = client.post("/webhooks/hubspot?app=a%3Ab%2Cc", content=body, headers=_signed(body, url=public))
        assert answer.status_code == 200
        local = client.post("/webhooks/hubspot", content=body, headers=_signed(body))
        assert local.status_code == 401, "the internal URL is not what HubSpot signed"
    finally:
        daemon.close()


_ESCAPES = {":": "%3A", "/": "%2F", "?": "%3F", "@": "%40", "!": "%21", "$": "%24",
            "'": "%27", "(": "%28", ")": "%29", "*": "%2A", ",": "%2C", ";": "%3B"}  # fmt: skip


@given(st.text(alphabet="abc XYZ:/?@!$'()*,;", max_size=40), st.booleans())
def test_signed_uri_decodes_the_listed_escapes_and_nothing_else(text, lower):
    escaped = "".join(_ESCAPES.get(ch, "%20" if ch == " " else ch) for ch in text)
    escaped = escaped.lower() if lower else escaped
    expected = text.replace(" ", "%20")
    assert webhooks.signed_uri(escaped) == (expected.lower() if lower else expected)


def test_stored_events_survive_a_restart_until_processed(tmp_path):
    path = _config(tmp_path)
    first = Daemon(load_config(path), parts=CrmParts())
    body = json.dumps(_events(4)).encode()
    TestClient(create_app(first)).post("/webhooks/hubspot", content=body, headers=_signed(body))
    first.close()
    second = Daemon(load_config(path), parts=CrmParts())
    try:
        assert len(webhooks.waiting(second.relay.db)) == 4
        second.run(burst=True)
        assert webhooks.waiting(second.relay.db) == []
    finally:
        second.close()
