"""The routing commands as a user runs them: config check, pools, explain, simulate."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from connector.cli import cli
from connector.config import load_config
from connector.db import connect
from connector.models import Lead
from connector.routing.model import RoutingInput, Snapshot
from connector.routing.router import Router

EXAMPLE = Path(__file__).parents[2] / "config" / "leadrelay.example.yaml"

RULES = """
database: {db}
routing:
  final_fallback: {{owner: "queue:hubspot:1", name: Unassigned}}
  reps:
    - {{email: a@x.com, weight: 2, working_days: [mon, tue, wed, thu, fri, sat, sun], working_hours: "00:00-24:00"}}
    - {{email: b@x.com, working_days: [mon, tue, wed, thu, fri, sat, sun], working_hours: "00:00-24:00"}}
  pools:
    - {{name: main, reps: [a@x.com, b@x.com]}}
  stages:
    - name: inbound
      steps:
        - kind: rules
          rules:
            - {{name: europe, when: {{country: [DE, FR]}}, to: {{pool: main}}}}
            - {{name: germany, when: {{country: [DE]}}, to: {{rep: b@x.com}}}}
        - {{kind: pool, pool: main}}
"""


@pytest.fixture
def rules_file(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(RULES.format(db=tmp_path / "lr.sqlite"))
    return path


@pytest.fixture
def routed(rules_file):
    """Six leads routed and logged with the rules file."""
    loaded = load_config(rules_file)
    router = Router(connect(loaded.config.database), loaded.config.routing, config_version=loaded.version)
    now = datetime.now(UTC)
    for i in range(6):
        lead = Lead(id=f"hubspot:contacts:{i}", crm="hubspot", native_id=str(i), object="contacts", country="DE")
        router.route(RoutingInput(lead), Snapshot(), now)
    return rules_file


def _run(*args: str):
    # Wide enough that rich does not wrap table cells.
    return CliRunner(env={"COLUMNS": "220"}).invoke(cli, ["--log-level", "WARNING", *args], catch_exceptions=False)


def test_config_check_accepts_the_example():
    result = _run("config", "check", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert "valid" in result.output and "24 reps" in result.output


def test_config_check_warns_about_a_shadowed_rule_and_strict_fails(rules_file):
    result = _run("config", "check", str(rules_file))
    assert result.exit_code == 0
    assert "germany: can never fire: shadowed by earlier rule 'europe'" in result.output
    assert _run("config", "check", "--strict", str(rules_file)).exit_code == 1


def test_config_check_rejects_a_bad_file_with_line_and_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("routing:\n  reps:\n    - {email: a@x.com, timezone: Mars/Olympus}\n")
    result = CliRunner().invoke(cli, ["config", "check", str(bad)])
    assert result.exit_code == 1
    assert "line 3" in result.output and "routing.reps[0].timezone" in result.output


def test_pools_shows_expected_actual_and_credit(routed):
    result = _run("pools", "--config", str(routed))
    assert result.exit_code == 0, result.output
    assert "pool main" in result.output
    assert "a@x.com" in result.output and "66.7%" in result.output  # weight 2 of 3
    assert "available" in result.output


def test_explain_prints_the_latest_decision_in_plain_language(routed):
    result = _run("explain", "hubspot:contacts:5", "--config", str(routed))
    assert result.exit_code == 0, result.output
    assert "Owner: " in result.output and "rule europe matched (country in [DE, FR])" in result.output
    missing = CliRunner().invoke(cli, ["explain", "nope", "--config", str(routed)])
    assert missing.exit_code == 1 and "no routing decision logged" in missing.output


def test_simulate_compares_a_candidate_file(routed, tmp_path):
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(
        routed.read_text().replace("{name: europe, when: {country: [DE, FR]}", "{name: europe, when: {country: [FR]}")
    )
    result = _run("simulate", "--config", str(candidate), "--since", "1d", "--db", str(tmp_path / "lr.sqlite"))
    assert result.exit_code == 0, result.output
    assert "6 leads replayed" in result.output
    assert "rule germany matched" in result.output
