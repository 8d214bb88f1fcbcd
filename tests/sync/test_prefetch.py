"""Pages fetched ahead of the engine: in order, bounded, errors in their place, a clean stop."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.crm import Page, RawRecord
from connector.errors import ServerError
from connector.sync.prefetch import PagePrefetcher, depth_for


def _list_pages(count: int) -> dict[str | None, Page]:
    """A list of ``count`` pages keyed by the cursor that asks for each (the first has none)."""
    cursors: list[str | None] = [None, *(f"c{i}" for i in range(1, count))]
    return {
        cursor: Page((RawRecord(str(i), i),), cursors[i + 1] if i + 1 < count else None)
        for i, cursor in enumerate(cursors)
    }


def _next(_after: str | None, page: Page) -> str | None:
    return page.next_after


@settings(max_examples=40, deadline=None)
@given(count=st.integers(1, 25), depth=st.integers(1, 6))
def test_every_page_arrives_once_in_request_order(count: int, depth: int) -> None:
    pages = _list_pages(count)

    with PagePrefetcher(pages.__getitem__, None, _next, depth=depth) as ahead:
        seen = [request for request, _page in ahead]

    assert seen == list(pages)


def test_a_slow_consumer_holds_the_fetcher_back_to_the_queue_depth() -> None:
    pages = _list_pages(30)
    fetched = 0

    def fetch(after: str | None) -> Page:
        nonlocal fetched
        fetched += 1
        return pages[after]

    with PagePrefetcher(fetch, None, _next, depth=3) as ahead:
        for taken, _page in enumerate(ahead, start=1):
            time.sleep(0.01)
            # up to `depth` waiting in the queue and one more fetched and waiting for room
            assert fetched <= taken + 3 + 1
            if taken == 5:
                break
    assert fetched <= 5 + 3 + 1
    assert ahead.engine_bound_s > 0  # the fetcher spent time waiting for this consumer


def test_a_failed_fetch_is_raised_after_the_pages_before_it() -> None:
    pages = _list_pages(6)

    def fetch(after: str | None) -> Page:
        if after == "c4":
            raise ServerError("hubspot server error", crm="hubspot", status=503)
        return pages[after]

    seen: list[str | None] = []
    with pytest.raises(ServerError), PagePrefetcher(fetch, None, _next, depth=2) as ahead:
        for request, _page in ahead:
            seen.append(request)

    assert seen == [None, "c1", "c2", "c3"]


def test_leaving_early_stops_the_fetch_thread() -> None:
    pages = _list_pages(1000)
    before = {t.ident for t in threading.enumerate()}

    with PagePrefetcher(pages.__getitem__, None, _next, depth=2, name="prefetch-under-test") as ahead:
        next(iter(ahead))

    leftover = [t for t in threading.enumerate() if t.ident not in before and t.name == "prefetch-under-test"]
    assert leftover == []


@pytest.mark.parametrize(("page_size", "depth"), [(100, 8), (200, 4), (2000, 1), (1, 8)])
def test_about_the_same_number_of_records_are_read_ahead_for_any_page_size(page_size: int, depth: int) -> None:
    assert depth_for(page_size) == depth


def test_a_second_signal_leaves_at_once_without_waiting_for_the_call_in_flight() -> None:
    pages = _list_pages(10)
    release = threading.Event()

    def slow_fetch(after: str | None) -> Page:
        if after is not None:
            release.wait(5)  # the CRM takes its time answering the second page
        return pages[after]

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt), PagePrefetcher(slow_fetch, None, _next, depth=2) as ahead:
        for _request, _page in ahead:
            raise KeyboardInterrupt  # what a second SIGINT raises in the consumer
    elapsed = time.monotonic() - started
    release.set()

    assert elapsed < 1.0


def test_preparing_a_page_runs_beside_fetching_the_next_and_keeps_the_order() -> None:
    pages = _list_pages(12)
    fetched: list[str | None] = []

    def fetch(after: str | None) -> Page:
        fetched.append(after)
        return pages[after]

    def slow_prepare(page: Page) -> Page:
        time.sleep(0.01)
        return Page(tuple(replace(r, properties={"prepared": True}) for r in page.records), page.next_after)

    with PagePrefetcher(fetch, None, _next, prepare=slow_prepare, depth=3) as ahead:
        first = next(iter(ahead))
        time.sleep(0.05)
        ahead_of_preparing = len(fetched)  # the fetcher did not wait for the slow preparation
        rest = list(ahead)

    assert ahead_of_preparing >= 3
    assert [request for request, _page in [first, *rest]] == list(pages)
    assert all(page.records[0].properties == {"prepared": True} for _request, page in [first, *rest])


def test_a_failed_preparation_is_raised_in_its_page_place() -> None:
    pages = _list_pages(5)

    def prepare(page: Page) -> Page:
        if page.next_after == "c3":  # the page asked for with "c2"
            raise ValueError("unmappable")
        return page

    seen: list[str | None] = []
    with (
        pytest.raises(ValueError, match="unmappable"),
        PagePrefetcher(pages.__getitem__, None, _next, prepare=prepare) as ahead,
    ):
        for request, _page in ahead:
            seen.append(request)

    assert seen == [None, "c1"]
