"""Every metric of the report against values worked out by hand from a six-lead history.

| lead | crm        | source | rule | first owner | created→assigned | assigned→touch | notes                        |
| L1   | hubspot    | web    | r1   | a (pool p)  | 60 s             | 600 s          | lifecycle lead (MQL)         |
| L2   | hubspot    | web    | r1   | a (pool p)  | 120 s            | 1200 s         | salesqualifiedlead (SQL)     |
| L3   | salesforce | ads    | r2   | b (pool p)  | 30 s             | –              | unmatched; re-routed to a    |
| L4   | salesforce | ads    | r2   | c (pool p)  | 300 s            | 3600 s         | converted, open opportunity  |
| L5   | hubspot    | web    | –    | queue       | 10 s             | –              | final fallback, unmatched    |
| L6   | salesforce | event  | r1   | a (pool p)  | 90 s             | 7200 s         | converted, customer (won)    |
L1-L3 are routed on Monday, L4-L6 on Tuesday; L0 was routed the week before and is outside the period.
"""

from __future__ import annotations

import pytest

from analytics.history import DAY, MON, QUEUE
from connector.analytics.metrics import compute

START, END = MON, MON + 7 * DAY


@pytest.fixture
def metrics(six_leads, routing, db):
    return compute(db, routing, START, END)


def test_counts_and_rates(metrics):
    overall = metrics.overall
    assert (overall.leads, overall.touched, overall.reassigned, overall.fallback, overall.unmatched) == (6, 4, 1, 1, 2)
    assert overall.rates == {
        "touch_rate": 4 / 6,
        "reassignment_rate": 1 / 6,
        "fallback_rate": 1 / 6,
        "unmatched_rate": 2 / 6,
        "meeting_rate": None,  # meetings are not synced in this history
    }


def test_speed_to_lead_median_and_p90(metrics):
    overall = metrics.overall
    # created→assigned sorted: 10 30 60 90 120 300 → median (60+90)/2, p90 = 6th of 6 (nearest rank ⌈5.4⌉)
    assert (overall.created_to_assigned.median_s, overall.created_to_assigned.p90_s) == (75.0, 300.0)
    # assigned→touch: 600 1200 3600 7200 → median 2400, p90 = 4th of 4
    assert (overall.assigned_to_touch.count, overall.assigned_to_touch.median_s) == (4, 2400.0)
    assert overall.assigned_to_touch.p90_s == 7200.0
    # created→touch: 660 1320 3900 7290
    assert (overall.created_to_touch.median_s, overall.created_to_touch.p90_s) == (2610.0, 7290.0)


def test_funnel_from_lifecycle_status_and_conversion(metrics):
    # stages: L1 MQL, L2 SQL, L3 MQL, L4 opportunity, L5 MQL, L6 won
    assert metrics.overall.funnel == (6, 3, 2, 1)


def test_groups(metrics):
    by_source = {g.key: g for g in metrics.groups["source"]}
    assert {k: g.leads for k, g in by_source.items()} == {"web": 3, "ads": 2, "event": 1}
    assert by_source["ads"].reassigned == 1 and by_source["web"].fallback == 1
    by_rep = {g.key: g.leads for g in metrics.groups["rep"]}
    assert by_rep == {"a@x.io": 3, "b@x.io": 1, "c@x.io": 1, QUEUE: 1}
    by_rule = {g.key: g.leads for g in metrics.groups["rule"]}
    assert by_rule == {"r1": 3, "r2": 2, "(no rule)": 1}
    assert [g.key for g in metrics.groups["pool"]] == ["p", "(no pool)"]
    assert [(g.key, g.leads) for g in metrics.groups["stage"]] == [("sdr", 6)]
    assert by_source["web"].assigned_to_touch.median_s == 900.0  # L1 600, L2 1200


def test_fairness_share_against_weight_and_hours(metrics):
    reps = {r.rep: r for r in metrics.fairness.reps}
    # pool-distributed leads: L1 L2 L6 → a, L3 → b, L4 → c; capacity a 2×40 h, b 1×40 h, c 1×20 h
    assert {k: (r.leads, r.share) for k, r in reps.items()} == {
        "a@x.io": (3, 0.6),
        "b@x.io": (1, 0.2),
        "c@x.io": (1, 0.2),
    }
    assert reps["a@x.io"].expected_share == pytest.approx(4 / 7)
    assert reps["c@x.io"].available_hours == 20.0
    ratios = [0.6 / (4 / 7), 0.2 / (2 / 7), 0.2 / (1 / 7)]  # 1.05, 0.7, 1.4
    jain = sum(ratios) ** 2 / (3 * sum(x * x for x in ratios))
    assert metrics.fairness.index == pytest.approx(jain) == pytest.approx(9.9225 / 10.6575)


def test_trend_and_histogram(metrics):
    assert [(p.day, p.leads, p.median_assign_s) for p in metrics.trend] == [
        ("2026-11-02", 3, 60.0),
        ("2026-11-03", 3, 90.0),
    ]
    histogram = dict(metrics.touch_histogram)
    assert histogram == {
        "< 5 min": 0, "5–15 min": 1, "15–60 min": 1, "1–4 h": 2, "4–24 h": 0, "> 24 h": 0, "untouched": 2,
    }  # fmt: skip


def test_empty_period_has_no_figures(db, routing):
    empty = compute(db, routing, START, END)
    assert empty.overall.leads == 0
    assert empty.overall.rates["touch_rate"] is None
    assert empty.fairness.index is None and empty.trend == ()
