"""Config section: Fit + Activity scoring rules and the route/nurture grid.

Fit says "is this the kind of company and person we sell to"; Activity says "are they trying to buy now".
Each axis is cut into tiers (high / medium / low) and the grid maps each (fit tier, activity tier) cell to
``nurture`` or to a routing hint that the routing rules understand (``fast_track``, ``sales``, ``sdr``, ...).
Every default below is a starting point for a B2B SaaS team selling to companies of 50+ people; each line
says why it is what it is. docs/scoring.md has a full example.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Tier = Literal["high", "medium", "low"]
TIERS: tuple[Tier, ...] = ("high", "medium", "low")
NURTURE = "nurture"
_HINT = re.compile(r"^[a-z][a-z0-9_\-]*$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EmployeeBand(_Section):
    """Points for a company size band; ``min`` and ``max`` are inclusive, ``max`` open when omitted."""

    min: int = Field(default=0, ge=0)
    max: int | None = Field(default=None, ge=0)
    points: int

    @model_validator(mode="after")
    def _ordered(self) -> EmployeeBand:
        if self.max is not None and self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self


class Region(_Section):
    """Points for leads in any of ``countries`` (ISO 3166-1 alpha-2 codes)."""

    name: str
    countries: tuple[str, ...]
    points: int

    @field_validator("countries")
    @classmethod
    def _alpha2(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [c for c in value if len(c) != 2 or not c.isalpha()]
        if bad:
            raise ValueError(f"expected ISO alpha-2 country codes, got {bad}")
        return tuple(c.upper() for c in value)


class TitleRule(_Section):
    """Points when the job title contains any keyword as a whole word (case-insensitive)."""

    label: str
    keywords: tuple[str, ...] = Field(min_length=1)
    points: int


def _default_bands() -> tuple[EmployeeBand, ...]:
    return (
        EmployeeBand(min=1000, points=25),  # enterprise: biggest deals, longest cycles
        EmployeeBand(min=200, max=999, points=20),  # mid-market: the sweet spot of most B2B SaaS
        EmployeeBand(min=50, max=199, points=15),
        EmployeeBand(min=10, max=49, points=5),
        EmployeeBand(min=1, max=9, points=-10),  # micro companies rarely buy a sales-assisted product
    )


def _default_regions() -> tuple[Region, ...]:
    return (
        Region(name="North America", countries=("US", "CA"), points=15),
        Region(name="UK & Ireland", countries=("GB", "IE"), points=10),
        Region(name="DACH", countries=("DE", "AT", "CH"), points=10),
        Region(name="Nordics", countries=("SE", "NO", "DK", "FI"), points=8),
        Region(name="ANZ", countries=("AU", "NZ"), points=8),
    )


def _default_titles() -> tuple[TitleRule, ...]:
    # First matching rule wins, so the most senior comes first ("VP Sales Manager" is a VP).
    return (
        TitleRule(
            label="executive",
            keywords=(
                *("chief", "ceo", "cto", "cfo", "coo", "cio", "cmo", "cro", "founder", "co-founder", "owner"),
                *("president", "vp", "vice president", "svp", "evp"),
            ),
            points=25,
        ),
        TitleRule(label="director", keywords=("director", "head of", "head"), points=20),
        TitleRule(label="manager", keywords=("manager", "lead", "principal"), points=10),
        TitleRule(label="not a buyer", keywords=("student", "intern", "retired", "unemployed"), points=-20),
    )


class FitRules(_Section):
    """Firmographic and persona criteria; each gives points once (first matching band / region / rule)."""

    employee_bands: tuple[EmployeeBand, ...] = Field(default_factory=_default_bands)
    industries: dict[str, int] = Field(
        # Keys match as case-insensitive substrings, in order: "Computer Software" matches "software".
        default_factory=lambda: {
            "software": 20,
            "saas": 20,
            "internet": 15,
            "information technology": 15,
            "financial services": 10,
            "marketing": 10,
        }
    )
    regions: tuple[Region, ...] = Field(default_factory=_default_regions)
    titles: tuple[TitleRule, ...] = Field(default_factory=_default_titles)
    customer_points: int = Field(default=10, description="Existing customers expand; their leads deserve a look.")
    open_opportunity_points: int = Field(default=5, description="Someone is already selling there; join them.")


class CountRule(_Section):
    """Points per counted event, capped so one very busy signal cannot carry the whole score."""

    points_each: float = Field(ge=0)
    max_points: float = Field(ge=0)


class RecentConversion(_Section):
    """A bonus while the last conversion (form, meeting booked, ...) is at most ``within_days`` old."""

    points: float = Field(default=10, ge=0)
    within_days: float = Field(default=30, gt=0, description="A month: the usual window of an inbound campaign.")


class ActivityRules(_Section):
    """Behaviour points, decayed by the age of the last activity (half-life in days).

    Points are never negative, so more activity never lowers the score and older activity never raises it.
    """

    half_life_days: float = Field(default=14, gt=0, description="Intent fades: two-week-old interest counts half.")
    page_views: CountRule = Field(default_factory=lambda: CountRule(points_each=1, max_points=10))
    form_submissions: CountRule = Field(default_factory=lambda: CountRule(points_each=10, max_points=20))
    demo_requests: CountRule = Field(default_factory=lambda: CountRule(points_each=30, max_points=60))
    pricing_page_views: CountRule = Field(default_factory=lambda: CountRule(points_each=5, max_points=15))
    email_replies: CountRule = Field(default_factory=lambda: CountRule(points_each=15, max_points=30))
    recent_conversion: RecentConversion = Field(default_factory=RecentConversion)


class TierCuts(_Section):
    """Score at or above ``high`` is high, at or above ``medium`` is medium, anything below is low."""

    high: int
    medium: int

    @model_validator(mode="after")
    def _ordered(self) -> TierCuts:
        if self.medium > self.high:
            raise ValueError(f"medium cut ({self.medium}) is above the high cut ({self.high})")
        return self


def _default_grid() -> dict[Tier, dict[Tier, str]]:
    # rows: fit tier; columns: activity tier
    return {
        "high": {"high": "fast_track", "medium": "fast_track", "low": "sales"},  # right company: AEs own it
        "medium": {"high": "sdr", "medium": "sdr", "low": NURTURE},
        "low": {"high": "sdr", "medium": NURTURE, "low": NURTURE},  # keen but off-profile: SDRs qualify by hand
    }


class ScoringConfig(BaseModel):
    """Fit + Activity scoring rules and the route/nurture grid."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fit: FitRules = Field(default_factory=FitRules)
    activity: ActivityRules = Field(default_factory=ActivityRules)
    # Max default fit is 100 (25+20+15+25+10+5); 50 needs a good company AND a good persona.
    fit_tiers: TierCuts = Field(default_factory=lambda: TierCuts(high=50, medium=25))
    # A demo request plus its form (30+10) is high intent on its own for about three days of silence.
    activity_tiers: TierCuts = Field(default_factory=lambda: TierCuts(high=35, medium=15))
    grid: dict[Tier, dict[Tier, str]] = Field(
        default_factory=_default_grid, description="fit tier -> activity tier -> 'nurture' or a routing hint."
    )

    @field_validator("grid")
    @classmethod
    def _complete_grid(cls, grid: dict[Tier, dict[Tier, str]]) -> dict[Tier, dict[Tier, str]]:
        missing = [f"{f}/{a}" for f in TIERS for a in TIERS if a not in grid.get(f, {})]
        if missing:
            raise ValueError(f"every fit/activity cell needs an outcome; missing {', '.join(missing)}")
        bad = sorted({hint for row in grid.values() for hint in row.values() if not _HINT.match(hint)})
        if bad:
            raise ValueError(f"outcomes must be 'nurture' or a lowercase routing hint, got {bad}")
        return grid
