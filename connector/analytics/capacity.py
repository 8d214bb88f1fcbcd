"""How many hours a rep could take leads in a period: their working hours, less PTO and public holidays.

The fairness figure compares each rep's share of leads with their share of this capacity (times their weight), so a
rep away for a week is not counted as under-served.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from datetime import time as clock
from functools import cache
from zoneinfo import ZoneInfo

from connector.config.routing import WEEKDAYS, Rep


def available_hours(rep: Rep, start: datetime, end: datetime) -> float:
    """Working hours of ``rep`` in [start, end) (aware datetimes), without PTO days, PTO spans and holidays."""
    zone = ZoneInfo(rep.timezone)
    hours = rep.hours_by_day()
    day, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    seconds = 0.0
    while day <= last:
        if not day_off(rep, day):
            midnight = datetime.combine(day, clock(), tzinfo=zone)
            for first, final in hours[WEEKDAYS[day.weekday()]]:
                low = max(midnight + timedelta(minutes=first), start)
                high = min(midnight + timedelta(minutes=final), end)
                if high > low:
                    seconds += (high - low).total_seconds() - _pto_overlap(rep, low, high, zone)
        day += timedelta(days=1)
    return seconds / 3600


def day_off(rep: Rep, day: date) -> bool:
    """Whether ``day`` (the rep's local date) is a whole day of PTO or a public holiday of their calendar."""
    for pto in rep.pto:
        if not isinstance(pto.start, datetime) and not isinstance(pto.end, datetime) and pto.start <= day <= pto.end:
            return True
    return rep.holidays is not None and day in _holidays(rep.holidays.country, rep.holidays.subdivision, day.year)


def _pto_overlap(rep: Rep, low: datetime, high: datetime, zone: ZoneInfo) -> float:
    """Seconds of [low, high) inside exact (datetime) PTO spans; naive datetimes are the rep's local time."""
    total = 0.0
    for pto in rep.pto:
        if isinstance(pto.start, datetime) and isinstance(pto.end, datetime):
            begin, finish = _aware(pto.start, zone), _aware(pto.end, zone)
            overlap = (min(high, finish) - max(low, begin)).total_seconds()
            total += max(0.0, overlap)
    return total


def _aware(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


@cache
def _holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    import holidays

    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))


__all__ = ["available_hours"]
