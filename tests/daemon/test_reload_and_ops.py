"""Live rule reload, health, readiness, metrics and the heartbeat, on an in-process daemon without CRMs."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from daemon_harness import hot_api_lead
from starlette.testclient import TestClient

from connector.config.loader import load_config
from connector.daemon import Daemon, heartbeat
from connector.relay import CrmParts
from connector.web.app import create_app

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "leadrelay.example.yaml"


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    stamp = time.time() + len(text) % 7  # a distinct mtime even within the filesystem's resolution
    os.utime(path, (stamp, stamp))


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    text = "\n".join(line for line in EXAMPLE.read_text().splitlines() if not line.startswith("database:"))
    path = tmp_path / "leadrelay.yaml"
    _write(path, f"database: {tmp_path / 'db.sqlite'}\n{text}\n")
    return path


@pytest.fixture
def daemon(config_file: Path) -> Iterator[Daemon]:
    running = Daemon(load_config(config_file), parts=CrmParts())
    yield running
    running.close()


def test_a_broken_edit_is_rejected_naming_the_field_and_the_old_rules_keep_routing(daemon, config_file):
    before = daemon.loaded.version
    text = config_file.read_text()
    _write(config_file, text.replace("decision_retention_days: 730", "decision_retention_days: -5"))
    with structlog.testing.capture_logs() as logs:
        daemon.turn()
    rejected = [e for e in logs if e["event"] == "config_reload_rejected"]
    assert rejected and "decision_retention_days" in rejected[0]["message"]
    assert daemon.pipeline.router.config_version == before
    decision = daemon.route_lead(hot_api_lead(1), write_back=False).decisions[0]
    assert decision.config_version == before, "the running rules stay in force"


def test_a_fixed_edit_takes_effect_without_a_restart(daemon, config_file):
    before = daemon.loaded.version
    text = config_file.read_text()
    _write(config_file, text.replace("decision_retention_days: 730", "decision_retention_days: -5"))
    daemon.turn()
    _write(config_file, text.replace("decision_retention_days: 730", "decision_retention_days: 365"))
    daemon.turn()
    assert daemon.loaded.version != before
    assert daemon.loaded.config.routing.decision_retention_days == 365
    decision = daemon.route_lead(hot_api_lead(2), write_back=False).decisions[0]
    assert decision.config_version == daemon.loaded.version


def test_each_turn_writes_the_heartbeat(daemon):
    daemon.run(burst=True)
    first = heartbeat.last_beat(daemon.relay.db)
    assert first is not None and first.pid == os.getpid()
    daemon.turn()
    second = heartbeat.last_beat(daemon.relay.db)
    assert second is not None and second.turns == first.turns + 1 and second.turned_at >= first.turned_at


def test_jobs_added_by_other_parts_run_on_the_loop(daemon):
    ran: list[str] = []
    daemon.add_job("sla-sweep", lambda: ran.append("sla"), every_s=0.01)
    daemon.add_job("broken", lambda: 1 / 0, every_s=0.01)
    time.sleep(0.02)
    daemon.turn()
    assert ran == ["sla"], "a failing job does not stop the others"


def test_health_readiness_and_metrics(daemon):
    client = TestClient(create_app(daemon))
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["outbox"]["ok"]
    daemon.route_lead(hot_api_lead(3), write_back=False)
    text = client.get("/metrics").text
    for name in ("leadrelay_leads_routed_total", "leadrelay_decision_seconds_bucket", "leadrelay_outbox_depth"):
        assert name in text


def test_readiness_fails_while_a_crm_has_never_synced(tmp_path):
    path = tmp_path / "leadrelay.yaml"
    path.write_text(
        f"database: {tmp_path / 'db.sqlite'}\ncrms:\n  hubspot:\n    enabled: true\n    access_token: t\n",
        encoding="utf-8",
    )
    daemon = Daemon(load_config(path), parts=CrmParts())
    try:
        answer = TestClient(create_app(daemon)).get("/readyz")
        assert answer.status_code == 503
        assert answer.json()["checks"]["crm:hubspot"]["ok"] is False
        heartbeat.record_sync(daemon.relay.db, "hubspot", None)
        assert TestClient(create_app(daemon)).get("/readyz").status_code == 200
    finally:
        daemon.close()


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ("daemon:\n  webhooks:\n    enabled: true\n", "daemon.webhooks"),
        ("daemon:\n  route_api:\n    enabled: true\n", "daemon.route_api"),
        ("daemon:\n  reconcile_at: '3am'\n", "daemon.reconcile_at"),
        ("daemon:\n  public_base_url: leadrelay.example.com\n", "daemon.public_base_url"),
    ],
)
def test_an_unsafe_daemon_section_is_rejected_naming_the_field(tmp_path, section, field):
    from connector.config.loader import parse_config
    from connector.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        parse_config(f"database: {tmp_path / 'db.sqlite'}\n{section}")
    assert field in str(caught.value)


def test_the_sla_sweep_and_the_monthly_audit_are_on_the_schedule(daemon):
    assert {"sla_sweep", "continuity_audit"} <= set(daemon.jobs.names)
    daemon.jobs.run_all(["sla_sweep", "continuity_audit"])  # nothing routed yet: both run and find nothing to do
