"""The monthly continuity audit the daemon schedules: run it, log the counts, remember when it ran."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

import sqlite_utils

from connector.audit.continuity import KINDS, audit
from connector.config.root import LeadrelayConfig
from connector.db import Migration, migrate
from connector.logs import get_logger

log = get_logger("leadrelay.audit")
MIGRATIONS = (
    Migration(
        1, "audit runs", "CREATE TABLE audit_runs (id INTEGER PRIMARY KEY, ran_ms INTEGER NOT NULL, counts TEXT);"
    ),
)


def month_due(db: sqlite_utils.Database, now: datetime) -> bool:
    """Whether no audit has run yet in ``now``'s calendar month (UTC): call daily, it runs once a month."""
    migrate(db, "audit", MIGRATIONS)
    row = db.conn.execute("SELECT MAX(ran_ms) FROM audit_runs").fetchone()
    if row is None or row[0] is None:
        return True
    last = datetime.fromtimestamp(row[0] / 1000, UTC)
    moment = now.astimezone(UTC)
    return (last.year, last.month) != (moment.year, moment.month)


def run_monthly(db: sqlite_utils.Database, config: LeadrelayConfig, *, now: datetime | None = None) -> dict[str, int]:
    """Run the audit if this month's has not run; returns counts per kind (empty when it was not due)."""
    moment = now or datetime.now(UTC)
    if not month_due(db, moment):
        return {}
    started = time.perf_counter()
    counts = Counter(f.kind for f in audit(db, config, now_ms=int(moment.timestamp() * 1000)))
    summary = {kind: counts[kind] for kind in KINDS}
    db.conn.execute(
        "INSERT INTO audit_runs (ran_ms, counts) VALUES (?, ?)",
        (int(moment.timestamp() * 1000), ",".join(f"{k}={v}" for k, v in summary.items())),
    )
    log.info(
        "continuity_audit", seconds=round(time.perf_counter() - started, 2), channel=config.analytics.audit.channel,
        **summary,
    )  # fmt: skip
    return summary
