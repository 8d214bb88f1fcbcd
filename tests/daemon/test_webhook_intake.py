"""Webhook events → the contacts they name, cached by a read by id; search only as the fallback."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from daemon_harness import ENV, create_contacts, free_port, go_live_now, write_config

from connector.daemon import Daemon
from connector.daemon.people_by_id import PeopleRead
from connector.errors import ServerError
from connector.relay import build_crm_parts
from connector.web import webhooks

CREATION = {"subscriptionId": 1, "occurredAt": 1, "subscriptionType": "contact.creation"}


class FailingRead:
    """HubSpot's batch read answering 503 every time (after the client's own retries)."""

    crm = "hubspot"
    object = "contacts"
    batch_limit = 100

    def __init__(self) -> None:
        self.calls = 0

    def read(self, native_ids: Sequence[str]) -> PeopleRead:
        self.calls += 1
        raise ServerError("hubspot answered 503", status=503, crm="hubspot")


@pytest.fixture
def loaded(tmp_path: Any, sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    config = write_config(tmp_path, sandbox, "http://127.0.0.1:9", port=free_port(), poll_s=3600, webhooks=True)
    go_live_now(config)
    return config


def _daemon(loaded: Any, *, failing: FailingRead | None = None) -> Iterator[Daemon]:
    parts = build_crm_parts(loaded.config)
    if failing is not None:
        parts.people_by_id = [failing]
    daemon = Daemon(loaded, parts=parts)
    try:
        daemon.run(burst=True)  # the catch-up sync: the portal as it is
        yield daemon
    finally:
        daemon.close()


@pytest.fixture
def daemon(loaded: Any) -> Iterator[Daemon]:
    yield from _daemon(loaded)


def _store(daemon: Daemon, events: list[dict[str, Any]]) -> None:
    webhooks.store(daemon.relay.db, f"sig-{time.monotonic_ns()}", str(int(time.time() * 1000)), events)


def _decided(daemon: Daemon, ids: list[str]) -> set[str]:
    rows = daemon.route_db.conn.execute("SELECT lead_id FROM pipeline_leads").fetchall()
    return {r[0] for r in rows} & {f"hubspot:contacts:{i}" for i in ids}


def test_events_are_done_in_one_turn_by_reading_their_contacts_without_a_search(daemon, sandbox):
    ids = create_contacts(sandbox, 5, tag="instant")
    _store(daemon, [{**CREATION, "eventId": n, "objectId": int(i)} for n, i in enumerate(ids)])
    report = daemon.turn(deliver=False)
    assert webhooks.waiting(daemon.relay.db) == []
    assert report.synced == [], "no search pass was needed"
    assert _decided(daemon, ids) == {f"hubspot:contacts:{i}" for i in ids}, "routed in the same turn"


def test_a_failing_read_falls_back_to_the_search_pass(loaded, sandbox):
    failing = FailingRead()
    for daemon in _daemon(loaded, failing=failing):
        ids = create_contacts(sandbox, 3, tag="fallback")
        _store(daemon, [{**CREATION, "eventId": n, "objectId": int(i)} for n, i in enumerate(ids)])
        report = daemon.turn(deliver=False)
        assert failing.calls == 1
        assert report.synced == ["hubspot"]
        assert webhooks.waiting(daemon.relay.db) == [], "the search found them, so their events are done"
        assert len(_decided(daemon, ids)) == 3


def test_deletions_and_other_objects_need_no_read(daemon):
    _store(
        daemon,
        [
            {**CREATION, "subscriptionType": "contact.deletion", "eventId": 1, "objectId": 123},
            {**CREATION, "subscriptionType": "company.propertyChange", "eventId": 2, "objectId": 456},
        ],
    )
    report = daemon.turn(deliver=False)
    assert webhooks.waiting(daemon.relay.db) == []
    assert report.synced == []


def test_a_later_change_event_does_not_decide_the_lead_again(daemon, sandbox):
    (contact,) = create_contacts(sandbox, 1, tag="again")
    lead_id = f"hubspot:contacts:{contact}"
    event = {**CREATION, "eventId": 7, "objectId": int(contact)}
    outcome = "SELECT status, handled_ms FROM pipeline_leads WHERE lead_id = ?"
    _store(daemon, [event])
    daemon.turn(deliver=False)
    first = daemon.route_db.conn.execute(outcome, (lead_id,)).fetchall()
    _store(daemon, [{**event, "subscriptionType": "contact.propertyChange", "eventId": 8}])
    daemon.turn(deliver=False)
    assert webhooks.waiting(daemon.relay.db) == []
    assert len(first) == 1 and daemon.route_db.conn.execute(outcome, (lead_id,)).fetchall() == first
    decided = "SELECT COUNT(*) FROM routing_decisions WHERE lead_id = ?"
    assert daemon.route_db.conn.execute(decided, (lead_id,)).fetchone()[0] <= 1
