"""Activity: are they trying to buy now? Behaviour points, faded by recency with a half-life.

``Activity`` holds counts and the time of the last activity, not a timestamp per event, so every counted
event decays by the age of the last activity: interest that has gone quiet fades as a whole. The recent
conversion bonus decays by the conversion's own age. Points are rounded per line so the lines a rep reads
add up exactly to the total; rounding is half-up, which is monotone (more raw points never round to fewer).
"""

from __future__ import annotations

import math
from functools import lru_cache

from connector.models import Activity, Lead
from connector.scoring.model import ScoreItem
from connector.scoring.rules import CompiledRules

_MS_PER_DAY = 86_400_000
_floor = math.floor  # a module global is found faster than math.floor in the hot loop


def decay_factor(age_ms: float | None, half_life_ms: float) -> float:
    """0.5 ** (age / half-life): 1.0 for fresh (or undated) activity, 0.5 one half-life later; never above 1."""
    if age_ms is None or age_ms <= 0:
        return 1.0
    return 0.5 ** (age_ms / half_life_ms)


def activity_age_ms(lead: Lead, now_ms: int) -> float | None:
    """How old the lead's behaviour is: since the last activity, else the last conversion, else creation."""
    activity = lead.activity
    when = (
        activity.last_activity_ms or activity.last_conversion_ms or (lead.created_ms if lead.created_ms > 0 else None)
    )
    return None if when is None else max(0, now_ms - when)


def activity_items(lead: Lead, rules: CompiledRules, now_ms: int) -> list[ScoreItem]:
    """The Activity breakdown of ``lead`` at ``now_ms`` under ``rules``."""
    activity = lead.activity
    items: list[ScoreItem] = []
    counts = rules.read_counts(activity)
    if any(counts):
        factor, faded = _fading(lead, rules, now_ms)  # one decay for every counter: see the module docstring
        for counter, count in zip(rules.counters, counts, strict=True):
            if count:
                raw = min(count * counter.points_each, counter.max_points)
                name = counter.plural if count != 1 else counter.singular
                reason = f"{count} {name}{faded}"
                items.append(ScoreItem("activity", counter.attribute, _floor(raw * factor + 0.5), reason))
    if activity.last_conversion_ms is not None:
        conversion = _conversion(activity, rules, now_ms)
        if conversion is not None:
            items.append(conversion)
    return items


def _fading(lead: Lead, rules: CompiledRules, now_ms: int) -> tuple[float, str]:
    """The decay factor of the lead's counted activity, and the words that explain it ('' when fresh)."""
    age = activity_age_ms(lead, now_ms)
    factor = decay_factor(age, rules.half_life_ms)
    percent = math.floor(factor * 100 + 0.5)
    if percent >= 100 or age is None:
        return factor, ""
    return factor, _faded_words(percent, _whole_days(age))


def _conversion(activity: Activity, rules: CompiledRules, now_ms: int) -> ScoreItem | None:
    when = activity.last_conversion_ms
    if when is None or not rules.conversion_points:
        return None
    age = max(0, now_ms - when)
    if age > rules.conversion_window_ms:
        return None
    points = math.floor(rules.conversion_points * decay_factor(age, rules.half_life_ms) + 0.5)
    reason = _conversion_words(activity.last_conversion_name, _whole_days(age))
    return ScoreItem("activity", "recent_conversion", points, reason)


def _whole_days(age_ms: float) -> int:
    return math.floor(age_ms / _MS_PER_DAY + 0.5)


# The wording depends on whole numbers only, so it is memoized: formatting is most of a score's cost.
@lru_cache(maxsize=4096)
def _faded_words(percent: int, days: int) -> str:
    return f", faded to {percent}% (last activity {_ago(days)})"


@lru_cache(maxsize=4096)
def _conversion_words(name: str | None, days: int) -> str:
    what = f'"{name}"' if name else "a form"
    return f"converted on {what} {_ago(days)}"


def _ago(days: int) -> str:
    if days == 0:
        return "today"
    return "1 day ago" if days == 1 else f"{days} days ago"
