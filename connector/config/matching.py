"""Config section: Lead-to-account matching: thresholds, free-mail overrides, tie-breakers, parent policy."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class MatchingConfig(BaseModel):
    """Lead-to-account matching: thresholds, free-mail overrides, tie-breakers, parent policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)
