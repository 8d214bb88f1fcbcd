"""``leadrelay route --dry-run``: what the pipeline would decide for the leads waiting now, without writing anything.

The pipeline runs exactly as it would for real (match, enrich, qualify, the cascade against the current ledger,
batch by batch) but on a private copy of the database taken with SQLite's online backup, and the copy is thrown
away. So the decisions are the ones a real run at the same instant would make, by construction rather than by a
second code path that could drift, and the real database is only ever read: no decision rows, no ledger change,
no outbox items, no pipeline marks.
"""

from __future__ import annotations

import math
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlite_utils

from connector.config.loader import LoadedConfig
from connector.db import connect
from connector.logs import get_logger
from connector.routing.model import Decision

log = get_logger("leadrelay.routing")


@dataclass(frozen=True)
class DryDecision:
    """One lead's would-be routing, in the few words a dry run prints."""

    lead_id: str
    owner: str
    secondary_owner: str | None
    route: str  # "step › rule › pool"
    why: str  # the assigned step's reason, or the final-fallback alert
    final_fallback: bool

    @classmethod
    def of(cls, decision: Decision) -> DryDecision:
        """The summary of a full decision."""
        why = next(
            (s.detail for s in decision.trace if s.outcome == "assigned" and s.owner == decision.owner),
            decision.alert or "",
        )
        return cls(
            decision.lead_id,
            decision.owner,
            decision.secondary_owner,
            decision.route,
            why,
            decision.final_fallback,
        )


def dry_run(db_path: Path, loaded: LoadedConfig, *, now: datetime, limit: int | None = None) -> list[Decision]:
    """The decisions the pipeline would make at ``now`` for the leads waiting in ``db_path`` (the first ``limit``).

    The database at ``db_path`` is opened read-only; the routing happens on a temporary copy.
    """
    from connector.pipeline import LeadPipeline  # the pipeline imports routing: import it only when used

    batches = None if limit is None else max(1, math.ceil(limit / loaded.config.pipeline.batch_size))
    with _private_copy(db_path) as copy:
        result = LeadPipeline(copy, loaded).process_pending(max_batches=batches, now=now)
    log.info("dry_run_routed", leads=len(result.decisions), nurtured=result.nurtured, failed=result.failed)
    return result.decisions if limit is None else result.decisions[:limit]


@contextmanager
def _private_copy(db_path: Path) -> Iterator[sqlite_utils.Database]:
    """A throwaway copy of the database (WAL included), read through a read-only connection."""
    with tempfile.TemporaryDirectory(prefix="leadrelay-dry-run-") as tmp:
        target = Path(tmp) / "copy.sqlite"
        source = sqlite3.connect(f"{Path(db_path).resolve().as_uri()}?mode=ro", uri=True)
        try:
            destination = sqlite3.connect(target)
            try:
                source.backup(destination)
            finally:
                destination.close()
        finally:
            source.close()
        copy = connect(target)
        try:
            yield copy
        finally:
            copy.conn.close()
