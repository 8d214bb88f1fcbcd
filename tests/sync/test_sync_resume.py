"""``leadrelay sync resume``: an operator lifts a daily-budget pause by hand, and syncing starts again."""

from __future__ import annotations

import time
from pathlib import Path

import sqlite_utils
from click.testing import CliRunner

from adapters.hubspot import HubSpotReader
from adapters.sandbox.runner import SandboxServer
from connector.cache import open_cache
from connector.cli import cli
from connector.db import transaction
from connector.sync import cursors
from connector.sync.engine import SyncEngine
from connector.sync_cli import lift_pauses

from .world import hubspot_config, store_records


def _config(path: Path, sandbox: SandboxServer) -> Path:
    path.write_text(
        f"""
database: {path.parent / "cache.sqlite"}
crms:
  hubspot:
    enabled: true
    access_token: sandbox-token
    base_url: {sandbox.hubspot_url}
    overlap_s: 0
    limits_enabled: false
""",
        encoding="utf-8",
    )
    return path


def test_resume_lifts_the_pause_and_says_what_it_was(sandbox: SandboxServer, tmp_path: Path) -> None:
    config = _config(tmp_path / "leadrelay.yaml", sandbox)
    db = open_cache(tmp_path / "cache.sqlite")
    until = time.time() + 5 * 3600
    with transaction(db) as conn:
        cursors.pause(conn, "hubspot", until, "hubspot daily API limit reached")

    paused = CliRunner().invoke(cli, ["sync", "--config", str(config)])
    resumed = CliRunner().invoke(cli, ["sync", "resume", "--config", str(config), "--crm", "hubspot"])
    again = CliRunner().invoke(cli, ["sync", "resume", "--config", str(config)])
    synced = CliRunner().invoke(cli, ["sync", "--config", str(config)])

    assert "hubspot is paused" in paused.output
    assert resumed.exit_code == 0, resumed.output
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(until))
    assert f"hubspot was paused until {when} (hubspot daily API limit reached); resumed now" in resumed.output
    assert again.output.strip() == "no CRM is paused; nothing to resume"
    assert synced.exit_code == 0 and "paused" not in synced.output
    assert cursors.paused_until(db.conn, "hubspot") is None


def test_a_running_daemon_calls_the_crm_again_once_the_pause_is_lifted(
    sandbox: SandboxServer, cache: sqlite_utils.Database
) -> None:
    sandbox.admin.seed([{"kind": "hubspot.contacts", "properties": {"email": f"r{i}@resume.io"}} for i in range(30)])
    reader = HubSpotReader(hubspot_config(sandbox, page_size=20))
    full_sync, people_sync = SyncEngine(cache, [reader]), SyncEngine(cache, [reader])  # the daemon's two, one reader
    with sandbox.limits("professional", hubspot_daily=3):
        assert "hubspot" in full_sync.run_pass().paused  # the CRM said DAILY: paused until midnight

    lifted = lift_pauses(cache, ["hubspot", "salesforce"])  # the customer bought more calls; the operator resumes
    report = people_sync.run_pass()

    assert set(lifted) == {"hubspot"} and "daily" in lifted["hubspot"][1]
    assert report.ok and not report.paused
    cached = cache.conn.execute("SELECT count(*) FROM cache_people WHERE crm = 'hubspot' AND deleted = 0").fetchone()
    assert cached[0] == len(store_records(sandbox, "hubspot.contacts"))
