"""What a decision implies: the effects an ``Assignment`` sets in motion under the actions config."""

from __future__ import annotations

from dataclasses import dataclass

from connector.config.actions import ActionsConfig
from connector.outbox.model import Assignment, EffectKind


@dataclass(frozen=True)
class Effect:
    """One effect to enqueue: its kind and the system it touches (a CRM name, ``slack`` or ``email``)."""

    kind: EffectKind
    target: str


def effects_for(assignment: Assignment, actions: ActionsConfig) -> tuple[Effect, ...]:
    """The effects of ``assignment``: owner write and task in the system of record, then the configured nudges.

    A person present in both CRMs is written only in the system of record, so the two CRMs never fight over who
    owns them. A rep with no Slack identity gets no Slack nudge; ``only_without_slack`` keeps email for them alone.
    A message for a channel is one Slack post (an email has no channel to go to); a notify-only message (an SLA
    reminder) implies the nudges alone.
    """
    message = assignment.message
    if message is not None and message.channel:
        return (Effect(EffectKind.NOTIFY_SLACK, "slack"),) if actions.slack.enabled else ()
    if message is not None and message.notify_only:
        return _nudges(assignment, actions)
    return _crm_effects(assignment, actions) + _nudges(assignment, actions)


def _crm_effects(assignment: Assignment, actions: ActionsConfig) -> tuple[Effect, ...]:
    crm = assignment.target.crm
    found: list[Effect] = []
    if actions.write_owner and assignment.owner.crm_ids.get(crm):
        found.append(Effect(EffectKind.SET_OWNER, crm))
    if actions.create_task and assignment.owner.crm_ids.get(crm) and not assignment.owner.is_queue:
        found.append(Effect(EffectKind.CREATE_TASK, crm))
    return tuple(found)


def _nudges(assignment: Assignment, actions: ActionsConfig) -> tuple[Effect, ...]:
    owner = assignment.owner
    has_slack = bool(actions.slack.channel or owner.slack_user_id or owner.slack_email or owner.email)
    if owner.is_queue:
        return ()
    found: list[Effect] = []
    if actions.slack.enabled and has_slack:
        found.append(Effect(EffectKind.NOTIFY_SLACK, "slack"))
    wants_email = actions.email.enabled and bool(assignment.owner.email)
    if wants_email and not (actions.email.only_without_slack and actions.slack.enabled and has_slack):
        found.append(Effect(EffectKind.NOTIFY_EMAIL, "email"))
    return tuple(found)
