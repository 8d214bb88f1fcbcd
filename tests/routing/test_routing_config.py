"""The rule file: what is accepted, and that mistakes are rejected with the field path and what was expected."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from connector.config import load_config, parse_config
from connector.errors import ConfigError
from connector.routing.lint import check_routing

EXAMPLE = Path(__file__).parents[2] / "config" / "leadrelay.example.yaml"

BASE = """
routing:
  final_fallback: {owner: "queue:hubspot:1"}
  reps:
    - {email: A@x.com, timezone: Europe/Berlin}
    - {email: b@x.com}
  pools:
    - {name: p, reps: [a@x.com, b@x.com]}
  stages:
    - name: s
      steps:
        - {kind: pool, pool: p}
"""


def test_example_rule_file_validates_without_warnings():
    loaded = load_config(EXAMPLE)
    routing = loaded.config.routing
    assert len(routing.reps) == 24
    assert {s.name for s in routing.stages} == {"sdr", "ae", "csm", "sdr-and-ae"}
    assert check_routing(routing) == []


def test_example_covers_every_step_kind_and_strategy():
    routing = load_config(EXAMPLE).config.routing
    kinds = {step.kind for stage in routing.stages for step in stage.steps}
    assert kinds == {"account_owner", "named_accounts", "rules", "pool"}
    assert {p.strategy for p in routing.pools} == {"weighted_round_robin", "least_loaded"}
    assert any(r.pto for r in routing.reps) and any(r.caps.per_day for r in routing.reps)
    assert any(not r.active for r in routing.reps) and any(s.secondary for s in routing.stages)


def test_minimal_valid_file_and_normalized_emails():
    routing = parse_config(BASE).config.routing
    assert routing.rep("a@x.com") is not None
    assert routing.pool("p").reps == ("a@x.com", "b@x.com")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("[a@x.com, b@x.com]", "[a@x.com, c@x.com]"), r"pool 'p' lists rep 'c@x.com', which is not defined"),
        (("{kind: pool, pool: p}", "{kind: pool, pool: q}"), r"uses pool 'q', which is not defined"),
        (("timezone: Europe/Berlin", "timezone: Europe/Berlinn"), r"unknown IANA time zone"),
        (("{email: b@x.com}", "{email: b@x.com, weight: 0}"), r"reps\[1\]\.weight.*greater than 0"),
        (("{email: b@x.com}", "{email: b@x.com, working_hours: '17:00-09:00'}"), r"ends before it starts"),
        (("{email: b@x.com}", "{email: b@x.com, working_hours: '9am-5pm'}"), r"expected HH:MM-HH:MM"),
        (("{email: b@x.com}", "{email: b@x.com, holidays: {country: XX}}"), r"no public-holiday calendar"),
        (("{name: p, reps", "{name: p, fallback: p, reps"), r"cycle"),
        (("{email: b@x.com}", "{email: b@x.com, caps: {per_day: -1}}"), r"caps\.per_day"),
    ],
)
def test_mistakes_are_rejected_with_field_path(change, expected):
    text = BASE.replace(*change)
    assert text != BASE
    with pytest.raises(ConfigError, match=expected):
        parse_config(text, source="rules.yaml")


def test_overlapping_pto_is_rejected_with_its_line(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(
        BASE.replace(
            "{email: b@x.com}",
            "{email: b@x.com, pto: [{start: 2026-12-01, end: 2026-12-05}, {start: 2026-12-05, end: 2026-12-09}]}",
        )
    )
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert str(path) in message and "line 6" in message and "PTO ranges overlap" in message


def test_pto_mixing_date_and_datetime_or_reversed_is_rejected():
    with pytest.raises(ConfigError, match="before it starts"):
        parse_config(BASE.replace("{email: b@x.com}", "{email: b@x.com, pto: [{start: 2026-12-05, end: 2026-12-01}]}"))


def test_a_quoted_pto_day_is_a_whole_day_not_midnight():
    # JSON, or YAML with quotes, gives strings: the last day must still be a day off, not end at its midnight.
    quoted = BASE.replace("{email: b@x.com}", """{email: b@x.com, pto: [{start: "2026-12-01", end: "2026-12-05"}]}""")
    pto = parse_config(quoted).config.routing.rep("b@x.com").pto[0]
    assert (pto.start, pto.end) == (date(2026, 12, 1), date(2026, 12, 5))
    exact = quoted.replace('"2026-12-05"', '"2026-12-05T12:00"').replace('"2026-12-01"', '"2026-12-01T09:00"')
    assert parse_config(exact).config.routing.rep("b@x.com").pto[0].end == datetime(2026, 12, 5, 12, 0)


def test_unknown_condition_field_and_region_are_rejected():
    rules = """
        - kind: rules
          rules:
            - {name: r, when: {COUNTRY_CODE: [DE]}, to: {pool: p}}
"""
    with pytest.raises(ConfigError, match=r"unknown field"):
        parse_config(BASE.replace("        - {kind: pool, pool: p}\n", rules))
    with pytest.raises(ConfigError, match=r"unknown region"):
        parse_config(BASE.replace("        - {kind: pool, pool: p}\n", rules.replace("COUNTRY_CODE", "region")))


def test_rule_target_must_be_exactly_one_of_rep_or_pool():
    rules = """
        - kind: rules
          rules:
            - {name: r, when: {}, to: {rep: a@x.com, pool: p}}
"""
    with pytest.raises(ConfigError, match="exactly one"):
        parse_config(BASE.replace("        - {kind: pool, pool: p}\n", rules))


def test_stage_without_any_final_fallback_is_rejected():
    with pytest.raises(ConfigError, match="final_fallback"):
        parse_config(BASE.replace('  final_fallback: {owner: "queue:hubspot:1"}\n', ""))
