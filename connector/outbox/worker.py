"""The delivery loop: claim due items per (kind, target), hand each batch to its performer, file the outcomes.

Performers (``adapters/*/writes.py``, the notifiers) do the calls, batched as far as the CRM allows and retried
within the batch by the shared ``RetryPolicy``. The worker owns everything around them: leases, backoff between
claims, the dead letter, and the rule that one failing kind (Slack down) never holds up another (owner writes).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Protocol

import sqlite_utils

from connector.config.actions import OutboxConfig
from connector.errors import BudgetExhaustedError, FatalError, LeadrelayError, RetriableError
from connector.logs import get_logger
from connector.outbox import store
from connector.outbox.model import EffectKind, ItemState, Job, Outcome

log = get_logger(__name__)


class Performer(Protocol):
    """Performs one kind of effect on one target, a batch at a time, and says what happened to each job.

    ``perform`` returns one ``Outcome`` per job, in order. It may raise a ``LeadrelayError`` instead, which then
    applies to the whole batch. A job whose ``item.maybe_done`` is set may have been performed by an earlier,
    interrupted attempt: the performer must check before doing it again.
    """

    kind: EffectKind
    target: str
    batch_size: int

    def perform(self, jobs: Sequence[Job]) -> list[Outcome]:
        """Do the effect of each job (or find it already done)."""
        ...


def outcome_for_error(error: BaseException, *, now: float | None = None) -> Outcome:
    """The outcome a failed call means: retry later for transient trouble, dead for anything retrying cannot fix."""
    detail = f"{type(error).__name__}: {getattr(error, 'message', None) or error}"[:500]
    if isinstance(error, BudgetExhaustedError):
        at = time.time() if now is None else now
        return Outcome("defer", detail, retry_after=max(0.0, (error.resume_at or at + 3600) - at))
    if isinstance(error, RetriableError):
        return Outcome("retry", detail, retry_after=error.retry_after)
    if isinstance(error, FatalError):
        return Outcome("dead", detail)
    return Outcome("retry", detail)  # a bug or an unmapped library error: retry, then the dead letter


class PassPacer:
    """A token bucket over busy delivery passes: ``burst`` passes at once, one per ``every_s`` sustained."""

    def __init__(self, every_s: float, burst: int = 1, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.every_s = every_s
        self.burst = burst
        self.clock = clock
        self.tokens = float(burst)
        self._at = clock()

    def spend(self) -> float:
        """Count the pass just made; returns how long to wait before the next one (0 while tokens are left)."""
        now = self.clock()
        self.tokens = min(float(self.burst), self.tokens + (now - self._at) / self.every_s) - 1.0
        self._at = now
        return max(0.0, -self.tokens * self.every_s)


def new_worker_id() -> str:
    """A name unique to this process and start: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class OutboxWorker:
    """Delivers the outbox of ``db`` with the given performers; drive it with ``deliver`` or ``run``.

    ``kinds`` limits the worker to some effect kinds (a lane: the daemon gives owner writes a worker of their own,
    so they never queue behind tasks and notifications); ``after_batch`` runs after each batch is filed (the owner
    lane wakes the lane whose effects were waiting on the owner write); ``min_pass_s`` paces busy passes to one per
    ``min_pass_s`` sustained, ``pass_burst`` at once (``PassPacer``), so a lane gathers bigger batches under load
    (fewer CRM calls per lead) without holding back the pass that follows a quiet spell.
    """

    def __init__(
        self,
        db: sqlite_utils.Database,
        performers: Iterable[Performer],
        policy: OutboxConfig | None = None,
        *,
        worker_id: str | None = None,
        clock: Callable[[], float] = time.time,
        kinds: Collection[EffectKind] | None = None,
        after_batch: Callable[[], None] | None = None,
        min_pass_s: float = 0.0,
        pass_burst: int = 1,
    ) -> None:
        self.db = db
        self.kinds = frozenset(kinds) if kinds is not None else frozenset(EffectKind)
        self.performers = {(p.kind, p.target): p for p in performers if p.kind in self.kinds}
        self.policy = policy or OutboxConfig()
        self.worker_id = worker_id or new_worker_id()
        self.clock = clock
        self.after_batch = after_batch
        self.pacer = PassPacer(min_pass_s, pass_burst) if min_pass_s > 0 else None
        self.stop_event = threading.Event()
        self._wake = threading.Event()
        self._missing: set[tuple[EffectKind, str]] = set()

    def deliver(self, batch_size: int | None = None) -> int:
        """One pass: for every (kind, target) with due items, claim and perform one batch. Returns items filed."""
        filed = 0
        for kind, target in store.due_groups(self.db, now=self.clock(), kinds=self.kinds):
            if self.stop_event.is_set():
                break
            performer = self._performer(kind, target)
            if performer is not None:
                filed += self._deliver_batch(performer, batch_size or performer.batch_size)
        return filed

    def _performer(self, kind: EffectKind, target: str) -> Performer | None:
        performer = self.performers.get((kind, target))
        if performer is None and (kind, target) not in self._missing:
            self._missing.add((kind, target))
            log.warning("outbox_no_performer", kind=kind.value, target=target)
        return performer

    def _deliver_batch(self, performer: Performer, limit: int) -> int:
        jobs = store.claim(
            self.db,
            performer.kind,
            performer.target,
            limit=limit,
            worker=self.worker_id,
            lease_s=self.policy.lease_s,
            now=self.clock(),
        )
        if not jobs:
            return 0
        started = time.perf_counter()
        outcomes = self._perform(performer, jobs)
        performed_s = time.perf_counter() - started
        settled = store.complete(
            self.db, self.worker_id, list(zip((j.item for j in jobs), outcomes, strict=True)), self.policy
        )
        self._log_batch(performer, jobs, outcomes, settled, performed_s)
        if self.after_batch is not None:
            self.after_batch()
        return len(jobs)

    def _perform(self, performer: Performer, jobs: list[Job]) -> list[Outcome]:
        try:
            outcomes = performer.perform(jobs)
        except LeadrelayError as error:
            return [outcome_for_error(error, now=self.clock())] * len(jobs)
        except Exception as error:  # a performer bug must not kill the loop; the items retry, then go dead
            log.exception("outbox_performer_crashed", kind=performer.kind.value, target=performer.target)
            return [outcome_for_error(error)] * len(jobs)
        if len(outcomes) != len(jobs):
            raise RuntimeError(f"{performer.kind} performer returned {len(outcomes)} outcomes for {len(jobs)} jobs")
        return outcomes

    def _log_batch(
        self,
        performer: Performer,
        jobs: list[Job],
        outcomes: list[Outcome],
        settled: list[store.Settled],
        performed_s: float,
    ) -> None:
        states: dict[str, int] = {}
        for s in settled:
            states[s.state.value] = states.get(s.state.value, 0) + 1
        log.info(
            "outbox_batch_delivered",
            kind=performer.kind.value,
            target=performer.target,
            size=len(jobs),
            seconds=round(performed_s, 4),
            **states,
        )
        for job, outcome, filed in zip(jobs, outcomes, settled, strict=True):
            if filed.state in (ItemState.DEAD, ItemState.CONFLICT):
                log.warning(
                    f"outbox_item_{filed.state.value}",
                    item_id=job.item.id,
                    decision_id=job.item.decision_id,
                    kind=job.item.kind.value,
                    detail=outcome.detail,
                )

    def pending(self) -> int:
        """Items not yet in a final state."""
        return store.counts(self.db).get(ItemState.PENDING.value, 0)

    def next_due_in(self) -> float | None:
        """Seconds until the next pending item is due (0 when one is due now), or None when none is pending."""
        row = self.db.conn.execute(
            "SELECT MIN(MAX(next_at, COALESCE(lease_until, 0))) FROM outbox_items WHERE state = 'pending'"
        ).fetchone()
        return None if row[0] is None else max(0.0, float(row[0]) - self.clock())

    def run_until_empty(self, *, timeout_s: float = 60.0, sleep: Callable[[float], None] = time.sleep) -> int:
        """Deliver until nothing is pending (waiting out backoffs), or ``timeout_s`` passes. Returns items filed."""
        deadline = time.monotonic() + timeout_s
        filed = 0
        while not self.stop_event.is_set():
            filed += self.deliver()
            wait = self.next_due_in()
            if wait is None or time.monotonic() > deadline:
                return filed
            if wait > 0:
                sleep(min(wait, max(0.0, deadline - time.monotonic()), self.policy.poll_interval_s))
        return filed

    def run(self, *, burst: bool = False, max_iterations: int | None = None) -> int:
        """The daemon loop: deliver, sleep when idle, stop on ``stop()``; ``burst`` stops once nothing is due."""
        filed, iterations = 0, 0
        log.info("outbox_worker_started", worker=self.worker_id, kinds=sorted(k.value for k in self.kinds))
        while not self.stop_event.is_set() and (max_iterations is None or iterations < max_iterations):
            iterations += 1
            done = self._pass()
            filed += done
            if done == 0:
                if burst:
                    break
                self._wake.wait(self.policy.poll_interval_s)
                self._wake.clear()
            elif self.pacer is not None and not burst:  # let the next batch gather (a stop cuts the wait short)
                self.stop_event.wait(self.pacer.spend())
        log.info("outbox_worker_stopped", worker=self.worker_id, filed=filed)
        return filed

    def _pass(self) -> int:
        """One delivery pass that never ends the daemon: a failure is logged and the loop goes on after a pause."""
        try:
            return self.deliver()
        except Exception:  # e.g. the database locked past its busy timeout; leases make the retry safe
            log.exception("outbox_pass_failed", worker=self.worker_id)
            return 0

    def wake(self) -> None:
        """Cut the idle sleep short: call after committing a decision so its effects start at once."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the current batch, then leave ``run``."""
        self.stop_event.set()
        self._wake.set()
