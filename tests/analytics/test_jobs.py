"""The analytics jobs a daemon schedules: names, cadence, and that each runs against a real relay."""

from __future__ import annotations

from connector.analytics.jobs import AUDIT_DAILY_AT, SLA_SWEEP_EVERY_S, schedule_jobs
from connector.analytics.sla import SweepResult
from connector.config.loader import LoadedConfig
from connector.config.root import LeadrelayConfig
from connector.relay import CrmParts, Relay


def test_jobs_registered_and_runnable(tmp_path, routing):
    config = LeadrelayConfig.model_validate(
        {"database": str(tmp_path / "jobs.sqlite"), "routing": routing.model_dump(mode="json")}
    )
    relay = Relay.open(LoadedConfig(config, None, "v1"), parts=CrmParts())
    jobs = {}
    schedule_jobs(lambda name, fn, **when: jobs.__setitem__(name, (fn, when)), relay)
    try:
        assert {name: when for name, (_, when) in jobs.items()} == {
            "sla_sweep": {"every_s": SLA_SWEEP_EVERY_S},
            "continuity_audit": {"daily_at": AUDIT_DAILY_AT},
        }
        assert isinstance(jobs["sla_sweep"][0](), SweepResult)
        assert jobs["continuity_audit"][0]()["stuck_lead"] == 0  # first run this month: runs, finds nothing
        assert jobs["continuity_audit"][0]() == {}  # not again this month
    finally:
        relay.close()
