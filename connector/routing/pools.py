"""Picking a rep from a pool, and walking the pool's fallbacks (the waterfall) when nobody there is available."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from connector.config.routing import Pool, Rep
from connector.routing.availability import Skip
from connector.routing.context import RouteContext
from connector.routing.ledger import Contender, pick_least_loaded, pick_weighted
from connector.routing.model import Candidate

_AWAY = frozenset({"pto", "holiday"})  # absences that accrue credit under the catch_up policy


@dataclass(frozen=True)
class PoolChoice:
    """The rep a pool (or one of its fallbacks) gave, every candidate considered, and a plain summary."""

    owner: Rep | None
    pool: str | None  # the pool that supplied the owner
    tried: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    detail: str


def choose_from_pool(ctx: RouteContext, name: str) -> PoolChoice:
    """Pick from ``name``; when nobody is available, try its fallback pool, and so on down the waterfall."""
    tried: list[str] = []
    candidates: list[Candidate] = []
    notes: list[str] = []
    current: str | None = name
    while current is not None:
        pool = ctx.config.pool(current)
        tried.append(current)
        owner, considered, note = pick_in_pool(ctx, pool.name, _members(ctx, pool), pool=pool)
        candidates.extend(considered)
        notes.append(note)
        if owner is not None:
            return PoolChoice(owner, current, tuple(tried), tuple(candidates), "; then ".join(notes))
        current = pool.fallback
    return PoolChoice(None, None, tuple(tried), tuple(candidates), "; then ".join(notes))


def _members(ctx: RouteContext, pool: Pool) -> list[Rep]:
    reps = ctx.config.reps_by_key
    return [reps[key] for key in pool.reps]


def pick_in_pool(
    ctx: RouteContext, ledger_name: str, members: Sequence[Rep], *, pool: Pool | None = None
) -> tuple[Rep | None, list[Candidate], str]:
    """Pick one available member (by the pool's strategy; weighted round-robin for implicit pools like a pod)."""
    requirements = pool.require if pool is not None else ()
    skips = {rep.email: ctx.skip(rep, requirements=requirements) for rep in members}
    note_suffix = ""
    if pool is not None and pool.outside_hours == "assign_anyway" and _only_hours_stand_in_the_way(skips):
        skips = {rep.email: ctx.skip(rep, requirements=requirements, ignore_hours=True) for rep in members}
        note_suffix = " (nobody in working hours: picked among reps otherwise available)"
    eligible = [rep for rep in members if skips[rep.email] is None]
    if not eligible:
        return None, _candidates(ctx, ledger_name, members, skips), f"pool {ledger_name}: {_nobody(members, skips)}"
    candidates = _candidates(ctx, ledger_name, members, skips)  # before the pick: the credit the pick used
    chosen = _pick(ctx, ledger_name, members, skips, pool)
    available = f"{len(eligible)} of {len(members)} available"
    note = f"pool {ledger_name}: picked {chosen.display_name} among {available}{note_suffix}"
    return chosen, candidates, note


def _only_hours_stand_in_the_way(skips: dict[str, Skip | None]) -> bool:
    found = [s for s in skips.values() if s is not None]
    return len(found) == len(skips) and any(s.code == "off_hours" for s in found)


def _pick(
    ctx: RouteContext, ledger_name: str, members: Sequence[Rep], skips: dict[str, Skip | None], pool: Pool | None
) -> Rep:
    catch_up = ctx.config.fairness.pto_return == "catch_up"
    contenders = []
    for rep in members:
        skip = skips[rep.email]
        if skip is None:
            load = ctx.load(rep) if pool is not None and pool.strategy == "least_loaded" else 0.0
            contenders.append(Contender(rep.email, rep.weight, eligible=True, load=load))
        elif catch_up and skip.code in _AWAY:
            contenders.append(Contender(rep.email, rep.weight, eligible=False))
    limit = ctx.config.fairness.catch_up_limit if catch_up else None
    if pool is not None and pool.strategy == "least_loaded":
        key = pick_least_loaded(ctx.view, ledger_name, contenders, catch_up_limit=limit)
    else:
        key = pick_weighted(ctx.view, ledger_name, contenders, catch_up_limit=limit)
    return ctx.config.reps_by_key[key]


def _candidates(
    ctx: RouteContext, ledger_name: str, members: Sequence[Rep], skips: dict[str, Skip | None]
) -> list[Candidate]:
    out = []
    for rep in members:
        skip = skips[rep.email]
        credit = ctx.view.entry(ledger_name, rep.email).credit  # read before the pick: the credit it used
        out.append(
            Candidate(
                rep=rep.email,
                eligible=skip is None,
                pool=ledger_name,
                code=skip.code if skip else None,
                reason=skip.reason if skip else None,
                weight=rep.weight,
                credit=round(credit, 6),
            )
        )
    return out


def _nobody(members: Sequence[Rep], skips: dict[str, Skip | None]) -> str:
    if not members:
        return "has no reps"
    reasons = Counter(s.code for s in skips.values() if s is not None)
    parts = ", ".join(f"{n} {_CODE_WORDS.get(code, code)}" for code, n in reasons.most_common())
    return f"nobody available ({parts})"


_CODE_WORDS = {
    "inactive": "inactive",
    "crm_inactive": "deactivated in the CRM",
    "not_in_crm": "not in the CRM",
    "pto": "on PTO",
    "holiday": "on a public holiday",
    "off_hours": "outside working hours",
    "cap_day": "at their daily cap",
    "cap_week": "at their weekly cap",
    "cap_open": "at their open-lead cap",
    "territory": "not covering the territory",
    "language": "not speaking the language",
    "product": "not selling the product",
    "primary_owner": "already primary owner",
    "previous_owner": "previous owner",
}
