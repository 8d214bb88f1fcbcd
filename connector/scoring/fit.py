"""Fit: is this the kind of company and person we sell to? Firmographic and persona points, with reasons.

A lead's own firmographics come first; the matched account's fill any gap, so a lead scores the same
whether or not enrichment already copied the account's values onto it. Unknown values are listed with
0 points so a rep sees that a low fit may only mean "we do not know yet".
"""

from __future__ import annotations

from typing import Any

from connector.enrichment.values import country_code
from connector.models import Account, Lead
from connector.scoring.model import ScoreItem
from connector.scoring.rules import CompiledRules

FitLines = tuple[tuple[ScoreItem, ...], int]
_MEMO_LIMIT = 10_000  # distinct values kept per criterion; only titles come in large numbers


def fit_items(lead: Lead, account: Account | None, rules: CompiledRules) -> FitLines:
    """The Fit breakdown of ``lead`` (with its matched ``account``, if any) under ``rules``, and its total."""
    employees, industry, country = lead.employees, lead.industry, lead.country
    if account is not None:
        employees = employees if employees is not None else account.employees
        industry = industry or account.industry
        country = country or account.country
    # Each line depends on one value only and ScoreItems are immutable, so lines are memoized per value
    # (per criterion rather than per lead: four small caches that stay warm on real, varied leads).
    memo = rules.fit_memo
    items = [
        memo["employees"].get(employees) or _remember(memo["employees"], employees, _employees(employees, rules)),
        memo["industry"].get(industry) or _remember(memo["industry"], industry, _industry(industry, rules)),
        memo["region"].get(country) or _remember(memo["region"], country, _region(country, rules)),
    ]
    title = lead.title
    title_line = memo["title"].get(title, _UNSEEN)
    if title_line is _UNSEEN:
        title_line = _remember(memo["title"], title, _title(title, rules))
    if title_line is not None:
        items.append(title_line)
    if account is not None and (account.is_customer or account.has_open_opportunity):
        items.extend(_account(account, rules))
    total = 0
    for item in items:
        total += item.points
    return tuple(items), total


_UNSEEN: Any = object()


def _remember(memo: dict[Any, Any], value: Any, line: Any) -> Any:
    if len(memo) >= _MEMO_LIMIT:
        memo.clear()
    memo[value] = line
    return line


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
        points = rules.open_opportunity_points
        items.append(ScoreItem("fit", "open_opportunity", points, f"account {account.name} has an open deal"))
    return items
