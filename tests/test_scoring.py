import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.config import parse_config
from connector.config.scoring import ScoringConfig
from connector.db import connect
from connector.errors import ConfigError
from connector.models import Account, Activity, Lead
from connector.scoring import (
    Score,
    decide,
    leads_to_rescore,
    nurture_count,
    nurture_entry,
    qualify,
    record_nurture,
    release_nurture,
    rescore,
    score_lead,
)

DAY = 86_400_000
NOW = 1_800_000_000_000
CONFIG = ScoringConfig()


def make_lead(**fields) -> Lead:
    activity = fields.pop("activity", Activity())
    return Lead(id="hubspot:contacts:1", crm="hubspot", native_id="1", object="contacts", activity=activity, **fields)


def points(score: Score, criterion: str) -> int | None:
    found = [item.points for item in score.breakdown if item.criterion == criterion]
    return found[0] if found else None


HOT = make_lead(
    title="VP of Sales",
    country="US",
    employees=450,
    industry="Computer Software",
    activity=Activity(demo_requests=1, form_submissions=1, last_activity_ms=NOW - DAY // 2),
)
COLD = make_lead(title="Student", country="BR", employees=3, industry="Retail")


def test_hot_lead_is_fast_tracked_and_says_why():
    result = qualify(HOT, None, CONFIG, NOW)
    assert (result.outcome, result.hint, result.score.grade) == ("route", "fast_track", "A1")
    text = result.render()
    assert "Route to fast_track" in text
    assert "450 employees (band 200-999)" in text
    assert 'title "VP of Sales" reads as executive ("vp")' in text
    assert "1 demo request" in text


def test_cold_lead_goes_to_nurture():
    result = qualify(COLD, None, CONFIG, NOW)
    assert result.outcome == "nurture" and result.hint is None
    assert result.score.grade == "C3"
    assert "Nurture" in result.reason


@pytest.mark.parametrize(
    ("fit_tier", "activity_tier", "outcome", "hint"),
    [
        ("high", "high", "route", "fast_track"),
        ("high", "low", "route", "sales"),
        ("medium", "high", "route", "sdr"),
        ("low", "high", "route", "sdr"),
        ("medium", "low", "nurture", None),
        ("low", "low", "nurture", None),
    ],
)
def test_default_grid(fit_tier, activity_tier, outcome, hint):
    score = Score(fit=0, activity=0, fit_tier=fit_tier, activity_tier=activity_tier, breakdown=(), grade="x")
    result = decide(score, CONFIG)
    assert (result.outcome, result.hint) == (outcome, hint)


@pytest.mark.parametrize(
    ("employees", "expected"),
    [(5000, 25), (1000, 25), (999, 20), (200, 20), (199, 15), (50, 15), (10, 5), (3, -10), (0, 0), (None, 0)],
)
def test_employee_bands(employees, expected):
    assert points(score_lead(make_lead(employees=employees), None, CONFIG, NOW), "employees") == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("VP Sales", 25),
        ("Co-Founder & CTO", 25),
        ("Head of Growth", 20),
        ("Director, Marketing Ops", 20),
        ("Internal Communications Manager", 10),  # "intern" must match whole words only
        ("Student", -20),
        ("Software Engineer", None),  # ordinary titles add no line
        (None, 0),
    ],
)
def test_title_keywords(title, expected):
    assert points(score_lead(make_lead(title=title), None, CONFIG, NOW), "title") == expected


@pytest.mark.parametrize(
    ("country", "expected"), [("US", 15), ("us", 15), ("Germany", 10), ("GB", 10), ("FR", 0), (None, 0)]
)
def test_regions(country, expected):
    assert points(score_lead(make_lead(country=country), None, CONFIG, NOW), "region") == expected


def test_account_fills_gaps_and_customers_score():
    account = Account(id="a", crm="hubspot", native_id="9", name="Acme", employees=300, is_customer=True)
    score = score_lead(make_lead(), account, CONFIG, NOW)
    assert points(score, "employees") == 20
    assert points(score, "customer") == 10
    assert "account Acme is a customer" in score.render()


def test_activity_halves_after_one_half_life():
    fresh = make_lead(activity=Activity(demo_requests=1, last_activity_ms=NOW))
    old = replace(fresh, activity=replace(fresh.activity, last_activity_ms=NOW - 14 * DAY))
    assert points(score_lead(fresh, None, CONFIG, NOW), "demo_requests") == 30
    aged = score_lead(old, None, CONFIG, NOW)
    assert points(aged, "demo_requests") == 15
    assert "faded to 50% (last activity 14 days ago)" in aged.render()


@pytest.mark.parametrize(("days", "percent", "expected"), [(0, 100, 30), (3, 86, 26), (14, 50, 15), (28, 25, 8)])
def test_each_activity_line_is_points_times_the_percent_shown(days, percent, expected):
    lead = make_lead(activity=Activity(demo_requests=1, last_activity_ms=NOW - days * DAY))
    score = score_lead(lead, None, CONFIG, NOW)
    assert points(score, "demo_requests") == expected
    assert (f"faded to {percent}%" in score.render()) == (percent < 100)


def test_counts_are_capped():
    lead = make_lead(activity=Activity(page_views=500, last_activity_ms=NOW))
    assert points(score_lead(lead, None, CONFIG, NOW), "page_views") == 10


def test_recent_conversion_bonus_ends_after_its_window():
    recent = make_lead(activity=Activity(last_conversion_ms=NOW - 2 * DAY, last_conversion_name="Pricing form"))
    stale = make_lead(activity=Activity(last_conversion_ms=NOW - 31 * DAY))
    assert points(score_lead(recent, None, CONFIG, NOW), "recent_conversion") == 9
    assert 'converted on "Pricing form" 2 days ago' in score_lead(recent, None, CONFIG, NOW).render()
    assert points(score_lead(stale, None, CONFIG, NOW), "recent_conversion") is None


def test_rules_come_from_the_config_file():
    text = """
scoring:
  fit:
    employee_bands: [{min: 10, points: 50}]
    industries: {retail: 40}
  activity:
    half_life_days: 7
    demo_requests: {points_each: 50, max_points: 50}
  fit_tiers: {high: 80, medium: 40}
  grid:
    high: {high: fast_track, medium: sales, low: sales}
    medium: {high: sdr, medium: sdr, low: sdr}
    low: {high: sdr, medium: nurture, low: nurture}
"""
    config = parse_config(text).config.scoring
    lead = make_lead(employees=20, industry="Retail", activity=Activity(demo_requests=1, last_activity_ms=NOW))
    result = qualify(lead, None, config, NOW)
    assert (result.score.fit, result.score.activity) == (90, 50)
    assert (result.outcome, result.hint) == ("route", "fast_track")


@pytest.mark.parametrize(
    ("yaml_text", "field"),
    [
        ("scoring:\n  grid:\n    high: {high: fast_track}\n", "scoring.grid"),
        ("scoring:\n  fit_tiers: {high: 10, medium: 20}\n", "scoring.fit_tiers"),
        ("scoring:\n  fit:\n    regions: [{name: X, countries: [USA], points: 1}]\n", "scoring.fit.regions"),
        ("scoring:\n  activity:\n    half_life_days: 0\n", "scoring.activity.half_life_days"),
        ("scoring:\n  grid:\n    high: {high: Fast Track, medium: a, low: a}\n", "scoring.grid"),
    ],
)
def test_bad_rules_are_rejected_with_the_field(yaml_text, field):
    with pytest.raises(ConfigError) as err:
        parse_config(yaml_text)
    assert field in str(err.value)


def test_docs_example_is_a_valid_config():
    doc = (Path(__file__).parents[1] / "docs" / "scoring.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", doc, flags=re.S)
    assert blocks, "docs/scoring.md should show a YAML example"
    for block in blocks:
        parse_config(block)


# --- invariants -----------------------------------------------------------------------------------------

counts = st.integers(min_value=0, max_value=50)
ages = st.integers(min_value=0, max_value=400 * DAY)
activities = st.builds(
    Activity,
    page_views=counts,
    form_submissions=counts,
    demo_requests=counts,
    pricing_page_views=counts,
    email_replies=counts,
    last_activity_ms=st.one_of(st.none(), ages.map(lambda age: NOW - age)),
    last_conversion_ms=st.one_of(st.none(), ages.map(lambda age: NOW - age)),
    last_conversion_name=st.one_of(st.none(), st.text(max_size=20)),
)
leads = st.builds(
    make_lead,
    title=st.one_of(st.none(), st.sampled_from(["CEO", "VP Sales", "Engineer", "Student", "head of ops"]), st.text()),
    country=st.one_of(st.none(), st.sampled_from(["US", "DE", "FR", "Sweden", "zz"])),
    employees=st.one_of(st.none(), st.integers(min_value=0, max_value=1_000_000)),
    industry=st.one_of(st.none(), st.sampled_from(["Software", "Retail", "Internet services"])),
    created_ms=st.integers(min_value=0, max_value=NOW),
    activity=activities,
)
accounts = st.one_of(
    st.none(),
    st.builds(
        Account,
        id=st.just("a"),
        crm=st.just("hubspot"),
        native_id=st.just("1"),
        name=st.just("Acme"),
        employees=st.one_of(st.none(), st.integers(min_value=0, max_value=100_000)),
        is_customer=st.booleans(),
        has_open_opportunity=st.booleans(),
    ),
)


@settings(max_examples=300, deadline=None)
@given(lead=leads, account=accounts)
def test_scores_are_deterministic_and_breakdowns_sum(lead, account):
    first = score_lead(lead, account, CONFIG, NOW)
    assert score_lead(lead, account, CONFIG, NOW) == first
    assert first.fit == sum(item.points for item in first.items("fit"))
    assert first.activity == sum(item.points for item in first.items("activity"))
    assert len(first.items("fit")) + len(first.items("activity")) == len(first.breakdown)


@settings(max_examples=300, deadline=None)
@given(
    lead=leads,
    counter=st.sampled_from(["demo_requests", "form_submissions", "pricing_page_views", "email_replies", "page_views"]),
    extra=st.integers(min_value=1, max_value=20),
)
def test_more_activity_never_lowers_the_activity_score(lead, counter, extra):
    more = replace(lead.activity, **{counter: getattr(lead.activity, counter) + extra})
    before = score_lead(lead, None, CONFIG, NOW).activity
    after = score_lead(replace(lead, activity=more), None, CONFIG, NOW).activity
    assert after >= before


@settings(max_examples=300, deadline=None)
@given(lead=leads, later=st.integers(min_value=0, max_value=200 * DAY))
def test_activity_never_grows_with_age(lead, later):
    assert score_lead(lead, None, CONFIG, NOW + later).activity <= score_lead(lead, None, CONFIG, NOW).activity


@settings(max_examples=200, deadline=None)
@given(lead=leads, account=accounts)
def test_every_lead_gets_exactly_one_outcome_from_its_grid_cell(lead, account):
    result = qualify(lead, account, CONFIG, NOW)
    cell = CONFIG.grid[result.score.fit_tier][result.score.activity_tier]
    if cell == "nurture":
        assert (result.outcome, result.hint, result.routed) == ("nurture", None, False)
    else:
        assert (result.outcome, result.hint, result.routed) == ("route", cell, True)
    assert result.score.grade[0] == {"high": "A", "medium": "B", "low": "C"}[result.score.fit_tier]


# --- nurture --------------------------------------------------------------------------------------------


@pytest.fixture
def db(tmp_path):
    database = connect(tmp_path / "scoring.sqlite")
    yield database
    database.conn.close()


def test_nurture_leads_are_recorded_and_picked_for_rescoring(db):
    result = qualify(COLD, None, CONFIG, NOW)
    record_nurture(db, COLD, result.score, now_ms=NOW)
    record_nurture(db, COLD, result.score, now_ms=NOW + DAY)
    entry = nurture_entry(db, COLD.id)
    assert entry is not None
    assert (entry.grade, entry.first_nurtured_ms, entry.last_scored_ms, entry.times_scored) == ("C3", NOW, NOW + DAY, 2)
    assert entry.breakdown[0]["criterion"] == "employees"
    assert leads_to_rescore(db, ["hubspot:contacts:404", COLD.id]) == [COLD.id]
    assert leads_to_rescore(db, []) == []


def test_new_activity_moves_a_lead_out_of_nurture(db):
    lead = replace(COLD, title=None, employees=120, country="US", industry=None)  # medium fit, no activity
    assert rescore(db, lead, None, CONFIG, now_ms=NOW).outcome == "nurture"
    assert nurture_count(db) == 1
    keen = replace(lead, activity=Activity(demo_requests=2, last_activity_ms=NOW))
    result = rescore(db, keen, None, CONFIG, now_ms=NOW + 1)
    assert (result.outcome, result.hint) == ("route", "sdr")
    assert nurture_entry(db, lead.id) is None
    assert not release_nurture(db, lead.id)


def test_nurture_can_be_written_inside_the_callers_transaction(db):
    from connector.db import transaction
    from connector.scoring import ensure_schema, write_nurture

    ensure_schema(db)
    score = qualify(COLD, None, CONFIG, NOW).score
    with pytest.raises(RuntimeError), transaction(db) as conn:
        write_nurture(conn, COLD, score, now_ms=NOW)
        raise RuntimeError("the caller's other write failed")
    assert nurture_entry(db, COLD.id) is None  # rolled back together
    with transaction(db) as conn:
        write_nurture(conn, COLD, score, now_ms=NOW)
    assert nurture_entry(db, COLD.id) is not None


def test_many_changed_ids_are_looked_up_in_chunks(db):
    score = qualify(COLD, None, CONFIG, NOW).score
    for i in range(3):
        record_nurture(db, replace(COLD, id=f"hubspot:contacts:n{i}"), score, now_ms=NOW)
    changed = [f"hubspot:contacts:x{i}" for i in range(1200)] + ["hubspot:contacts:n2", "hubspot:contacts:n0"]
    assert leads_to_rescore(db, changed) == ["hubspot:contacts:n0", "hubspot:contacts:n2"]


# --- command line ---------------------------------------------------------------------------------------


def test_explain_command_prints_the_breakdown(tmp_path):
    from click.testing import CliRunner

    from connector.scoring.cli import scoring

    lead = tmp_path / "lead.json"
    activity = {"demo_requests": 1, "last_activity_ms": NOW}
    lead.write_text(json.dumps({"title": "CEO", "employees": 450, "activity": activity}))
    account = tmp_path / "account.json"
    account.write_text('{"name": "Acme", "country": "US", "is_customer": true}')
    runner = CliRunner()
    text = runner.invoke(scoring, ["explain", str(lead), "--account", str(account), "--now-ms", str(NOW)])
    assert text.exit_code == 0, text.output
    assert "account Acme is a customer" in text.output and "+30  1 demo request" in text.output
    as_json = runner.invoke(scoring, ["explain", str(lead), "--now-ms", str(NOW), "--json"])
    assert '"grade": "B2"' in as_json.output  # without the account: no region points
    lead.write_text('{"titel": "CEO"}')
    typo = runner.invoke(scoring, ["explain", str(lead)])
    assert typo.exit_code != 0 and "titel" in typo.output
