"""``Router``: the stateful shell around the pure cascade: keeps the ledger, logs decisions, raises alerts.

``route_many`` decides a batch (a bulk import) in one SQLite transaction, each lead seeing the ledger as the
previous one left it, which is what spreads simultaneous leads across the pool. The decisions are logged (one
insert for the batch) with their ledger deltas, and the ledger itself lives in memory: it is written to its tables
as a checkpoint every ``CHECKPOINT_EVERY`` decisions, on ``close`` and before pruning, and rebuilt after a crash from
the checkpoint plus the decisions logged since (``ledger_store``). If the transaction fails, the in-memory ledger
is read back from the database, which stayed as it was.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlite_utils
import structlog

from connector.config.routing import RoutingConfig
from connector.db import transaction
from connector.logs import get_logger
from connector.routing.cascade import decide
from connector.routing.ledger import LedgerState
from connector.routing.ledger_store import (
    CHECKPOINT_EVERY,
    StoredLedger,
    catch_up,
    read_ledger,
    save_checkpoint,
)
from connector.routing.model import Decision, RoutingInput, Snapshot
from connector.routing.store import decision_row, ensure_schema, insert_decisions, next_decision_id, prune


class _OncePerConfigLogger:
    """The routing logger, assembled once per structlog configuration instead of on every event.

    ``connector.logs`` leaves structlog's logger caching off so that reconfiguring (a level change, or
    ``capture_logs`` in tests) takes effect everywhere; that makes each call through the lazy proxy assemble a new
    logger (about 10 us even when the event is filtered out), paid for every routed lead. Comparing the three
    pieces of configuration a logger is assembled from costs under a microsecond.
    """

    def __init__(self, name: str) -> None:
        self._proxy = get_logger(name)
        self._made_from: tuple[Any, ...] = (None, None, None)
        self._logger: Any = None

    def get(self) -> Any:
        """The bound logger for the current configuration."""
        config = structlog.get_config()
        wrapper, processors, factory = config["wrapper_class"], config["processors"], config["logger_factory"]
        made = self._made_from
        if made[0] is not wrapper or made[1] is not processors or made[2] is not factory:
            self._logger, self._made_from = self._proxy.bind(), (wrapper, processors, factory)
        return self._logger


_LOG = _OncePerConfigLogger("leadrelay.routing")


class Router:
    """Routes leads with one config against the persistent ledger in ``db``."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        config: RoutingConfig,
        *,
        config_version: str = "",
        checkpoint_every: int = CHECKPOINT_EVERY,
    ) -> None:
        ensure_schema(db)
        self.db = db
        self.config = config
        self.config_version = config_version
        self.checkpoint_every = checkpoint_every
        self._stored: StoredLedger = read_ledger(db.conn)

    @property
    def ledger(self) -> LedgerState:
        """The fairness ledger as of the last logged decision (read-only for callers)."""
        return self._stored.state

    def route(self, inp: RoutingInput, snapshot: Snapshot, now: datetime, *, stage: str | None = None) -> Decision:
        """Decide, log and apply one lead's routing."""
        return self.route_many([inp], snapshot, now, stage=stage)[0]

    def route_many(
        self,
        inputs: Sequence[RoutingInput],
        snapshot: Snapshot,
        now: datetime,
        *,
        stage: str | None = None,
        on_decided: Callable[[sqlite3.Connection, Decision], None] | None = None,
    ) -> list[Decision]:
        """Decide, log and apply a batch in one transaction; later leads see earlier leads' ledger changes.

        ``on_decided(conn, decision)`` runs inside that transaction after each decision is logged, so the caller's
        own writes (the outbox, the pipeline's bookkeeping) commit or roll back together with it.
        """
        try:
            with transaction(self.db) as conn:
                decisions = self._decide(conn, inputs, snapshot, now, stage=stage, on_decided=on_decided)
                if self._stored.pending >= self.checkpoint_every:
                    save_checkpoint(conn, self._stored)
        except BaseException:
            # The transaction rolled back: the database is the truth, so take the ledger back from it.
            self._stored = read_ledger(self.db.conn)
            raise
        log = _LOG.get()
        routed = log.is_enabled_for(logging.INFO)  # a quiet daemon logs only the alerts
        for decision in decisions:
            if routed or decision.alert is not None:
                _log(log, decision)
        return decisions

    def _decide(
        self,
        conn: sqlite3.Connection,
        inputs: Sequence[RoutingInput],
        snapshot: Snapshot,
        now: datetime,
        *,
        stage: str | None,
        on_decided: Callable[[sqlite3.Connection, Decision], None] | None,
    ) -> list[Decision]:
        stored = self._stored
        decision_id = next_decision_id(conn)
        if decision_id - 1 > stored.through_id:
            catch_up(conn, stored)  # another router (process) logged decisions since we last looked
        decisions, rows = [], []
        for inp in inputs:
            decision, view = decide(
                inp, snapshot, self.config, stored.state, now, stage=stage, config_version=self.config_version
            )
            row = decision_row(decision_id, decision)
            stored.adopt(view, decision_id, row[3])  # row[3]: decided_at_ms
            rows.append(row)
            decisions.append(decision)
            decision_id += 1
            if on_decided is not None:
                # The caller's writes may read the decision log: log this decision before handing it over.
                insert_decisions(conn, rows)
                rows = []
                on_decided(conn, decision)
        insert_decisions(conn, rows)
        return decisions

    def checkpoint(self) -> None:
        """Write the in-memory ledger's changes to its tables (the decision log already holds them)."""
        with transaction(self.db) as conn:
            save_checkpoint(conn, self._stored)

    def close(self) -> None:
        """Checkpoint, so the next start has nothing to replay (skipping it loses nothing, it only costs time)."""
        if self._stored.dirty:
            self.checkpoint()

    def prune(self, now: datetime) -> int:
        """Apply the retention policy (decisions) and drop cap counters older than two weeks; returns decisions deleted.

        Meant for the daemon's housekeeping (e.g. hourly); the ledger's credits are never pruned.
        """
        with transaction(self.db) as conn:
            save_checkpoint(conn, self._stored)  # pruned decisions must already be in the checkpoint
            deleted = prune(self.db, now=now, retention_days=self.config.decision_retention_days)
        self._stored = read_ledger(self.db.conn)
        return deleted


def _log(log: Any, decision: Decision) -> None:
    if decision.alert is not None:
        log.warning(
            "lead_sent_to_final_fallback",
            lead_id=decision.lead_id,
            stage=decision.stage,
            owner=decision.owner,
            reason=decision.alert,
        )
        return
    primary = decision.assignments[0]
    log.info(
        "lead_routed",
        lead_id=decision.lead_id,
        stage=decision.stage,
        owner=decision.owner,
        secondary_owner=decision.secondary_owner,
        step=primary.step,
        rule=primary.rule,
        pool=primary.pool,
    )
