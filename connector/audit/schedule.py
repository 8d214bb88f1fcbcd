"""The monthly continuity audit the daemon schedules: run it, record the run, send its summary to the channel.

The run's row and the summary's outbox message are written in one transaction, and the message's decision id
names the month: a crash before the commit re-runs the audit the next day, a crash after it finds the month done,
and either way the channel gets one summary a month. Without ``analytics.audit.channel`` (or with Slack turned
off) the summary is only logged, and the log event says why.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import sqlite_utils

from connector.audit.continuity import KINDS, audit
from connector.audit.summary import Tally, summary_notice
from connector.config.root import LeadrelayConfig
from connector.db import Migration, migrate, transaction
from connector.logs import get_logger
from connector.outbox import store as outbox_store

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
    """Run the audit if this month's has not run, record it and send its summary; returns counts per kind (empty
    when it was not due)."""
    moment = now or datetime.now(UTC)
    if not month_due(db, moment):
        return {}
    started = time.perf_counter()
    tally = Tally().add_all(audit(db, config, now_ms=int(moment.timestamp() * 1000)))
    summary = {kind: tally.counts[kind] for kind in KINDS}
    channel = config.analytics.audit.channel
    notice = summary_notice(tally, channel, moment) if channel else None
    outbox_store.install(db)
    with transaction(db) as conn:
        conn.execute(
            "INSERT INTO audit_runs (ran_ms, counts) VALUES (?, ?)",
            (int(moment.timestamp() * 1000), ",".join(f"{k}={v}" for k, v in summary.items())),
        )
        sent = bool(outbox_store.enqueue(conn, notice, config.actions)) if notice is not None else False
    log.info(
        "continuity_audit", seconds=round(time.perf_counter() - started, 2), channel=channel,
        summary_enqueued=sent, unsent_reason=_unsent_reason(config, sent), **summary,
    )  # fmt: skip
    return summary


def _unsent_reason(config: LeadrelayConfig, sent: bool) -> str | None:
    if sent:
        return None
    if not config.analytics.audit.channel:
        return "no analytics.audit.channel configured: summary logged only"
    if not config.actions.slack.enabled:
        return "actions.slack is disabled: summary logged only"
    return "this month's summary was already enqueued"
