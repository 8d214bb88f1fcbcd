"""Config section: which cached people count as new leads to route, and how decisions turn into work for reps."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PipelineConfig(BaseModel):
    """Intake rules (what is a lead to route) and the defaults of the rep's task."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    route_existing: bool = Field(
        default=False,
        description="Also route people created before leadrelay first ran. Off: a first backfill must never "
        "reassign a whole portal.",
    )
    intake_owners: tuple[str, ...] = Field(
        default=(),
        description="Owner keys (emails or queue:crm:id) that mean 'not yet routed', e.g. an integration user "
        "or the queue a native assignment rule drops leads into.",
    )
    route_queue_owned: bool = Field(
        default=True, description="A person owned by a CRM queue is waiting for routing (Salesforce intake queues)."
    )
    stage: str | None = Field(default=None, description="Routing stage for new inbound leads; None = the first one.")
    sla_minutes: int = Field(
        default=60, ge=1, description="Task due time after assignment: speed-to-lead studies favour the first hour."
    )
    batch_size: int = Field(default=200, ge=1, le=5000, description="Leads decided per transaction.")
