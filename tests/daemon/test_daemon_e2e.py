"""The daemon as deployed: ``leadrelay run`` in its own process beside the sandbox, driven only over HTTP.

New leads reach an owner, a task and a Slack nudge through HubSpot webhooks alone (polling set to an hour), and
through polling alone when webhooks are off; SIGTERM exits 0; tokens never reach the logs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from daemon_harness import (
    API_KEY,
    WEBHOOK_SECRET,
    DaemonProcess,
    create_contacts,
    free_port,
    go_live_now,
    wait_for,
    write_config,
)

from adapters.sandbox.generate import iter_seed
from adapters.sandbox.inbound import InboundStream
from adapters.slack.standin import SlackStandIn
from connector.db import connect
from connector.demo import FormClients


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        yield standin


@pytest.fixture
def portal(sandbox: Any) -> Any:
    sandbox.admin.seed(iter_seed(contacts=200, seed=3))
    return sandbox


def _create(portal: Any, loaded: Any, n: int, *, crms: tuple[str, ...]) -> list[tuple[str, str]]:
    clients, stream, created = FormClients(loaded), InboundStream(portal.context.store, seed=11), []
    while len(created) < n:
        lead = portal.call(stream.next)
        if lead.crm in crms:
            created.append((lead.crm, clients.create(lead.crm, lead.properties)))
    return created


def _owner_of(portal: Any, crm: str, native: str) -> str | None:
    kind, field = ("hubspot.contacts", "hubspot_owner_id") if crm == "hubspot" else ("salesforce.Lead", "OwnerId")
    record = portal.call(portal.context.store.get, kind, native)
    return record.properties.get(field)


def _tasks(portal: Any) -> Counter[str]:
    hub = portal.call(lambda: list(portal.context.store.iter_all("hubspot.tasks")))
    sf = portal.call(lambda: list(portal.context.store.iter_all("salesforce.Task")))
    ids = [t.properties.get("leadrelay_decision_id") for t in hub]
    ids += [t.properties.get("LeadRelay_Decision_Id__c") for t in sf]
    return Counter(i for i in ids if i)


def _run_daemon(tmp_path: Any, portal: Any, slack: Any, *, poll_s: float, webhooks: bool) -> tuple[Any, DaemonProcess]:
    port = free_port()
    loaded = write_config(tmp_path, portal, slack.base_url, port=port, poll_s=poll_s, webhooks=webhooks)
    go_live_now(loaded)
    assert loaded.path is not None
    daemon = DaemonProcess(loaded.path, port, tmp_path / "daemon.log")
    return loaded, daemon


def _outcomes(loaded: Any) -> dict[str, tuple[str, str | None]]:
    db = connect(loaded.config.database)
    try:
        rows = db.conn.execute("SELECT lead_id, status, decision_id FROM pipeline_leads").fetchall()
    finally:
        db.conn.close()
    return {str(lead): (str(status), decision) for lead, status, decision in rows}


def _lead_id(crm: str, native: str) -> str:
    return f"hubspot:contacts:{native}" if crm == "hubspot" else f"salesforce:Lead:{native}"


def _assert_handled(
    loaded: Any, portal: Any, slack: Any, created: list[tuple[str, str]], daemon: DaemonProcess
) -> None:
    """Every lead decided once; each routed one has its owner written, one task and one Slack nudge."""
    ids = [_lead_id(crm, native) for crm, native in created]
    wait_for(lambda: set(ids) <= set(_outcomes(loaded)), 30, what=f"every lead decided; log: {daemon.logs()[-1500:]}")
    outcomes = _outcomes(loaded)
    assert {outcomes[i][0] for i in ids} <= {"routed", "nurture"}
    routed = [(crm, native) for (crm, native), i in zip(created, ids, strict=True) if outcomes[i][0] == "routed"]
    assert routed, "the example rules route most inbound leads"
    decisions = {outcomes[_lead_id(crm, native)][1] for crm, native in routed}
    wait_for(lambda: decisions <= set(slack.per_decision()), 20, what="a Slack nudge per routed lead")
    wait_for(lambda: decisions <= set(_tasks(portal)), 10, what="a task per routed lead")
    for crm, native in routed:
        assert _owner_of(portal, crm, native), f"owner written back for {crm}:{native}"
    assert all(slack.per_decision()[d] == 1 for d in decisions), "one Slack message per decision"
    assert all(_tasks(portal)[d] == 1 for d in decisions), "one task per decision"


def test_webhooks_alone_route_new_hubspot_leads(tmp_path, portal, slack):
    loaded, daemon = _run_daemon(tmp_path, portal, slack, poll_s=3600, webhooks=True)
    try:
        daemon.wait_ready()
        portal.admin.set_webhooks(f"{daemon.url}/webhooks/hubspot", WEBHOOK_SECRET, properties=["email"])
        created = _create(portal, loaded, 8, crms=("hubspot",))
        _assert_handled(loaded, portal, slack, created, daemon)
        assert daemon.stop() == 0
    finally:
        daemon.kill()
    logs = daemon.logs()
    assert '"event": "daemon_stopped"' in logs
    for secret in (WEBHOOK_SECRET, API_KEY, "xoxb-standin", "sandbox-token"):
        assert secret not in logs, "secrets never reach the logs"


def test_polling_alone_routes_leads_of_both_crms(tmp_path, portal, slack):
    loaded, daemon = _run_daemon(tmp_path, portal, slack, poll_s=0.5, webhooks=False)
    try:
        daemon.wait_ready()
        created = _create(portal, loaded, 8, crms=("hubspot", "salesforce"))
        _assert_handled(loaded, portal, slack, created, daemon)
        assert daemon.stop() == 0
    finally:
        daemon.kill()


def test_sigterm_mid_burst_loses_nothing(tmp_path, portal, slack):
    loaded, daemon = _run_daemon(tmp_path, portal, slack, poll_s=3600, webhooks=True)
    try:
        daemon.wait_ready()
        portal.admin.set_webhooks(f"{daemon.url}/webhooks/hubspot", WEBHOOK_SECRET, properties=["email"])
        ids = {f"hubspot:contacts:{n}" for n in create_contacts(portal, 300, tag="sigterm")}
        wait_for(lambda: len(_outcomes(loaded)) > 0, 20, what="routing under way")
        assert daemon.stop() == 0, "a first SIGTERM finishes the step in hand and exits 0"
    finally:
        daemon.kill()
    portal.admin.set_webhooks(None)
    after = DaemonProcess(loaded.path, daemon.port, tmp_path / "burst.log", "--burst")
    assert after.proc.wait(60) == 0
    outcomes = _outcomes(loaded)
    assert ids <= set(outcomes), "every lead is decided after the restart"
    db = connect(loaded.config.database)
    try:
        twice = db.conn.execute("SELECT lead_id FROM routing_decisions GROUP BY lead_id HAVING COUNT(*) > 1").fetchall()
        waiting = db.conn.execute("SELECT COUNT(*) FROM webhook_events WHERE processed_at IS NULL").fetchone()[0]
    finally:
        db.conn.close()
    assert twice == [] and waiting == 0
