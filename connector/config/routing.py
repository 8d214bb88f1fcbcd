"""Config section: reps, pools, the routing cascade, stages and fairness policy.

The shape (documented for users in docs/rules.md):

    routing:
      reps: [...]            # who can receive leads, when, and how many
      pools: [...]           # named groups of reps with a strategy and a fallback pool (waterfall)
      regions: {...}         # named sets of countries / US states usable in conditions
      named_accounts: [...]  # ABM lists: account domains / ids -> a rep or a pool
      stages: [...]          # one cascade of steps per funnel stage; the first stage is the default
      fairness: {...}        # what happens when a rep comes back from PTO
      final_fallback: {...}  # the queue owner that catches every lead nothing else took

Cross-references (rep emails, pool names, stage names) are checked here so that a bad file is rejected at load
time with the field path, never discovered when a lead arrives.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from functools import cache, cached_property
from itertools import pairwise
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
MINUTES_PER_DAY = 24 * 60


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_hours(text: str) -> tuple[tuple[int, int], ...]:
    """``"09:00-12:00, 13:00-17:30"`` -> ((540, 720), (780, 1050)) minutes after local midnight; ``off`` -> ()."""
    if text.strip().lower() in {"off", ""}:
        return ()
    spans = []
    for part in text.split(","):
        found = _RANGE.match(part)
        if not found:
            raise ValueError(f"expected HH:MM-HH:MM (e.g. 09:00-17:30), got {part.strip()!r}")
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if m1 > 59 or m2 > 59 or start > MINUTES_PER_DAY or end > MINUTES_PER_DAY:
            raise ValueError(f"not a time of day in {part.strip()!r}")
        if start >= end:
            raise ValueError(f"range {part.strip()!r} ends before it starts (split overnight shifts over two days)")
        spans.append((start, end))
    spans.sort()
    for (_, end), (start, _) in pairwise(spans):
        if start < end:
            raise ValueError(f"ranges overlap in {text!r}")
    return tuple(spans)


@cache
def supported_holiday_countries() -> frozenset[str]:
    """ISO codes the ``holidays`` package knows (cached: the lookup imports every country module)."""
    import holidays

    return frozenset(holidays.list_supported_countries())


class HolidayCalendar(_Section):
    """Public holidays of a country (and optionally a subdivision, e.g. a US state or German Land)."""

    country: str = Field(description="ISO 3166-1 alpha-2 code known to the `holidays` package, e.g. US, DE.")
    subdivision: str | None = Field(default=None, description="e.g. NY, BY; None = national holidays only.")

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        code = value.upper()
        if code not in supported_holiday_countries():
            raise ValueError(f"no public-holiday calendar for country {value!r} (use an ISO 3166-1 alpha-2 code)")
        return code


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class Pto(_Section):
    """Time off: dates are whole days in the rep's time zone (both ends included); datetimes are exact."""

    start: datetime | date
    end: datetime | date
    note: str | None = None

    @field_validator("start", "end", mode="before")
    @classmethod
    def _day_stays_a_day(cls, value: object) -> object:
        # "2026-11-23" (a quoted YAML date, or JSON) would otherwise validate as midnight, turning a whole-day PTO
        # into an exact one that ends at the start of its last day.
        if isinstance(value, str) and _ISO_DAY.fullmatch(value.strip()):
            return date.fromisoformat(value.strip())
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Pto:
        if type(self.start) is not type(self.end):
            raise ValueError("start and end must both be dates or both be datetimes")
        if self.end < self.start:  # type: ignore[operator,unused-ignore]  # same type checked above
            raise ValueError(f"PTO ends ({self.end}) before it starts ({self.start})")
        return self


class Caps(_Section):
    """Capacity caps; None = no cap. Days and weeks are the rep's local calendar days and ISO weeks."""

    per_day: int | None = Field(default=None, ge=0)
    per_week: int | None = Field(default=None, ge=0)
    open_leads: int | None = Field(default=None, ge=0, description="Open leads the CRM says the rep already owns.")


class Rep(_Section):
    """A person who can receive leads; the CRM owner is found by email (one rep may exist in both CRMs)."""

    email: str
    name: str | None = None
    role: str = Field(default="SDR", description="Funnel role: SDR, AE, CSM ... (stages and continuity use it).")
    team: str | None = Field(default=None, description="Team / pod: continuity falls back to the owner's pod.")
    timezone: str = "UTC"
    working_days: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")
    # Default office hours: a rep who says nothing is reachable during an ordinary working day, not around the clock.
    working_hours: str | dict[Weekday, str] = "09:00-17:00"
    languages: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    territories: tuple[str, ...] = Field(default=(), description="Countries (DE) and US/CA states (US-NY).")
    segment: str | None = None
    weight: float = Field(default=1.0, gt=0, description="Share in weighted round-robin relative to the pool.")
    caps: Caps = Field(default_factory=Caps)
    pto: tuple[Pto, ...] = ()
    holidays: HolidayCalendar | None = None
    active: bool = True
    booking_link: str | None = None

    @field_validator("email")
    @classmethod
    def _normalized_email(cls, value: str) -> str:
        email = value.strip().lower()
        if "@" not in email:
            raise ValueError(f"not an email address: {value!r}")
        return email

    @field_validator("timezone")
    @classmethod
    def _iana_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r} (e.g. Europe/Berlin)") from None
        return value

    @field_validator("working_days", mode="before")
    @classmethod
    def _lower_days(cls, value: object) -> object:
        return [str(v).lower()[:3] for v in value] if isinstance(value, list | tuple) else value

    @field_validator("working_hours", mode="before")
    @classmethod
    def _lower_day_keys(cls, value: object) -> object:
        return {str(k).lower()[:3]: v for k, v in value.items()} if isinstance(value, dict) else value

    @field_validator("working_hours")
    @classmethod
    def _valid_hours(cls, value: str | dict[Weekday, str]) -> str | dict[Weekday, str]:
        for text in [value] if isinstance(value, str) else list(value.values()):
            parse_hours(text)
        return value

    @field_validator("territories", "languages", "products", mode="after")
    @classmethod
    def _normalized_codes(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        if info.field_name == "territories":
            return tuple(v.upper() for v in value)
        return tuple(v.lower() for v in value)

    @model_validator(mode="after")
    def _pto_does_not_overlap(self) -> Rep:
        ranges = sorted(((p.start, p.end) for p in self.pto), key=lambda r: _as_datetime(r[0], start=True))
        for (_, end), (start, _) in pairwise(ranges):
            if _as_datetime(start, start=True) <= _as_datetime(end, start=False):
                raise ValueError(f"PTO ranges overlap: one ends {end}, the next starts {start}")
        return self

    @property
    def key(self) -> str:
        """The owner key: the normalized email (the same key ``Owner.key`` uses)."""
        return self.email

    @property
    def display_name(self) -> str:
        """The name to show people (the email when no name was given)."""
        return self.name or self.email

    def hours_by_day(self) -> dict[str, tuple[tuple[int, int], ...]]:
        """Working minutes per weekday (mon..sun); days off map to ()."""
        if isinstance(self.working_hours, dict):
            return {day: parse_hours(self.working_hours.get(day, "off")) for day in WEEKDAYS}
        spans = parse_hours(self.working_hours)
        return {day: spans if day in self.working_days else () for day in WEEKDAYS}


def _as_datetime(value: date | datetime, *, start: bool) -> datetime:
    """Comparable naive datetime of a PTO bound (dates cover their whole day)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime.combine(value, time.min if start else time.max)


Requirement = Literal["territory", "language", "product"]


class Pool(_Section):
    """A named group of reps, a strategy to pick among the available ones, and where to go when none is."""

    name: str
    reps: tuple[str, ...] = ()
    strategy: Literal["weighted_round_robin", "least_loaded"] = "weighted_round_robin"
    fallback: str | None = Field(default=None, description="Pool to try when nobody here is available (waterfall).")
    require: tuple[Requirement, ...] = Field(
        default=(), description="Only reps covering the lead's territory / speaking its language / selling its product."
    )
    outside_hours: Literal["fallback", "assign_anyway"] = Field(
        default="fallback",
        description="When nobody is inside working hours: go to the fallback pool, or pick among reps who are "
        "otherwise available (not on PTO, active, under caps) so the lead is first in their queue tomorrow.",
    )

    @field_validator("reps", mode="after")
    @classmethod
    def _lower(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.strip().lower() for v in value)


class Target(_Section):
    """Where a rule sends a lead: exactly one of a rep (by email) or a pool (by name)."""

    rep: str | None = None
    pool: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Target:
        if (self.rep is None) == (self.pool is None):
            raise ValueError("give exactly one of `rep` or `pool`")
        if self.rep is not None:
            object.__setattr__(self, "rep", self.rep.strip().lower())
        return self

    def describe(self) -> str:
        """``rep x@y`` or ``pool name``."""
        return f"rep {self.rep}" if self.rep else f"pool {self.pool}"


class Condition(_Section):
    """One condition on one field. Several keys in one test must all hold."""

    in_: tuple[str | int | float | bool, ...] | None = Field(default=None, alias="in")
    not_in: tuple[str | int | float | bool, ...] | None = None
    equals: str | int | float | bool | None = None
    min: float | None = None
    max: float | None = None
    ranges: tuple[str, ...] | None = Field(default=None, description="Postal-code ranges: '10000-14999', '80*'.")
    exists: bool | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _not_empty(self) -> Condition:
        if not self.model_fields_set:
            raise ValueError("a condition needs at least one of in, not_in, equals, min, max, ranges, exists")
        return self


def _test_shortcuts(value: object) -> object:
    """``country: [DE, AT]`` means ``in``; ``is_customer: true`` means ``equals``."""
    if isinstance(value, list | tuple):
        return {"in": list(value)}
    if isinstance(value, str | int | float | bool):
        return {"equals": value}
    return value


class Rule(_Section):
    """``when`` every condition holds, send the lead ``to`` a rep or pool. Rules are tried in order."""

    name: str
    when: dict[str, Condition] = Field(default_factory=dict, description="Field -> condition; {} matches all.")
    to: Target

    @field_validator("when", mode="before")
    @classmethod
    def _shortcuts(cls, value: object) -> object:
        return {k: _test_shortcuts(v) for k, v in value.items()} if isinstance(value, dict) else value


class NamedAccountList(_Section):
    """An ABM list: leads of these accounts go to ``to`` before any generic rule."""

    name: str
    domains: tuple[str, ...] = ()
    account_ids: tuple[str, ...] = Field(default=(), description="Cache-wide ids or native CRM ids.")
    to: Target

    @field_validator("domains", mode="after")
    @classmethod
    def _lower(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.strip().lower().removeprefix("www.") for v in value)


class AccountOwnerStep(_Section):
    """Continuity: the matched account's owner, else (if allowed) a rep of the owner's pod."""

    kind: Literal["account_owner"]
    name: str = "account continuity"
    min_confidence: float = Field(default=0.0, ge=0, le=1, description="Ignore weaker account matches.")
    methods: tuple[str, ...] | None = Field(default=None, description="Only these match methods; None = any.")
    roles: tuple[str, ...] | None = Field(default=None, description="Owner must hold one of these roles.")
    pod_fallback: bool = True


class NamedAccountsStep(_Section):
    """ABM: try the named-account lists (all, or the ones listed) in order."""

    kind: Literal["named_accounts"]
    name: str = "named accounts"
    lists: tuple[str, ...] | None = None


class RulesStep(_Section):
    """An ordered list of rules; the first whose conditions hold and whose target has someone available wins."""

    kind: Literal["rules"]
    name: str = "rules"
    rules: tuple[Rule, ...]


class PoolStep(_Section):
    """Send every lead that got this far to a pool (the default pool)."""

    kind: Literal["pool"]
    name: str = "default pool"
    pool: str


Step = Annotated[AccountOwnerStep | NamedAccountsStep | RulesStep | PoolStep, Field(discriminator="kind")]


class FinalFallback(_Section):
    """The owner (usually a CRM queue) that receives a lead when every step failed; landing here is an alert."""

    owner: str = Field(description="Owner key: a queue key (queue:hubspot:123) or a user's email.")
    name: str | None = None


class Stage(_Section):
    """One funnel stage (SDR, AE, CSM ...): its cascade, and optionally a second stage for 2-to-1 assignment."""

    name: str
    steps: tuple[Step, ...]
    final_fallback: FinalFallback | None = Field(default=None, description="Overrides routing.final_fallback.")
    secondary: str | None = Field(default=None, description="Also assign an owner from this stage (e.g. SDR + AE).")


class Fairness(_Section):
    """What happens to fairness when a rep is away."""

    pto_return: Literal["resume", "catch_up"] = Field(
        default="resume",
        description="resume: no credit accrues while away, the rep resumes at their weight (no flood of leads on "
        "return). catch_up: credit accrues during PTO and holidays, capped at catch_up_limit leads.",
    )
    # A small cap so that even with catch_up a returning rep is not buried: two leads of head start at most.
    catch_up_limit: float = Field(default=2.0, ge=0)


class RoutingConfig(_Section):
    """Reps, pools, the routing cascade, stages and fairness policy."""

    reps: tuple[Rep, ...] = ()
    pools: tuple[Pool, ...] = ()
    regions: dict[str, tuple[str, ...]] = Field(default_factory=dict, description="Name -> countries / states.")
    named_accounts: tuple[NamedAccountList, ...] = ()
    stages: tuple[Stage, ...] = ()
    fairness: Fairness = Field(default_factory=Fairness)
    final_fallback: FinalFallback | None = None
    decision_retention_days: int | None = Field(
        default=None, ge=1, description="Delete decisions older than this; None keeps them forever (audits)."
    )

    @field_validator("regions", mode="after")
    @classmethod
    def _upper_regions(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        return {name: tuple(code.upper() for code in codes) for name, codes in value.items()}

    @model_validator(mode="after")
    def _cross_references(self) -> RoutingConfig:
        _unique("reps", [r.email for r in self.reps])
        _unique("pools", [p.name for p in self.pools])
        _unique("stages", [s.name for s in self.stages])
        _unique("named_accounts", [n.name for n in self.named_accounts])
        reps, pools = {r.email for r in self.reps}, {p.name: p for p in self.pools}
        for pool in self.pools:
            for email in pool.reps:
                _known(email, reps, f"pool {pool.name!r} lists rep")
            if pool.fallback is not None:
                _known(pool.fallback, pools, f"pool {pool.name!r} falls back to pool")
        _no_fallback_cycle(pools)
        for named in self.named_accounts:
            _check_target(named.to, reps, pools, f"named-account list {named.name!r}")
        self._check_stages(reps, pools)
        return self

    def _check_stages(self, reps: set[str], pools: dict[str, Pool]) -> None:
        stages, lists = {s.name for s in self.stages}, {n.name for n in self.named_accounts}
        for stage in self.stages:
            if stage.final_fallback is None and self.final_fallback is None:
                raise ValueError(f"stage {stage.name!r} has no final_fallback (set routing.final_fallback)")
            if stage.secondary is not None:
                _known(stage.secondary, stages - {stage.name}, f"stage {stage.name!r} has secondary stage")
            for step in stage.steps:
                if isinstance(step, PoolStep):
                    _known(step.pool, pools, f"stage {stage.name!r} step {step.name!r} uses pool")
                elif isinstance(step, NamedAccountsStep):
                    for name in step.lists or ():
                        _known(name, lists, f"stage {stage.name!r} step {step.name!r} uses named-account list")
                elif isinstance(step, RulesStep):
                    _unique(f"rules of stage {stage.name!r}", [r.name for r in step.rules])
                    for rule in step.rules:
                        _check_target(rule.to, reps, pools, f"rule {rule.name!r}")
                        _check_fields(rule, set(self.regions))

    def rep(self, key: str) -> Rep | None:
        """The configured rep with this owner key (email), if any."""
        return self.reps_by_key.get(key)

    @cached_property
    def reps_by_key(self) -> dict[str, Rep]:
        """Every configured rep by owner key (cached: the config is frozen and routing looks reps up per pick)."""
        return {r.email: r for r in self.reps}

    @cached_property
    def pools_by_name(self) -> dict[str, Pool]:
        """Every pool by name."""
        return {p.name: p for p in self.pools}

    def pool(self, name: str) -> Pool:
        """The pool called ``name`` (names are validated at load time)."""
        return self.pools_by_name[name]

    def stage(self, name: str | None = None) -> Stage:
        """The stage called ``name``; the first stage when None."""
        if name is None:
            return self.stages[0]
        return next(s for s in self.stages if s.name == name)


def _unique(what: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{what}: {name!r} appears twice")
        seen.add(name)


def _known(name: str, known: set[str] | dict[str, Pool], what: str) -> None:
    if name not in known:
        choices = ", ".join(sorted(known)[:8]) or "none defined"
        raise ValueError(f"{what} {name!r}, which is not defined (known: {choices})")


def _check_target(target: Target, reps: set[str], pools: dict[str, Pool], what: str) -> None:
    if target.rep is not None:
        _known(target.rep, reps, f"{what} sends to rep")
    if target.pool is not None:
        _known(target.pool, pools, f"{what} sends to pool")


def _no_fallback_cycle(pools: dict[str, Pool]) -> None:
    for start in pools.values():
        seen, current = {start.name}, start.fallback
        while current is not None:
            if current in seen:
                raise ValueError(f"pool fallbacks form a cycle through {start.name!r} and {current!r}")
            seen.add(current)
            current = pools[current].fallback


def _check_fields(rule: Rule, regions: set[str]) -> None:
    from connector.routing.conditions import check_condition

    for field_name, condition in rule.when.items():
        problem = check_condition(field_name, condition, regions)
        if problem:
            raise ValueError(f"rule {rule.name!r}, condition on {field_name!r}: {problem}")
