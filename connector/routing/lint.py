"""``leadrelay config check``: warnings about a valid rule file that will not behave as its author thinks.

Errors (unknown names, bad ranges, overlapping PTO ...) are raised by the config model itself; these are the
things that load fine but can never fire: a rule shadowed by an earlier rule whose condition is a superset, a rule
whose own conditions contradict each other, and a rule or step pointing at a pool with no active rep in its whole
waterfall.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from connector.config.routing import Condition, NamedAccountsStep, PoolStep, RoutingConfig, Rule, RulesStep, Target
from connector.routing.conditions import MULTI_VALUED, parse_postal_range


@dataclass(frozen=True)
class Warning_:
    """One problem with where it is (``stage.step.rule``) and what to do about it."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def check_routing(config: RoutingConfig) -> list[Warning_]:
    """Every warning for the routing section, in file order."""
    warnings: list[Warning_] = []
    for stage in config.stages:
        for step in stage.steps:
            where = f"stages.{stage.name}.{step.name}"
            if isinstance(step, RulesStep):
                warnings.extend(_rules_warnings(config, step, where))
            elif isinstance(step, PoolStep):
                warnings.extend(_target_warnings(config, Target(pool=step.pool), where))
            elif isinstance(step, NamedAccountsStep) and not config.named_accounts:
                warnings.append(Warning_(where, "no named-account lists are defined, so this step never applies"))
    for named in config.named_accounts:
        if not named.domains and not named.account_ids:
            warnings.append(Warning_(f"named_accounts.{named.name}", "lists no domains or account ids"))
        warnings.extend(_target_warnings(config, named.to, f"named_accounts.{named.name}"))
    return warnings


def _rules_warnings(config: RoutingConfig, step: RulesStep, where: str) -> list[Warning_]:
    warnings = []
    for index, rule in enumerate(step.rules):
        at = f"{where}.{rule.name}"
        contradiction = contradiction_in(rule)
        if contradiction is not None:
            warnings.append(Warning_(at, f"can never fire: {contradiction}"))
            continue
        earlier = next((r for r in step.rules[:index] if covers(r, rule) and contradiction_in(r) is None), None)
        if earlier is not None:
            warnings.append(
                Warning_(
                    at,
                    f"can never fire: shadowed by earlier rule {earlier.name!r}, whose conditions match every lead "
                    f"this one does (it only fires when {earlier.to.describe()} has nobody available)",
                )
            )
        warnings.extend(_target_warnings(config, rule.to, at))
    return warnings


def _target_warnings(config: RoutingConfig, target: Target, where: str) -> list[Warning_]:
    reps = config.reps_by_key
    if target.rep is not None:
        if not reps[target.rep].active:
            return [Warning_(where, f"sends to rep {target.rep}, who is inactive: it never fires")]
        return []
    chain, current = [], target.pool
    while current is not None:
        pool = config.pool(current)
        chain.append(pool.name)
        if any(reps[key].active for key in pool.reps):
            return []
        current = pool.fallback
    return [Warning_(where, f"points at an empty pool: no active rep in {' → '.join(chain)}; it never fires")]


def covers(earlier: Rule, later: Rule) -> bool:
    """Whether every lead matching ``later`` also matches ``earlier`` (conservative: False when unsure)."""
    return all(name in later.when and _subset(later.when[name], cond, name) for name, cond in earlier.when.items())


def _subset(inner: Condition, outer: Condition, field: str) -> bool:
    """Whether ``inner`` admits only values ``outer`` admits."""
    checks = (
        (outer.in_ is not None, lambda: _in_subset(inner, outer)),
        (outer.not_in is not None, lambda: _not_in_subset(inner, outer, field)),
        (outer.equals is not None, lambda: _values(inner) is not None and _values(inner) == {_fold(outer.equals)}),
        (outer.min is not None, lambda: _bound(inner, lambda v: v >= (outer.min or 0), "min")),
        (outer.max is not None, lambda: _bound(inner, lambda v: v <= (outer.max or 0), "max")),
        (outer.ranges is not None, lambda: _ranges_subset(inner, outer)),
        (
            outer.exists is True,
            lambda: (
                inner.exists is True
                or _values(inner) is not None
                or inner.min is not None
                or inner.max is not None
                or bool(inner.ranges)
            ),
        ),
        (outer.exists is False, lambda: inner.exists is False),
    )
    return all(check() for applies, check in checks if applies)


def _fold(value: object) -> object:
    return value.casefold() if isinstance(value, str) else value


def _values(c: Condition) -> set[object] | None:
    """The finite set of values ``c`` admits, when it names one (``in`` / ``equals``)."""
    if c.in_ is not None:
        found = {_fold(v) for v in c.in_}
        return found if c.equals is None else found & {_fold(c.equals)}
    if c.equals is not None:
        return {_fold(c.equals)}
    return None


def _in_subset(inner: Condition, outer: Condition) -> bool:
    values = _values(inner)
    return values is not None and values <= {_fold(v) for v in outer.in_ or ()}


def _not_in_subset(inner: Condition, outer: Condition, field: str) -> bool:
    excluded = {_fold(v) for v in outer.not_in or ()}
    if inner.not_in is not None and excluded <= {_fold(v) for v in inner.not_in}:
        return True
    values = _values(inner)
    return field not in MULTI_VALUED and values is not None and not (values & excluded)


def _bound(inner: Condition, check: Callable[[float], bool], which: str) -> bool:
    own = inner.min if which == "min" else inner.max
    if own is not None:
        return check(own)
    values = _values(inner)
    return values is not None and all(isinstance(v, int | float) and check(v) for v in values)


def _ranges_subset(inner: Condition, outer: Condition) -> bool:
    outer_ranges = [r for r in (parse_postal_range(t) for t in outer.ranges or ()) if r]
    if inner.ranges:
        inner_ranges = [parse_postal_range(t) for t in inner.ranges]
        return all(r is not None and any(r.within(o) for o in outer_ranges) for r in inner_ranges)
    values = _values(inner)
    return values is not None and all(any(o.holds(str(v)) for o in outer_ranges) for v in values)


def contradiction_in(rule: Rule) -> str | None:
    """Why the rule's own conditions can never all hold, or None."""
    for name, c in rule.when.items():
        found = _self_contradiction(name, c)
        if found:
            return f"{name}: {found}"
    return _state_vs_country(rule)


def _self_contradiction(name: str, c: Condition) -> str | None:  # noqa: PLR0911 - one check per kind of conflict
    values = _values(c)
    if c.in_ is not None and not c.in_:
        return "`in` lists nothing"
    if values is not None and not values:
        return "`equals` is not among the `in` values"
    excluded = {_fold(v) for v in c.not_in or ()}
    if values is not None and name not in MULTI_VALUED and values <= excluded:
        return "every allowed value is also excluded by `not_in`"
    if c.min is not None and c.max is not None and c.min > c.max:
        return f"min {c.min:g} is above max {c.max:g}"
    if c.exists is False and (values is not None or c.min is not None or c.max is not None or c.ranges):
        return "requires the field to be empty and to have a value"
    if c.ranges is not None and not c.ranges:
        return "`ranges` lists nothing"
    return None


def _state_vs_country(rule: Rule) -> str | None:
    country, state = rule.when.get("country"), rule.when.get("state")
    if country is None or state is None:
        return None
    countries, states = _values(country), _values(state)
    if countries is None or states is None:
        return None
    prefixes = {str(s).split("-")[0] for s in states if "-" in str(s)}
    if prefixes and not prefixes & {str(c) for c in countries}:
        return f"state is in {sorted(map(str, states))}, which lie outside country {sorted(map(str, countries))}"
    return None
