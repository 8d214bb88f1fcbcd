"""The routing hook SLA re-routing relies on: ``RoutingInput.exclude_owners`` skips the previous owner(s)."""

from __future__ import annotations

from datetime import UTC, datetime

from connector.models import Lead
from connector.routing.cascade import route
from connector.routing.ledger import LedgerState
from connector.routing.model import RoutingInput, Snapshot

MONDAY_10 = datetime(2026, 11, 2, 10, tzinfo=UTC)


def _route(routing, exclude):
    inp = RoutingInput(lead=Lead(id="hubspot:contacts:1", crm="hubspot", native_id="1", object="contacts"))
    inp = RoutingInput(lead=inp.lead, exclude_owners=exclude)
    return route(inp, Snapshot(owners_known=False), routing, LedgerState(), MONDAY_10)


def test_previous_owner_is_skipped_with_its_reason(routing):
    first = _route(routing, ())
    again = _route(routing, (first.owner,))
    assert again.owner != first.owner
    skipped = [c for step in again.trace for c in step.candidates if c.rep == first.owner]
    assert skipped and skipped[0].code == "previous_owner" and not skipped[0].eligible


def test_every_rep_excluded_goes_to_the_final_fallback(routing):
    decision = _route(routing, ("a@x.io", "b@x.io", "c@x.io"))
    assert decision.final_fallback
