"""Nurture: leads that did not qualify are recorded, not routed, and re-scored when new activity arrives.

The table belongs to the "scoring" component. A row holds the last score (with its breakdown, as JSON) so
``leadrelay`` can show why a lead is waiting; ``rescore`` moves a lead out of nurture once it qualifies.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass

import sqlite_utils

from connector.config.scoring import ScoringConfig
from connector.db import Migration, migrate, transaction
from connector.logs import get_logger
from connector.models import Account, Lead
from connector.scoring.model import Qualification, Score
from connector.scoring.qualify import qualify

COMPONENT = "scoring"
MIGRATIONS = (
    Migration(
        1,
        "nurture: leads held back from routing, with their last score",
        """
        CREATE TABLE scoring_nurture (
            lead_id TEXT PRIMARY KEY,
            crm TEXT NOT NULL,
            fit INTEGER NOT NULL,
            activity INTEGER NOT NULL,
            grade TEXT NOT NULL,
            breakdown TEXT NOT NULL,
            first_nurtured_ms INTEGER NOT NULL,
            last_scored_ms INTEGER NOT NULL,
            times_scored INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX scoring_nurture_grade ON scoring_nurture (grade);
        """,
    ),
)
_CHUNK = 500  # well under SQLite's bound-variable limit

log = get_logger("leadrelay.scoring")


@dataclass(frozen=True)
class NurtureEntry:
    """A lead in nurture: its last scores and grade, when it entered and how often it was scored."""

    lead_id: str
    crm: str
    fit: int
    activity: int
    grade: str
    breakdown: tuple[dict[str, object], ...]
    first_nurtured_ms: int
    last_scored_ms: int
    times_scored: int


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create or upgrade the scoring tables (idempotent)."""
    migrate(db, COMPONENT, MIGRATIONS)


def record_nurture(db: sqlite_utils.Database, lead: Lead, score: Score, *, now_ms: int | None = None) -> None:
    """Hold ``lead`` in nurture with ``score``; a lead already there keeps its entry time and counts a re-score."""
    ensure_schema(db)
    with transaction(db) as conn:
        write_nurture(conn, lead, score, now_ms=_now_ms() if now_ms is None else now_ms)
    log.info("lead_nurtured", lead_id=lead.id, grade=score.grade, fit=score.fit, activity=score.activity)


def write_nurture(conn: sqlite3.Connection, lead: Lead, score: Score, *, now_ms: int) -> None:
    """``record_nurture`` inside the caller's open transaction (after ``ensure_schema``), to commit with its writes."""
    breakdown = json.dumps([item._asdict() for item in score.breakdown])
    conn.execute(
        "INSERT INTO scoring_nurture (lead_id, crm, fit, activity, grade, breakdown, first_nurtured_ms,"
        " last_scored_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (lead_id) DO UPDATE SET fit = excluded.fit, activity = excluded.activity,"
        " grade = excluded.grade, breakdown = excluded.breakdown, last_scored_ms = excluded.last_scored_ms,"
        " times_scored = times_scored + 1",
        (lead.id, lead.crm, score.fit, score.activity, score.grade, breakdown, now_ms, now_ms),
    )


def leads_to_rescore(db: sqlite_utils.Database, changed_lead_ids: Iterable[str]) -> list[str]:
    """Of the leads whose activity just changed, those waiting in nurture (sorted): re-score exactly these."""
    ensure_schema(db)
    ids = sorted(set(changed_lead_ids))
    found: list[str] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        rows = db.conn.execute(f"SELECT lead_id FROM scoring_nurture WHERE lead_id IN ({marks})", chunk)
        found.extend(row[0] for row in rows)
    return sorted(found)


def release_nurture(db: sqlite_utils.Database, lead_id: str) -> bool:
    """Take ``lead_id`` out of nurture (it qualified, or was deleted); True when it was there."""
    ensure_schema(db)
    with transaction(db) as conn:
        removed = conn.execute("DELETE FROM scoring_nurture WHERE lead_id = ?", (lead_id,)).rowcount
    return bool(removed)


def nurture_entry(db: sqlite_utils.Database, lead_id: str) -> NurtureEntry | None:
    """The nurture row of ``lead_id``, or None when the lead is not in nurture."""
    ensure_schema(db)
    row = db.conn.execute(
        "SELECT lead_id, crm, fit, activity, grade, breakdown, first_nurtured_ms, last_scored_ms, times_scored"
        " FROM scoring_nurture WHERE lead_id = ?",
        (lead_id,),
    ).fetchone()
    if row is None:
        return None
    lead, crm, fit, activity, grade, breakdown, first_ms, last_ms, times = row
    return NurtureEntry(lead, crm, fit, activity, grade, tuple(json.loads(breakdown)), first_ms, last_ms, times)


def nurture_count(db: sqlite_utils.Database) -> int:
    """How many leads wait in nurture."""
    ensure_schema(db)
    return int(db.conn.execute("SELECT COUNT(*) FROM scoring_nurture").fetchone()[0])


def rescore(
    db: sqlite_utils.Database, lead: Lead, account: Account | None, config: ScoringConfig, *, now_ms: int | None = None
) -> Qualification:
    """Qualify ``lead`` again: it leaves nurture when it now routes, else its nurture row is refreshed."""
    now_ms = _now_ms() if now_ms is None else now_ms
    result = qualify(lead, account, config, now_ms)
    if result.routed:
        if release_nurture(db, lead.id):
            log.info("lead_left_nurture", lead_id=lead.id, grade=result.score.grade, hint=result.hint)
    else:
        record_nurture(db, lead, result.score, now_ms=now_ms)
    return result


def _now_ms() -> int:
    return int(time.time() * 1000)
