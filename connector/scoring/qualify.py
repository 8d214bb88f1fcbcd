"""Scoring a lead and qualifying it on the Fit × Activity grid: pure functions of (lead, account, config, now)."""

from __future__ import annotations

from functools import lru_cache

from connector.config.scoring import ScoringConfig, Tier
from connector.models import Account, Lead
from connector.scoring.activity import activity_items
from connector.scoring.fit import fit_items
from connector.scoring.model import Outcome, Qualification, Score, grade_of
from connector.scoring.rules import CompiledRules, compiled


def tier_of(points: int, cuts: tuple[int, int]) -> Tier:
    """high at or above ``cuts[0]``, medium at or above ``cuts[1]``, else low."""
    if points >= cuts[0]:
        return "high"
    return "medium" if points >= cuts[1] else "low"


def score_lead(lead: Lead, account: Account | None, config: ScoringConfig, now_ms: int) -> Score:
    """The Fit and Activity score of ``lead`` at ``now_ms`` (epoch ms), with every point explained.

    Pure: the same arguments always give the same Score; nothing is read from the clock, disk or network.
    """
    return score_with(lead, account, compiled(config), now_ms)


def score_with(lead: Lead, account: Account | None, rules: CompiledRules, now_ms: int) -> Score:
    """``score_lead`` with already compiled rules (the hot loop of a batch re-score)."""
    fit, fit_total = fit_items(lead, account, rules)
    activity = activity_items(lead, rules, now_ms)
    activity_total = 0
    for item in activity:
        activity_total += item.points
    fit_tier = tier_of(fit_total, rules.fit_cuts)
    activity_tier = tier_of(activity_total, rules.activity_cuts)
    return Score(
        fit=fit_total,
        activity=activity_total,
        fit_tier=fit_tier,
        activity_tier=activity_tier,
        breakdown=(*fit, *activity),
        grade=grade_of(fit_tier, activity_tier),
    )


def decide(score: Score, config: ScoringConfig) -> Qualification:
    """Look ``score`` up in the config's grid: route (with the cell's hint) or nurture, and say why."""
    return decide_with(score, compiled(config))


def decide_with(score: Score, rules: CompiledRules) -> Qualification:
    """``decide`` with already compiled rules."""
    cell = rules.grid[(score.fit_tier, score.activity_tier)]
    reason = _reason(cell.hint, score.grade, (score.fit_tier, score.fit), (score.activity_tier, score.activity))
    outcome: Outcome = "route" if cell.outcome == "route" else "nurture"
    return Qualification(outcome=outcome, hint=cell.hint, score=score, reason=reason)


def qualify(lead: Lead, account: Account | None, config: ScoringConfig, now_ms: int) -> Qualification:
    """Score ``lead`` and decide route or nurture; pure, like ``score_lead``."""
    rules = compiled(config)
    return decide_with(score_with(lead, account, rules, now_ms), rules)


@lru_cache(maxsize=8192)  # a handful of grades times a few hundred totals: formatting once is enough
def _reason(hint: str | None, grade: str, fit: tuple[Tier, int], activity: tuple[Tier, int]) -> str:
    where = f"fit {fit[0]} ({fit[1]}) × activity {activity[0]} ({activity[1]})"
    if hint is not None:
        return f"Route to {hint}: grade {grade}, {where}."
    return f"Nurture: grade {grade}, {where} is not sales-ready yet."
