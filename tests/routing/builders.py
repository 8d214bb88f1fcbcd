"""Builders for routing tests: small teams as plain dicts, leads, accounts, and a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connector.config.routing import RoutingConfig
from connector.models import Account, Lead, Owner
from connector.routing.cascade import route
from connector.routing.ledger import LedgerState
from connector.routing.model import Decision, RoutingInput, Snapshot

# Monday 23 November 2026, 15:00 UTC = 10:00 in New York, 16:00 in Berlin.
MONDAY_3PM_UTC = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
ALWAYS = {"working_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "working_hours": "00:00-24:00"}
QUEUE = "queue:hubspot:900"


def rep(email: str, **fields: Any) -> dict[str, Any]:
    """A rep who is always at work in UTC unless told otherwise."""
    return {"email": email, "timezone": "UTC", **ALWAYS, **fields}


def routing(
    reps: list[dict[str, Any]],
    pools: list[dict[str, Any]] | None = None,
    steps: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> RoutingConfig:
    """A one-stage config: by default one pool of every rep as the only step."""
    pools = pools if pools is not None else [{"name": "all", "reps": [r["email"] for r in reps]}]
    steps = steps if steps is not None else [{"kind": "pool", "pool": pools[0]["name"]}]
    data: dict[str, Any] = {
        "reps": reps,
        "pools": pools,
        "stages": extra.pop("stages", [{"name": "inbound", "steps": steps}]),
        "final_fallback": {"owner": QUEUE, "name": "Unassigned queue"},
        **extra,
    }
    return RoutingConfig.model_validate(data)


def lead(n: int = 1, **fields: Any) -> Lead:
    """A HubSpot contact."""
    return Lead(id=f"hubspot:contacts:{n}", crm="hubspot", native_id=str(n), object="contacts", **fields)


def account(owner: str | None = None, **fields: Any) -> Account:
    """A HubSpot company."""
    base: dict[str, Any] = {"id": "hubspot:companies:77", "crm": "hubspot", "native_id": "77", "name": "Acme"}
    return Account(**{**base, "owner_key": owner, **fields})


def owners(*emails: str, inactive: tuple[str, ...] = ()) -> Snapshot:
    """A CRM snapshot where these owners exist (active unless listed in ``inactive``)."""
    return Snapshot({e: Owner(key=e, email=e, name=e, active=e not in inactive) for e in (*emails, *inactive)})


def decide(
    config: RoutingConfig,
    inp: RoutingInput | Lead,
    *,
    snapshot: Snapshot | None = None,
    ledger: LedgerState | None = None,
    now: datetime = MONDAY_3PM_UTC,
    stage: str | None = None,
) -> Decision:
    """Route one lead and fold its delta into ``ledger`` (as the router would)."""
    inp = inp if isinstance(inp, RoutingInput) else RoutingInput(inp)
    state = ledger if ledger is not None else LedgerState()
    decision = route(inp, snapshot or Snapshot(), config, state, now, stage=stage)
    state.apply(decision.delta)
    return decision
