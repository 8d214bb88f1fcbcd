"""``leadrelay report`` in each format over the six-lead history, through the real CLI and config loader."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from analytics.history import DAY, MON
from connector.cli import cli
from connector.report_cli import parse_since

PERIOD = ["--since", "2026-11-01", "--until", "2026-11-09"]


@pytest.fixture
def config_file(tmp_path, db, routing, six_leads):
    path = tmp_path / "leadrelay.yaml"
    body = {"database": str(tmp_path / "analytics.sqlite"), "routing": routing.model_dump(mode="json")}
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def _run(config_file, *args):
    result = CliRunner().invoke(cli, ["report", "--config", str(config_file), *PERIOD, *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_json_report_carries_the_hand_computed_figures(config_file):
    report = json.loads(_run(config_file, "--format", "json"))
    overall = report["overall"]
    assert overall["leads"] == 6 and overall["reassignment_rate"] == pytest.approx(1 / 6)
    assert overall["speed_to_lead"]["created_to_assigned"] == {"count": 6, "median_s": 75.0, "p90_s": 300.0}
    assert overall["funnel"] == {"MQL": 6, "SQL": 3, "Opportunity": 2, "Closed won": 1}
    assert overall["meeting_rate"] is None and "meeting rate" in report["notes"][0]  # no meetings synced here
    assert overall["funnel_conversion"] == {
        "MQL → SQL": pytest.approx(3 / 6),
        "SQL → Opportunity": pytest.approx(2 / 3),
        "Opportunity → Closed won": pytest.approx(1 / 2),
    }
    assert report["fairness"]["jain_index"] == pytest.approx(9.9225 / 10.6575)
    assert [g["group"] for g in report["groups"]["source"]] == ["web", "ads", "event"]


def test_csv_report_has_one_row_per_group(config_file):
    rows = list(csv.DictReader(io.StringIO(_run(config_file, "--format", "csv"))))
    assert rows[0]["dimension"] == "all" and rows[0]["leads"] == "6"
    by = {(r["dimension"], r["group"]): r for r in rows}
    assert by[("rep", "a@x.io")]["leads"] == "3"
    assert by[("source", "web")]["fallback_rate"] == "0.3333"
    assert rows[0]["meeting_rate"] == "" and rows[0]["meetings"] == ""  # unknown, not zero


def test_html_report_is_self_contained(config_file, tmp_path):
    out = tmp_path / "report.html"
    _run(config_file, "--format", "html", "--out", str(out))
    html = out.read_text(encoding="utf-8")
    assert html.count("<svg") == 4
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html
    assert "a@x.io" in html and "Fairness (Jain)" in html
    assert "Meeting rate" in html and "SQL (50.0%)" in html  # the funnel bars carry each step's conversion


def test_crm_values_are_escaped_in_html_and_neutralised_in_csv(config_file, history):
    history.person("hubspot:contacts:66", created_ms=MON + DAY, source="=HYPERLINK(1)<script>")
    history.routed("hubspot:contacts:66", at_ms=MON + DAY + 1000, owner="b@x.io", pool="p")
    html = _run(config_file, "--format", "html")
    assert "<script>" not in html and "&lt;script&gt;" in html
    csv_text = _run(config_file, "--format", "csv")
    assert "'=HYPERLINK(1)<script>" in csv_text


@pytest.mark.parametrize(("text", "days"), [("30d", 30), ("12h", 0.5), ("2w", 14)])
def test_since_spans(text, days):
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 11, 20, tzinfo=UTC)
    assert parse_since(text, now) == now - timedelta(days=days)


def test_bad_since_is_a_usage_error(config_file):
    result = CliRunner().invoke(cli, ["report", "--config", str(config_file), "--since", "lately"])
    assert result.exit_code == 2 and "expected 30d" in result.output
