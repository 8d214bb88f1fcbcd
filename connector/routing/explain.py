"""A decision in plain language: what was known, which steps were tried and why each did or did not apply,
who was considered (with the ledger credit used, or the reason they were skipped), and who got the lead."""

from __future__ import annotations

from connector.routing.model import Assignment, Candidate, Decision, StepResult

_MARKS = {"assigned": "→", "no_match": "·", "unavailable": "✗", "skipped": "·"}
_OUTCOMES = {
    "assigned": "assigned",
    "no_match": "did not apply",
    "unavailable": "nobody available",
    "skipped": "skipped",
}


def explain(decision: Decision) -> list[str]:
    """The decision as lines of text, for ``leadrelay explain`` and for the lead's timeline."""
    lines = _header(decision)
    lines.append("")
    lines.extend(_owner_line(a) for a in decision.assignments)
    if decision.alert is not None:
        lines.append(f"ALERT: {decision.alert}")
    lines.append("")
    lines.append("How it was decided (first step with an available owner wins):")
    for number, step in enumerate(decision.trace, 1):
        lines.extend(_step_lines(number, step, decision.assignments))
    return lines


def _header(decision: Decision) -> list[str]:
    inp, lead = decision.input, decision.input.lead
    who = ", ".join(p for p in (lead.email, lead.company, lead.country) if p)
    when = decision.decided_at.strftime("%Y-%m-%d %H:%M:%S %Z")
    lines = [
        f"Lead {lead.id}" + (f" ({who})" if who else ""),
        f"Stage {decision.stage}, decided {when}, rule file version {decision.config_version or 'unknown'}",
    ]
    if inp.account is not None:
        how = f"matched by {inp.match_method}" if inp.match_method else "matched"
        confidence = f", confidence {inp.match_confidence:.2f}" if inp.match_confidence is not None else ""
        owner = f", owned by {inp.account.owner_key}" if inp.account.owner_key else ", no owner"
        lines.append(f"Account {inp.account.name} ({inp.account.id}), {how}{confidence}{owner}")
    else:
        lines.append("No matched account")
    score = [f"{k} {v}" for k, v in (("grade", inp.grade), ("fit", inp.fit), ("activity", inp.activity)) if v]
    if score or inp.outcome:
        lines.append("Score: " + ", ".join(score) + (f"; outcome {inp.outcome}" if inp.outcome else ""))
    lines.extend(f"  {line}" for line in inp.score_breakdown)
    return lines


def _owner_line(assignment: Assignment) -> str:
    label = "Owner" if assignment.role == "primary" else "Secondary owner"
    via = [assignment.step]
    if assignment.rule:
        via.append(f"rule {assignment.rule}")
    if assignment.pool:
        via.append(f"pool {assignment.pool}")
    name = (
        assignment.owner_name
        if assignment.owner_name == assignment.owner
        else f"{assignment.owner_name} <{assignment.owner}>"
    )
    fallback = " (FINAL FALLBACK)" if assignment.final_fallback else ""
    booking = f"; booking link {assignment.booking_link}" if assignment.booking_link else ""
    return f"{label}: {name}{fallback} [{assignment.stage}] via {' › '.join(via)}{booking}"


def _step_lines(number: int, step: StepResult, assignments: tuple[Assignment, ...]) -> list[str]:
    name = f"{step.step} › {step.rule}" if step.rule else step.step
    lines = [f"{number:>3}. {_MARKS[step.outcome]} [{step.stage}] {name}: {_OUTCOMES[step.outcome]}: {step.detail}"]
    chosen = {a.owner for a in assignments if a.stage == step.stage}
    lines.extend(_candidate_line(c, c.rep in chosen and c.rep == step.owner) for c in step.candidates)
    return lines


def _candidate_line(candidate: Candidate, chosen: bool) -> str:
    credit = f"credit {candidate.credit:+.2f}" if candidate.credit is not None else ""
    where = f"[{candidate.pool}] " if candidate.pool else ""
    if candidate.eligible:
        mark = "chosen" if chosen else "eligible"
        return f"        {'✓' if chosen else '+'} {where}{candidate.rep} weight {candidate.weight:g} {credit} ({mark})"
    return f"        - {where}{candidate.rep} skipped: {candidate.reason}"
