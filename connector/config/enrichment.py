"""Config section: Filling missing firmographics: local file and HTTP provider."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class EnrichmentConfig(BaseModel):
    """Filling missing firmographics: local file and HTTP provider."""

    model_config = ConfigDict(extra="forbid", frozen=True)
