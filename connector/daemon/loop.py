"""``Daemon``: the long-running loop behind ``leadrelay run``, shaped like rq's worker.

Each turn: pick up a changed rule file, read the contacts stored webhook events name into the cache, run the scheduled
jobs that are due (per-CRM incremental sync, outbox retries, nightly reconcile, housekeeping, jobs other parts add),
route every waiting lead, deliver what is due, and write the heartbeat. Between turns it sleeps until the next job,
or until a webhook or an API call wakes it (``wake``), so a new lead is routed as soon as it is seen.

``request_stop`` (the first SIGTERM) lets the step in hand finish (a sync stops between pages, cursors saved),
flushes the outbox and returns; ``run(burst=True)`` drains everything once and returns (tests, cron).

Threads: the loop owns ``relay.db``; routing (``pipeline``) has its own connection, shared with the API thread
under ``route_lock`` because the router's in-memory fairness ledger must see decisions one at a time. Outbox
delivery runs in two lanes with their own threads and connections (``delivery.DeliveryLanes``): owner writes,
woken after each routing batch, never queue behind a sync pass, a task or a Slack nudge, and CRM calls overlap
with routing; a burst run delivers on the loop thread instead.

The collector (``connector.heap``): once the catch-up sync has loaded the cache and the account index is up to date,
``run`` settles the loaded data out of CPython's cyclic collector; each turn ``tend``s the policy (a clock read;
a re-settle at most every five minutes, after a config reload, a large account churn, or hourly), and stopping gives
the collector back as it was found.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import sqlite_utils

from connector import heap, metrics
from connector.analytics.jobs import schedule_jobs as schedule_analytics_jobs
from connector.config.loader import LoadedConfig
from connector.crm import CrmReader
from connector.daemon import heartbeat
from connector.daemon.delivery import OWNER_WORKERS, DeliveryLanes
from connector.daemon.jobs import JobBook, JobSpec, PeopleStreams
from connector.daemon.pacing import cycle_seconds
from connector.daemon.reload import ConfigWatcher
from connector.daemon.webhook_intake import WebhookIntake
from connector.db import connect
from connector.logs import get_logger
from connector.models import Lead
from connector.pipeline import LeadPipeline, PipelineResult
from connector.relay import CrmParts, Relay, build_crm_parts
from connector.sync.engine import SyncEngine, SyncReport
from connector.sync.readers import overlaps_ms
from connector.web import webhooks

log = get_logger("leadrelay.daemon")
HOUSEKEEPING_EVERY_S = 3600.0
# Leads decided per transaction: small enough that owner writes start while a burst is still being decided,
# large enough that a commit per batch costs nothing next to the decisions.
FEED_BATCH = 50
STOP_FLUSH_S = 10.0  # how long a graceful stop spends delivering due effects before it gives up


@dataclass
class TurnReport:
    """What one turn did; ``busy`` says whether another turn should follow at once."""

    events: int = 0
    synced: list[str] = field(default_factory=list)
    pipeline: PipelineResult = field(default_factory=PipelineResult)
    delivered: int = 0

    @property
    def busy(self) -> bool:
        """Whether the turn found work (a burst run stops after a turn without any)."""
        return bool(self.events or self.pipeline.seen or self.delivered)


class Daemon:
    """Syncs, routes and delivers until stopped; ``run`` is the entry point, ``add_job`` extends the schedule."""

    def __init__(
        self, loaded: LoadedConfig, *, parts: CrmParts | None = None, heap_policy: heap.HeapPolicy | None = None
    ) -> None:
        self.loaded = loaded
        self.heap = heap_policy if heap_policy is not None else heap.HeapPolicy()
        self.stopping = threading.Event()
        self.woken = threading.Event()
        self.route_lock = threading.RLock()
        self.route_db = connect(loaded.config.database)
        parts = parts if parts is not None else build_crm_parts(loaded.config)
        self.relay = Relay.open(loaded, parts=parts, should_stop=self.stopping.is_set, route_db=self.route_db)
        cycle = cycle_seconds(r.limiter for r in parts.readers)  # 0 unless the CRM calls are paced
        self.delivery = DeliveryLanes(
            str(loaded.config.database),
            parts.performers,
            loaded.config.actions.outbox,
            owner_workers=1 if cycle else OWNER_WORKERS,
            owner_cycle_s=cycle,
        )
        heartbeat.install(self.relay.db)
        webhooks.install(self.relay.db)
        self.engines: dict[str, SyncEngine] = {r.crm: self._engine(r) for r in parts.readers}
        self.people_engines: dict[str, SyncEngine] = {r.crm: self._engine(PeopleStreams(r)) for r in parts.readers}
        self.limiters = {r.crm: r.limiter for r in parts.readers}
        self._accounts_seq_at_open = _max_account_seq(self.relay.db)  # account churn is counted from here
        self._limiter_seen: dict[str, tuple[int, int]] = {}
        self.jobs = JobBook()
        self.watcher = ConfigWatcher(loaded.path, loaded) if loaded.path and loaded.config.daemon.watch_config else None
        self.started_at = time.time()
        self.turns = 0
        self.intake = WebhookIntake(
            self.relay.db,
            by_id=next((p for p in parts.people_by_id if p.crm == "hubspot"), None),
            search=partial(self.sync, "hubspot", people_only=True) if "hubspot" in self.people_engines else None,
            should_stop=self.stopping.is_set,
            min_read_s=cycle,
            wait=self.stopping.wait,
        )
        self._schedule_builtin_jobs()

    @property
    def pipeline(self) -> LeadPipeline:
        """The lead pipeline (use under ``route_lock``)."""
        return self.relay.pipeline

    # -- schedule ---------------------------------------------------------------------------------------------------
    def add_job(
        self, name: str, fn: Callable[[], object], *, every_s: float | None = None, daily_at: str | None = None
    ) -> None:
        """Run ``fn`` on the loop thread every ``every_s`` seconds or daily at ``daily_at`` (HH:MM UTC).

        The hook for other parts' periodic work (an SLA sweep, the monthly continuity audit): ``fn`` runs between
        decisions, on the loop's thread; an exception is logged and the job runs again at its next time.
        """
        self.jobs.add(JobSpec(name, every_s=every_s, daily_at=daily_at), fn)

    def _schedule_builtin_jobs(self) -> None:
        crms = self.loaded.config.crms
        for crm in self.engines:
            interval = crms.hubspot.poll_interval_s if crm == "hubspot" else crms.salesforce.poll_interval_s
            self.add_job(f"sync:{crm}", partial(self.sync, crm), every_s=interval)
        self.add_job("reconcile", self.reconcile, daily_at=self.loaded.config.daemon.reconcile_at)
        self.add_job("housekeeping", self.housekeeping, every_s=HOUSEKEEPING_EVERY_S)
        schedule_analytics_jobs(self._add_routing_job, self.relay)  # SLA sweep, monthly continuity audit

    def _add_routing_job(
        self, name: str, fn: Callable[[], object], *, every_s: float | None = None, daily_at: str | None = None
    ) -> None:
        """``add_job`` for work that routes (re-routing untouched leads): it holds the routing lock like the API."""

        def locked() -> object:
            with self.route_lock:
                return fn()

        self.add_job(name, locked, every_s=every_s, daily_at=daily_at)

    def _engine(self, reader: CrmReader) -> SyncEngine:
        crms = self.loaded.config.crms
        return SyncEngine(
            self.relay.db,
            [reader],
            overlap_ms=overlaps_ms(crms),
            should_stop=self.stopping.is_set,
        )

    # -- the loop ---------------------------------------------------------------------------------------------------
    def run(self, *, burst: bool = False, max_iterations: int | None = None) -> int:
        """Turn until stopped (or, with ``burst``, until a turn finds nothing to do); returns the turns made."""
        log.info("daemon_started", burst=burst, config_version=self.loaded.version, jobs=self.jobs.names)
        if not burst:  # first: effects left pending by a previous run go out while the catch-up sync runs
            self.delivery.start()
        for crm in self.engines:  # catch up at once: the schedule's first sync is a whole interval away
            if not self.stopping.is_set():
                self.sync(crm)
        self._settle_heap()
        made = 0
        while not self.stopping.is_set() and (max_iterations is None or made < max_iterations):
            self.woken.clear()
            report = self.turn(scheduled=not burst, deliver=burst)
            made += 1
            if burst and not report.busy:
                break
            if not burst and not report.busy:
                self.woken.wait(self._idle_seconds())
        self._finish()
        return made

    def turn(self, *, scheduled: bool = True, deliver: bool = True) -> TurnReport:
        """One turn: reload, webhook work, due jobs, routing, delivery (here, or woken on its thread), heartbeat."""
        report = TurnReport()
        self._maybe_reload()
        report.events = self._webhook_work(report)
        if report.events and not self.stopping.is_set():  # webhook leads first: not behind a scheduled sync pass
            report.pipeline.merge(self._route_and_wake(deliver))
        if scheduled and not self.stopping.is_set():
            self.jobs.run_pending()
        if not self.stopping.is_set():
            report.pipeline.merge(self._route_and_wake(deliver))
        if deliver:
            report.delivered = self.relay.deliver_all()
        self.turns += 1
        heartbeat.beat(self.relay.db, started_at=self.started_at, turns=self.turns)
        metrics.LOOP_TURNS.inc()
        self._observe_limiters()
        self.heap.tend(self._account_changes, lambda: len(self.pipeline.preparer.index))
        return report

    def _route_and_wake(self, deliver: bool) -> PipelineResult:
        def wake(batch: PipelineResult) -> None:
            if batch.routed:
                self.delivery.wake()  # the owner lane starts on this batch while the next one is decided

        return self.route_pending(on_batch=None if deliver else wake)

    def _settle_heap(self) -> None:
        """Bring the account index up to date with the catch-up sync, then freeze the loaded data out of the
        collector (one full collection, before the first lead); not for a daemon already told to stop."""
        if self.stopping.is_set():
            return
        with self.route_lock:
            self.pipeline.preparer.refresh_accounts()
        self.heap.start(account_changes=self._account_changes())

    def _account_changes(self) -> int:
        """Accounts changed in the cache since the daemon opened (an indexed count; asked at most every few minutes)."""
        row = self.relay.db.conn.execute(
            "SELECT COUNT(*) FROM cache_accounts WHERE change_seq > ?", (self._accounts_seq_at_open,)
        ).fetchone()
        return int(row[0])

    def _observe_limiters(self) -> None:
        """Carry each CRM limiter's counts (shared by its reader and writers) into the metrics."""
        for crm, limiter in self.limiters.items():
            seen = self._limiter_seen.get(crm, (0, 0))
            now = (limiter.stats.total, limiter.stats.rate_limited)
            metrics.CRM_CALLS.labels(crm=crm).inc(now[0] - seen[0])
            metrics.RATE_LIMITED.labels(source=crm).inc(now[1] - seen[1])
            self._limiter_seen[crm] = now
            budget = limiter.budget
            if budget.limit:
                metrics.API_BUDGET_USED.labels(crm=crm).set(budget.used / budget.limit)

    def wake(self) -> None:
        """Cut the loop's sleep short (a webhook event was stored, an API call enqueued effects)."""
        self.woken.set()

    def request_stop(self) -> None:
        """Finish the step in hand, flush the outbox, and leave ``run`` (the first SIGTERM)."""
        if not self.stopping.is_set():
            log.info("daemon_stopping")
        self.stopping.set()
        self.woken.set()

    def _idle_seconds(self) -> float:
        due = self.jobs.seconds_to_next()
        wait = self.loaded.config.daemon.idle_wait_s
        return max(0.0, wait if due is None else min(wait, due))

    def _finish(self) -> None:
        if self.delivery.running:
            self.delivery.stop(STOP_FLUSH_S)  # each lane finishes the batch in hand
        deadline = time.monotonic() + STOP_FLUSH_S
        delivered = 0
        while time.monotonic() < deadline:  # flush: effects already decided are not left waiting for a restart
            done = self.relay.deliver_all()
            delivered += done
            if done == 0:
                break
        heartbeat.beat(self.relay.db, started_at=self.started_at, turns=self.turns)
        self.heap.stop()  # the collector as it was found: an embedder's program goes on without our freeze
        log.info("daemon_stopped", turns=self.turns, flushed=delivered)

    def close(self) -> None:
        """Release the database connections (and the collector, if ``run`` did not get to)."""
        self.heap.stop()
        self.relay.close()
        self.route_db.conn.close()
        self.delivery.close()

    # -- the work ---------------------------------------------------------------------------------------------------
    def sync(self, crm: str, *, full: bool = False, people_only: bool = False) -> SyncReport:
        """One sync pass of ``crm`` (all its streams, or only its people), recorded for /readyz and /metrics."""
        engine = (self.people_engines if people_only else self.engines)[crm]
        report = engine.run_pass(full=full)
        error = report.failed.get(crm)
        if not report.stopped:
            heartbeat.record_sync(self.relay.db, crm, error)
        metrics.API_REQUESTS.labels(crm=crm).inc(report.requests.get(crm, 0))
        if error:
            metrics.CRM_FAILURES.labels(crm=crm).inc()
        return report

    def reconcile(self) -> None:
        """The nightly full pass: re-read every stream of every CRM and tombstone what is gone."""
        for crm in self.engines:
            if not self.stopping.is_set():
                self.sync(crm, full=True)

    def housekeeping(self) -> None:
        """Prune old webhook signatures/events and apply the decision retention policy."""
        from datetime import UTC, datetime

        webhooks.prune(self.relay.db)
        with self.route_lock:
            self.pipeline.router.prune(datetime.now(UTC))

    def route_pending(self, *, on_batch: Callable[[PipelineResult], None] | None = None) -> PipelineResult:
        """Route every lead waiting in the cache's feed (under the routing lock), ``FEED_BATCH`` per transaction;
        ``on_batch`` runs after each committed batch."""
        started = time.perf_counter()
        with self.route_lock:
            result: PipelineResult = self.pipeline.process_pending(
                batch_size=FEED_BATCH, on_batch=on_batch, should_stop=self.stopping.is_set
            )
        if result.seen:
            metrics.DECISION_SECONDS.labels(path="feed").observe(time.perf_counter() - started)
            count_routed(result)
        return result

    def route_lead(self, lead: Lead, *, write_back: bool) -> PipelineResult:
        """Route one lead now (the API path); wakes the loop so its effects are delivered at once."""
        started = time.perf_counter()
        with self.route_lock:
            result: PipelineResult = self.pipeline.route_leads([lead], write_back=write_back)
        metrics.DECISION_SECONDS.labels(path="api").observe(time.perf_counter() - started)
        count_routed(result)
        if write_back and result.routed:
            self.delivery.wake()
        return result

    def _webhook_work(self, report: TurnReport) -> int:
        """Cache the contacts named by stored webhook events (read by id; search as fallback); returns new events."""
        intake = self.intake.turn()
        if intake.searched:
            report.synced.append("hubspot")
        return intake.fresh

    def _maybe_reload(self) -> None:
        if self.watcher is None:
            return
        loaded = self.watcher.poll()
        if loaded is None:
            return
        with self.route_lock:  # swapped between decisions, never during one
            self.pipeline.reload(loaded)
            self.loaded = loaded
        self.heap.replaced("config_reload")  # the account index was rebuilt: re-settle when the policy allows


def _max_account_seq(db: sqlite_utils.Database) -> int:
    row = db.conn.execute("SELECT COALESCE(MAX(change_seq), 0) FROM cache_accounts").fetchone()
    return int(row[0])


def count_routed(result: PipelineResult) -> None:
    """Count each decision by the rule (or step) that decided it and its owner."""
    for decision in result.decisions:
        primary = decision.assignments[0]
        metrics.LEADS_ROUTED.labels(rule=primary.rule or primary.step, owner=decision.owner).inc()
