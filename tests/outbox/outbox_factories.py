"""Assignments and a recording in-memory performer for outbox tests (the CRM side, not the code under test)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from connector.errors import LeadrelayError
from connector.outbox.model import (
    AccountCard,
    Assignee,
    Assignment,
    EffectKind,
    Job,
    LeadCard,
    Outcome,
    RecordRef,
)

HOSTILE = {
    "quotes": 'O\'Brien "Bob"',
    "soql": "x' OR Name LIKE '%",
    "html": "<script>alert(1)</script><b>bold</b>",
    "slack": "<!channel> <@U123> <https://evil.example|click>",
    "control": "a\x00b\x1bc\x07d\u202eevil",
    "huge": "A" * 100_000,
}


def assignment(
    n: int = 1,
    *,
    crm: str = "hubspot",
    name: str = "Ada Lovelace",
    company: str = "Analytical Engines",
    previous_owner: str | None = "100",
    owner_id: str = "200",
    email: str = "rep@example.com",
    slack_user_id: str | None = None,
    **extra: object,
) -> Assignment:
    """A realistic assignment whose ids depend on ``n``."""
    obj = "contacts" if crm == "hubspot" else "Lead"
    base = Assignment(
        decision_id=f"dec-{n:05d}",
        lead=RecordRef(crm, obj, str(1000 + n)),
        card=LeadCard(
            name=name,
            email=f"lead{n}@example.org",
            company=company,
            title="VP Engineering",
            country="GB",
            company_size="200-500",
            source="Demo request",
            score_text="Fit 82 / Activity 64",
            activity_text="Requested a demo; 3 pricing page views",
        ),
        owner=Assignee(
            key=email,
            name="Rita Rep",
            crm_ids={crm: owner_id},
            email=email,
            booking_link="https://cal.example.com/rita",
            slack_user_id=slack_user_id,
        ),
        due_ms=1_800_000_000_000,
        next_action="call",
        why=("Territory EMEA", "Round robin in pod A"),
        account=AccountCard(name="Analytical Engines Ltd", owner_name="Olga Owner", is_customer=True),
        previous_owner_id=previous_owner,
        decided_ms=1_700_000_000_000,
    )
    return replace(base, **extra)  # type: ignore[arg-type]


@dataclass
class FakeCrm:
    """Where performed effects land: per kind, the decision ids in the order they were performed."""

    performed: dict[str, list[str]] = field(default_factory=dict)
    calls: int = 0

    def count(self, kind: EffectKind, decision_id: str) -> int:
        return self.performed.get(kind.value, []).count(decision_id)


@dataclass
class RecordingPerformer:
    """Performs by recording into a FakeCrm; ``failures`` are raised (one per call) before anything is recorded."""

    kind: EffectKind
    target: str
    crm: FakeCrm
    batch_size: int = 100
    failures: list[LeadrelayError] = field(default_factory=list)
    outcome: Outcome | None = None
    batches: list[int] = field(default_factory=list)

    def perform(self, jobs: Sequence[Job]) -> list[Outcome]:
        self.crm.calls += 1
        self.batches.append(len(jobs))
        if self.failures:
            raise self.failures.pop(0)
        if self.outcome is not None:
            return [self.outcome] * len(jobs)
        for job in jobs:
            self.crm.performed.setdefault(self.kind.value, []).append(job.item.decision_id)
        return [Outcome.done("ok")] * len(jobs)
