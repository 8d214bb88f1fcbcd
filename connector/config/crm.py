"""Config section: Which CRMs to sync, their credentials, plan limits and sync intervals (owned by sync)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class CrmsConfig(BaseModel):
    """Which CRMs to sync, their credentials, plan limits and sync intervals (owned by sync)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
