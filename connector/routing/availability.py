"""Who can take a lead right now: active, in working hours (their own time zone), not away, under every cap.

Each check returns a ``Skip`` (a code for aggregation plus a plain-language reason) or None; the first failing
check is the one reported, ordered from the most permanent reason (deactivated) to the most transient (a cap).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from connector.config.routing import WEEKDAYS, HolidayCalendar, Pto, Rep
from connector.models import Owner


@dataclass(frozen=True)
class Skip:
    """Why a rep cannot take a lead now."""

    code: str
    reason: str


@dataclass(frozen=True)
class LocalTime:
    """``now`` as the rep sees it, and the cap periods it falls in."""

    moment: datetime
    day_period: str
    week_period: str
    weekday: str  # mon..sun
    minute: int  # minutes after local midnight
    label: str  # "Mon 10:05", for reasons


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_time(rep: Rep, now: datetime) -> LocalTime:
    """The rep's local time and the day / ISO week keys their caps count in."""
    moment = now.astimezone(_zone(rep.timezone))
    year, week, weekday = moment.isocalendar()
    day = WEEKDAYS[weekday - 1]
    return LocalTime(
        moment,
        f"d:{moment.date().isoformat()}",
        f"w:{year}-W{week:02d}",
        day,
        moment.hour * 60 + moment.minute,
        f"{day.title()} {moment.hour:02d}:{moment.minute:02d}",
    )


def crm_skip(rep_key: str, owner: Owner | None, owners_known: bool) -> Skip | None:
    """The CRM's verdict: a deactivated user is never picked; an unknown one only when the owner list is known."""
    if owner is None:
        return Skip("not_in_crm", "no CRM user with this email") if owners_known else None
    if not owner.active:
        return Skip("crm_inactive", "deactivated in the CRM")
    return None


class PresenceMemo:
    """Presence verdicts per rep, each kept for the span of local minutes over which it cannot change.

    Presence depends only on the (frozen) rep and the rep's local date and minute. Being available holds until the
    working span ends; inactive, PTO days and holidays hold all day; "outside working hours" until the next span
    starts. Reps with datetime PTO (which can start mid-span) are not memoized. Entries keep
    the rep itself so a recycled ``id`` can never return another rep's verdict.
    """

    _LIMIT = 50_000

    def __init__(self) -> None:
        self._verdicts: dict[tuple[int, bool], tuple[Rep, str, int, int, Skip | None]] = {}

    def presence(self, rep: Rep, local: LocalTime, *, ignore_hours: bool) -> Skip | None:
        """``presence_skip``, memoized over the span of local minutes it holds for."""
        key = (id(rep), ignore_hours)
        found = self._verdicts.get(key)
        minute = local.minute
        if found is not None and found[0] is rep and found[1] == local.day_period and found[2] <= minute < found[3]:
            return found[4]
        verdict = presence_skip(rep, local, ignore_hours=ignore_hours)
        if memoizable(rep):
            if len(self._verdicts) >= self._LIMIT:
                self._verdicts = {}
            start, end = _holds_for(rep, local, verdict, ignore_hours=ignore_hours)
            self._verdicts[key] = (rep, local.day_period, start, end, verdict)
        return verdict

    def minutes_left(self, rep: Rep, local: LocalTime, *, ignore_hours: bool) -> int:
        """How many more local minutes (this one included) the memoized verdict for ``rep`` holds; 1 when unknown."""
        found = self._verdicts.get((id(rep), ignore_hours))
        if found is None or found[0] is not rep or found[1] != local.day_period or not found[2] <= local.minute:
            return 1
        return max(found[3] - local.minute, 1)

    def presences(
        self, reps: Sequence[Rep], local_of: Callable[[Rep], LocalTime], *, ignore_hours: bool
    ) -> list[Skip | None]:
        """``presence`` for each rep, in order, with the memo hit checked inline (this runs for every pool member)."""
        verdicts, out = self._verdicts, []
        for rep in reps:
            local = local_of(rep)
            found = verdicts.get((id(rep), ignore_hours))
            if (
                found is not None
                and found[0] is rep
                and found[1] == local.day_period
                and found[2] <= local.minute < found[3]
            ):
                out.append(found[4])
            else:
                out.append(self.presence(rep, local, ignore_hours=ignore_hours))
        return out


def _holds_for(rep: Rep, local: LocalTime, verdict: Skip | None, *, ignore_hours: bool) -> tuple[int, int]:
    """The local minutes of the day [start, end) over which ``verdict`` stays the same."""
    minute = local.minute
    if verdict is not None:
        return _off_span(_hours(rep)[local.weekday][0], minute) if verdict.code == "off_hours" else (0, _DAY)
    if ignore_hours:
        return 0, _DAY
    for start, end in _hours(rep)[local.weekday][0]:
        if start <= minute < end:
            return start, end
    return minute, minute + 1  # not reached: available means inside a span


_DAY = 24 * 60
_DATED_ONLY: dict[int, tuple[Rep, bool]] = {}


def memoizable(rep: Rep) -> bool:
    """Whether every PTO of the rep is whole days (a datetime PTO can begin in the middle of a working span)."""
    cached = _DATED_ONLY.get(id(rep))
    if cached is None or cached[0] is not rep:
        if len(_DATED_ONLY) > 10_000:
            _DATED_ONLY.clear()
        cached = (rep, not any(isinstance(pto.start, datetime) for pto in rep.pto))
        _DATED_ONLY[id(rep)] = cached
    return cached[1]


def presence_skip(rep: Rep, local: LocalTime, *, ignore_hours: bool = False) -> Skip | None:
    """Config active flag, PTO, public holiday and (unless ignored) working hours."""
    if not rep.active:
        return Skip("inactive", "marked inactive in the rule file")
    if rep.pto:
        away = _pto_skip(rep, local.moment)
        if away is not None:
            return away
    if rep.holidays is not None:
        holiday = _holiday_name(rep.holidays, local.moment.date())
        if holiday is not None:
            return Skip("holiday", f"public holiday ({holiday})")
    if not ignore_hours:
        return _hours_skip(rep, local)
    return None


def cap_skip(rep: Rep, today: int, this_week: int, open_leads: int) -> Skip | None:
    """The first capacity cap the rep has reached (the same ``Skip`` object for the same counts, so a pool whose
    availability did not change can be recognized by the identity of its verdicts)."""
    caps = rep.caps
    if caps.per_day is not None and today >= caps.per_day:
        return _capped("cap_day", "daily", today, caps.per_day)
    if caps.per_week is not None and this_week >= caps.per_week:
        return _capped("cap_week", "weekly", this_week, caps.per_week)
    if caps.open_leads is not None and open_leads >= caps.open_leads:
        return _capped("cap_open", "open-lead", open_leads, caps.open_leads)
    return None


_CAPPED: dict[tuple[str, int, int], Skip] = {}


def _capped(code: str, words: str, count: int, cap: int) -> Skip:
    key = (code, count, cap)
    found = _CAPPED.get(key)
    if found is None:
        if len(_CAPPED) >= 10_000:
            _CAPPED.clear()
        found = _CAPPED[key] = Skip(code, f"{words} cap reached ({count}/{cap})")
    return found


def _pto_skip(rep: Rep, moment: datetime) -> Skip | None:
    for pto in rep.pto:
        if _within(pto, moment):
            note = f", {pto.note}" if pto.note else ""
            return Skip("pto", f"on PTO until {_pto_end(pto)}{note}")
    return None


def _within(pto: Pto, moment: datetime) -> bool:
    if not isinstance(pto.start, datetime):
        return pto.start <= moment.date() <= pto.end  # both dates (validated)
    start, end = _aware(pto.start, moment), _aware(pto.end, moment)  # type: ignore[arg-type]
    return start <= moment < end


def _aware(value: datetime, local: datetime) -> datetime:
    # A naive PTO datetime is wall time in the rep's own zone.
    return value if value.tzinfo is not None else value.replace(tzinfo=local.tzinfo)


def _pto_end(pto: Pto) -> str:
    if isinstance(pto.end, datetime):
        return pto.end.isoformat(sep=" ", timespec="minutes")
    return f"{pto.end.isoformat()} (back {(pto.end + timedelta(days=1)).isoformat()})"


def _hours_skip(rep: Rep, local: LocalTime) -> Skip | None:
    spans, shown = _hours(rep)[local.weekday]
    minute = local.minute
    for start, end in spans:
        if start <= minute < end:
            return None
    return _off_hours(rep, local.weekday, *_off_span(spans, minute), shown)


def _off_span(spans: tuple[tuple[int, int], ...], minute: int) -> tuple[int, int]:
    """The local minutes [start, end) of the gap between working spans that ``minute`` falls in."""
    start = max((end for _, end in spans if end <= minute), default=0)
    end = min((begin for begin, _ in spans if begin > minute), default=_DAY)
    return start, end


_OFF_HOURS: dict[tuple[int, str, int], tuple[Rep, Skip]] = {}


def _off_hours(rep: Rep, weekday: str, start: int, end: int, shown: str) -> Skip:
    """The "outside working hours" verdict, naming the off-hours gap rather than the minute: the same verdict (the
    very same object) holds for the whole gap, so the pools' rosters and pick plans built from it hold as long."""
    key = (id(rep), weekday, start)
    cached = _OFF_HOURS.get(key)
    if cached is None or cached[0] is not rep:
        if len(_OFF_HOURS) >= 50_000:
            _OFF_HOURS.clear()
        gap = f"{weekday.title()} {_clock(start)}-{_clock(end)}"
        reason = f"outside working hours ({gap} in {rep.timezone}; {weekday} hours: {shown})"
        cached = _OFF_HOURS[key] = (rep, Skip("off_hours", reason))
    return cached[1]


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


Hours = dict[str, tuple[tuple[tuple[int, int], ...], str]]
_HOURS: dict[int, tuple[Rep, Hours]] = {}


def _hours(rep: Rep) -> Hours:
    """Per weekday: working spans in minutes and how to show them ("09:00-17:30" or "off")."""
    # Parsing hours on every pick would dominate routing time; reps are frozen, so cache by identity
    # (keeping the rep itself in the entry so a recycled id can never return another rep's hours).
    cached = _HOURS.get(id(rep))
    if cached is None or cached[0] is not rep:
        if len(_HOURS) > 10_000:
            _HOURS.clear()
        by_day = {
            day: (spans, ", ".join(f"{_hhmm(s)}-{_hhmm(e)}" for s, e in spans) or "off")
            for day, spans in rep.hours_by_day().items()
        }
        cached = (rep, by_day)
        _HOURS[id(rep)] = cached
    return cached[1]


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@cache
def _calendar(country: str, subdivision: str | None, year: int) -> dict[date, str]:
    import holidays

    return dict(holidays.country_holidays(country, subdiv=subdivision, years=year))


def _holiday_name(calendar: HolidayCalendar | None, day: date) -> str | None:
    if calendar is None:
        return None
    name = _calendar(calendar.country, calendar.subdivision, day.year).get(day)
    return f"{name}, {calendar.country}" if name else None
