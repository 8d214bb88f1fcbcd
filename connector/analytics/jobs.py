"""The daemon's analytics jobs: the SLA sweep every few minutes, the continuity audit once a month.

Both enqueue messages (reminders, escalations, the audit summary) through the outbox and then deliver at once.

from connector.analytics.jobs import schedule_jobs
schedule_jobs(daemon.add_job, daemon.relay)     # Daemon.add_job(name, fn, every_s=..., daily_at=...)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from connector.analytics.sla import SlaSweeper, SweepResult
from connector.audit.schedule import run_monthly
from connector.relay import Relay

# Every five minutes keeps a reminder or a re-route at most five minutes late against a window of an hour.
SLA_SWEEP_EVERY_S = 300.0
AUDIT_DAILY_AT = "03:30"  # the audit checks daily whether this month's has run; the quiet hours suit a full scan


class AddJob(Protocol):
    """The daemon's ``add_job``."""

    def __call__(
        self, name: str, fn: Callable[[], object], *, every_s: float | None = None, daily_at: str | None = None
    ) -> None: ...


def schedule_jobs(add_job: AddJob, relay: Relay) -> None:
    """Register the SLA sweep (when enabled) and the monthly continuity audit with a scheduler."""
    sweeper = SlaSweeper(relay.pipeline)

    def sweep() -> SweepResult:
        result = sweeper.sweep()
        if result.rerouted or result.reminded or result.escalated:
            relay.deliver_all()  # a reminder 15 minutes before a deadline must not wait for the outbox's next turn
        return result

    def monthly_audit() -> dict[str, int]:
        counts = run_monthly(relay.db, relay.pipeline.loaded.config)
        if counts:
            relay.deliver_all()  # the summary reaches the channel with the run, not at the next outbox turn
        return counts

    if relay.loaded.config.analytics.sla.enabled:
        add_job("sla_sweep", sweep, every_s=SLA_SWEEP_EVERY_S)
    add_job("continuity_audit", monthly_audit, daily_at=AUDIT_DAILY_AT)
