"""API budget: pacing keeps the CRM's 429s away, a spent daily budget pauses the CRM loudly and without a hot loop,
and reads stop at their configured share of the day's budget. Against the sandbox with its real limits on."""

from __future__ import annotations

import time

import pytest
import sqlite_utils

from adapters.hubspot import HubSpotReader
from adapters.salesforce import SalesforceReader
from adapters.sandbox.runner import SandboxServer
from connector.crm import CrmReader
from connector.ratelimit import CrmLimiter, DailyBudget, SlidingWindow
from connector.sync import cursors
from connector.sync.engine import SyncEngine

from .world import hubspot_config, salesforce_config


def _contacts(sandbox: SandboxServer, n: int, crms: tuple[str, ...] = ("hubspot", "salesforce")) -> None:
    hubspot = [{"kind": "hubspot.contacts", "properties": {"email": f"p{i}@budget-corp.com"}} for i in range(n)]
    salesforce = [{"kind": "salesforce.Lead", "properties": {"LastName": f"L{i}", "Company": "B"}} for i in range(n)]
    sandbox.admin.seed((hubspot if "hubspot" in crms else []) + (salesforce if "salesforce" in crms else []))


def _refused(sandbox: SandboxServer) -> dict[str, int]:
    return dict(sandbox.admin.get_limits()["counters"]["refused"])


def _requests_seen(sandbox: SandboxServer) -> int:
    return len(sandbox.admin.requests(10_000))


def _reader(sandbox: SandboxServer, crm: str, **overrides: object) -> CrmReader:
    if crm == "hubspot":
        return HubSpotReader(hubspot_config(sandbox, page_size=20, **overrides))
    return SalesforceReader(salesforce_config(sandbox, page_size=200, **overrides))


@pytest.mark.parametrize(
    ("crm", "limits", "policy"),
    [
        ("hubspot", {"hubspot_daily": 5}, "DAILY"),
        ("salesforce", {"salesforce_daily": 3}, "REQUEST_LIMIT_EXCEEDED"),
    ],
)
def test_a_spent_daily_budget_pauses_the_crm_without_a_hot_loop(
    sandbox: SandboxServer, cache: sqlite_utils.Database, crm: str, limits: dict[str, int], policy: str
) -> None:
    _contacts(sandbox, 300)
    engine = SyncEngine(cache, [_reader(sandbox, crm)])

    with sandbox.limits("professional", **limits):
        first = engine.run_pass()
        refused_once = _refused(sandbox)
        seen = _requests_seen(sandbox)
        second = engine.run_pass()  # the pause is remembered: not one more request
        refused_after = _refused(sandbox)

    assert crm in first.paused and crm in second.paused and first.ok
    assert refused_once == {policy: 1}  # refused once, then stopped: no retry loop against the budget
    assert refused_after == refused_once and _requests_seen(sandbox) == seen
    assert cursors.paused_until(cache.conn, crm) is not None


@pytest.mark.parametrize(
    ("crm", "limits"), [("hubspot", {"hubspot_daily": 40}), ("salesforce", {"salesforce_daily": 40})]
)
def test_reads_stop_at_their_share_of_the_daily_budget(
    sandbox: SandboxServer, cache: sqlite_utils.Database, crm: str, limits: dict[str, int]
) -> None:
    _contacts(sandbox, 400 if crm == "hubspot" else 4000, (crm,))
    reader = _reader(sandbox, crm, limits_enabled=True, daily_read_share=0.5)

    with sandbox.limits("professional", **limits):
        report = SyncEngine(cache, [reader]).run_pass()
        refused = _refused(sandbox)

    assert crm in report.paused
    assert refused == {}  # we stopped ourselves: the CRM never had to refuse us
    assert reader.limiter.budget.used <= 20 + 1  # half of 40, give or take the answer that told us the usage
    assert report.paused[crm] >= time.time()


def test_one_crm_paused_the_other_carries_on(sandbox: SandboxServer, cache: sqlite_utils.Database) -> None:
    _contacts(sandbox, 100)
    readers = [_reader(sandbox, "hubspot"), _reader(sandbox, "salesforce")]

    with sandbox.limits("professional", hubspot_daily=2):
        report = SyncEngine(cache, readers).run_pass()

    assert set(report.paused) == {"hubspot"}
    assert next(s for s in report.streams if s.stream == "salesforce.Lead").counts.created == 100


def test_pacing_keeps_a_small_burst_window_free_of_429s(sandbox: SandboxServer, cache: sqlite_utils.Database) -> None:
    _contacts(sandbox, 300)
    # A portal with 12 calls per rolling second; the reader paces to the same numbers.
    limiter = CrmLimiter(
        "hubspot",
        DailyBudget("hubspot", None, 1.0),
        {"default": SlidingWindow(12, 1.0), "search": SlidingWindow(5, 1.0)},
    )
    reader = HubSpotReader(hubspot_config(sandbox, page_size=10), limiter=limiter)

    with sandbox.limits("starter", hubspot_burst=12, hubspot_window_ms=1000):
        started = time.monotonic()
        report = SyncEngine(cache, [reader]).run_pass()
        elapsed = time.monotonic() - started
        refused = _refused(sandbox)

    assert report.ok and not report.paused
    assert refused == {}
    calls = reader.limiter.stats.calls.get("default", 0)
    assert calls > 30 and elapsed >= (calls - 12) / 12  # it really was paced to 12/s
