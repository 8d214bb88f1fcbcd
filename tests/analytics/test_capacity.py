"""Available hours for fairness: working hours in the period, less PTO days, exact PTO spans and public holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from connector.analytics.capacity import available_hours
from connector.config.routing import Rep

WEEK = (datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC))  # Mon 23 – Mon 30 Nov 2026


def rep(**fields) -> Rep:
    return Rep.model_validate({"email": "a@x.io", "working_hours": "09:00-17:00", **fields})


@pytest.mark.parametrize(
    ("fields", "hours"),
    [
        ({}, 40.0),
        ({"working_hours": "09:00-13:00"}, 20.0),
        ({"pto": [{"start": date(2026, 11, 24), "end": date(2026, 11, 25)}]}, 24.0),  # Tue–Wed off
        ({"pto": [{"start": "2026-11-23T09:00:00", "end": "2026-11-23T11:00:00"}]}, 38.0),  # two hours on Monday
        ({"holidays": {"country": "US"}}, 32.0),  # Thanksgiving, Thu 26 Nov
        ({"holidays": {"country": "DE"}}, 40.0),  # no German holiday that week
        ({"timezone": "America/New_York"}, 40.0),  # the same week in their own zone, cut at the period's UTC ends
    ],
)
def test_available_hours(fields, hours):
    assert available_hours(rep(**fields), *WEEK) == pytest.approx(hours)


def test_period_cut_mid_day():
    start, end = datetime(2026, 11, 23, 12, tzinfo=UTC), datetime(2026, 11, 24, 10, tzinfo=UTC)
    assert available_hours(rep(), start, end) == pytest.approx(5 + 1)  # Mon 12–17, Tue 09–10
