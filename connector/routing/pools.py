"""Picking a rep from a pool, and walking the pool's fallbacks (the waterfall) when nobody there is available."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import NamedTuple

from connector.config.routing import Pool, Rep, RoutingConfig
from connector.routing.availability import Skip
from connector.routing.context import RouteContext
from connector.routing.ledger import Contender, pick_least_loaded, pick_round_robin, pick_weighted
from connector.routing.model import LedgerEntryRow, Pick, PickRoster

_AWAY = frozenset({"pto", "holiday"})  # absences that accrue credit under the catch_up policy


class PoolChoice(NamedTuple):  # a NamedTuple: one per pool step of every decision
    """The rep a pool (or one of its fallbacks) gave, every pick made, and a plain summary."""

    owner: Rep | None
    pool: str | None  # the pool that supplied the owner
    tried: tuple[str, ...]
    picks: tuple[Pick, ...]
    detail: str


def choose_from_pool(ctx: RouteContext, name: str) -> PoolChoice:
    """Pick from ``name``; when nobody is available, try its fallback pool, and so on down the waterfall."""
    pool = ctx.config.pool(name)
    owner, pick, note = pick_in_pool(ctx, pool.name, _members(ctx, pool), pool=pool)
    if owner is not None or pool.fallback is None:  # the first pool gave someone (the usual case), or it is alone
        return PoolChoice(owner, name if owner is not None else None, (name,), (pick,), note)
    tried, picks, notes = [name], [pick], [note]
    current: str | None = pool.fallback
    while current is not None:
        pool = ctx.config.pool(current)
        tried.append(current)
        owner, pick, note = pick_in_pool(ctx, pool.name, _members(ctx, pool), pool=pool)
        picks.append(pick)
        notes.append(note)
        if owner is not None:
            return PoolChoice(owner, current, tuple(tried), tuple(picks), "; then ".join(notes))
        current = pool.fallback
    return PoolChoice(None, None, tuple(tried), tuple(picks), "; then ".join(notes))


_MEMBERS: dict[tuple[int, int], tuple[Pool, RoutingConfig, tuple[Rep, ...]]] = {}


def _members(ctx: RouteContext, pool: Pool) -> tuple[Rep, ...]:
    """The pool's reps, as one tuple per (frozen) pool and config, so per-minute presence can be memoized for it."""
    key = (id(pool), id(ctx.config))
    cached = _MEMBERS.get(key)
    if cached is None or cached[0] is not pool or cached[1] is not ctx.config:
        if len(_MEMBERS) > 10_000:
            _MEMBERS.clear()
        reps = ctx.config.reps_by_key
        cached = _MEMBERS[key] = (pool, ctx.config, tuple(reps[name] for name in pool.reps))
    return cached[2]


def pick_in_pool(
    ctx: RouteContext, ledger_name: str, members: Sequence[Rep], *, pool: Pool | None = None
) -> tuple[Rep | None, Pick, str]:
    """Pick one available member (by the pool's strategy; weighted round-robin for implicit pools like a pod).

    Returns the rep (None when nobody is available), the pick as recorded (the shared roster and the credit read
    for each member) and a plain summary.
    """
    requirements = pool.require if pool is not None else ()
    skips = ctx.skips(members, requirements)
    plan = _plan(ledger_name, members, skips)
    assign_anyway = False
    if plan.only_hours and pool is not None and pool.outside_hours == "assign_anyway":
        skips = ctx.skips(members, requirements, ignore_hours=True)
        plan = _plan(ledger_name, members, skips)
        assign_anyway = True
    # Every member's standing is read once, before the pick: the pick records the credit each one had.
    standing = ctx.view.entries(ledger_name, plan.emails)
    pick = Pick(plan.roster, tuple(map(_first, standing)))
    if not plan.eligible:
        return None, pick, plan.nobody
    if (pool is None or pool.strategy != "least_loaded") and ctx.config.fairness.pto_return != "catch_up":
        # Weighted round-robin among the eligible (nobody accrues while away): nearly every pick.
        eligible = standing if plan.all_eligible else list(map(standing.__getitem__, plan.eligible))
        key = pick_round_robin(
            ctx.view, ledger_name, plan.eligible_emails, shares=plan.shares, tie_order=plan.tie_order, standing=eligible
        )
        chosen = ctx.config.reps_by_key[key]
    else:
        chosen = _pick(ctx, ledger_name, members, skips, plan, standing=standing, pool=pool)
    note = f"pool {ledger_name}: picked {chosen.display_name} among {plan.available}"
    if assign_anyway:
        note += " (nobody in working hours: picked among reps otherwise available)"
    return chosen, pick, note


_first = itemgetter(0)


@dataclass(frozen=True, eq=False)
class _Plan:
    """What a pick works out from who is available, the same for every lead while the verdicts stay the same."""

    members: Sequence[Rep]
    skips: tuple[Skip | None, ...]  # kept so the ids in the memo key cannot be reused while the plan lives
    roster: PickRoster
    emails: tuple[str, ...]
    eligible: tuple[int, ...]
    eligible_emails: tuple[str, ...]
    eligible_weights: tuple[float, ...]
    shares: tuple[float, ...]  # each eligible rep's share of one pick: weight / total eligible weight
    tie_order: tuple[int, ...]  # eligible positions by weight (high first), then owner key: who wins a tie
    all_eligible: bool
    only_hours: bool  # every member is skipped, and working hours are among the reasons
    nobody: str  # "pool x: nobody available (...)", when nobody is
    available: str  # "3 of 15 available"


_PLANS: dict[tuple[str, int, tuple[int, ...]], _Plan] = {}
# The same plans by the identity of the verdicts tuple itself: a pool's roster hands out one tuple for as long as
# its verdicts hold, so most picks find their plan without building the per-verdict key. A plan keeps its tuple
# alive, so while it is here no other tuple can have that id.
_PLANS_BY_TUPLE: dict[tuple[str, int], _Plan] = {}


def _plan(ledger_name: str, members: Sequence[Rep], skips: tuple[Skip | None, ...]) -> _Plan:
    """The pick's plan, memoized by the identity of the members and of each verdict (verdicts are immutable and
    shared: the roster's, PTO and holiday verdicts for their span, cap verdicts per count)."""
    found = _PLANS_BY_TUPLE.get((ledger_name, id(skips)))
    if found is not None and found.skips is skips and found.members is members:
        return found
    key = (ledger_name, id(members), tuple(map(id, skips)))
    found = _PLANS.get(key)
    if found is None or found.members is not members:
        if len(_PLANS) >= 4_096:
            _PLANS.clear()
        found = _PLANS[key] = _make_plan(ledger_name, members, skips)
    if found.skips is skips:
        if len(_PLANS_BY_TUPLE) >= 4_096:
            _PLANS_BY_TUPLE.clear()
        _PLANS_BY_TUPLE[(ledger_name, id(skips))] = found
    return found


def _make_plan(ledger_name: str, members: Sequence[Rep], skips: tuple[Skip | None, ...]) -> _Plan:
    eligible = tuple(i for i, skip in enumerate(skips) if skip is None)
    emails = tuple(rep.email for rep in members)
    weights = tuple(rep.weight for rep in members)
    eligible_weights = tuple(weights[i] for i in eligible)
    total = sum(eligible_weights)
    roster = PickRoster(
        ledger_name,
        emails,
        tuple(skip is None for skip in skips),
        tuple(None if skip is None else skip.code for skip in skips),
        tuple(None if skip is None else skip.reason for skip in skips),
        weights,
    )
    return _Plan(
        members,
        skips,
        roster,
        emails,
        eligible,
        tuple(emails[i] for i in eligible),
        eligible_weights,
        tuple(weight / total for weight in eligible_weights),
        tuple(sorted(range(len(eligible)), key=lambda k: (-eligible_weights[k], emails[eligible[k]]))),
        len(eligible) == len(members),
        _only_hours_stand_in_the_way(skips),
        f"pool {ledger_name}: {_nobody(members, skips)}",
        f"{len(eligible)} of {len(members)} available",
    )


def _only_hours_stand_in_the_way(skips: Sequence[Skip | None]) -> bool:
    found = [s for s in skips if s is not None]
    return len(found) == len(skips) and any(s.code == "off_hours" for s in found)


def _pick(
    ctx: RouteContext,
    ledger_name: str,
    members: Sequence[Rep],
    skips: Sequence[Skip | None],
    plan: _Plan,
    *,
    standing: Sequence[LedgerEntryRow],
    pool: Pool | None,
) -> Rep:
    """The general pick: least-loaded pools, and reps away accruing credit under the catch_up policy."""
    catch_up = ctx.config.fairness.pto_return == "catch_up"
    least_loaded = pool is not None and pool.strategy == "least_loaded"
    contenders, their_standing = [], []
    new = tuple.__new__
    for rep, skip, entry in zip(members, skips, standing, strict=True):
        if skip is None:
            load = ctx.load(rep) if least_loaded else 0.0
            contenders.append(new(Contender, (rep.email, rep.weight, True, load)))
        elif catch_up and skip.code in _AWAY:
            contenders.append(new(Contender, (rep.email, rep.weight, False, 0.0)))
        else:
            continue
        their_standing.append(entry)
    limit = ctx.config.fairness.catch_up_limit if catch_up else None
    pick = pick_least_loaded if least_loaded else pick_weighted
    key = pick(ctx.view, ledger_name, contenders, their_standing, catch_up_limit=limit)
    return ctx.config.reps_by_key[key]


def _nobody(members: Sequence[Rep], skips: Sequence[Skip | None]) -> str:
    if not members:
        return "has no reps"
    reasons = Counter(s.code for s in skips if s is not None)
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
