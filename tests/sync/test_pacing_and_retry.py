"""The limiter's promises (never more than the limit in any window, budgets stop reads at their share) and the
retry policy's (retriable errors retried with backoff honouring Retry-After; budget and fatal errors never)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.hubspot.errors import map_error as map_hubspot_error
from adapters.salesforce.errors import map_error as map_salesforce_error
from connector.errors import (
    AuthError,
    BudgetExhaustedError,
    RateLimitedError,
    RecordLockedError,
    RequestError,
    ServerError,
    TransportError,
)
from connector.ratelimit import CrmLimiter, DailyBudget, SlidingWindow
from connector.retry import RetryPolicy


class FakeTime:
    """A clock that only moves when the code under test sleeps (or a call takes time)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@settings(max_examples=60, deadline=None)
@given(
    limit=st.integers(1, 12),
    window=st.floats(0.5, 10),
    durations=st.lists(st.floats(0, 3), min_size=1, max_size=80),
)
def test_a_sliding_window_never_admits_more_than_its_limit(limit: int, window: float, durations: list[float]) -> None:
    t = FakeTime()
    limiter = SlidingWindow(limit, window, clock=t.clock, sleep=t.sleep)
    arrivals: list[float] = []
    for duration in durations:
        limiter.acquire()
        arrivals.append(t.now)  # the server counts a call when it arrives
        t.now += duration  # the call's latency
        limiter.release()

    for i, start in enumerate(arrivals):
        in_window = [a for a in arrivals[i:] if a < start + window]
        assert len(in_window) <= limit


def test_a_sliding_window_uses_its_whole_allowance() -> None:
    t = FakeTime()
    limiter = SlidingWindow(10, 1.0, clock=t.clock, sleep=t.sleep)
    start = t.now
    for _ in range(100):
        limiter.acquire()
        limiter.release()
    assert t.now - start == pytest.approx(9.0, abs=0.01)  # 100 instant calls at 10/s: 9 windows of waiting, not more


def test_retry_after_blocks_the_window() -> None:
    t = FakeTime()
    limiter = SlidingWindow(100, 10.0, clock=t.clock, sleep=t.sleep)
    limiter.block_for(2.5)
    assert limiter.acquire() == pytest.approx(2.5)


def test_daily_budget_stops_reads_at_their_share_and_adopts_the_crms_figures() -> None:
    budget = DailyBudget("hubspot", 100, 0.5, wall=lambda: 86_400 * 20_000 + 5)
    limiter = CrmLimiter("hubspot", budget)
    for _ in range(50):
        with limiter.call():
            pass
    with pytest.raises(BudgetExhaustedError) as caught:
        budget.check_read()
    assert caught.value.resume_at == 86_400 * 20_001

    budget.observe(used=10, limit=1000)  # the CRM says: 10 of 1000 used today
    budget.check_read()
    assert limiter.stats.total == 50


def test_retry_policy_retries_retriable_errors_with_backoff_and_retry_after() -> None:
    waits: list[float] = []
    failures = [ServerError("boom"), RateLimitedError("slow down", retry_after=7.0), TransportError("reset")]

    def flaky() -> str:
        if failures:
            raise failures.pop(0)
        return "ok"

    policy = RetryPolicy(attempts=5, initial_s=0.1, multiplier=2, jitter_s=0, max_retry_after_s=60)
    assert policy.call(flaky, sleep=waits.append) == "ok"
    assert waits == [pytest.approx(0.1), pytest.approx(7.0), pytest.approx(0.4)]


@pytest.mark.parametrize("error", [AuthError("no"), RequestError("bad"), BudgetExhaustedError("spent")])
def test_retry_policy_never_retries_fatal_or_budget_errors(error: Exception) -> None:
    calls = 0

    def fail() -> None:
        nonlocal calls
        calls += 1
        raise error

    with pytest.raises(type(error)):
        RetryPolicy(attempts=5, jitter_s=0).call(fail, sleep=lambda _s: None)
    assert calls == 1


def test_retry_policy_gives_up_after_its_attempts_with_the_last_error() -> None:
    calls = 0

    def always() -> None:
        nonlocal calls
        calls += 1
        raise ServerError(f"boom {calls}")

    with pytest.raises(ServerError, match="boom 3"):
        RetryPolicy(attempts=3, jitter_s=0).call(always, sleep=lambda _s: None)


class _HubSpotApiException(Exception):
    def __init__(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


@pytest.mark.parametrize(
    ("status", "body", "headers", "expected", "retry_after"),
    [
        (429, b'{"policyName":"TEN_SECONDLY_ROLLING","message":"x"}', {"Retry-After": "3"}, RateLimitedError, 3.0),
        (429, b'{"policyName":"SECONDLY"}', {}, RateLimitedError, 1.0),
        (429, b'{"policyName":"DAILY"}', {}, BudgetExhaustedError, None),
        (503, b"<html>", {}, ServerError, None),
        (401, b'{"message":"expired"}', {}, AuthError, None),
        (400, b'{"message":"bad filter"}', {}, RequestError, None),
        (0, b"", {}, TransportError, None),
    ],
)
def test_hubspot_errors_map_onto_the_hierarchy(
    status: int, body: bytes, headers: dict[str, str], expected: type, retry_after: float | None
) -> None:
    mapped = map_hubspot_error(_HubSpotApiException(status, body, headers))
    assert isinstance(mapped, expected)
    assert getattr(mapped, "retry_after", None) == retry_after


class _SalesforceError(Exception):
    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status, self.content = status, [{"errorCode": code, "message": code.lower()}]


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (403, "REQUEST_LIMIT_EXCEEDED", BudgetExhaustedError),
        (429, "REQUEST_LIMIT_EXCEEDED", RateLimitedError),
        (400, "UNABLE_TO_LOCK_ROW", RecordLockedError),
        (401, "INVALID_SESSION_ID", AuthError),
        (400, "MALFORMED_QUERY", RequestError),
        (500, "UNKNOWN_EXCEPTION", ServerError),
    ],
)
def test_salesforce_errors_map_onto_the_hierarchy(status: int, code: str, expected: type) -> None:
    assert isinstance(map_salesforce_error(_SalesforceError(status, code)), expected)
