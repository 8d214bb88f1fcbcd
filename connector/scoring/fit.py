"""Fit: is this the kind of company and person we sell to? Firmographic and persona points, with reasons.

A lead's own firmographics come first; the matched account's fill any gap, so a lead scores the same
whether or not enrichment already copied the account's values onto it. Unknown values are listed with
0 points so a rep sees that a low fit may only mean "we do not know yet".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connector.enrichment.values import country_code
from connector.models import Account, Lead
from connector.scoring.model import ScoreItem
from connector.scoring.rules import CompiledRules


def fit_items(lead: Lead, account: Account | None, rules: CompiledRules) -> list[ScoreItem]:
    """The Fit breakdown of ``lead`` (with its matched ``account``, if any) under ``rules``."""
    employees = lead.employees if lead.employees is not None else (account.employees if account else None)
    industry = lead.industry or (account.industry if account else None)
    country = lead.country or (account.country if account else None)
    items = [
        _memoized("employees", employees, _employees, rules),
        _memoized("industry", industry, _industry, rules),
        _memoized("region", country, _region, rules),
    ]
    title = _memoized("title", lead.title, _title, rules)
    if title is not None:
        items.append(title)
    if account is not None:
        items.extend(_account(account, rules))
    return items


_MISSING = object()
_MEMO_LIMIT = 10_000  # distinct values per criterion kept; titles are the only large set


def _memoized(criterion: str, value: Any, line: Callable[[Any, CompiledRules], Any], rules: CompiledRules) -> Any:
    """``line(value, rules)``, remembered per compiled rules (the lines are immutable and depend on value only)."""
    memo = rules.memo[criterion]
    item = memo.get(value, _MISSING)
    if item is _MISSING:
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        item = memo[value] = line(value, rules)
    return item


def _employees(employees: int | None, rules: CompiledRules) -> ScoreItem:
    if employees is None:
        return ScoreItem("fit", "employees", 0, "employee count unknown")
    for band in rules.bands:
        if employees >= band.low and (band.high is None or employees <= band.high):
            return ScoreItem("fit", "employees", band.points, f"{employees} employees (band {band.label})")
    return ScoreItem("fit", "employees", 0, f"{employees} employees (no band scores it)")


def _industry(industry: str | None, rules: CompiledRules) -> ScoreItem:
    if not industry:
        return ScoreItem("fit", "industry", 0, "industry unknown")
    lowered = industry.lower()
    for key, written, points in rules.industries:
        if key in lowered:
            return ScoreItem("fit", "industry", points, f'industry "{industry}" matches "{written}"')
    return ScoreItem("fit", "industry", 0, f'industry "{industry}" is not a target industry')


def _region(country: str | None, rules: CompiledRules) -> ScoreItem:
    if not country:
        return ScoreItem("fit", "region", 0, "country unknown")
    code = country.upper() if len(country) == 2 else country_code(country)
    found = rules.regions.get(code) if code else None
    if found is None:
        return ScoreItem("fit", "region", 0, f"country {country} is outside the target regions")
    name, points = found
    return ScoreItem("fit", "region", points, f"country {code} is in {name}")


def _title(title: str | None, rules: CompiledRules) -> ScoreItem | None:
    if not title:
        return ScoreItem("fit", "title", 0, "job title unknown")
    lowered = title.lower()
    for rule in rules.titles:
        match = rule.pattern.search(lowered)
        if match:
            return ScoreItem("fit", "title", rule.points, f'title "{title}" reads as {rule.label} ("{match.group(1)}")')
    return None  # an ordinary title is neither good nor bad news; no line for it


def _account(account: Account, rules: CompiledRules) -> list[ScoreItem]:
    items = []
    if account.is_customer and rules.customer_points:
        items.append(ScoreItem("fit", "customer", rules.customer_points, f"account {account.name} is a customer"))
    if account.has_open_opportunity and rules.open_opportunity_points:
        items.append(
            ScoreItem(
                "fit", "open_opportunity", rules.open_opportunity_points, f"account {account.name} has an open deal"
            )
        )
    return items
