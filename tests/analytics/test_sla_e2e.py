"""SLA re-routing end to end: sandbox → relay (sync, route, deliver) → SLA sweep → outbox → sandbox owner changed.

Two inbound leads are routed; a rep touches one in the CRM (the sandbox's world action). Past the deadline the
sweep re-routes only the untouched one, to someone other than its first owner, the new owner reaches the CRM, a
second sweep changes nothing, and the report counts one reassignment.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.sandbox.generate import iter_seed
from adapters.sandbox.inbound import InboundStream
from adapters.slack.standin import SlackStandIn
from connector.analytics.metrics import compute
from connector.analytics.sla import SlaSweeper
from connector.cache import iter_owners
from connector.demo import FormClients, write_demo_config
from connector.relay import Relay

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "leadrelay.example.yaml"


@pytest.fixture
def relay(sandbox, tmp_path):
    with SlackStandIn() as slack:
        sandbox.admin.seed(iter_seed(contacts=60, seed=5))
        loaded = write_demo_config(EXAMPLE, tmp_path, sandbox, slack.base_url)
        relay = Relay.open(loaded)
        relay.engine.run_pass()
        relay.pipeline.go_live = int(time.time() * 1000) - 1
        yield relay
        relay.close()


def _routed_to_reps(relay):
    rows = relay.db.conn.execute(
        "SELECT p.lead_id, d.owner FROM pipeline_leads p JOIN routing_decisions d ON d.lead_id = p.lead_id"
        " WHERE p.status = 'routed' AND d.final_fallback = 0"
    ).fetchall()
    return dict(rows)


def _inbound(sandbox, relay, count):
    clients, stream = FormClients(relay.loaded), InboundStream(sandbox.context.store, seed=17)
    for _ in range(count):
        lead = sandbox.call(stream.next)
        clients.create(lead.crm, lead.properties)
    for _ in range(5):
        relay.tick()
        if len(_routed_to_reps(relay)) >= 2:
            return _routed_to_reps(relay)
    return _routed_to_reps(relay)


def test_an_untouched_lead_is_rerouted_once_to_someone_else(sandbox, relay):
    routed = _inbound(sandbox, relay, 6)
    assert len(routed) >= 2, "the example rules route inbound leads to reps"
    (touched_id, _), (stale_id, stale_owner) = sorted(routed.items())[:2]
    others = [lead for lead in routed if lead not in (touched_id, stale_id)]
    crm, _obj, native = touched_id.split(":", 2)
    sandbox.admin.touch(crm, native)
    for lead_id in others:  # only one lead is left untouched
        sandbox.admin.touch(lead_id.split(":", 2)[0], lead_id.split(":", 2)[2])
    relay.tick()  # sync picks the touches up

    later = datetime.now(UTC) + timedelta(days=4)  # past any working-hours deadline, within max_age_hours
    result = SlaSweeper(relay.pipeline).sweep(later)
    assert result.touched == len(routed) - 1
    assert [(r.lead_id, r.from_owner) for r in result.rerouted] == [(stale_id, stale_owner)]
    new_owner = result.rerouted[0].to_owner
    assert new_owner != stale_owner

    relay.deliver_all()
    owners = {o.key: o for o in iter_owners(relay.db)}
    crm, _obj, native = stale_id.split(":", 2)
    kind = "hubspot.contacts" if crm == "hubspot" else f"salesforce.{_obj}"
    record = sandbox.call(sandbox.context.store.get, kind, native)
    field = "hubspot_owner_id" if crm == "hubspot" else "OwnerId"
    assert record.properties.get(field) == owners[new_owner].crm_ids[crm]

    again = SlaSweeper(relay.pipeline).sweep(later)
    assert again.rerouted == [] and again.escalated == []
    metrics = compute(relay.db, relay.loaded.config.routing, 0, int(later.timestamp() * 1000) + 1)
    assert metrics.overall.reassigned == 1
    assert metrics.overall.touched == len(routed) - 1
