"""``leadrelay sync`` end to end: the change table, exit codes, and a process killed with SIGKILL mid-backfill."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.sandbox.generate import iter_seed
from adapters.sandbox.runner import SandboxServer
from connector.cache import open_cache
from connector.cli import cli

from .world import assert_cache_matches

PROJECT = Path(__file__).resolve().parents[2]


def _write_config(path: Path, sandbox: SandboxServer, *, page_size: int = 100) -> Path:
    path.write_text(
        f"""
database: {path.parent / "cache.sqlite"}
crms:
  hubspot:
    enabled: true
    access_token: ${{TEST_HUBSPOT_TOKEN:-sandbox-token}}
    base_url: {sandbox.hubspot_url}
    page_size: {page_size}
    overlap_s: 0
    limits_enabled: false
    retry: {{attempts: 8, initial_backoff_s: 0.01, max_backoff_s: 0.05, jitter_s: 0}}
  salesforce:
    enabled: true
    access_token: sandbox-token
    instance_url: {sandbox.salesforce_url}
    ca_bundle: {sandbox.ca_path}
    page_size: 200
    overlap_s: 0
    limits_enabled: false
""",
        encoding="utf-8",
    )
    return path


def test_sync_command_prints_what_changed(sandbox: SandboxServer, tmp_path: Path) -> None:
    sandbox.admin.seed(list(iter_seed(contacts=120, seed=2)))
    config = _write_config(tmp_path / "leadrelay.yaml", sandbox)

    first = CliRunner().invoke(cli, ["sync", "--config", str(config)])
    only_sf = CliRunner().invoke(cli, ["sync", "--config", str(config), "--crm", "salesforce"])

    assert first.exit_code == 0, first.output
    assert "hubspot.contacts" in first.output and "salesforce.Lead" in first.output
    assert "backfill" in first.output and "API requests" in first.output
    assert only_sf.exit_code == 0 and "hubspot.contacts" not in only_sf.output


def test_sync_command_rejects_a_bad_config(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("crms:\n  hubspot:\n    enabled: true\n", encoding="utf-8")

    result = CliRunner().invoke(cli, ["sync", "--config", str(config)])

    assert result.exit_code == 2
    assert "access_token" in result.output


def test_sync_killed_mid_backfill_resumes_without_duplicates_or_gaps(sandbox: SandboxServer, tmp_path: Path) -> None:
    sandbox.admin.seed(list(iter_seed(contacts=600, seed=4)))
    config = _write_config(tmp_path / "leadrelay.yaml", sandbox, page_size=20)
    command = [sys.executable, "-c", "from connector.cli import main; main()", "sync", "--config", str(config)]
    env = {**os.environ, "LEADRELAY_LOG_LEVEL": "WARNING"}

    with sandbox.faults("latency=15ms"):
        process = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_for_backfill_progress(tmp_path / "cache.sqlite", process)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL

    resumed = CliRunner().invoke(cli, ["sync", "--config", str(config)])  # the next run: in-process is faster

    assert resumed.exit_code == 0, resumed.output
    assert "backfill" in resumed.output  # it picked the interrupted backfill up where it stopped
    db = open_cache(tmp_path / "cache.sqlite")
    assert_cache_matches(db, sandbox)


def _wait_for_backfill_progress(path: Path, process: subprocess.Popen[bytes]) -> None:
    """Block until the sync has committed a few contact pages (and is still running)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail("sync finished before it could be killed")
        if path.exists():
            try:
                with sqlite3.connect(path, timeout=1) as conn:
                    row = conn.execute("SELECT COUNT(*) FROM cache_people WHERE crm = 'hubspot'").fetchone()
            except sqlite3.OperationalError:  # tables not created yet
                row = None
            if row and row[0] >= 100:
                return
        time.sleep(0.02)
    pytest.fail("sync made no progress")
