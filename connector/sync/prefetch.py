"""Reading a stream's pages ahead of the engine: one fetch thread per read, a bounded queue, pages in order.

A page's next request is known from the page alone (the list cursor, or the last keyset position), so a thread can
keep asking the CRM (and, in the engine's use, map the records) while the consumer writes earlier pages. The
limiter's pacing, the CRM's answer time and our own CPU then overlap. The queue is bounded (``depth`` pages), so
memory does not grow with the stream: a slow consumer simply holds the fetcher back.

Only fetching runs ahead. The engine still writes each page and saves the cursor that follows it in one
transaction, strictly in order, so a crash re-reads at most the pages that were in flight. A fetch that fails is
handed over in its place: the consumer sees the pages before it, then the error.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Generic, TypeVar, cast

from connector.crm import Page
from connector.logs import get_logger

R = TypeVar("R")
P = TypeVar("P", bound=Page)
log = get_logger("connector.sync")

RECORDS_AHEAD = 800  # a few pages of any CRM's size: enough to ride out a slow write, small enough to not matter
MAX_DEPTH = 8
_PUT_POLL_S = 0.05  # how often a fetcher blocked on a full queue looks whether it was told to stop
JOIN_TIMEOUT_S = 15.0  # a paced call in flight usually ends within this; a stop should not wait on a retry storm


def depth_for(page_size: int) -> int:
    """Pages to fetch ahead for pages of ``page_size`` records: about ``RECORDS_AHEAD`` records, 1 to 8 pages."""
    return max(1, min(MAX_DEPTH, RECORDS_AHEAD // max(1, page_size)))


@dataclass(frozen=True)
class _Failed:
    error: BaseException


_END = object()


class PagePrefetcher(Generic[R, P]):
    """Iterates ``(request, page)`` in order while a thread fetches up to ``depth`` pages ahead.

    ``fetch(request)`` returns a page (any ``Page``: the engine's carry their records already mapped);
    ``following(request, page)`` the next request, or None after the last page.
    Use as a context manager: leaving it (finished, stopped early, or by an exception) stops the thread.
    ``engine_bound_s`` is how long the thread waited for room in the queue: time in which the consumer, not the
    CRM or the limiter, set the pace.
    """

    def __init__(
        self,
        fetch: Callable[[R], P],
        first: R,
        following: Callable[[R, P], R | None],
        *,
        depth: int = 2,
        name: str = "sync-prefetch",
    ) -> None:
        if depth < 1:
            raise ValueError("depth must be at least 1")
        self._fetch = fetch
        self._following = following
        self._first = first
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._name = name
        self.engine_bound_s = 0.0

    def __enter__(self) -> PagePrefetcher[R, P]:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Leaving on SystemExit/KeyboardInterrupt (a second SIGTERM) must be immediate: the thread is a daemon.
        self.close(JOIN_TIMEOUT_S if exc is None or isinstance(exc, Exception) else 0.0)

    def __iter__(self) -> Iterator[tuple[R, P]]:
        """Pages in request order; re-raises a failed fetch after the pages fetched before it."""
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield cast("tuple[R, P]", item)  # besides the two markers, the queue holds (request, page) pairs

    def close(self, timeout_s: float = JOIN_TIMEOUT_S) -> None:
        """Stop fetching, drop pages not yet taken, and wait for a call in flight (at most ``timeout_s``)."""
        self._stop.set()
        self._drain()
        if self._thread.is_alive() and timeout_s > 0:
            self._thread.join(timeout_s)
        if self._thread.is_alive():  # a daemon thread: its answer is discarded and it ends after that call
            log.warning("sync_prefetch_left_running", thread=self._name, waited_s=timeout_s)

    # -- the fetch thread -------------------------------------------------------------------------------------------
    def _run(self) -> None:
        request = self._first  # may be None: the first page of a list has no cursor
        try:
            while not self._stop.is_set():
                page = self._fetch(request)
                upcoming = self._following(request, page)
                if not self._put((request, page)):
                    return
                if upcoming is None:
                    break
                request = upcoming
            self._put(_END)
        except BaseException as exc:  # handed to the consumer, who raises it in its own thread
            self._put(_Failed(exc))

    def _put(self, item: object) -> bool:
        """Queue ``item`` unless told to stop first; True when queued."""
        started = time.monotonic()
        try:
            while not self._stop.is_set():
                try:
                    self._queue.put(item, timeout=_PUT_POLL_S)
                    return True
                except queue.Full:
                    continue
            return False
        finally:
            self.engine_bound_s += time.monotonic() - started

    def _drain(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return
