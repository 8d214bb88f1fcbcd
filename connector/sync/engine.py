"""One engine runs every stream of every CRM: backfill, incremental changes, deletions, sweeps.

Per stream and pass:

1. ``sweep`` streams (small ones without a cursor, e.g. HubSpot owners) are read in full; what was not seen is
   tombstoned.
2. Otherwise a stream without state is backfilled through the CRM's list endpoint, page by page, each page
   committed with the list cursor that follows it (crash-safe, resumable), then switches to incremental.
3. Incremental: changes in (watermark - overlap, pass start] in (modified, id) keyset order, each page committed
   with the new watermark. Deleted rows in the changes (Salesforce ``queryAll``) become tombstones.
4. ``archived_list`` streams then scan the CRM's archived records (HubSpot) and tombstone them.

Each read runs on a fetch thread (``prefetch.py``) that asks for the next pages and maps their records while this
thread writes earlier ones, so the CRM's answer time, the limiter's pacing, mapping and SQLite writes overlap; the
writes and cursor commits stay here, one transaction per page, strictly in order.

A spent daily budget (``BudgetExhaustedError``) pauses that CRM until its reset, persisted so restarts do not
hammer it; the other CRM carries on. Records that cannot be mapped are skipped with a logged reason.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TypeVar

import sqlite_utils

from connector.cache import writes
from connector.cache.writes import WriteCounts
from connector.crm import CacheRecord, CrmReader, Page, Position, RawRecord
from connector.db import transaction
from connector.errors import BudgetExhaustedError, FatalError, InvalidRecordError, LeadrelayError
from connector.logs import get_logger
from connector.models import record_id
from connector.sync import cursors
from connector.sync.cursors import StreamState
from connector.sync.memory import MemoryReleaser
from connector.sync.prefetch import PagePrefetcher, depth_for
from connector.sync.progress import NullProgress, ProgressSink
from connector.sync.streams import Stream

log = get_logger("connector.sync")
# Mapping code meets whatever a CRM (or a forger) sends; these mean "this record is garbage", not "we are broken".
_GARBAGE = (TypeError, ValueError, KeyError, AttributeError, OverflowError)


@dataclass
class StreamReport:
    """What one pass did to one stream."""

    stream: str
    mode: str = "incremental"
    counts: WriteCounts = field(default_factory=WriteCounts)
    skipped: int = 0
    pages: int = 0
    requests: int = 0
    engine_bound_s: float = 0.0  # seconds pages fetched and mapped ahead waited for their writes (the bound)


@dataclass
class SyncReport:
    """What one pass did: per-stream reports, CRMs paused for budget, CRMs that failed, whether it was stopped."""

    streams: list[StreamReport] = field(default_factory=list)
    paused: dict[str, float] = field(default_factory=dict)  # crm -> resume_at (epoch seconds)
    failed: dict[str, str] = field(default_factory=dict)  # crm -> error message
    requests: dict[str, int] = field(default_factory=dict)
    stopped: bool = False

    @property
    def ok(self) -> bool:
        """True when no CRM failed (a budget pause is not a failure)."""
        return not self.failed


class _Stop(Exception):
    """Internal: the caller asked the pass to stop between pages."""


@dataclass(frozen=True)
class _MappedPage(Page):
    """A page with its records mapped to cache rows, done on the fetch thread while earlier pages are written.

    Once mapped, the raw records are let go (``records`` is emptied): the engine needs only the rows, how many
    records there were and the last one's position, and keeping both forms of every page waiting to be written
    roughly doubled the sync's memory for large pages.
    """

    live: tuple[dict[str, object], ...] = ()
    deleted: tuple[str, ...] = ()
    skipped: int = 0
    count: int = 0  # records the CRM sent on this page (live, deleted and skipped alike)
    last: Position | None = None  # the last record's position (keyset reads continue after it)


class SyncEngine:
    """Runs sync passes over ``readers`` into the cache at ``db``."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        readers: Sequence[CrmReader],
        *,
        overlap_ms: dict[str, int] | None = None,
        progress: ProgressSink | None = None,
        now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self.db = db
        self.readers = list(readers)
        self.overlap_ms = overlap_ms or {}
        self.progress = progress or NullProgress()
        self.now_ms = now_ms
        self.should_stop = should_stop
        self._memory = MemoryReleaser()  # hands freed pages back every few thousand records: flat RSS on long reads

    # -- a pass --------------------------------------------------------------------------------------------------
    def run_pass(self, *, full: bool = False) -> SyncReport:
        """Sync every stream of every reader once; ``full`` forgets cursors first and re-reads everything."""
        report = SyncReport()
        for reader in self.readers:
            if report.stopped:
                break
            self._run_crm(reader, full=full, report=report)
        return report

    def _run_crm(self, reader: CrmReader, *, full: bool, report: SyncReport) -> None:
        crm = reader.crm
        pause = cursors.paused_until(self.db.conn, crm)
        if pause is not None:
            report.paused[crm] = pause[0]
            log.warning("crm_paused", crm=crm, resume_at=pause[0], reason=pause[1])
            return
        # A spent budget met by a sync is recorded as a pause; none on record while the limiter remembers one means
        # an operator lifted it (`leadrelay sync resume`), whichever engine sharing this reader recorded it. (One
        # met by a writer costs the next sync a single call, which meets it again and records the pause.)
        if reader.limiter.budget.lift():
            log.info("crm_pause_lifted", crm=crm)
        if full:
            with transaction(self.db) as conn:
                cursors.reset_states(conn, f"{crm}.")
        before = reader.limiter.stats.total
        until_ms = self.now_ms()  # the pass's upper bound: later changes belong to the next pass
        try:
            for stream in reader.streams():
                result = StreamReport(stream.key)
                report.streams.append(result)  # before running: a stop or failure keeps the partial counts
                self._run_stream(reader, stream, until_ms, result)
        except _Stop:
            report.stopped = True
            log.info("sync_stopped", crm=crm)
        except BudgetExhaustedError as exc:
            resume_at = exc.resume_at or time.time() + 3600
            with transaction(self.db) as conn:
                cursors.pause(conn, crm, resume_at, exc.message)
            report.paused[crm] = resume_at
            log.error("crm_budget_exhausted", crm=crm, resume_at=resume_at, reason=exc.message)
        except (FatalError, LeadrelayError) as exc:
            report.failed[crm] = f"{type(exc).__name__}: {exc.message}"
            log.error("crm_sync_failed", crm=crm, error=type(exc).__name__, message=exc.message, status=exc.status)
        report.requests[crm] = reader.limiter.stats.total - before

    def _run_stream(self, reader: CrmReader, stream: Stream, until_ms: int, result: StreamReport) -> None:
        state = cursors.load_state(self.db.conn, stream.key)
        before = reader.limiter.stats.total
        self.progress.start(stream.key, None)
        try:
            if stream.deletions == "sweep" or state.phase == "backfill":
                result.mode = "full" if stream.deletions == "sweep" else "backfill"
                state = self._read_all(reader, stream, state, result)
            if stream.incremental:
                state = self._read_changes(reader, stream, state, until_ms, result)
            if stream.deletions == "archived_list":
                self._read_deletions(reader, stream, state, result)
        finally:
            result.requests = reader.limiter.stats.total - before
            self.progress.finish(stream.key)
        log.info(
            "stream_synced",
            stream=stream.key,
            mode=result.mode,
            created=result.counts.created,
            updated=result.counts.updated,
            unchanged=result.counts.unchanged,
            deleted=result.counts.deleted,
            skipped=result.skipped,
            pages=result.pages,
            requests=result.requests,
        )

    # -- full reads (backfill, sweep streams) ----------------------------------------------------------------------
    def _read_all(self, reader: CrmReader, stream: Stream, state: StreamState, result: StreamReport) -> StreamState:
        if state.sweep_token is None:
            overlap = self.overlap_ms.get(stream.crm, 0)
            state = replace(state, sweep_token=uuid.uuid4().hex, started_ms=self.now_ms() - overlap, list_after=None)
            with transaction(self.db) as conn:
                cursors.save_state(conn, state)
        if state.list_after is None:  # a fresh read, not a resumed one: an ETA is worth one count request
            self.progress.start(stream.key, reader.count(stream))
        fetch, mapping = _unmapped(partial(reader.list_page, stream)), self._mapping(reader, stream)
        with _ahead(
            stream, fetch, state.list_after, _next_list_page, mapping, page_size=stream.page_size, result=result
        ) as pages:
            for _after, page in pages:
                self._check_stop()
                state = state.page_done(page.next_after)
                self._apply(stream, page, state, result, sweep_token=state.sweep_token)
                del page  # written: not kept alive while the next one is awaited
        return self._finish_full_read(stream, state, result)

    def _finish_full_read(self, stream: Stream, state: StreamState, result: StreamReport) -> StreamState:
        now = self.now_ms()
        done = state.backfill_done() if stream.incremental else StreamState(stream.key)
        with transaction(self.db) as conn:
            assert state.sweep_token is not None
            result.counts.deleted += writes.sweep(
                conn, stream.entity, stream.crm, stream.object, token=state.sweep_token, deleted_ms=now, now_ms=now
            )
            cursors.save_state(conn, done)
        return done

    # -- incremental -------------------------------------------------------------------------------------------------
    def _read_changes(
        self, reader: CrmReader, stream: Stream, state: StreamState, until_ms: int, result: StreamReport
    ) -> StreamState:
        mark = state.watermark or Position(0)
        overlap = self.overlap_ms.get(stream.crm, 0)
        position = Position(max(0, mark.modified_ms - overlap)) if overlap else mark

        def changes(since: Position) -> Page:
            return reader.changes_page(stream, since=since, until_ms=until_ms)

        fetch, mapping = _unmapped(changes), self._mapping(reader, stream)
        with _ahead(
            stream, fetch, position, _next_position, mapping, page_size=stream.changes_page_size, result=result
        ) as pages:
            for since, page in pages:
                self._check_stop()
                last = page.last
                if last is None:
                    break
                if page.more and last <= since:
                    log.error("stream_cursor_stuck", stream=stream.key, at=since.modified_ms, id=since.native_id)
                    break
                state = state.advanced_to(max(last, mark))
                self._apply(stream, page, state, result, sweep_token=None)
                del page  # written: not kept alive while the next one is awaited
        return state

    # -- deletions list ---------------------------------------------------------------------------------------------
    def _read_deletions(self, reader: CrmReader, stream: Stream, state: StreamState, result: StreamReport) -> None:
        fetch, mapping = _unmapped(partial(reader.deletions_page, stream)), self._mapping(reader, stream)
        with _ahead(
            stream, fetch, state.deletions_after, _next_list_page, mapping, page_size=stream.page_size, result=result
        ) as pages:
            for _after, page in pages:
                self._check_stop()
                state = replace(state, deletions_after=page.next_after)
                self._apply(stream, page, state, result, sweep_token=None)
                del page  # written: not kept alive while the next one is awaited

    # -- applying a page --------------------------------------------------------------------------------------------
    def _mapping(self, reader: CrmReader, stream: Stream) -> Callable[[_MappedPage], _MappedPage]:
        """Mapping a fetched page's records, run on the prefetcher's second thread: the CPU-bound mapping overlaps
        the engine's writes (SQLite lets go of the GIL) and never delays asking the CRM for the next page."""

        def mapped(page: _MappedPage) -> _MappedPage:
            live, deleted, skipped = self._map_page(reader, stream, page.records)
            last = page.records[-1].position if page.records else None
            return replace(
                page,
                records=(),
                live=tuple(live),
                deleted=tuple(deleted),
                skipped=skipped,
                count=len(page.records),
                last=last,
            )

        return mapped

    def _apply(
        self, stream: Stream, page: _MappedPage, state: StreamState, result: StreamReport, *, sweep_token: str | None
    ) -> None:
        """Write the page's mapped records plus ``state`` in one transaction."""
        now = self.now_ms()
        with transaction(self.db) as conn:
            counts = writes.upsert(conn, stream.entity, list(page.live), sweep_token=sweep_token, now_ms=now)
            counts.deleted += writes.mark_deleted(conn, stream.entity, list(page.deleted), deleted_ms=now, now_ms=now)
            cursors.save_state(conn, state)
        result.counts.add(counts)
        result.skipped += page.skipped
        result.pages += 1
        self.progress.advance(stream.key, page.count)
        self._memory.written(page.count)

    def _map_page(
        self, reader: CrmReader, stream: Stream, records: Sequence[RawRecord]
    ) -> tuple[list[dict[str, object]], list[str], int]:
        live: list[dict[str, object]] = []
        deleted: list[str] = []
        skipped = 0
        for raw in records:
            if raw.deleted:
                if raw.native_id:
                    deleted.append(record_id(stream.crm, stream.object, raw.native_id))
                continue
            mapped = self._map_record(reader, stream, raw)
            if mapped is None:
                skipped += 1
                continue
            live.append(writes.to_row(mapped)[1])
        return live, deleted, skipped

    def _map_record(self, reader: CrmReader, stream: Stream, raw: RawRecord) -> CacheRecord | None:
        try:
            return reader.to_cache_record(stream, raw)
        except InvalidRecordError as exc:
            reason = exc.reason
        except _GARBAGE as exc:
            reason = f"unmappable_{type(exc).__name__}"
        log.warning("record_skipped", stream=stream.key, native_id=raw.native_id or None, reason=reason)
        return None

    def _check_stop(self) -> None:
        if self.should_stop():
            raise _Stop


R = TypeVar("R")


@contextmanager
def _ahead(
    stream: Stream,
    fetch: Callable[[R], _MappedPage],
    first: R,
    following: Callable[[R, Page], R | None],
    mapping: Callable[[_MappedPage], _MappedPage],
    *,
    page_size: int,
    result: StreamReport,
) -> Iterator[PagePrefetcher[R, _MappedPage]]:
    """The stream's pages fetched and mapped ahead of the engine (about the same number of records for any CRM)."""
    prefetcher = PagePrefetcher(
        fetch, first, following, prepare=mapping, depth=depth_for(page_size), name=f"sync-prefetch-{stream.key}"
    )
    try:
        with prefetcher:
            yield prefetcher
    finally:
        result.engine_bound_s += prefetcher.engine_bound_s


def _unmapped(fetch: Callable[[R], Page]) -> Callable[[R], _MappedPage]:
    """``fetch``, its page wrapped for mapping later."""

    def fetched(request: R) -> _MappedPage:
        page = fetch(request)
        return _MappedPage(page.records, page.next_after, page.more)

    return fetched


def _next_list_page(_after: str | None, page: Page) -> str | None:
    """A list's next cursor comes with the page (None after the last one)."""
    return page.next_after


def _next_position(since: Position, page: Page) -> Position | None:
    """A keyset read continues after the page's last record, unless the page was the last or did not advance."""
    if not page.more or not page.records:
        return None
    last = page.records[-1].position
    return last if last > since else None  # a stuck cursor: the engine logs it and stops this read
