"""The daemon's periodic jobs, on a ``schedule.Scheduler``: each job is named, guarded and logged.

A job that raises is logged (``job_failed``) and runs again at its next time: one bad pass must not stop the loop.
Other parts register their own jobs (an SLA sweep, the monthly continuity audit) through ``Daemon.add_job``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import schedule

from connector.crm import CacheRecord, CrmReader, Page, Position, RawRecord
from connector.logs import get_logger
from connector.ratelimit import CrmLimiter
from connector.sync.streams import Stream

log = get_logger("leadrelay.daemon.jobs")
DAILY_CHECK_S = 30
DAILY_WINDOW_MIN = 60  # a daily job runs within an hour of its time; a restart later that day does not re-run it


class _DailyAt:
    """Runs ``fn`` once per UTC day, in the hour after ``at`` (HH:MM)."""

    def __init__(self, at: str, fn: Callable[[], None]) -> None:
        hours, minutes = at.split(":")
        self.minute_of_day = int(hours) * 60 + int(minutes)
        self.fn = fn
        self.last_day: str | None = None

    def __call__(self) -> None:
        now = time.gmtime()
        minute = now.tm_hour * 60 + now.tm_min
        today = time.strftime("%Y-%m-%d", now)
        if self.last_day != today and 0 <= minute - self.minute_of_day < DAILY_WINDOW_MIN:
            self.last_day = today
            self.fn()


@dataclass(frozen=True)
class JobSpec:
    """When a job runs: every ``every_s`` seconds, or daily at ``daily_at`` (HH:MM, UTC)."""

    name: str
    every_s: float | None = None
    daily_at: str | None = None


class JobBook:
    """Named jobs on one scheduler; ``run_pending`` runs what is due, ``seconds_to_next`` says how long to sleep."""

    def __init__(self) -> None:
        self.scheduler = schedule.Scheduler()
        self.names: list[str] = []

    def add(self, spec: JobSpec, fn: Callable[[], object]) -> None:
        """Schedule ``fn`` as ``spec`` says; exactly one of ``every_s`` / ``daily_at`` must be set."""
        if (spec.every_s is None) == (spec.daily_at is None):
            raise ValueError(f"job {spec.name!r}: give exactly one of every_s or daily_at")
        guarded = _guarded(spec.name, fn)
        if spec.every_s is not None:
            self.scheduler.every(spec.every_s).seconds.do(guarded).tag(spec.name)  # type: ignore[arg-type]
        else:
            assert spec.daily_at is not None
            # schedule's own time zones need pytz; a half-minute check against UTC needs nothing
            self.scheduler.every(DAILY_CHECK_S).seconds.do(_DailyAt(spec.daily_at, guarded)).tag(spec.name)
        self.names.append(spec.name)

    def run_pending(self) -> None:
        """Run every job that is due."""
        self.scheduler.run_pending()

    def run_all(self, names: Sequence[str] | None = None) -> None:
        """Run the named jobs (all when None) now, whatever their schedule (burst mode, tests)."""
        for job in list(self.scheduler.jobs):
            if names is None or job.tags & set(names):
                job.run()

    def seconds_to_next(self) -> float | None:
        """Seconds until the next job is due (0 if one is due), or None when there are no jobs."""
        idle = self.scheduler.idle_seconds
        return None if idle is None else max(0.0, idle)


def _guarded(name: str, fn: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        started = time.perf_counter()
        try:
            fn()
        except Exception as exc:  # a failing job is retried at its next time; the loop goes on
            log.error("job_failed", job=name, error=type(exc).__name__, message=str(exc)[:500])
            return
        log.debug("job_ran", job=name, seconds=round(time.perf_counter() - started, 3))

    return run


class PeopleStreams:
    """A CRM reader restricted to its people streams: what a webhook about a contact needs synced, nothing more."""

    def __init__(self, reader: CrmReader) -> None:
        self.reader = reader
        self.crm = reader.crm
        self.limiter: CrmLimiter = reader.limiter

    def streams(self) -> tuple[Stream, ...]:
        """Only the streams that hold people (contacts, leads), without the archived-list scan.

        A webhook says something was created or changed; deletions are the scheduled passes' business, and skipping
        the archived list halves the requests on this hot path.
        """
        return tuple(
            replace(s, deletions="inline") if s.deletions == "archived_list" else s
            for s in self.reader.streams()
            if s.entity == "person"
        )

    def list_page(self, stream: Stream, after: str | None) -> Page:
        """As the wrapped reader."""
        return self.reader.list_page(stream, after)

    def changes_page(self, stream: Stream, since: Position, until_ms: int) -> Page:
        """As the wrapped reader."""
        return self.reader.changes_page(stream, since, until_ms)

    def deletions_page(self, stream: Stream, after: str | None) -> Page:
        """As the wrapped reader."""
        return self.reader.deletions_page(stream, after)

    def count(self, stream: Stream) -> int | None:
        """As the wrapped reader."""
        return self.reader.count(stream)

    def to_cache_record(self, stream: Stream, record: RawRecord) -> CacheRecord:
        """As the wrapped reader."""
        return self.reader.to_cache_record(stream, record)
