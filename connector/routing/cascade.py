"""The routing cascade: a pure function from (input, snapshot, config, ledger, clock) to a ``Decision``.

Each stage is an ordered list of steps; the first step that yields an *available* owner wins. A step that
matches but whose rep or pool has nobody available does not stop the cascade: it is recorded with the reason and
the next step is tried, so a lead only reaches the final fallback (a queue owner, raising an alert) when every
step failed. Nothing here writes anywhere: the ledger changes come back as ``Decision.delta``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from connector.config.routing import (
    AccountOwnerStep,
    NamedAccountList,
    NamedAccountsStep,
    PoolStep,
    Rep,
    RoutingConfig,
    RulesStep,
    Stage,
)
from connector.errors import ConfigError
from connector.routing.availability import crm_skip
from connector.routing.conditions import CompiledRule, Value, compile_rule, field_value
from connector.routing.context import RouteContext
from connector.routing.ledger import LedgerState, LedgerView
from connector.routing.model import Assignment, Decision, RoutingInput, Snapshot, StepOutcome, StepResult
from connector.routing.pools import choose_from_pool, pick_in_pool

Found = tuple[list[StepResult], Assignment | None]


def route(
    inp: RoutingInput,
    snapshot: Snapshot,
    config: RoutingConfig,
    ledger: LedgerState,
    now: datetime,
    *,
    stage: str | None = None,
    config_version: str = "",
) -> Decision:
    """Decide the owner(s) of ``inp.lead`` for ``stage`` (the first stage when None); does not touch ``ledger``."""
    return decide(inp, snapshot, config, ledger, now, stage=stage, config_version=config_version)[0]


def decide(
    inp: RoutingInput,
    snapshot: Snapshot,
    config: RoutingConfig,
    ledger: LedgerState,
    now: datetime,
    *,
    stage: str | None = None,
    config_version: str = "",
) -> tuple[Decision, LedgerView]:
    """``route``, plus the ledger view the decision wrote to: a caller that keeps the ledger (and logs the decision)
    can ``adopt`` the view instead of applying the decision's delta entry by entry."""
    if not config.stages:
        raise ConfigError("routing has no stages: add at least one under routing.stages", field="routing.stages")
    if stage is not None and stage not in {s.name for s in config.stages}:
        raise ConfigError(f"unknown routing stage {stage!r}", field="routing.stages")
    now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    ctx = RouteContext(config, inp, snapshot, ledger, now)
    first = config.stage(stage)
    trace: list[StepResult] = []
    assignments = [run_stage(ctx, first, "primary", trace)]
    if first.secondary is not None:
        assignments.append(run_stage(ctx, config.stage(first.secondary), "secondary", trace))
    alert = _alert(trace, assignments)
    decision = Decision(
        lead_id=inp.lead.id,
        stage=first.name,
        decided_at=now,
        config_version=config_version,
        input=inp,
        trace=tuple(trace),
        assignments=tuple(assignments),
        delta=ctx.view.delta(),
        reads=ctx.reads(),
        alert=alert,
    )
    return decision, ctx.view


def run_stage(ctx: RouteContext, stage: Stage, role: str, trace: list[StepResult]) -> Assignment:
    """Walk the stage's steps; the final fallback when none of them yields an available owner."""
    for step in stage.steps:
        results, found = _HANDLERS[step.kind](ctx, stage, step)
        trace.extend(results)
        if found is not None:
            return _with_role(found, role)
    return _final_fallback(ctx, stage, role, trace)


def _with_role(found: Assignment, role: str) -> Assignment:
    if role == found.role:
        return found
    return Assignment(
        "secondary",
        found.stage,
        found.owner,
        found.owner_name,
        found.step,
        found.rule,
        found.pool,
        found.final_fallback,
        found.booking_link,
    )


def _final_fallback(ctx: RouteContext, stage: Stage, role: str, trace: list[StepResult]) -> Assignment:
    fallback = stage.final_fallback or ctx.config.final_fallback
    assert fallback is not None  # validated: every stage has one
    name = fallback.name or fallback.owner
    trace.append(
        StepResult(
            stage.name,
            "final fallback",
            "final_fallback",
            "assigned",
            f"no step found an available owner; assigned to {name}",
            owner=fallback.owner,
        )
    )
    return Assignment(
        "primary" if role == "primary" else "secondary",
        stage.name,
        fallback.owner,
        name,
        "final fallback",
        final_fallback=True,
    )


def _assign(
    ctx: RouteContext, stage: Stage, step: str, rep: Rep, *, rule: str | None = None, pool: str | None = None
) -> Assignment:
    ctx.book(rep)
    return Assignment(
        "primary", stage.name, rep.email, rep.display_name, step, rule, pool, booking_link=rep.booking_link
    )


def _account_owner(ctx: RouteContext, stage: Stage, step: AccountOwnerStep) -> Found:
    why_not = _continuity_blocker(ctx, step)
    if why_not is not None:
        return [_result(stage, step, "no_match", why_not)], None
    account = ctx.input.account
    assert account is not None and account.owner_key is not None  # checked by _continuity_blocker
    rep = ctx.config.rep(account.owner_key)
    if rep is None:
        return _unconfigured_owner(ctx, stage, step, account.owner_key)
    if step.roles is not None and rep.role not in step.roles:
        detail = f"account owner {rep.display_name} is {rep.role}, not {'/'.join(step.roles)}"
        return [_result(stage, step, "no_match", detail)], None
    skip = ctx.skip(rep)
    if skip is None:
        detail = f"account {account.name} ({_matched(ctx)}) is owned by {rep.display_name}, who is available"
        return [_result(stage, step, "assigned", detail, owner=rep.email)], _assign(ctx, stage, step.name, rep)
    unavailable = _result(stage, step, "unavailable", f"account owner {rep.display_name} is unavailable: {skip.reason}")
    if not step.pod_fallback or rep.team is None:
        return [unavailable], None
    return _pod(ctx, stage, step, rep, unavailable)


def _result(stage: Stage, step: AccountOwnerStep, outcome: StepOutcome, detail: str, **extra: Any) -> StepResult:
    if not extra and outcome == "no_match":
        return _shared_result(stage.name, step.name, step.kind, detail)
    return StepResult(stage.name, step.name, step.kind, outcome, detail, **extra)


def _matched(ctx: RouteContext) -> str:
    method = ctx.input.match_method
    return f"matched by {method}" if method else "matched"


def _unconfigured_owner(ctx: RouteContext, stage: Stage, step: AccountOwnerStep, key: str) -> Found:
    """An account owner who is not in the rule file: only the CRM can say whether they are available."""
    if key in ctx.excluded:
        return [_result(stage, step, "unavailable", f"account owner {key} is already the primary owner")], None
    if key in ctx.input.exclude_owners:
        return [_result(stage, step, "unavailable", f"account owner {key} is the previous owner of this lead")], None
    owner = ctx.owner(key)
    skip = crm_skip(key, owner, ctx.snapshot.has_owners)
    if skip is not None:
        return [_result(stage, step, "unavailable", f"account owner {key}: {skip.reason}")], None
    name = owner.name if owner is not None else key
    account_name = ctx.input.account.name if ctx.input.account else "?"
    detail = f"account {account_name} ({_matched(ctx)}) is owned by {name} (not in the rule file; active in the CRM)"
    ctx.exclude(key)
    return [_result(stage, step, "assigned", detail, owner=key)], Assignment(
        "primary", stage.name, key, name, step.name
    )


def _continuity_blocker(ctx: RouteContext, step: AccountOwnerStep) -> str | None:
    inp, account = ctx.input, ctx.input.account
    if account is None:
        return "no matched account"
    if step.methods is not None and inp.match_method not in step.methods:
        return f"account matched by {inp.match_method}, continuity only for {', '.join(step.methods)}"
    confidence = inp.match_confidence if inp.match_confidence is not None else 1.0
    if confidence < step.min_confidence:
        return f"account match confidence {confidence:.2f} is below {step.min_confidence:.2f}"
    if account.owner_key is None:
        return f"account {account.name} has no owner"
    if account.owner_key.startswith("queue:"):
        return f"account {account.name} is owned by a queue"
    return None


def _pod(ctx: RouteContext, stage: Stage, step: AccountOwnerStep, owner: Rep, unavailable: StepResult) -> Found:
    roles = step.roles or (owner.role,)
    pod = _pod_members(ctx.config, owner, roles)
    ledger_name = f"pod:{owner.team}:{'/'.join(roles)}"
    chosen, pick, note = pick_in_pool(ctx, ledger_name, pod)
    outcome: StepOutcome = "assigned" if chosen else "unavailable"
    detail = f"{unavailable.detail}; pod {owner.team}: {note.partition(': ')[2]}"
    pod_result = StepResult(
        stage.name,
        step.name,
        step.kind,
        outcome,
        detail,
        pool=ledger_name,
        pools_tried=(ledger_name,),
        picks=(pick,),
        owner=chosen.email if chosen else None,
    )
    if chosen is None:
        return [pod_result], None
    return [pod_result], _assign(ctx, stage, step.name, chosen, pool=ledger_name)


_PODS: dict[tuple[int, str, tuple[str, ...]], tuple[RoutingConfig, tuple[Rep, ...]]] = {}


def _pod_members(config: RoutingConfig, owner: Rep, roles: tuple[str, ...]) -> tuple[Rep, ...]:
    """The owner's pod mates in those roles, one tuple per config (so the pool's roster can be shared)."""
    key = (id(config), owner.email, roles)
    cached = _PODS.get(key)
    if cached is None or cached[0] is not config:
        if len(_PODS) > 10_000:
            _PODS.clear()
        pod = tuple(r for r in config.reps if r.team == owner.team and r.role in roles and r.email != owner.email)
        cached = _PODS[key] = (config, pod)
    return cached[1]


def _named_accounts(ctx: RouteContext, stage: Stage, step: NamedAccountsStep) -> Found:
    wanted = set(step.lists) if step.lists is not None else None
    results: list[StepResult] = []
    for named in ctx.config.named_accounts:
        if wanted is not None and named.name not in wanted:
            continue
        hit = _named_hit(ctx.input, named)
        if hit is None:
            continue
        why = f"named-account list {named.name}: {hit}"
        to = named.to
        found, outcome = _send(ctx, stage, step, to.rep, to.pool, why=why, rule=named.name)
        results.append(outcome)
        if found is not None:
            return results, found
    if not results:
        results.append(_shared_result(stage.name, step.name, step.kind, "account is on no named-account list"))
    return results, None


def _named_hit(inp: RoutingInput, named: NamedAccountList) -> str | None:
    account = inp.account
    if account is not None:
        if account.id in named.account_ids or account.native_id in named.account_ids:
            return f"account {account.name} is listed"
        for domain in (account.domain, *account.extra_domains):
            if domain and domain.lower() in named.domains:
                return f"account domain {domain} is listed"
    domain = inp.lead.email_domain
    if domain and domain.lower() in named.domains:
        return f"email domain {domain} is listed"
    return None


def _rules(ctx: RouteContext, stage: Stage, step: RulesStep) -> Found:
    results: list[StepResult] = []
    seen: dict[str, Value] = {}
    rules = compiled_rules(step)
    screened, left = _screen(stage.name, step, rules, ctx, seen)
    done = 0  # rules before this one are in the results
    for i in left:  # the rules the screen did not rule out; the others' results go in as they are, run by run
        results.extend(cast(_Ruled, screened[done:i]))  # between two rules left, every rule was ruled out
        done = i + 1
        compiled = rules[i]
        rule = compiled.rule
        mismatch = compiled.mismatch(ctx.input, ctx.config.regions, seen)
        if mismatch is not None:
            results.append(_no_match(stage.name, step, rule.name, mismatch))
            continue
        detail = f"rule {rule.name} matched ({compiled.description})"
        found, outcome = _send(ctx, stage, step, rule.to.rep, rule.to.pool, why=detail, rule=rule.name)
        results.append(outcome)
        if found is not None:
            return results, found
    results.extend(cast(_Ruled, screened[done:]))
    if not step.rules:
        results.append(StepResult(stage.name, step.name, step.kind, "no_match", "no rules"))
    return results, None


Screened = tuple[tuple[StepResult | None, ...], tuple[int, ...]]
_Ruled = tuple[StepResult, ...]
_SCREENS: dict[tuple[int, str, tuple[tuple[type, Value], ...]], tuple[RulesStep, Screened]] = {}


def _screen(
    stage: str, step: RulesStep, rules: tuple[CompiledRule, ...], ctx: RouteContext, seen: dict[str, Value]
) -> Screened:
    """Each rule's result when its first condition already fails for this lead, else None (evaluate it); and the
    positions of the rules left to evaluate.

    The lead's values of the fields rules test first (usually one or two: country, region...) repeat across
    leads, so the rules they rule out, and the reasons, are worked out once per combination of values; most rules
    are then passed over without being evaluated. The reasons are the ones evaluating would give, since a rule
    reports its first failing condition.
    """
    fields = _first_fields(step, rules)
    for name in fields:
        if name not in seen:
            seen[name] = field_value(name, ctx.input, ctx.config.regions)
    # Types are part of the key: 1, 1.0 and True hash alike but are shown differently in the reasons.
    values = tuple((type(seen[name]), seen[name]) for name in fields)
    key = (id(step), stage, values)
    try:
        cached = _SCREENS.get(key)
    except TypeError:  # an unhashable custom property value: evaluate every rule
        return (None,) * len(rules), tuple(range(len(rules)))
    if cached is None or cached[0] is not step:
        if len(_SCREENS) >= 20_000:
            _SCREENS.clear()
        screened = tuple(_first_failure(stage, step, compiled, seen) for compiled in rules)
        left = tuple(i for i, failed in enumerate(screened) if failed is None)
        cached = _SCREENS[key] = (step, (screened, left))
    return cached[1]


def _first_failure(stage: str, step: RulesStep, compiled: CompiledRule, seen: dict[str, Value]) -> StepResult | None:
    if not compiled.conditions:
        return None
    first = compiled.conditions[0]
    failure = first.failure(seen[first.field])
    return None if failure is None else _no_match(stage, step, compiled.rule.name, failure)


_FIRST_FIELDS: dict[int, tuple[RulesStep, tuple[str, ...]]] = {}


def _first_fields(step: RulesStep, rules: tuple[CompiledRule, ...]) -> tuple[str, ...]:
    cached = _FIRST_FIELDS.get(id(step))
    if cached is None or cached[0] is not step:
        if len(_FIRST_FIELDS) > 1_000:
            _FIRST_FIELDS.clear()
        names = tuple(dict.fromkeys(c.conditions[0].field for c in rules if c.conditions))
        cached = _FIRST_FIELDS[id(step)] = (step, names)
    return cached[1]


_NO_MATCH: dict[tuple[str, str, str, str | None, str], StepResult] = {}


def _no_match(stage: str, step: RulesStep, rule: str, mismatch: str) -> StepResult:
    """A rule that did not apply; the same (immutable) result is shared by every lead that failed it the same way."""
    return _shared_result(stage, step.name, step.kind, mismatch, rule)


def _shared_result(stage: str, step: str, kind: str, detail: str, rule: str | None = None) -> StepResult:
    """A step (or rule) that did not apply, as one shared (immutable) result per reason."""
    key = (stage, step, kind, rule, detail)
    found = _NO_MATCH.get(key)
    if found is None:
        if len(_NO_MATCH) >= 20_000:
            _NO_MATCH.clear()
        found = _NO_MATCH[key] = StepResult(stage, step, kind, "no_match", detail, rule=rule)
    return found


def _default_pool(ctx: RouteContext, stage: Stage, step: PoolStep) -> Found:
    found, outcome = _send(ctx, stage, step, None, step.pool, why="every lead reaching it")
    return [outcome], found


def _send(
    ctx: RouteContext,
    stage: Stage,
    at: NamedAccountsStep | RulesStep | PoolStep,
    to_rep: str | None,
    to_pool: str | None,
    *,
    why: str,
    rule: str | None = None,
) -> tuple[Assignment | None, StepResult]:
    """Give the lead to a target (a rep or a pool, one of them set): the rep if available, else someone from the
    pool's waterfall."""
    step, kind = at.name, at.kind
    if to_rep is not None:
        rep = ctx.config.reps_by_key[to_rep]
        skip = ctx.skip(rep)
        if skip is not None:
            return None, StepResult(
                stage.name,
                step,
                kind,
                "unavailable",
                f"{why}, but {rep.display_name} is unavailable: {skip.reason}",
                rule=rule,
            )
        return _assign(ctx, stage, step, rep, rule=rule), StepResult(
            stage.name, step, kind, "assigned", f"{why}: to {rep.display_name}", rule=rule, owner=rep.email
        )
    assert to_pool is not None
    choice = choose_from_pool(ctx, to_pool)
    outcome: StepOutcome = "assigned" if choice.owner is not None else "unavailable"
    result = StepResult(
        stage.name,
        step,
        kind,
        outcome,
        f"{why}: {choice.detail}",
        rule=rule,
        pool=choice.pool,
        pools_tried=choice.tried,
        picks=choice.picks,
        owner=choice.owner.email if choice.owner else None,
    )
    if choice.owner is None:
        return None, result
    return _assign(ctx, stage, step, choice.owner, rule=rule, pool=choice.pool), result


_COMPILED: dict[int, tuple[RulesStep, tuple[CompiledRule, ...]]] = {}


def compiled_rules(step: RulesStep) -> tuple[CompiledRule, ...]:
    """The step's rules compiled once (steps are frozen; the entry keeps the step so a reused id cannot alias)."""
    cached = _COMPILED.get(id(step))
    if cached is None or cached[0] is not step:
        if len(_COMPILED) > 1_000:
            _COMPILED.clear()
        cached = (step, tuple(compile_rule(rule) for rule in step.rules))
        _COMPILED[id(step)] = cached
    return cached[1]


def _alert(trace: list[StepResult], assignments: list[Assignment]) -> str | None:
    """Why the lead reached the final fallback: every step that failed, non-matching rules summarized."""
    fallen = [a for a in assignments if a.final_fallback]
    if not fallen:
        return None
    stages = {a.stage for a in fallen}
    failed = [r for r in trace if r.stage in stages and r.outcome != "assigned"]
    unmatched_rules = sum(1 for r in failed if r.kind == "rules" and r.outcome == "no_match")
    reasons = [f"{_label(r)}: {r.detail}" for r in failed if not (r.kind == "rules" and r.outcome == "no_match")]
    if unmatched_rules:
        reasons.append(f"{unmatched_rules} rule(s) did not match")
    names = ", ".join(a.owner_name for a in fallen)
    return f"lead sent to the final fallback ({names}): {'; '.join(reasons) or 'the stage has no steps'}"


def _label(result: StepResult) -> str:
    return f"{result.step} › {result.rule}" if result.rule else result.step


_HANDLERS: dict[str, Callable[..., Found]] = {
    "account_owner": _account_owner,
    "named_accounts": _named_accounts,
    "rules": _rules,
    "pool": _default_pool,
}
