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


@pytest.mark.parametrize("minutes", [0, 1, 29, 30, 31, 150, 151, 359])
def test_off_hours_reason_names_the_gap_the_same_memoized_or_fresh(minutes):
    memo, rep = PresenceMemo(), REPS[0]
    start = MONDAY_3PM_UTC + timedelta(hours=8)  # 18:00 in New York: after hours
    memo.presence(rep, local_time(rep, start), ignore_hours=False)
    later = local_time(rep, start + timedelta(minutes=minutes))
    verdict = memo.presence(rep, later, ignore_hours=False)
    assert verdict == presence_skip(rep, later)
    assert verdict is not None
    assert verdict.reason == "outside working hours (Mon 17:30-24:00 in America/New_York; mon hours: 09:00-17:30)"


DAILY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# A pool shared by every lead of a minute: a roster of CRM and presence verdicts, reused while they hold.
POOL = (
    *REPS,
    Rep.model_validate({"email": "nepal@x.com", "timezone": "Asia/Kathmandu", "working_hours": "09:00-09:45"}),
    Rep.model_validate({"email": "gone@x.com", "timezone": "UTC", "working_hours": "00:00-24:00"}),
    Rep.model_validate({"email": "capped@x.com", "timezone": "Europe/London", "caps": {"per_day": 0}}),
    Rep.model_validate({"email": "off@x.com", "active": False}),
    # Working across the hour that New York's clocks skip or repeat when daylight saving time starts or ends.
    Rep.model_validate(
        {"email": "dst@x.com", "timezone": "America/New_York", "working_days": DAILY, "working_hours": "01:00-03:30"}
    ),
    Rep.model_validate(
        {"email": "lhr@x.com", "timezone": "Europe/London", "working_days": DAILY, "working_hours": "00:30-01:30"}
    ),
)
SNAPSHOT = Snapshot(
    {r.email: Owner(key=r.email, email=r.email, name=r.email, active=r.email != "gone@x.com") for r in POOL}
)


def _fresh(rep: Rep, now: datetime) -> Skip | None:
    owner = SNAPSHOT.owners.get(rep.email)
    local = local_time(rep, now)
    return crm_skip(rep.email, owner, owners_known=True) or presence_skip(rep, local) or cap_skip(rep, 0, 0, 0)


# Rosters hold until the first member's local day ends; these starts put DST switches inside that span.
_STARTS = (
    MONDAY_3PM_UTC,
    datetime.fromisoformat("2026-03-08T04:00:00+00:00"),  # New York springs forward at 07:00 UTC
    datetime.fromisoformat("2026-03-28T22:00:00+00:00"),  # London and Berlin spring forward at 01:00 UTC
    datetime.fromisoformat("2026-10-24T22:00:00+00:00"),  # ... and fall back on the 25th at 01:00 UTC
    datetime.fromisoformat("2026-11-01T03:00:00+00:00"),  # New York falls back at 06:00 UTC
)


@settings(max_examples=100, deadline=None)
@given(
    start=st.sampled_from(_STARTS),
    steps=st.lists(st.integers(min_value=1, max_value=3_000), min_size=1, max_size=40),
)
def test_a_pools_roster_gives_the_verdicts_a_fresh_check_gives_as_time_moves_on(start, steps):
    config = routing([{"email": r.email} for r in POOL])  # only the context needs a config; the pool is POOL
    now = start
    for seconds in steps:
        now += timedelta(seconds=seconds * 7)
        ctx = RouteContext(config, RoutingInput(lead(1)), SNAPSHOT, LedgerState(), now)
        assert list(ctx.skips(POOL)) == [_fresh(rep, now) for rep in POOL]


@pytest.mark.parametrize(
    ("built_at", "asked_at"),
    [
        ("2026-03-08T06:30:00+00:00", "2026-03-08T07:45:00+00:00"),  # New York: 01:30 EST, then 03:45 EDT
        ("2026-03-29T00:45:00+00:00", "2026-03-29T01:10:00+00:00"),  # London: 00:45 GMT, then 02:10 BST
        ("2026-11-01T05:30:00+00:00", "2026-11-01T08:00:00+00:00"),  # New York: 01:30 EDT, then 03:00 EST
    ],
)
def test_a_roster_built_before_a_daylight_saving_switch_is_not_used_after_it(built_at, asked_at):
    config = routing([{"email": r.email} for r in POOL])
    for moment in (datetime.fromisoformat(built_at), datetime.fromisoformat(asked_at)):
        ctx = RouteContext(config, RoutingInput(lead(1)), SNAPSHOT, LedgerState(), moment)
        assert list(ctx.skips(POOL)) == [_fresh(rep, moment) for rep in POOL]
