"""Config section: Fit + Activity scoring rules and the route/nurture grid."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ScoringConfig(BaseModel):
    """Fit + Activity scoring rules and the route/nurture grid."""

    model_config = ConfigDict(extra="forbid", frozen=True)
