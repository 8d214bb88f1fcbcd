"""Reading a stream's pages ahead of the engine: one fetch thread per read, bounded hand-overs, pages in order.

A page's next request is known from the page alone (the list cursor, or the last keyset position), so a thread can
keep asking the CRM (and, in the engine's use, map the records) while the consumer writes earlier pages. The
limiter's pacing, the CRM's answer time and our own CPU then overlap. Each hand-over holds at most ``depth`` pages,
counting the one its producer is working on: a stage first waits for room and only then fetches (or prepares), so
a slow consumer holds the stages before it back without any of them sitting on a finished page meanwhile. Memory
then does not grow with the stream, and with large pages (Salesforce: 2,000 records, ``depth`` 1) at most three
pages are alive: one being fetched, one being prepared, one being written.

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
_POLL_S = 0.05  # how often a stage waiting for room (or for a page) looks whether it was told to stop
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

    ``fetch(request)`` returns a page; ``following(request, page)`` the next request, or None after the last page.
    ``prepare(page)``, when given, runs on a second thread between fetching and the consumer (the engine maps
    records there), so preparing one page never delays asking for the next.
    Use as a context manager: leaving it (finished, stopped early, or by an exception) stops the threads.
    ``engine_bound_s`` is how long the stage before the consumer waited for room to hand on its next page: time in
    which the consumer, not the CRM or the limiter, set the pace.
    """

    def __init__(
        self,
        fetch: Callable[[R], P],
        first: R,
        following: Callable[[R, P], R | None],
        *,
        prepare: Callable[[P], P] | None = None,
        depth: int = 2,
        name: str = "sync-prefetch",
    ) -> None:
        if depth < 1:
            raise ValueError("depth must be at least 1")
        self._fetch = fetch
        self._following = following
        self._first = first
        self._prepare = prepare
        # The queues themselves are unbounded: the rooms (a slot per page, taken before the work) bound them.
        self._fetched: queue.Queue[object] = queue.Queue()
        self._ready: queue.Queue[object] = queue.Queue() if prepare else self._fetched
        self._fetch_room = threading.Semaphore(depth)
        self._ready_room = threading.Semaphore(depth) if prepare else self._fetch_room
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, name=name, daemon=True)]
        if prepare is not None:
            self._threads.append(threading.Thread(target=self._run_prepare, name=f"{name}-prepare", daemon=True))
        self._name = name
        self.engine_bound_s = 0.0

    def __enter__(self) -> PagePrefetcher[R, P]:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Leaving on SystemExit/KeyboardInterrupt (a second SIGTERM) must be immediate: the threads are daemons.
        self.close(JOIN_TIMEOUT_S if exc is None or isinstance(exc, Exception) else 0.0)

    def __iter__(self) -> Iterator[tuple[R, P]]:
        """Pages in request order; re-raises a failed fetch after the pages fetched before it.

        The iterator keeps no reference to a page it handed out: a consumer that lets go of each page before asking
        for the next holds one page, not two, while it waits.
        """
        while True:
            item = self._ready.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            self._ready_room.release()  # taken: the stage before may work on the next page while this one is used
            pair = cast("tuple[R, P]", item)  # besides the two markers, the queue holds (request, page) pairs
            del item
            yield pair
            del pair

    def close(self, timeout_s: float = JOIN_TIMEOUT_S) -> None:
        """Stop fetching, drop pages not yet taken, and wait for a call in flight (at most ``timeout_s``)."""
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            _drain(self._fetched)
            _drain(self._ready)
            left = deadline - time.monotonic()
            if thread.is_alive() and left > 0:
                thread.join(left)
            if thread.is_alive():  # a daemon thread: its answer is discarded and it ends after that call
                log.warning("sync_prefetch_left_running", thread=thread.name, waited_s=timeout_s)

    # -- the threads ------------------------------------------------------------------------------------------------
    # Each page is handled in a helper's frame, so no local variable keeps a page alive once it is handed on, and a
    # stage takes its room before it fetches or prepares: a thread that waits holds no page.
    def _run(self) -> None:
        request = self._first  # may be None: the first page of a list has no cursor
        try:
            while not self._stop.is_set():
                queued, upcoming = self._fetch_one(request)
                if not queued:
                    return
                if upcoming is None:
                    break
                request = upcoming
            self._fetched.put(_END)
        except BaseException as exc:  # handed to the consumer, who raises it in its own thread
            self._fetched.put(_Failed(exc))

    def _fetch_one(self, request: R) -> tuple[bool, R | None]:
        """Wait for room, fetch the page for ``request`` and queue it; (whether it was, the request after it)."""
        if not self._wait_for_room(self._fetch_room):
            return False, None
        page = self._fetch(request)
        upcoming = self._following(request, page)
        self._fetched.put((request, page))
        return True, upcoming

    def _run_prepare(self) -> None:
        while not self._stop.is_set() and self._prepare_one():
            pass

    def _prepare_one(self) -> bool:
        """Wait for room, prepare the next fetched page and hand it on; False once there is nothing more to do."""
        assert self._prepare is not None
        if not self._wait_for_room(self._ready_room):
            return False
        item = self._next_fetched()
        if item is None or item is _END or isinstance(item, _Failed):
            self._ready.put(_END if item is None else item)
            return False
        self._fetch_room.release()  # taken: the fetcher may ask for the next page while this one is prepared
        request, page = cast("tuple[R, P]", item)
        del item
        try:
            prepared = self._prepare(page)
        except BaseException as exc:  # handed to the consumer in the page's place
            self._ready.put(_Failed(exc))
            return False
        del page  # the prepared page replaces it: both alive while queueing would be one page more
        self._ready.put((request, prepared))
        return True

    def _next_fetched(self) -> object | None:
        """The next item the fetcher queued, or None when told to stop first."""
        while not self._stop.is_set():
            try:
                return self._fetched.get(timeout=_POLL_S)
            except queue.Empty:
                continue
        return None

    def _wait_for_room(self, room: threading.Semaphore) -> bool:
        """Take a slot of ``room`` unless told to stop first; True when taken."""
        started = time.monotonic()
        try:
            while not self._stop.is_set():
                if room.acquire(timeout=_POLL_S):
                    return True
            return False
        finally:
            if room is self._ready_room:  # waiting for the consumer to take a page: the engine set the pace
                self.engine_bound_s += time.monotonic() - started


def _drain(pending: queue.Queue[object]) -> None:
    while True:
        try:
            pending.get_nowait()
        except queue.Empty:
            return
