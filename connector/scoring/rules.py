"""The scoring config compiled once into plain tuples, dicts and regexes, so each score is a few lookups.

Scoring must run at tens of thousands of leads per second; walking pydantic models and compiling title
regexes per lead would cost more than the scoring itself. ``compiled(config)`` memoizes per config object.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connector.config.scoring import NURTURE, CountRule, ScoringConfig, Tier

_MS_PER_DAY = 86_400_000


@dataclass(frozen=True, slots=True)
class Band:
    """An employee band: inclusive ``low``..``high`` (None: open-ended)."""

    low: int
    high: int | None
    points: int
    label: str


@dataclass(frozen=True, slots=True)
class TitlePattern:
    """A compiled title rule: a whole-word alternation of its keywords."""

    label: str
    pattern: re.Pattern[str]
    points: int


@dataclass(frozen=True, slots=True)
class CountCriterion:
    """An Activity counter: the attribute of ``Activity`` it reads, how it is named, and its points."""

    attribute: str
    singular: str
    plural: str
    points_each: float
    max_points: float


@dataclass(frozen=True, slots=True)
class Cell:
    """A compiled grid cell."""

    outcome: str  # "route" | "nurture"
    hint: str | None


@dataclass(frozen=True, slots=True)
class CompiledRules:
    """Everything a score needs, precomputed from one ``ScoringConfig``."""

    bands: tuple[Band, ...]
    industries: tuple[tuple[str, str, int], ...]  # (lowercase key, key as written, points)
    regions: dict[str, tuple[str, int]]  # alpha-2 -> (region name, points); first region listing a country wins
    titles: tuple[TitlePattern, ...]
    customer_points: int
    open_opportunity_points: int
    half_life_ms: float
    counters: tuple[CountCriterion, ...]
    read_counts: Callable[[Any], tuple[int, ...]]  # Activity -> the counters' counts, in one C call
    conversion_points: float
    conversion_window_ms: float
    fit_cuts: tuple[int, int]  # (high, medium)
    activity_cuts: tuple[int, int]
    grid: dict[tuple[Tier, Tier], Cell]
    # Memos of fit lines by the one value each depends on (see fit.fit_items): caches, never part of a result.
    activity_memo: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    fit_memo: dict[str, dict[Any, Any]] = field(
        default_factory=lambda: {"employees": {}, "industry": {}, "region": {}, "title": {}}
    )


_cache: dict[int, tuple[ScoringConfig, CompiledRules]] = {}
_CACHE_LIMIT = 64  # configs are few (one per reload); the bound only guards against a leak in a long-lived daemon


def compiled(config: ScoringConfig) -> CompiledRules:
    """The compiled form of ``config``, built on first use and reused while the same object is passed."""
    entry = _cache.get(id(config))
    if entry is not None and entry[0] is config:
        return entry[1]
    rules = compile_rules(config)
    if len(_cache) >= _CACHE_LIMIT:
        _cache.clear()
    _cache[id(config)] = (config, rules)  # holding config keeps its id from being reused while cached
    return rules


def compile_rules(config: ScoringConfig) -> CompiledRules:
    """Turn a validated ``ScoringConfig`` into ``CompiledRules``."""
    fit, act = config.fit, config.activity
    counters = (
        CountCriterion("demo_requests", "demo request", "demo requests", *_rule(act.demo_requests)),
        CountCriterion("form_submissions", "form submission", "form submissions", *_rule(act.form_submissions)),
        CountCriterion("pricing_page_views", "pricing page view", "pricing page views", *_rule(act.pricing_page_views)),
        CountCriterion("email_replies", "email reply", "email replies", *_rule(act.email_replies)),
        CountCriterion("page_views", "page view", "page views", *_rule(act.page_views)),
    )
    return CompiledRules(
        bands=tuple(Band(b.min, b.max, b.points, _band_label(b.min, b.max)) for b in fit.employee_bands),
        industries=tuple((key.lower(), key, points) for key, points in fit.industries.items()),
        regions=_region_index(config),
        titles=tuple(TitlePattern(r.label, _whole_words(r.keywords), r.points) for r in fit.titles),
        customer_points=fit.customer_points,
        open_opportunity_points=fit.open_opportunity_points,
        half_life_ms=act.half_life_days * _MS_PER_DAY,
        counters=counters,
        read_counts=operator.attrgetter(*(c.attribute for c in counters)),
        conversion_points=act.recent_conversion.points,
        conversion_window_ms=act.recent_conversion.within_days * _MS_PER_DAY,
        fit_cuts=(config.fit_tiers.high, config.fit_tiers.medium),
        activity_cuts=(config.activity_tiers.high, config.activity_tiers.medium),
        grid={
            (fit_tier, act_tier): Cell(NURTURE, None) if hint == NURTURE else Cell("route", hint)
            for fit_tier, row in config.grid.items()
            for act_tier, hint in row.items()
        },
    )


def _rule(rule: CountRule) -> tuple[float, float]:
    return rule.points_each, rule.max_points


def _band_label(low: int, high: int | None) -> str:
    return f"{low}+" if high is None else f"{low}-{high}"


def _region_index(config: ScoringConfig) -> dict[str, tuple[str, int]]:
    index: dict[str, tuple[str, int]] = {}
    for region in config.fit.regions:
        for country in region.countries:
            index.setdefault(country, (region.name, region.points))
    return index


def _whole_words(keywords: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first so "head of" is reported rather than "head"; lookarounds instead of \b because
    # keywords may start or end with punctuation ("c-level", "vp.").
    ordered = sorted({k.strip().lower() for k in keywords if k.strip()}, key=len, reverse=True)
    return re.compile(r"(?<![a-z0-9])(" + "|".join(re.escape(k) for k in ordered) + r")(?![a-z0-9])")
