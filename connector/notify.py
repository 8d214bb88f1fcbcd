"""Nudging a rep: the ``Notifier`` protocol the Slack and email adapters implement, and the outbox performer over it.

A notification cannot be un-sent, so each notifier gives a way to find one already sent for a decision
(``find_sent``: Slack reads the DM's history for our message metadata; SMTP cannot, so email answers None and
the at-least-once window is documented in docs/actions.md). The performer checks before re-sending whenever an
earlier attempt, in this process or a dead one, may have gone through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from connector.config.actions import ActionsConfig
from connector.errors import LeadrelayError
from connector.outbox.model import Assignment, EffectKind, Job, Outcome
from connector.outbox.task_body import (
    Section,
    clean,
    html_body,
    notification_title,
    plain_body,
    record_url,
    safe_url,
    sections,
)
from connector.outbox.worker import outcome_for_error
from connector.retry import RetryPolicy


@dataclass(frozen=True)
class Notification:
    """One nudge about one decision, cleaned and ready to render for any medium."""

    decision_id: str
    title: str
    sections: tuple[Section, ...]
    plain: str
    html: str
    recipient_name: str
    recipient_email: str | None = None
    slack_user_id: str | None = None
    slack_email: str | None = None
    record_url: str | None = None
    booking_link: str | None = None
    decided_ms: int = 0
    channel: str | None = None  # a Slack channel for this message instead of the recipient's DM (the audit summary)


def build_notification(assignment: Assignment, actions: ActionsConfig) -> Notification:
    """The nudge for ``assignment``: title from the template, the task's facts, links to the record and booking page."""
    owner = assignment.owner
    return Notification(
        decision_id=assignment.decision_id,
        title=notification_title(assignment, actions.templates),
        sections=sections(assignment),
        plain=plain_body(assignment, actions.links),
        html=html_body(assignment, actions.links),
        recipient_name=clean(owner.name, 120),
        recipient_email=clean(owner.email, 254) or None,
        slack_user_id=clean(owner.slack_user_id, 40) or None,
        slack_email=clean(owner.slack_email or owner.email, 254) or None,
        record_url=record_url(assignment.target, actions.links),
        booking_link=safe_url(owner.booking_link),
        decided_ms=assignment.decided_ms,
        channel=clean(assignment.message.channel, 80) or None if assignment.message else None,
    )


class Notifier(Protocol):
    """A channel that can deliver a ``Notification`` and, where the medium allows, find one already delivered."""

    channel: str  # "slack" or "email": the outbox target it serves

    def send(self, note: Notification) -> str:
        """Deliver ``note``; returns a marker of what was sent (Slack ts, email Message-ID)."""
        ...

    def find_sent(self, note: Notification) -> str | None:
        """The marker of an earlier delivery of this decision's nudge; None when there is none or no way to know."""
        ...


class NotificationPerformer:
    """Outbox performer for one notifier: one send per job, each retried alone, checked before any re-send."""

    batch_size = 20

    def __init__(
        self, notifier: Notifier, actions: ActionsConfig, retry: RetryPolicy | None = None, *, batch_size: int = 20
    ) -> None:
        self.notifier = notifier
        self.actions = actions
        self.retry = retry or RetryPolicy(attempts=3, initial_s=0.2, max_s=5.0, jitter_s=0.2)
        self.kind = EffectKind.NOTIFY_SLACK if notifier.channel == "slack" else EffectKind.NOTIFY_EMAIL
        self.target = notifier.channel
        self.batch_size = batch_size

    def perform(self, jobs: Sequence[Job]) -> list[Outcome]:
        """Send each job's nudge; a failure of one never affects the others."""
        return [self._deliver(job) for job in jobs]

    def _deliver(self, job: Job) -> Outcome:
        note = build_notification(job.assignment, self.actions)
        tried = job.item.maybe_done

        def attempt() -> str:
            nonlocal tried
            if tried:
                found = self.notifier.find_sent(note)
                if found:
                    return f"already sent: {found}"
            tried = True
            return f"sent: {self.notifier.send(note)}"

        try:
            return Outcome.done(self.retry.call(attempt, what=f"{self.target}_notify"))
        except LeadrelayError as error:
            return outcome_for_error(error)
