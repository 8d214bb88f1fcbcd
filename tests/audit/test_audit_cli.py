"""``leadrelay audit continuity`` through the CLI: formats, the dry run, --yes, and the monthly job."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from audit.conftest import NOW
from connector.audit.schedule import month_due, run_monthly
from connector.cli import cli
from connector.config.root import LeadrelayConfig


@pytest.fixture
def config_file(tmp_path, world):
    path = tmp_path / "leadrelay.yaml"
    path.write_text(json.dumps({"database": str(tmp_path / "audit.sqlite")}), encoding="utf-8")
    return path


def _run(config_file, *args):
    result = CliRunner().invoke(cli, ["audit", "continuity", "--config", str(config_file), *args])
    assert result.exit_code == 0, result.output
    return result


def test_json_counts_every_kind(config_file):
    body = json.loads(_run(config_file, "--format", "json").stdout)
    assert body["counts"] == {
        "contact_account_owner": 2, "inactive_owner": 3, "split_account": 1, "stuck_lead": 2, "crm_owner_mismatch": 2,
    }  # fmt: skip
    assert all(f["why"] for f in body["findings"])


def test_csv_and_html(config_file):
    rows = list(csv.DictReader(io.StringIO(_run(config_file, "--format", "csv", "--kind", "stuck_lead").stdout)))
    assert [r["record_id"] for r in rows] == ["hubspot:contacts:P6", "hubspot:contacts:P7"]
    html = _run(config_file, "--format", "html").stdout
    assert "<h2>split_account (1)</h2>" in html and "<script" not in html


def test_fix_is_a_dry_run_unless_told_yes(config_file, db):
    dry = _run(config_file, "--format", "json", "--fix")
    assert "dry run: 4 owner change(s) planned" in dry.stderr
    assert db.conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'outbox_items'").fetchone()[0] == 0
    done = _run(config_file, "--format", "json", "--fix", "--yes")
    assert "enqueued 4 owner change(s)" in done.stderr
    assert db.conn.execute("SELECT COUNT(*) FROM outbox_items WHERE kind = 'set_owner'").fetchone()[0] == 4


def test_monthly_job_runs_once_a_month(world, db):
    config = LeadrelayConfig()
    now = datetime.fromtimestamp(NOW / 1000, UTC)
    assert run_monthly(db, config, now=now)["stuck_lead"] == 2
    assert run_monthly(db, config, now=now) == {}  # already ran this month
    assert month_due(db, now + timedelta(days=32))
