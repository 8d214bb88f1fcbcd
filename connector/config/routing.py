"""Config section: Reps, pools, the routing cascade, stages and fairness policy."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RoutingConfig(BaseModel):
    """Reps, pools, the routing cascade, stages and fairness policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)
