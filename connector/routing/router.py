"""``Router``: the stateful shell around the pure cascade: keeps the ledger, logs decisions, raises alerts.

``route`` decides with ``cascade.route`` and then, in one SQLite transaction, logs the decision and applies its
ledger delta; only after the commit does the in-memory ledger move, so a crash never leaves the two apart.
``route_many`` does the same for a batch (a bulk import) in one transaction, each lead seeing the ledger as the
previous one left it, which is what spreads simultaneous leads across the pool. If the transaction fails, the
in-memory ledger is reloaded from the database, which stayed as it was.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime

import sqlite_utils

from connector.config.routing import RoutingConfig
from connector.db import transaction
from connector.logs import get_logger
from connector.routing.cascade import route
from connector.routing.ledger import LedgerState
from connector.routing.model import Decision, RoutingInput, Snapshot
from connector.routing.store import ensure_schema, load_ledger, prune, write_decision

log = get_logger("leadrelay.routing")


class Router:
    """Routes leads with one config against the persistent ledger in ``db``."""

    def __init__(self, db: sqlite_utils.Database, config: RoutingConfig, *, config_version: str = "") -> None:
        ensure_schema(db)
        self.db = db
        self.config = config
        self.config_version = config_version
        self.ledger: LedgerState = load_ledger(db)

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
        decisions = []
        try:
            with transaction(self.db) as conn:
                for inp in inputs:
                    decision = route(
                        inp, snapshot, self.config, self.ledger, now, stage=stage, config_version=self.config_version
                    )
                    self.ledger.apply(decision.delta)
                    write_decision(conn, decision)
                    if on_decided is not None:
                        on_decided(conn, decision)
                    decisions.append(decision)
        except BaseException:
            # The transaction rolled back: the database is the truth, so take the ledger back from it.
            self.ledger = load_ledger(self.db)
            raise
        for decision in decisions:
            _log(decision)
        return decisions

    def prune(self, now: datetime) -> int:
        """Apply the retention policy (decisions) and drop cap counters older than two weeks; returns decisions deleted.

        Meant for the daemon's housekeeping (e.g. hourly); the ledger's credits are never pruned.
        """
        with transaction(self.db):
            deleted = prune(self.db, now=now, retention_days=self.config.decision_retention_days)
        self.ledger = load_ledger(self.db)
        return deleted


def _log(decision: Decision) -> None:
    primary = decision.assignments[0]
    if decision.alert is not None:
        log.warning(
            "lead_sent_to_final_fallback",
            lead_id=decision.lead_id,
            stage=decision.stage,
            owner=decision.owner,
            reason=decision.alert,
        )
        return
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
