"""The outbox's values: the ``Assignment`` a routing decision hands over, the effects it implies, their states.

``Assignment`` is the frozen input contract between routing and the outbox: everything needed to write the owner,
create a task a rep can act on and nudge the rep, so delivery never has to read the cache again (the cache may
have moved on by the time a retry runs). It round-trips through JSON because the outbox stores it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal

import orjson

NextAction = Literal["call", "email", "research"]
NEXT_ACTIONS: tuple[NextAction, ...] = ("call", "email", "research")
MessageKind = Literal["sla_reminder", "sla_escalation", "audit_summary"]
# Messages that only tell someone something: no owner write, no task, whatever the assignee's CRM ids say.
NOTIFY_ONLY: frozenset[MessageKind] = frozenset({"sla_reminder", "audit_summary"})


class EffectKind(StrEnum):
    """What one outbox item does."""

    SET_OWNER = "set_owner"
    CREATE_TASK = "create_task"
    NOTIFY_SLACK = "notify_slack"
    NOTIFY_EMAIL = "notify_email"


class ItemState(StrEnum):
    """Where an item is in its life. ``pending`` is the only state the worker claims."""

    PENDING = "pending"  # due at next_at; may be leased by a worker right now
    DONE = "done"  # the effect happened (or was found to have happened already)
    CONFLICT = "conflict"  # a human changed the owner after the decision: we left it alone
    SKIPPED = "skipped"  # not needed any more (its owner write lost to a human)
    DEAD = "dead"  # retries exhausted or a fatal error: waits for `leadrelay outbox retry|drop`
    DROPPED = "dropped"  # an operator gave up on it


TERMINAL_STATES = frozenset({ItemState.DONE, ItemState.CONFLICT, ItemState.SKIPPED, ItemState.DEAD, ItemState.DROPPED})


@dataclass(frozen=True)
class RecordRef:
    """A record in one CRM: ``crm`` (hubspot/salesforce), ``object`` (contacts, Lead, Contact, companies, Account)."""

    crm: str
    object: str
    native_id: str

    @property
    def record_id(self) -> str:
        """The cache-wide id, ``crm:object:native_id``."""
        return f"{self.crm}:{self.object}:{self.native_id}"


@dataclass(frozen=True)
class LeadCard:
    """What a rep needs to see about the person, already formatted by routing (free text, may be hostile)."""

    name: str
    email: str | None = None
    company: str | None = None
    title: str | None = None
    country: str | None = None
    company_size: str | None = None
    source: str | None = None
    score_text: str | None = None  # e.g. "Fit 82 (title VP, 200-500 employees) / Activity 64 (demo request)"
    activity_text: str | None = None  # e.g. "Requested a demo 2 h ago; 3 pricing page views"


@dataclass(frozen=True)
class AccountCard:
    """The matched account, if any, and what a rep should know about it before calling."""

    name: str
    record: RecordRef | None = None  # the account in the same CRM as the lead (task association / WhatId)
    owner_name: str | None = None
    is_customer: bool = False
    has_open_opportunity: bool = False
    engaged_contacts: int | None = None


@dataclass(frozen=True)
class Assignee:
    """The new owner: one person (or queue) with their native id in each CRM and how to reach them."""

    key: str
    name: str
    crm_ids: Mapping[str, str] = field(default_factory=dict)  # crm -> native owner/User/Queue id
    email: str | None = None
    booking_link: str | None = None
    slack_user_id: str | None = None
    slack_email: str | None = None  # looked up with users.lookupByEmail when no user id is known
    is_queue: bool = False  # a Salesforce queue can own a lead but not a task, and cannot be nudged


@dataclass(frozen=True)
class Message:
    """What a nudge says when it is not "a new lead for you": an SLA reminder or escalation, or a report.

    ``rows`` are (label, value) facts under ``heading`` and ``lines`` free text under ``lines_heading``, both
    shown before the lead's own facts (an audit summary has no lead: only these are shown). ``channel`` posts the
    message to that Slack channel instead of the assignee's DM. Every value is cleaned and escaped where it is
    rendered, like the lead's.
    """

    kind: MessageKind
    title: str
    heading: str = ""
    rows: tuple[tuple[str, str], ...] = ()
    lines_heading: str = ""
    lines: tuple[str, ...] = ()
    channel: str | None = None

    @property
    def notify_only(self) -> bool:
        """Whether the message implies nothing in the CRM (a reminder, a summary), only the nudge itself."""
        return self.kind in NOTIFY_ONLY


@dataclass(frozen=True)
class Assignment:
    """A routing decision to act on, exactly once per ``decision_id``.

    ``lead`` is the record routing decided about; ``also`` holds the same person in the other CRM. When the
    person lives in both, only the record in ``system_of_record`` is written (owner and task).
    ``previous_owner_id`` is the native owner id on that record when routing decided: the compare-and-set base.
    ``message``, when set, makes the outbox's nudge say something other than "new lead" (see ``Message``); the
    SLA reminders and the audit summary travel this way so they get the outbox's retries and exactly-once checks.
    """

    decision_id: str
    lead: RecordRef
    card: LeadCard
    owner: Assignee
    due_ms: int
    next_action: NextAction = "call"
    why: tuple[str, ...] = ()
    account: AccountCard | None = None
    previous_owner_id: str | None = None
    also: tuple[RecordRef, ...] = ()
    system_of_record: str | None = None
    decided_ms: int = 0
    message: Message | None = None

    @property
    def target(self) -> RecordRef:
        """The one record to write: the lead, or its twin in the system of record."""
        if self.system_of_record in (None, self.lead.crm):
            return self.lead
        for twin in self.also:
            if twin.crm == self.system_of_record:
                return twin
        return self.lead

    def to_json(self) -> str:
        """Serialize for the outbox table (compact JSON, fields in declaration order)."""
        try:
            # orjson walks the dataclasses itself: ~100x faster than asdict + json.dumps, same text
            return orjson.dumps(self).decode("utf-8")
        except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits: the standard library copes
            return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Assignment:
        """Rebuild an assignment stored by ``to_json``."""
        raw: dict[str, Any] = json.loads(text)
        account = raw.get("account")
        if account is not None:
            record = account.get("record")
            account = AccountCard(**{**account, "record": RecordRef(**record) if record else None})
        owner = raw["owner"]
        message = raw.get("message")
        if message is not None:
            rows = tuple((str(label), str(value)) for label, value in message.get("rows") or ())
            message = Message(**{**message, "rows": rows, "lines": tuple(message.get("lines") or ())})
        return cls(
            **{
                **raw,
                "lead": RecordRef(**raw["lead"]),
                "card": LeadCard(**raw["card"]),
                "owner": Assignee(**{**owner, "crm_ids": dict(owner.get("crm_ids") or {})}),
                "why": tuple(raw.get("why") or ()),
                "account": account,
                "also": tuple(RecordRef(**r) for r in raw.get("also") or ()),
                "message": message,
            }
        )


@dataclass(frozen=True)
class OutboxItem:
    """One effect of one decision, as stored: ``target`` is the CRM written, or ``slack`` / ``email``."""

    id: int
    decision_id: str
    kind: EffectKind
    target: str
    state: ItemState
    attempts: int  # claims since the last operator retry: the retry budget
    next_at: float
    claims: int = 0  # claims ever: more than one means an earlier one may have performed the effect
    last_error: str | None = None
    result: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0

    @property
    def maybe_done(self) -> bool:
        """True when an earlier attempt may have performed the effect, so it must be checked before redoing."""
        return self.claims > 1


@dataclass(frozen=True)
class Job:
    """An item claimed for delivery, with the assignment it belongs to."""

    item: OutboxItem
    assignment: Assignment


OutcomeStatus = Literal["done", "conflict", "retry", "defer", "dead"]  # defer: budget spent, costs no attempt


@dataclass(frozen=True)
class Outcome:
    """What a delivery attempt achieved for one item; ``detail`` is shown by `outbox list`."""

    status: OutcomeStatus
    detail: str | None = None
    retry_after: float | None = None

    @classmethod
    def done(cls, detail: str | None = None) -> Outcome:
        """The effect happened (now or earlier)."""
        return cls("done", detail)

    @classmethod
    def conflict(cls, detail: str) -> Outcome:
        """A human changed the record since the decision; nothing was written."""
        return cls("conflict", detail)
