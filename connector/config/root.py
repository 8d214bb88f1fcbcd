"""``LeadrelayConfig``: the one typed config, assembled from one section model per area.

Every section has defaults that make a minimal file valid; the defaults and why they are what they are
live beside each field in its section module. Unknown keys are errors (a typo must not be silently ignored).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from connector.config.actions import ActionsConfig
from connector.config.analytics import AnalyticsConfig
from connector.config.crm import CrmsConfig
from connector.config.daemon import DaemonConfig
from connector.config.enrichment import EnrichmentConfig
from connector.config.matching import MatchingConfig
from connector.config.pipeline import PipelineConfig
from connector.config.routing import RoutingConfig
from connector.config.scoring import ScoringConfig


class StrictModel(BaseModel):
    """Base for config models: unknown keys are rejected, values are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class LeadrelayConfig(StrictModel):
    """The whole configuration of a leadrelay deployment."""

    database: Path = Field(
        default=Path("data/leadrelay.sqlite"),
        description="SQLite file holding the cache, decisions, ledger and outbox (put it on a volume).",
    )
    crms: CrmsConfig = Field(default_factory=CrmsConfig)
    matching: MatchingConfig = Field(default_factory=MatchingConfig)
    enrichment: EnrichmentConfig = Field(default_factory=EnrichmentConfig)
    scoring: ScoringConfig = Field(default_factory=ScoringConfig)
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    actions: ActionsConfig = Field(default_factory=ActionsConfig)
    pipeline: PipelineConfig = Field(default_factory=PipelineConfig)
    daemon: DaemonConfig = Field(default_factory=DaemonConfig)
    analytics: AnalyticsConfig = Field(default_factory=AnalyticsConfig)
