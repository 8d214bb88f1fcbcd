"""``leadrelay route --dry-run``: the waiting leads' decisions, printed, with nothing written anywhere."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from connector.cache.schema import migrate_cache
from connector.cli import cli
from connector.config import load_config
from connector.db import connect
from connector.pipeline import LeadPipeline, intake
from connector.routing.store import ensure_schema, ledger_rows

ALWAYS = 'working_days: [mon, tue, wed, thu, fri, sat, sun], working_hours: "00:00-24:00"'
RULES = f"""
database: {{db}}
pipeline: {{{{route_existing: true}}}}
scoring:
  grid:
    high: {{{{high: sdr, medium: sdr, low: sdr}}}}
    medium: {{{{high: sdr, medium: sdr, low: sdr}}}}
    low: {{{{high: sdr, medium: sdr, low: sdr}}}}
routing:
  final_fallback: {{{{owner: "queue:hubspot:1", name: Unassigned}}}}
  reps:
    - {{{{email: a@x.com, weight: 2, {ALWAYS}}}}}
    - {{{{email: b@x.com, {ALWAYS}}}}}
    - {{{{email: c@x.com, {ALWAYS}, caps: {{{{per_day: 1}}}}}}}}
  pools:
    - {{{{name: main, reps: [a@x.com, b@x.com, c@x.com]}}}}
  stages:
    - name: inbound
      steps:
        - kind: rules
          rules:
            - {{{{name: germany, when: {{{{country: [DE]}}}}, to: {{{{rep: b@x.com}}}}}}}}
        - {{{{kind: pool, pool: main}}}}
"""
COUNTRIES = ["DE", "US", "FR", "US", "DE", "GB", "US", "NL", "US"]


@pytest.fixture
def waiting(tmp_path):
    """A rule file and a database with nine synced leads waiting to be routed (and four already routed)."""
    path = tmp_path / "rules.yaml"
    path.write_text(RULES.format(db=tmp_path / "lr.sqlite"))
    loaded = load_config(path)
    db = connect(loaded.config.database)
    for install in (migrate_cache, intake.install, ensure_schema):
        install(db)
    for seq, country in enumerate(COUNTRIES, 1):
        db["cache_people"].insert(
            {"id": f"hubspot:contacts:{seq}", "crm": "hubspot", "object": "contacts", "native_id": str(seq),
             "email": f"p{seq}@lead{seq}.example", "country": country, "properties": "{}", "created_ms": 1,
             "modified_ms": 1, "content_hash": "x", "change_seq": seq, "created_seq": seq, "synced_ms": 1},
        )  # fmt: skip
    # Some history, so the dry run has a ledger to start from (and must leave it alone).
    LeadPipeline(db, loaded).process_pending(max_batches=1)
    _add_more(db, start=len(COUNTRIES) + 1)
    return path, db


def _add_more(db, *, start: int) -> None:
    for seq in range(start, start + 6):
        db["cache_people"].insert(
            {"id": f"hubspot:contacts:{seq}", "crm": "hubspot", "object": "contacts", "native_id": str(seq),
             "email": f"p{seq}@lead{seq}.example", "country": COUNTRIES[seq % len(COUNTRIES)], "properties": "{}",
             "created_ms": 1, "modified_ms": 1, "content_hash": "x", "change_seq": seq, "created_seq": seq,
             "synced_ms": 1},
        )  # fmt: skip


def _state(db) -> tuple[dict[str, int], list]:
    tables = [r[0] for r in db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    counts = {t: db.conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
    return counts, ledger_rows(db)


def _dry(path, *args: str) -> list[dict]:
    result = CliRunner().invoke(
        cli, ["--log-level", "WARNING", "route", "--dry-run", "--config", str(path), "--format", "json", *args]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_a_dry_run_writes_nothing_and_a_real_run_then_decides_the_same(waiting):
    path, db = waiting
    before = _state(db)
    dry = _dry(path)
    assert _state(db) == before
    assert len(dry) == 6
    real = LeadPipeline(db, load_config(path)).process_pending().decisions
    assert [(d["lead_id"], d["owner"], d["route"]) for d in dry] == [(d.lead_id, d.owner, d.route) for d in real]
    assert all(d["why"] for d in dry)


def test_limit_shows_the_next_leads_in_the_order_the_pipeline_takes_them(waiting):
    path, _db = waiting
    assert [d["lead_id"] for d in _dry(path, "--limit", "2")] == [f"hubspot:contacts:{n}" for n in (10, 11)]


def test_the_table_names_owner_route_and_reason(waiting):
    path, _db = waiting
    result = CliRunner(env={"COLUMNS": "220"}).invoke(
        cli, ["--log-level", "WARNING", "route", "--dry-run", "--config", str(path)]
    )
    assert result.exit_code == 0, result.output
    assert "6 lead(s) would be routed (nothing was written)" in result.output
    assert "rules › rule germany" in result.output
    assert "to b@x.com" in result.output


def test_without_dry_run_it_says_what_routes_for_real(waiting):
    path, _db = waiting
    result = CliRunner().invoke(cli, ["--log-level", "WARNING", "route", "--config", str(path)])
    assert result.exit_code != 0
    assert "leadrelay run" in result.output
