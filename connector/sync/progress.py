"""Sync progress: a rich progress bar (records, rate, ETA) on a terminal, structlog events everywhere else.

The engine calls ``start(stream, total)`` (again when it learns the total), ``advance(stream, n)`` per page and
``finish(stream)``. ``progress_for_terminal()`` picks the right sink for where output goes.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Protocol

from connector.logs import get_logger

log = get_logger("connector.sync.progress")


class ProgressSink(Protocol):
    """Where the engine reports how far each stream got."""

    def start(self, stream: str, total: int | None) -> None:
        """A stream begins (or its total became known)."""

    def advance(self, stream: str, records: int) -> None:
        """``records`` more records were applied."""

    def finish(self, stream: str) -> None:
        """The stream's pass is over."""


class NullProgress:
    """Reports nothing (tests, library use)."""

    def start(self, stream: str, total: int | None) -> None:
        """Ignore."""

    def advance(self, stream: str, records: int) -> None:
        """Ignore."""

    def finish(self, stream: str) -> None:
        """Ignore."""


class LogProgress:
    """``sync_progress`` events with records, rate and ETA, at most every ``interval_s`` per stream."""

    def __init__(self, interval_s: float = 5.0, *, clock: Any = time.monotonic) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._streams: dict[str, dict[str, Any]] = {}

    def start(self, stream: str, total: int | None) -> None:
        """Remember the stream's start (kept when only the total changes)."""
        entry = self._streams.setdefault(stream, {"done": 0, "began": self._clock(), "last": 0.0})
        entry["total"] = total

    def advance(self, stream: str, records: int) -> None:
        """Count records; log when the interval has passed."""
        entry = self._streams.setdefault(stream, {"done": 0, "began": self._clock(), "last": 0.0, "total": None})
        entry["done"] += records
        now = self._clock()
        if now - entry["last"] >= self.interval_s:
            entry["last"] = now
            log.info("sync_progress", stream=stream, **_figures(entry, now))

    def finish(self, stream: str) -> None:
        """Log the stream's final figures if it moved at all."""
        entry = self._streams.pop(stream, None)
        if entry and entry["done"]:
            log.info("sync_progress_done", stream=stream, **_figures(entry, self._clock()))


def _figures(entry: dict[str, Any], now: float) -> dict[str, Any]:
    elapsed = max(now - entry["began"], 1e-9)
    rate = entry["done"] / elapsed
    total = entry.get("total")
    eta = (total - entry["done"]) / rate if total and rate and total > entry["done"] else None
    return {
        "records": entry["done"],
        "total": total,
        "rate_per_s": round(rate, 1),
        "eta_s": None if eta is None else round(eta, 1),
    }


class RichProgress:
    """One rich progress bar per stream: records, rate and ETA. Use as a context manager."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            transient=False,
        )
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def start(self, stream: str, total: int | None) -> None:
        """Add the stream's bar, or set its total."""
        if stream in self._tasks:
            self._progress.update(self._tasks[stream], total=total)
        else:
            self._tasks[stream] = self._progress.add_task(stream, total=total, rate="")

    def advance(self, stream: str, records: int) -> None:
        """Move the stream's bar."""
        task_id = self._tasks.get(stream)
        if task_id is None:
            return
        self._progress.advance(task_id, records)
        speed = self._progress.tasks[task_id].speed
        self._progress.update(task_id, rate=f"{speed:,.0f} rec/s" if speed else "")

    def finish(self, stream: str) -> None:
        """Complete the stream's bar."""
        task_id = self._tasks.get(stream)
        if task_id is not None:
            done = self._progress.tasks[task_id].completed
            self._progress.update(task_id, total=done, completed=done)


def progress_for_terminal() -> RichProgress | LogProgress:
    """A rich bar when stderr is a terminal, else structlog progress events."""
    return RichProgress() if sys.stderr.isatty() else LogProgress()
