"""The durable outbox: every effect of a routing decision (owner write, task, Slack, email) happens exactly once.

``enqueue(conn, assignment)`` in the caller's transaction; ``OutboxWorker(db, performers).run()`` delivers.
"""

from connector.outbox.model import (
    AccountCard,
    Assignee,
    Assignment,
    EffectKind,
    ItemState,
    Job,
    LeadCard,
    OutboxItem,
    Outcome,
    RecordRef,
)
from connector.outbox.store import enqueue, install
from connector.outbox.worker import OutboxWorker, Performer

__all__ = [
    "AccountCard",
    "Assignee",
    "Assignment",
    "EffectKind",
    "ItemState",
    "Job",
    "LeadCard",
    "OutboxItem",
    "OutboxWorker",
    "Outcome",
    "Performer",
    "RecordRef",
    "enqueue",
    "install",
]
