"""Deals of the generated world: a few per customer and open opportunity, shaped for both CRMs' pipelines."""

from __future__ import annotations

import random
from dataclasses import dataclass

from adapters.sandbox.gen_text import pick

DAY_MS = 86_400_000
PRODUCTS = ("core", "analytics", "enterprise-security")
_PRODUCT_LABELS = {"core": "Core Platform", "analytics": "Analytics", "enterprise-security": "Enterprise Security"}
# HubSpot's default pipeline and Salesforce's default opportunity stages, open stages in order.
HUBSPOT_OPEN_STAGES = (
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
)
SALESFORCE_OPEN_STAGES = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
)
OPEN_PROBABILITY = (10, 20, 40, 60, 80)
_AMOUNTS = {"SMB": (4_000, 25_000), "MidMarket": (25_000, 120_000), "Enterprise": (120_000, 900_000)}


@dataclass(frozen=True, slots=True)
class DealSpec:
    """A deal, independent of the CRM that records it."""

    product: str
    kind: str  # New Business, Expansion or Renewal
    outcome: str  # open, won or lost
    stage_rank: int  # position among the open stages (meaningful when open)
    amount: int
    close_ms: int
    created_ms: int

    @property
    def is_open(self) -> bool:
        """Still in the pipeline."""
        return self.outcome == "open"

    def title(self, company_name: str) -> str:
        """The deal name sales teams write: ``Acme Corp - Analytics (Expansion)``."""
        return f"{company_name} - {_PRODUCT_LABELS[self.product]} ({self.kind})"

    @property
    def hubspot_stage(self) -> str:
        """The stage id in HubSpot's default pipeline."""
        if self.outcome == "open":
            return HUBSPOT_OPEN_STAGES[self.stage_rank]
        return "closedwon" if self.outcome == "won" else "closedlost"

    @property
    def salesforce_stage(self) -> str:
        """Salesforce's StageName."""
        if self.outcome == "open":
            return SALESFORCE_OPEN_STAGES[self.stage_rank]
        return "Closed Won" if self.outcome == "won" else "Closed Lost"

    @property
    def probability(self) -> int:
        """Win probability in percent, as Salesforce derives it from the stage."""
        if self.outcome == "open":
            return OPEN_PROBABILITY[self.stage_rank]
        return 100 if self.outcome == "won" else 0


def draw_deals(
    rng: random.Random, stage: str, segment: str, start_ms: int, company_created_ms: int
) -> tuple[DealSpec, ...]:
    """The deals a company at this lifecycle ``stage`` has: customers won one, opportunities have open ones."""
    outcomes: list[tuple[str, str]] = []
    if stage == "customer":
        outcomes.append(("won", "New Business"))
        if rng.random() < 0.3:
            outcomes.append(("open", pick(rng, ("Expansion", "Renewal"))))
        if rng.random() < 0.2:
            outcomes.append(("lost", "Expansion"))
    elif stage == "opportunity":
        outcomes += [("open", "New Business")] * (1 + (rng.random() < 0.25))
    elif rng.random() < 0.05:
        outcomes.append(("lost", "New Business"))
    return tuple(
        _deal(rng, outcome, kind, segment=segment, start_ms=start_ms, company_created_ms=company_created_ms)
        for outcome, kind in outcomes
    )


def _deal(
    rng: random.Random, outcome: str, kind: str, *, segment: str, start_ms: int, company_created_ms: int
) -> DealSpec:
    low, high = _AMOUNTS[segment]
    amount = int((low + rng.random() * (high - low)) / 500) * 500
    created = company_created_ms + int(rng.random() * max(DAY_MS, start_ms - company_created_ms - 20 * DAY_MS))
    if outcome == "open":
        close = start_ms + int((7 + rng.random() * 120) * DAY_MS)
    else:
        close = min(start_ms - DAY_MS, created + int((14 + rng.random() * 120) * DAY_MS))
    return DealSpec(
        product=pick(rng, PRODUCTS),
        kind=kind,
        outcome=outcome,
        stage_rank=int(rng.random() * len(HUBSPOT_OPEN_STAGES)),
        amount=amount,
        close_ms=close,
        created_ms=min(created, start_ms - DAY_MS),
    )
