"""Memory a sync holds: pages in flight are bounded by the queues, freed memory is handed back, and Salesforce
answers parse to the same records without the decoded-text copy."""

from __future__ import annotations

import json
import sys
import time
import weakref
from collections import OrderedDict
from pathlib import Path

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from simple_salesforce import Salesforce

from adapters.salesforce.answers import OrjsonSalesforce
from connector.crm import Page, RawRecord
from connector.sync.memory import MemoryReleaser, release_free_memory
from connector.sync.prefetch import PagePrefetcher


class _TrackedPage(Page):
    """A page whose liveness the test can watch (a subclass takes weak references)."""


def _next(after: int, page: Page) -> int | None:
    return after + 1 if page.more else None


def test_pages_already_written_are_not_kept_alive_while_the_next_one_is_fetched() -> None:
    made: list[weakref.ref[Page]] = []
    alive_while_fetching: list[int] = []

    def fetch(n: int) -> Page:
        if n:
            time.sleep(0.02)  # the CRM's answer time: meanwhile the consumer writes and lets go of every page
            alive_while_fetching.append(sum(ref() is not None for ref in made))
        page = _TrackedPage((RawRecord(str(n), n),), more=n < 15)
        made.append(weakref.ref(page))
        return page

    def prepare(page: Page) -> Page:
        prepared = _TrackedPage(page.records, page.next_after, page.more)
        made.append(weakref.ref(prepared))
        return prepared

    with PagePrefetcher(fetch, 0, _next, prepare=prepare, depth=2) as ahead:
        for _n, page in ahead:
            assert page.records
            del page  # what the engine does once a page is written

    # neither thread nor the iterator holds on to a page it handed on (each held one: up to 3 pages per fetch)
    assert alive_while_fetching == [0] * 15


def test_memory_is_released_once_per_batch_of_written_records() -> None:
    released: list[int] = []
    releaser = MemoryReleaser(every=1_000, release=lambda: released.append(1) is None)

    for _ in range(25):
        releaser.written(200)  # 5,000 records in pages of 200

    assert len(released) == 5


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and glibc's malloc_trim")
def test_releasing_hands_freed_heap_pages_back_to_the_system() -> None:
    # Buffers over 512 bytes come from malloc's heap; keeping every 64th pins the heap's top above the holes,
    # which is how a sync's freed pages stayed resident.
    buffers = [bytearray(b"x" * 2_000) for _ in range(30_000)]  # written, so resident
    kept = buffers[::64]
    del buffers
    before = _rss_anon_kib()

    assert release_free_memory()

    assert before - _rss_anon_kib() > 20_000  # of the ~58 MB freed, most goes back
    assert len(kept) == 469


def _rss_anon_kib() -> int:
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("RssAnon:")))


def _answer(body: bytes) -> requests.Response:
    answer = requests.Response()
    answer.status_code, answer._content, answer.encoding = 200, body, "utf-8"
    return answer


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(records=st.lists(st.dictionaries(st.text(max_size=12), _JSON, max_size=8), max_size=5))
def test_salesforce_answers_parse_to_what_simple_salesforce_parsed(records: list[dict[str, object]]) -> None:
    body = json.dumps({"totalSize": len(records), "done": True, "records": records}, ensure_ascii=False).encode()

    assert _client(OrjsonSalesforce).parse_result_to_json(_answer(body)) == _client(Salesforce).parse_result_to_json(
        _answer(body)
    )


@pytest.mark.parametrize(
    "body",
    [
        b'{"records": [{"Name": "\\ud800 lone surrogate"}]}',  # json accepts it, orjson does not
        b'{"records": [{"AnnualRevenue": NaN}]}',
    ],
)
def test_answers_only_python_json_accepts_still_parse(body: bytes) -> None:
    parsed = _client(OrjsonSalesforce).parse_result_to_json(_answer(body))

    assert json.dumps(parsed) == json.dumps(_client(Salesforce).parse_result_to_json(_answer(body)))


def test_integers_beyond_64_bits_arrive_as_numbers_of_the_same_value() -> None:
    # Salesforce numbers have at most 18 digits; a forged wider one is read as a float, as the mapping reads it.
    body = b'{"records": [{"NumberOfEmployees": 123456789012345678901234567890}]}'

    value = _client(OrjsonSalesforce).parse_result_to_json(_answer(body))["records"][0]["NumberOfEmployees"]

    assert value == pytest.approx(1.2345678901234568e29)


def test_an_answer_that_is_not_json_fails_as_it_did() -> None:
    with pytest.raises(requests.JSONDecodeError):
        _client(OrjsonSalesforce).parse_result_to_json(_answer(b"<html>gateway timeout</html>"))


def _client(kind: type[Salesforce]) -> Salesforce:
    return kind(instance_url="https://sandbox.invalid", session_id="token", session=requests.Session())


def test_plain_dicts_keep_the_answer_order() -> None:
    body = b'{"records": [{"Id": "00Q1", "Email": "a@b.c", "Company": "Acme"}]}'

    record = _client(OrjsonSalesforce).parse_result_to_json(_answer(body))["records"][0]

    assert list(record) == list(OrderedDict(json.loads(body)["records"][0])) == ["Id", "Email", "Company"]
