"""``config check`` warnings: rules that load fine but can never fire."""

from __future__ import annotations

from typing import Any

import pytest

from connector.routing.lint import check_routing

from .builders import rep, routing


def _rules(*rules: dict[str, Any], pools: list[dict[str, Any]] | None = None):
    reps = [rep("a@x.com"), rep("b@x.com"), rep("gone@x.com", active=False)]
    pools = pools or [{"name": "p", "reps": ["a@x.com", "b@x.com"]}, {"name": "empty", "reps": ["gone@x.com"]}]
    return routing(reps, pools, [{"kind": "rules", "rules": list(rules)}, {"kind": "pool", "pool": "p"}])


def _rule(name: str, when: dict[str, Any], to: str = "p") -> dict[str, Any]:
    return {"name": name, "when": when, "to": {"pool": to}}


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        ({"country": ["DE", "AT"]}, {"country": ["DE"]}),
        ({"country": ["DE", "AT"]}, {"country": ["AT"], "industry": ["software"]}),
        ({}, {"country": ["FR"]}),
        ({"employees": {"min": 100}}, {"employees": {"min": 500, "max": 900}}),
        ({"employees": {"max": 1000}}, {"employees": {"min": 10, "max": 50}}),
        ({"postal_code": {"ranges": ["10000-19999"]}}, {"postal_code": {"ranges": ["12000-12999"]}}),
        ({"postal_code": {"ranges": ["8*"]}}, {"postal_code": {"ranges": ["80*"]}}),
        ({"country": {"not_in": ["US"]}}, {"country": ["DE"]}),
        ({"fit": {"exists": True}}, {"fit": ["A"]}),
        ({"source": "webinar"}, {"source": ["webinar"], "fit": ["A"]}),
    ],
)
def test_rule_shadowed_by_an_earlier_superset_is_reported(earlier, later):
    warnings = check_routing(_rules(_rule("broad", earlier), _rule("narrow", later)))
    assert [w.where for w in warnings] == ["stages.inbound.rules.narrow"]
    assert "shadowed by earlier rule 'broad'" in warnings[0].message


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        ({"country": ["DE"]}, {"country": ["DE", "AT"]}),
        ({"country": ["DE"], "fit": ["A"]}, {"country": ["DE"]}),
        ({"employees": {"min": 500}}, {"employees": {"min": 100}}),
        ({"products": {"not_in": ["core"]}}, {"products": ["analytics"]}),
        ({"postal_code": {"ranges": ["12000-12999"]}}, {"postal_code": {"ranges": ["10000-19999"]}}),
    ],
)
def test_rules_that_can_still_fire_are_not_reported(earlier, later):
    assert check_routing(_rules(_rule("first", earlier), _rule("second", later))) == []


@pytest.mark.parametrize(
    ("when", "because"),
    [
        ({"country": {"in": []}}, "`in` lists nothing"),
        ({"employees": {"min": 500, "max": 100}}, "min 500 is above max 100"),
        ({"country": {"in": ["DE"], "not_in": ["DE"]}}, "also excluded"),
        ({"country": {"in": ["DE"], "equals": "FR"}}, "`equals` is not among"),
        ({"fit": {"exists": False, "in": ["A"]}}, "empty and to have a value"),
        ({"country": ["DE"], "state": ["US-NY"]}, "outside country"),
    ],
)
def test_contradictory_conditions_are_reported(when, because):
    warnings = check_routing(_rules(_rule("odd", when)))
    assert len(warnings) == 1 and "can never fire" in warnings[0].message and because in warnings[0].message


def test_rule_pointing_at_an_empty_pool_or_inactive_rep_is_reported():
    warnings = check_routing(
        _rules(
            _rule("to-empty", {"country": ["DE"]}, to="empty"),
            {"name": "to-gone", "when": {}, "to": {"rep": "gone@x.com"}},
        )
    )
    messages = {w.where: w.message for w in warnings}
    assert "points at an empty pool: no active rep in empty" in messages["stages.inbound.rules.to-empty"]
    assert "inactive" in messages["stages.inbound.rules.to-gone"]


def test_empty_pool_with_a_staffed_fallback_is_fine():
    pools = [{"name": "p", "reps": ["a@x.com"]}, {"name": "empty", "reps": ["gone@x.com"], "fallback": "p"}]
    assert check_routing(_rules(_rule("r", {"country": ["DE"]}, to="empty"), pools=pools)) == []
