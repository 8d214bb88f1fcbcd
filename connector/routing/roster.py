"""A pool's roster: each member's CRM and presence verdict, worked out once and shared by every lead while it holds.

A rep's presence (active flag, PTO by day, public holidays, working hours) depends only on the rep and their local
date and minute, and the CRM verdict only on the snapshot. So for one snapshot those verdicts hold until the first
of them can change (the end of someone's working span, the start of someone's next one) or the quarter hour ends
(when dates and DST offsets can change), and only what depends on the lead (exclusions, requirements) or moves with
every assignment (caps) is left to each decision. "Outside working hours" names the off-hours gap, not the minute,
so it holds until the rep's next working span; reps with a PTO given to the minute or second are re-checked on
every decision.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from connector.config.routing import Rep
from connector.routing.availability import (
    LocalTime,
    PresenceMemo,
    Skip,
    crm_skip,
    local_time,
    memoizable,
)
from connector.routing.model import Snapshot

# Process-wide and keyed by instant and rep identity, so it never changes an answer, only how often it is computed.
PRESENCE = PresenceMemo()


@dataclass(frozen=True)
class Roster:
    """Members' verdicts from ``minute`` until ``until``: None means available as far as CRM and presence go."""

    members: Sequence[Rep]  # the members tuple this roster was built for
    snapshot: Snapshot
    minute: int  # built for this minute (since the epoch) ...
    until: int  # ... and holds until this one (excluded)
    verdicts: tuple[Skip | None, ...]
    recheck: tuple[int, ...]  # members whose presence is checked on every decision (PTO to the minute)
    # Members with a capacity cap, checked on every decision when otherwise available: (index, rep, the counter
    # keys of their local day and ISO week, None for a cap they do not have). Local dates cannot change within the
    # roster's span (see ``_build``).
    caps: tuple[tuple[int, Rep, tuple[str, str] | None, tuple[str, str] | None], ...]
    # The same caps as columns of counter keys and their caps, and of owner keys and their open-lead caps, for a
    # quick "is anyone at a cap?" (C-level maps) before checking member by member.
    day_week_keys: tuple[tuple[str, str], ...]
    day_week_caps: tuple[int, ...]
    open_keys: tuple[str, ...]
    open_caps: tuple[int, ...]
    emails: dict[str, None]  # owner keys the verdicts read, in member order
    email_set: frozenset[str]


_ROSTERS: dict[tuple[int, bool], Roster] = {}
_LIMIT = 20_000


def minute_of(now: datetime) -> int:
    """Minutes since the epoch: the span a roster holds for."""
    global _LAST_MINUTE  # noqa: PLW0603 - a one-entry memo, replaced whole (a tuple), so threads see a pair
    last, minute = _LAST_MINUTE
    if now is last:  # a batch shares its instant: one conversion for all of its leads
        return minute
    minute = int(now.timestamp()) // 60
    _LAST_MINUTE = (now, minute)
    return minute


_LAST_MINUTE: tuple[datetime | None, int] = (None, 0)  # the last instant converted and its minute


def roster(
    reps: Sequence[Rep], snapshot: Snapshot, minute: int, local_of: Callable[[Rep], LocalTime], *, ignore_hours: bool
) -> Roster:
    """The members' roster at ``minute`` (memoized per members tuple, snapshot and ``ignore_hours`` for as many
    minutes as every verdict holds; ``reps`` should be a tuple that lives as long as the config)."""
    key = (id(reps), ignore_hours)
    found = _ROSTERS.get(key)
    if (
        found is not None
        and found.members is reps
        and found.snapshot is snapshot
        and found.minute <= minute < found.until
    ):
        return found
    built = _build(reps, snapshot, minute, local_of, ignore_hours=ignore_hours)
    if isinstance(reps, tuple):  # a list is built per call: its id would never come back
        if len(_ROSTERS) >= _LIMIT:
            _ROSTERS.clear()
        _ROSTERS[key] = built
    return built


def _build(
    reps: Sequence[Rep],
    snapshot: Snapshot,
    minute: int,
    local_of: Callable[[Rep], LocalTime],
    *,
    ignore_hours: bool,
) -> Roster:
    owners, known = snapshot.owners, snapshot.has_owners
    presence = PRESENCE.presences(reps, local_of, ignore_hours=ignore_hours)
    verdicts: list[Skip | None] = []
    recheck: list[int] = []
    capped: list[tuple[int, Rep, tuple[str, str] | None, tuple[str, str] | None]] = []
    limits: list[tuple[tuple[str, str], int]] = []
    open_limits: list[tuple[str, int]] = []
    # Until the first member's local day ends, local minutes advance with UTC ones (when no zone changes its
    # offset before then: see ``_day_end``), so each verdict's remaining span can be counted in them, and the local
    # dates the cap counters are kept under stay the same.
    until = min((_day_end(rep.timezone, minute, local_of(rep)) for rep in reps), default=minute + 15)
    for i, (rep, present) in enumerate(zip(reps, presence, strict=True)):
        owner = owners.get(rep.email)
        crm = crm_skip(rep.email, owner, known) if owner is None or not owner.active else None
        if crm is None and not memoizable(rep):
            recheck.append(i)
        elif crm is None:
            until = min(until, minute + PRESENCE.minutes_left(rep, local_of(rep), ignore_hours=ignore_hours))
        verdicts.append(crm or present)
        caps = rep.caps
        if caps.per_day is not None or caps.per_week is not None or caps.open_leads is not None:
            local = local_of(rep)
            day = (rep.email, local.day_period) if caps.per_day is not None else None
            week = (rep.email, local.week_period) if caps.per_week is not None else None
            capped.append((i, rep, day, week))
            limits.extend(
                (key, cap) for key, cap in ((day, caps.per_day), (week, caps.per_week)) if key and cap is not None
            )
            if caps.open_leads is not None:
                open_limits.append((rep.email, caps.open_leads))
    emails = dict.fromkeys(rep.email for rep in reps)
    return Roster(
        reps,
        snapshot,
        minute,
        until,
        tuple(verdicts),
        tuple(recheck),
        tuple(capped),
        tuple(key for key, _ in limits),
        tuple(cap for _, cap in limits),
        tuple(key for key, _ in open_limits),
        tuple(cap for _, cap in open_limits),
        emails,
        frozenset(emails),
    )


_DAY_ENDS: dict[tuple[str, int], int] = {}


def _day_end(timezone: str, minute: int, local: LocalTime) -> int:
    """The UTC minute at which the local day that ``minute`` falls in ends in ``timezone``, when the zone keeps its
    UTC offset until then; else the end of the UTC quarter hour (offsets and DST switches fall on quarter hours, so
    none happens inside one). Memoized per zone and minute."""
    key = (timezone, minute)
    found = _DAY_ENDS.get(key)
    if found is None:
        end = minute + _DAY_MINUTES - local.minute
        last = datetime.fromtimestamp((end - 1) * 60, UTC).astimezone(local.moment.tzinfo)
        found = end if last.utcoffset() == local.moment.utcoffset() else minute - minute % 15 + 15
        if len(_DAY_ENDS) >= _LIMIT:
            _DAY_ENDS.clear()
        _DAY_ENDS[key] = found
    return found


_DAY_MINUTES = 24 * 60
_LOCALS: dict[tuple[str, int], LocalTime] = {}


def local_at_minute(rep: Rep, minute: int) -> LocalTime:
    """The rep's local time at the start of the UTC ``minute`` (memoized per time zone and minute).

    Everything but a PTO given to the second reads only the local date and minute, which are the same all minute.
    """
    key = (rep.timezone, minute)
    found = _LOCALS.get(key)
    if found is None:
        if len(_LOCALS) >= _LIMIT:
            _LOCALS.clear()
        found = _LOCALS[key] = local_time(rep, datetime.fromtimestamp(minute * 60, UTC))
    return found
