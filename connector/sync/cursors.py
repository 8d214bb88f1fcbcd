"""Where each stream stands, persisted in ``cache_sync_state`` in the same transaction as the page it covers.

A stream starts in ``backfill``: it pages through the CRM's list endpoint; ``list_after`` is the list cursor of
the next page (None at the start), so a crash resumes from the last committed page. ``started_ms`` is when the
backfill began: anything modified after it may have been missed by the list, so the first incremental pass reads
changes from there. ``sweep_token`` marks every record the backfill wrote; at its end, records of the stream not
marked were deleted in the CRM meanwhile (or before a ``--full`` re-read) and are tombstoned.

In ``incremental`` the watermark ``(watermark_ms, watermark_id)`` is the last record applied in (modified, id)
order. Each pass starts ``overlap`` before it and reads up to the pass's start time; ties on the timestamp are
broken by id, so a page boundary inside a run of equal timestamps loses nothing. ``deletions_after`` is the
position in a separate deletions list (HubSpot's archived records) when a pass stopped mid-way.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, replace
from typing import Literal

from connector.crm import Position

Phase = Literal["backfill", "incremental"]


@dataclass(frozen=True)
class StreamState:
    """One stream's cursor."""

    stream: str
    phase: Phase = "backfill"
    list_after: str | None = None
    sweep_token: str | None = None
    started_ms: int | None = None
    watermark: Position | None = None
    deletions_after: str | None = None

    def page_done(self, next_after: str | None) -> StreamState:
        """State after a backfill page whose successor is ``next_after``."""
        return replace(self, list_after=next_after)

    def backfill_done(self) -> StreamState:
        """Switch to incremental, reading changes since the backfill started."""
        start = Position(self.started_ms or 0)
        return StreamState(self.stream, "incremental", watermark=start)

    def advanced_to(self, position: Position) -> StreamState:
        """State after applying records up to ``position``."""
        return replace(self, watermark=position)


def load_state(conn: sqlite3.Connection, stream: str) -> StreamState:
    """The saved state of ``stream`` (a fresh backfill state when there is none)."""
    row = conn.execute(
        "SELECT phase, list_after, sweep_token, started_ms, watermark_ms, watermark_id, deletions_after "
        "FROM cache_sync_state WHERE stream = ?",
        (stream,),
    ).fetchone()
    if row is None:
        return StreamState(stream)
    phase, after, token, started, wm_ms, wm_id, del_after = row
    watermark = Position(wm_ms, wm_id or "") if wm_ms is not None else None
    return StreamState(stream, phase, after, token, started, watermark, del_after)


def save_state(conn: sqlite3.Connection, state: StreamState) -> None:
    """Write ``state`` (call inside the transaction that applied the page it describes)."""
    wm = state.watermark
    conn.execute(
        "INSERT INTO cache_sync_state (stream, phase, list_after, sweep_token, started_ms, watermark_ms, "
        "watermark_id, deletions_after, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (stream) DO UPDATE SET phase = excluded.phase, list_after = excluded.list_after, "
        "sweep_token = excluded.sweep_token, started_ms = excluded.started_ms, watermark_ms = excluded.watermark_ms, "
        "watermark_id = excluded.watermark_id, deletions_after = excluded.deletions_after, "
        "updated_ms = excluded.updated_ms",
        (
            state.stream,
            state.phase,
            state.list_after,
            state.sweep_token,
            state.started_ms,
            wm.modified_ms if wm else None,
            wm.native_id if wm else None,
            state.deletions_after,
            int(time.time() * 1000),
        ),
    )


def reset_states(conn: sqlite3.Connection, prefix: str) -> int:
    """Forget the cursors of streams whose key starts with ``prefix`` (``--full``); returns how many."""
    return conn.execute("DELETE FROM cache_sync_state WHERE stream LIKE ? || '%'", (prefix,)).rowcount


# -- pauses (a spent daily budget survives restarts) ---------------------------------------------------------------
def paused_until(conn: sqlite3.Connection, crm: str, *, now: float | None = None) -> tuple[float, str] | None:
    """(resume_at, reason) when ``crm`` is paused right now, else None."""
    row = conn.execute("SELECT resume_at, reason FROM cache_crm_pauses WHERE crm = ?", (crm,)).fetchone()
    if row is None or row[0] <= (time.time() if now is None else now):
        return None
    return float(row[0]), str(row[1])


def pause(conn: sqlite3.Connection, crm: str, resume_at: float, reason: str) -> None:
    """Pause ``crm`` until ``resume_at`` (epoch seconds)."""
    conn.execute(
        "INSERT INTO cache_crm_pauses (crm, resume_at, reason) VALUES (?, ?, ?) "
        "ON CONFLICT (crm) DO UPDATE SET resume_at = excluded.resume_at, reason = excluded.reason",
        (crm, resume_at, reason),
    )


def unpause(conn: sqlite3.Connection, crm: str) -> None:
    """Lift a pause early (an operator raised the limit)."""
    conn.execute("DELETE FROM cache_crm_pauses WHERE crm = ?", (crm,))
