"""Everything a sandbox request handler may touch, in one object passed to every route factory.

Handlers run on the server's single event-loop thread, so none of this needs locks. Route factories take the
context and close over it: ``hubspot_routes(ctx)``, ``salesforce_routes(ctx)``, ``admin_routes(ctx)``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from adapters.sandbox.clock import Clock
from adapters.sandbox.faults import FaultInjector
from adapters.sandbox.ids import store_id_factory
from adapters.sandbox.limits import LimitSettings, RateLimits
from adapters.sandbox.store import ObjectStore
from adapters.sandbox.traffic import Traffic

if TYPE_CHECKING:
    from adapters.sandbox.webhooks import WebhookSender


@dataclass
class SandboxSettings:
    """Tunables of the simulated portals that are not limits or faults."""

    hubspot_portal_id: int = 62_515_001  # looks like a real portal id in logs and webhook bodies
    hubspot_app_id: int = 1_234_567
    # Salesforce lead assignment rule target (a User or queue Group id); None = the SF routes' own default.
    salesforce_assignment_owner: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class SandboxContext:
    """The sandbox's state: records, time, limits, faults, traffic, settings and the webhook sender."""

    store: ObjectStore
    clock: Clock
    limits: RateLimits
    faults: FaultInjector
    traffic: Traffic = field(default_factory=Traffic)
    settings: SandboxSettings = field(default_factory=SandboxSettings)
    webhooks: WebhookSender | None = None
    # Per-area scratch state that a reset clears (e.g. Salesforce query cursors), keyed by area name.
    state: dict[str, Any] = field(default_factory=dict)
    # What a reset returns to unless told to keep the current settings: the ones the sandbox started with.
    initial_limits: LimitSettings | None = None
    initial_faults: str = ""
    initial_settings: SandboxSettings | None = None

    def __post_init__(self) -> None:
        if self.initial_settings is None:
            self.initial_settings = copy.deepcopy(self.settings)

    def reset(self, *, keep_limits: bool = False, keep_faults: bool = False) -> None:
        """Empty the store, put the clock back to real time, forget traffic, counters and scratch state.

        Settings return to the start-up ones; limits and faults too unless ``keep_limits``/``keep_faults``.
        """
        self.store.clear()
        self.clock.reset()
        self.traffic.reset()
        self.state.clear()
        self.settings = copy.deepcopy(self.initial_settings or self.settings)
        self.limits.configure(self.limits.settings if keep_limits else (self.initial_limits or self.limits.settings))
        self.limits.reset()
        # Reseeding makes each test's fault sequence independent of the tests before it.
        self.faults.configure(self.faults.spec if keep_faults else self.initial_faults, seed=self.faults.seed)
        if self.webhooks is not None:
            self.webhooks.reset()


def build_context(
    *,
    db_path: str | None = None,
    limits: str | LimitSettings | None = None,
    faults: str | None = None,
    fault_seed: int = 0,
    clock: Clock | None = None,
) -> SandboxContext:
    """A context over a fresh store (in memory unless ``db_path``), with CRM-shaped ids and lookup indexes."""
    clock = clock or Clock()
    store = ObjectStore(db_path or ":memory:", clock=clock)
    store.set_id_factory(None, store_id_factory)
    # Case-insensitive lookups the API layers do by key: contact email, company domain, Salesforce emails.
    store.index_property("hubspot.contacts", "email", lower=True)
    store.index_property("hubspot.companies", "domain", lower=True)
    store.index_property("salesforce", "Email", lower=True)
    rate_limits = RateLimits(limits, clock=clock)
    return SandboxContext(
        store=store,
        clock=clock,
        limits=rate_limits,
        faults=FaultInjector(faults, seed=fault_seed),
        initial_limits=rate_limits.settings,
        initial_faults=faults or "",
    )
