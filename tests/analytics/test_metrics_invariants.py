"""Invariants of the metrics over any history: groups partition the leads, rates are shares, p90 ≥ median, and
Jain's index stays within [1/n, 1]."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.history import MON
from connector.analytics.facts import LeadFacts
from connector.analytics.metrics import metrics_of
from connector.config.routing import RoutingConfig

ROUTING = RoutingConfig.model_validate(
    {
        "final_fallback": {"owner": "queue:hubspot:9", "name": "Queue"},
        "reps": [
            {"email": "a@x.io", "weight": 2},
            {"email": "b@x.io"},
            {"email": "c@x.io", "working_hours": "09:00-13:00"},
        ],
        "pools": [{"name": "p", "reps": ["a@x.io", "b@x.io", "c@x.io"]}],
        "stages": [{"name": "sdr", "steps": [{"kind": "pool", "pool": "p"}]}],
    }
)

facts = st.builds(
    LeadFacts,
    lead_id=st.uuids().map(str),
    created_ms=st.just(MON),
    assigned_ms=st.integers(MON, MON + 10 * 86_400_000),
    owner=st.sampled_from(["a@x.io", "b@x.io", "c@x.io"]),
    rule=st.sampled_from([None, "r1", "r2"]),
    pool=st.sampled_from([None, "p"]),
    stage=st.just("sdr"),
    source=st.sampled_from(["web", "ads"]),
    fallback=st.booleans(),
    unmatched=st.booleans(),
    decisions=st.integers(1, 3),
    first_touch_ms=st.one_of(st.none(), st.integers(MON + 10 * 86_400_000, MON + 20 * 86_400_000)),
    funnel=st.integers(1, 4),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(facts, max_size=40))
def test_metric_invariants(leads):
    metrics = metrics_of(leads, ROUTING, MON, MON + 30 * 86_400_000)
    overall = metrics.overall
    for groups in metrics.groups.values():
        assert sum(g.leads for g in groups) == overall.leads
        assert sum(g.touched for g in groups) == overall.touched
    assert all(rate is None or 0 <= rate <= 1 for rate in overall.rates.values())
    assert list(overall.funnel) == sorted(overall.funnel, reverse=True)
    for speed in (overall.created_to_assigned, overall.assigned_to_touch, overall.created_to_touch):
        assert speed.count == 0 or speed.median_s <= speed.p90_s
    assert sum(n for _, n in metrics.touch_histogram) == overall.leads
    if metrics.fairness.index is not None:
        n = len(metrics.fairness.reps)
        assert 1 / n - 1e-9 <= metrics.fairness.index <= 1 + 1e-9
        assert abs(sum(r.share for r in metrics.fairness.reps) - 1) < 1e-9
