"""``AnalyticsConfig``: the SLA on a rep's first touch, reminders, escalation, and the continuity audit's settings.

Every window is counted in the owner's working hours (their rule-file hours and time zone): a lead routed on Friday
evening is not "stale" on Saturday morning. Owners not in the rule file are counted in wall-clock time.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlaConfig(_Section):
    """When an untouched lead is re-routed, who hears about it first, and when it goes to a manager instead."""

    enabled: bool = Field(default=True, description="Sweep routed leads for a missed first touch.")
    # Speed-to-lead studies put the value of a lead in its first hour; a working hour is the usual inbound SLA.
    minutes: int = Field(default=60, gt=0, description="Working minutes from assignment to first touch.")
    by_stage: dict[str, int] = Field(default_factory=dict, description="Window per routing stage (overrides minutes).")
    by_rule: dict[str, int] = Field(default_factory=dict, description="Window per routing rule (overrides by_stage).")
    # A nudge a quarter of an hour before the deadline leaves time to act without being noise.
    remind_before_minutes: int = Field(default=15, ge=0, description="Reminder this long before the deadline; 0: none.")
    # Two misses in a row says the lead falls between chairs; a human should look rather than a third rep.
    max_reassignments: int = Field(default=2, ge=0, description="Re-routes per lead before escalating to a manager.")
    escalate_to: str | None = Field(default=None, description="Owner key (email) of the manager who gets escalations.")
    escalate_channel: str | None = Field(
        default=None, description="Slack channel id told about every escalation (None: the manager alone)."
    )
    # The pipeline counts a routed lead as open for a week; past that, re-routing helps nobody (and turning the SLA on
    # for an old database must not re-route its whole history). Older untouched leads show in the report instead.
    max_age_hours: int = Field(default=168, gt=0, description="Only leads routed this recently are swept.")


class AuditConfig(_Section):
    """The continuity audit: where its findings go and when a lead counts as stuck."""

    # Slack's history API (the outbox's check before a re-send) needs a channel id (C0123...), not a #name.
    channel: str | None = Field(
        default=None, description="Slack channel id for the monthly audit summary (None: the summary is only logged)."
    )
    # A day in the fallback queue means nobody is working the lead; shorter flags normal overnight waits.
    stuck_after_hours: int = Field(default=24, gt=0, description="An open lead unowned or queued this long is stuck.")


class AnalyticsConfig(_Section):
    """Analytics and audit settings."""

    sla: SlaConfig = Field(default_factory=SlaConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig)

    def sla_minutes(self, stage: str | None, rule: str | None) -> int:
        """The first-touch window for a lead routed in ``stage`` by ``rule``: rule, then stage, then the default."""
        if rule is not None and rule in self.sla.by_rule:
            return self.sla.by_rule[rule]
        if stage is not None and stage in self.sla.by_stage:
            return self.sla.by_stage[stage]
        return self.sla.minutes
