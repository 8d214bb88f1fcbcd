"""``LeadPipeline``: follow the cache's people feed and route every waiting lead, exactly once.

Each batch is decided in one SQLite transaction that logs the decisions, moves the fairness ledger, records the
pipeline outcome and enqueues the outbox effects together: a crash leaves either all of it or none of it. Leads
the pipeline cannot prepare are still routed on what is known (no match, raw fields), so they reach an owner or
the final fallback with the reason; nothing waits silently.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlite_utils

from connector.cache import queries
from connector.cache.schema import migrate_cache
from connector.config.loader import LoadedConfig
from connector.db import transaction
from connector.enrichment.enrich import Enricher, Enrichment
from connector.enrichment.setup import build_enricher
from connector.logs import get_logger
from connector.matching import AccountMatch
from connector.models import Lead, Owner
from connector.outbox import store as outbox_store
from connector.pipeline import intake
from connector.pipeline.act import assignment_for, new_decision_id
from connector.pipeline.prepare import Prepared, Preparer, others_with_email
from connector.routing.model import Decision, Snapshot
from connector.routing.router import Router
from connector.scoring.nurture import ensure_schema as install_nurture
from connector.scoring.nurture import write_nurture
from connector.scoring.qualify import decide_with, score_with

log = get_logger("leadrelay.pipeline")
OPEN_LEAD_WINDOW_MS = 7 * 86_400_000  # a routed lead counts against open-lead caps for a week (until first touch)


@dataclass
class PipelineResult:
    """What one pass did."""

    seen: int = 0
    routed: int = 0
    nurtured: int = 0
    fallback: int = 0
    failed: int = 0
    decisions: list[Decision] = field(default_factory=list)

    def merge(self, other: PipelineResult) -> None:
        """Add another pass's counts to this one."""
        self.seen += other.seen
        self.routed += other.routed
        self.nurtured += other.nurtured
        self.fallback += other.fallback
        self.failed += other.failed
        self.decisions.extend(other.decisions)


class LeadPipeline:
    """Routes the cache's waiting leads with one loaded config; ``reload`` swaps the config between batches."""

    def __init__(self, db: sqlite_utils.Database, loaded: LoadedConfig, *, enricher: Enricher | None = None) -> None:
        for install in (migrate_cache, outbox_store.install, intake.install, install_nurture):
            install(db)
        self.db = db
        self.loaded = loaded
        self.router = Router(db, loaded.config.routing, config_version=loaded.version)
        self.preparer = Preparer(db, loaded.config, enricher or build_enricher(loaded.config.enrichment, db))
        self.go_live = intake.go_live_ms(db)
        self._owners: dict[str, Owner] = {}
        self._owners_seq: tuple[int, int] | None = None

    def reload(self, loaded: LoadedConfig) -> None:
        """Use a new (already validated) config from the next batch on; the ledger carries over."""
        self.loaded = loaded
        self.router.config = loaded.config.routing
        self.router.config_version = loaded.version
        self.preparer = Preparer(self.db, loaded.config, build_enricher(loaded.config.enrichment, self.db))

    # -- the feed -------------------------------------------------------------------------------------------------
    def process_pending(
        self,
        *,
        max_batches: int | None = None,
        now: datetime | None = None,
        batch_size: int | None = None,
        on_batch: Callable[[PipelineResult], None] | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> PipelineResult:
        """Route every lead that waits in the cache's change feed; returns what was done.

        ``batch_size`` (at most the configured one) caps the leads decided per transaction; ``on_batch`` runs after
        each committed batch (the daemon wakes its owner writes there, so they start while later batches decide);
        ``should_stop`` is asked between batches (a stopping daemon finishes the batch in hand, not the backlog).
        """
        total = PipelineResult()
        batches = 0
        size = min(batch_size or self.loaded.config.pipeline.batch_size, self.loaded.config.pipeline.batch_size)
        self.preparer.refresh_accounts()
        while (max_batches is None or batches < max_batches) and not should_stop():
            cursor = int(intake.get_state(self.db, "feed_seq") or 0)
            changes = queries.people_changed_since(self.db, cursor, limit=size)
            if not changes:
                break
            result = self._process([c.lead for c in changes if c.change != "deleted"], now)
            with transaction(self.db) as conn:
                intake.set_state(conn, "feed_seq", str(changes[-1].seq))
            total.merge(result)
            batches += 1
            if on_batch is not None:
                on_batch(result)
        return total

    def route_leads(
        self, leads: Iterable[Lead], *, now: datetime | None = None, write_back: bool = True
    ) -> PipelineResult:
        """Route the given leads now if they wait (the instant path: API and webhooks).

        ``write_back=False`` decides and records without enqueuing effects (an API lead with no CRM record).
        """
        self.preparer.refresh_accounts()
        return self._process(list(leads), now, write_back=write_back)

    def _process(self, leads: list[Lead], now: datetime | None, *, write_back: bool = True) -> PipelineResult:
        moment = now or datetime.now(UTC)
        now_ms = int(moment.timestamp() * 1000)
        owners = self.owners()
        done = intake.handled(self.db, [lead.id for lead in leads])
        result = PipelineResult(seen=len(leads))
        to_route: list[Prepared] = []
        to_nurture: list[Prepared] = []
        for lead in leads:
            if lead.id in done:
                continue
            waiting, why = intake.waiting_reason(lead, owners, self.loaded.config.pipeline, self.go_live)
            if not waiting:
                log.debug("lead_not_waiting", lead_id=lead.id, reason=why)
                continue
            prepared = self._prepare(lead, now_ms)
            if prepared is None:
                result.failed += 1
                continue
            (to_route if prepared.qualification.routed else to_nurture).append(prepared)
        if to_nurture:
            self._nurture(to_nurture, now_ms)
            result.nurtured += len(to_nurture)
        if to_route:
            decisions = self._route(to_route, owners, moment, write_back=write_back)
            result.decisions.extend(decisions)
            result.routed += len(decisions)
            result.fallback += sum(1 for d in decisions if d.final_fallback)
            result.failed += len(to_route) - len(decisions)
        return result

    def owners(self) -> dict[str, Owner]:
        """Every owner by key, re-read only when the cache's owners changed (a sweep, a sync): a decision batch of
        one lead must not pay for reading every owner."""
        row = self.db.conn.execute("SELECT COALESCE(MAX(change_seq), 0), COUNT(*) FROM cache_owners").fetchone()
        seen = (int(row[0]), int(row[1]))
        if seen != self._owners_seq:
            self._owners = {o.key: o for o in queries.iter_owners(self.db)}
            self._owners_seq = seen
        return self._owners

    # -- steps ----------------------------------------------------------------------------------------------------
    def _prepare(self, lead: Lead, now_ms: int) -> Prepared | None:
        try:
            return self.preparer.prepare(lead, now_ms)
        except Exception as exc:  # a bad record must not stop the batch; route it on what we know
            log.error("lead_prepare_failed", lead_id=lead.id, error=type(exc).__name__, message=str(exc)[:500])
        try:
            rules = self.preparer._rules
            qualification = decide_with(score_with(lead, None, rules, now_ms), rules)
            unmatched = AccountMatch(None, "none", 0.0, reasons=("matching failed; routed without an account",))
            return Prepared(lead, unmatched, None, Enrichment(lead=lead), qualification)
        except Exception as exc:
            log.error("lead_unroutable", lead_id=lead.id, error=type(exc).__name__, message=str(exc)[:500])
            with transaction(self.db) as conn:
                intake.mark(conn, lead, "failed", f"{type(exc).__name__}: {exc}", now_ms=now_ms)
            return None

    def _nurture(self, batch: list[Prepared], now_ms: int) -> None:
        with transaction(self.db) as conn:  # nurture rows and the pipeline's marks commit together, once per batch
            for prepared in batch:
                write_nurture(conn, prepared.lead, prepared.qualification.score, now_ms=now_ms)
                intake.mark(conn, prepared.lead, "nurture", prepared.qualification.reason, now_ms=now_ms)
        for prepared in batch:
            log.info("lead_nurtured", lead_id=prepared.lead.id, grade=prepared.qualification.score.grade)

    def _route(
        self, batch: list[Prepared], owners: dict[str, Owner], moment: datetime, *, write_back: bool = True
    ) -> list[Decision]:
        snapshot = Snapshot(owners=owners, open_leads=self._open_leads(moment), owners_known=bool(owners))
        by_lead = {p.lead.id: p for p in batch}
        now_ms = int(moment.timestamp() * 1000)
        config = self.loaded.config

        def act(conn: sqlite3.Connection, decision: Decision) -> None:
            prepared = by_lead[decision.lead_id]
            decision_id = new_decision_id()
            twins = tuple(self._twins(prepared.lead))
            # Only the system of record's copy of a person is written, so compare-and-set against that copy's owner.
            written = next((t for t in twins if t.crm == config.crms.system_of_record), prepared.lead)
            assignment = assignment_for(
                decision_id,
                decision,
                prepared,
                owners=owners,
                previous_owner_id=_owner_native_id(conn, written.id),
                twins=twins,
                config=config,
                now_ms=now_ms,
            )
            if write_back:
                outbox_store.enqueue(conn, assignment, config.actions)
            reason = f"routed to {decision.owner} by {decision.assignments[0].step}"
            intake.mark(conn, prepared.lead, "routed", reason, decision_id=decision_id, now_ms=now_ms)

        inputs = [p.routing_input() for p in batch]
        stage = config.pipeline.stage
        try:
            return self.router.route_many(inputs, snapshot, moment, stage=stage, on_decided=act)
        except Exception as exc:
            log.error("batch_routing_failed", size=len(batch), error=type(exc).__name__, message=str(exc)[:500])
        decisions = []  # one bad lead must not hold the others back: retry one by one
        for inp in inputs:
            try:
                decisions.extend(self.router.route_many([inp], snapshot, moment, stage=stage, on_decided=act))
            except Exception as exc:
                log.error("lead_routing_failed", lead_id=inp.lead.id, error=type(exc).__name__, message=str(exc))
                with transaction(self.db) as conn:
                    intake.mark(conn, inp.lead, "failed", f"routing failed: {type(exc).__name__}: {exc}", now_ms=now_ms)
        return decisions

    def _twins(self, lead: Lead) -> list[Lead]:
        if not lead.email or not others_with_email(self.db, lead):
            return []
        return [p for p in queries.people_by_email(self.db, lead.email) if p.crm != lead.crm]

    def _open_leads(self, moment: datetime) -> dict[str, int]:
        since = int(moment.timestamp() * 1000) - OPEN_LEAD_WINDOW_MS
        rows = self.db.conn.execute(
            "SELECT owner, COUNT(*) FROM routing_decisions WHERE decided_at_ms >= ? GROUP BY owner", (since,)
        )
        return {str(owner): int(n) for owner, n in rows}


def _owner_native_id(conn: sqlite3.Connection, lead_id: str) -> str | None:
    row = conn.execute("SELECT owner_native_id FROM cache_people WHERE id = ?", (lead_id,)).fetchone()
    return None if row is None or row[0] is None else str(row[0])
