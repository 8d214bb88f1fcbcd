"""The presence memo never changes a verdict: memoized answers equal a fresh check at every instant."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.config.routing import Rep
from connector.models import Owner
from connector.routing.availability import (
    LocalTime,
    PresenceMemo,
    Skip,
    cap_skip,
    crm_skip,
    local_time,
    presence_skip,
)
from connector.routing.context import RouteContext
from connector.routing.ledger import LedgerState
from connector.routing.model import RoutingInput, Snapshot

from .builders import MONDAY_3PM_UTC, lead, routing

REPS = [
    Rep.model_validate(
        {
            "email": "ny@x.com",
            "timezone": "America/New_York",
            "working_days": ["mon", "tue"],
            "working_hours": "09:00-17:30",
        }
    ),
    Rep.model_validate(
        {
            "email": "split@x.com",
            "timezone": "Asia/Kolkata",  # a half-hour offset
            "working_hours": {"mon": "08:00-12:00, 13:00-17:00", "tue": "10:00-11:00"},
            "holidays": {"country": "IN"},
        }
    ),
    Rep.model_validate(
        {
            "email": "away@x.com",
            "timezone": "Europe/Berlin",
            "working_hours": "00:00-24:00",
            "pto": [
                {"start": "2026-11-24", "end": "2026-11-24"},
                {"start": "2026-11-25T10:00:30", "end": "2026-11-25T12:00"},
            ],
        }
    ),
]


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=40), ignore=st.booleans())
def test_memoized_presence_equals_a_fresh_check_as_time_moves_on(steps, ignore):
    memo, now = PresenceMemo(), MONDAY_3PM_UTC
    for step in steps:
        now += timedelta(seconds=step * 53)  # odd strides cross minute, span, day and PTO boundaries
        for rep in REPS:
            local = local_time(rep, now)
            assert memo.presence(rep, local, ignore_hours=ignore) == presence_skip(rep, local, ignore_hours=ignore)
        fresh = [presence_skip(rep, local_time(rep, now), ignore_hours=ignore) for rep in REPS]
        assert memo.presences(REPS, partial(_local_at, now), ignore_hours=ignore) == fresh


def _local_at(now: datetime, rep: Rep) -> LocalTime:
    return local_time(rep, now)


@pytest.mark.parametrize("minutes", [0, 1, 29, 30, 31, 150, 151])
def test_off_hours_reason_names_the_minute_even_when_memoized(minutes):
    memo, rep = PresenceMemo(), REPS[0]
    start = MONDAY_3PM_UTC + timedelta(hours=8)  # 18:00 in New York: after hours
    memo.presence(rep, local_time(rep, start), ignore_hours=False)
    later = local_time(rep, start + timedelta(minutes=minutes))
    assert memo.presence(rep, later, ignore_hours=False) == presence_skip(rep, later)


# A pool shared by every lead of a minute: a roster of CRM and presence verdicts, reused while they hold.
POOL = (
    *REPS,
    Rep.model_validate({"email": "nepal@x.com", "timezone": "Asia/Kathmandu", "working_hours": "09:00-09:45"}),
    Rep.model_validate({"email": "gone@x.com", "timezone": "UTC", "working_hours": "00:00-24:00"}),
    Rep.model_validate({"email": "capped@x.com", "timezone": "Europe/London", "caps": {"per_day": 0}}),
    Rep.model_validate({"email": "off@x.com", "active": False}),
)
SNAPSHOT = Snapshot(
    {r.email: Owner(key=r.email, email=r.email, name=r.email, active=r.email != "gone@x.com") for r in POOL}
)


def _fresh(rep: Rep, now: datetime) -> Skip | None:
    owner = SNAPSHOT.owners.get(rep.email)
    local = local_time(rep, now)
    return crm_skip(rep.email, owner, owners_known=True) or presence_skip(rep, local) or cap_skip(rep, 0, 0, 0)


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(st.integers(min_value=1, max_value=3_000), min_size=1, max_size=40))
def test_a_pools_roster_gives_the_verdicts_a_fresh_check_gives_as_time_moves_on(steps):
    config = routing([{"email": r.email} for r in POOL])  # only the context needs a config; the pool is POOL
    now = MONDAY_3PM_UTC
    for seconds in steps:
        now += timedelta(seconds=seconds * 7)
        ctx = RouteContext(config, RoutingInput(lead(1)), SNAPSHOT, LedgerState(), now)
        assert list(ctx.skips(POOL)) == [_fresh(rep, now) for rep in POOL]
