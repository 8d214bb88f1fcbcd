"""Activity: are they trying to buy now? Behaviour points, faded by recency with a half-life.

``Activity`` holds counts and the time of the last activity, not a timestamp per event, so every counted
event decays by the age of the last activity: interest that has gone quiet fades as a whole. The recent
conversion bonus decays by the conversion's own age.

The decay is applied as the whole percent a rep reads ("faded to 86%"), so each line can be checked by hand:
30 points x 86% = 25.8, shown as +26. Lines are rounded half-up and the total is their sum. Both roundings
are monotone, so more activity never lowers a line and older activity never raises one.
"""

from __future__ import annotations

from typing import Any

from connector.models import Activity, Lead
from connector.scoring.model import ScoreItem
from connector.scoring.rules import CompiledRules, CountCriterion

_MS_PER_DAY = 86_400_000
_MEMO_LIMIT = 20_000  # (counter, count, percent, days) combinations kept; a few thousand occur in practice


def decay_factor(age_ms: float | None, half_life_ms: float) -> float:
    """0.5 ** (age / half-life): 1.0 for fresh (or undated) activity, 0.5 one half-life later; never above 1."""
    if age_ms is None or age_ms <= 0:
        return 1.0
    return 0.5 ** (age_ms / half_life_ms)


def decay_percent(age_ms: float | None, half_life_ms: float) -> int:
    """The decay factor as the whole percent that is applied and shown (100 when fresh)."""
    return int(decay_factor(age_ms, half_life_ms) * 100 + 0.5)


def activity_age_ms(lead: Lead, now_ms: int) -> float | None:
    """How old the lead's behaviour is: since the last activity, else the last conversion, else creation."""
    activity = lead.activity
    created = lead.created_ms if lead.created_ms > 0 else None  # 0 means "not known", not 1970
    when = activity.last_activity_ms or activity.last_conversion_ms or created
    return None if when is None else max(0, now_ms - when)


def activity_items(lead: Lead, rules: CompiledRules, now_ms: int) -> list[ScoreItem]:
    """The Activity breakdown of ``lead`` at ``now_ms`` under ``rules``."""
    activity = lead.activity
    items: list[ScoreItem] = []
    counts = rules.read_counts(activity)
    if any(counts):
        age = activity_age_ms(lead, now_ms)
        percent = decay_percent(age, rules.half_life_ms)  # one decay for every counter: see the module docstring
        days = _whole_days(age) if age is not None and percent < 100 else None
        # A line depends only on (counter, count, percent, days) and is immutable: build each one once.
        memo = rules.activity_memo
        for index, count in enumerate(counts):
            if count:
                key = (index, count, percent, days)
                line = memo.get(key)
                if line is None:
                    line = _remember(memo, key, _count_line(rules.counters[index], count, percent, days))
                items.append(line)
    if activity.last_conversion_ms is not None:
        conversion = _conversion(activity, rules, now_ms)
        if conversion is not None:
            items.append(conversion)
    return items


def _count_line(counter: CountCriterion, count: int, percent: int, days: int | None) -> ScoreItem:
    raw = min(count * counter.points_each, counter.max_points)
    name = counter.plural if count != 1 else counter.singular
    faded = f", faded to {percent}% (last activity {_ago(days)})" if days is not None else ""
    return ScoreItem("activity", counter.attribute, _half_up(raw * percent / 100), f"{count} {name}{faded}")


def _conversion(activity: Activity, rules: CompiledRules, now_ms: int) -> ScoreItem | None:
    when = activity.last_conversion_ms
    if when is None or not rules.conversion_points:
        return None
    age = max(0, now_ms - when)
    if age > rules.conversion_window_ms:
        return None
    percent = decay_percent(age, rules.half_life_ms)
    key = ("conversion", activity.last_conversion_name, percent, _whole_days(age))
    line = rules.activity_memo.get(key)
    if line is None:
        what = f'"{activity.last_conversion_name}"' if activity.last_conversion_name else "a form"
        points = _half_up(rules.conversion_points * percent / 100)
        line = ScoreItem("activity", "recent_conversion", points, f"converted on {what} {_ago(key[3])}")
        _remember(rules.activity_memo, key, line)
    return line


def _remember(memo: dict[Any, Any], key: Any, line: ScoreItem) -> ScoreItem:
    if len(memo) >= _MEMO_LIMIT:
        memo.clear()
    memo[key] = line
    return line


def _half_up(points: float) -> int:
    # Half-up (not Python's half-even round) and monotone: more raw points never round to fewer.
    # The epsilon absorbs float noise: 15 page views x 4.1 points is 61.49999999999999, not 61.5.
    return int(points + 0.5 + 1e-9)


def _whole_days(age_ms: float) -> int:
    return int(age_ms / _MS_PER_DAY + 0.5)


def _ago(days: int | None) -> str:
    if not days:
        return "today"
    return "1 day ago" if days == 1 else f"{days} days ago"
