"""Rate limits: the counters themselves, and what the real clients see when they hit them."""

from __future__ import annotations

import json
import time

import pytest
from hubspot.crm.contacts import PublicObjectSearchRequest
from hubspot.crm.contacts.exceptions import ApiException
from hypothesis import given, settings
from hypothesis import strategies as st
from urllib3 import Retry

from adapters.sandbox.clock import Clock
from adapters.sandbox.limits import DAY_MS, LimitSettings, RateLimits, resolve_profile


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rolling_window_refuses_then_frees_a_slot():
    tick = FakeMonotonic()
    limits = RateLimits(LimitSettings("t", hubspot_burst=3), monotonic=tick)
    assert [limits.check_hubspot(search=False).allowed for _ in range(3)] == [True, True, True]
    refused = limits.check_hubspot(search=False)
    assert not refused.allowed and refused.policy == "TEN_SECONDLY_ROLLING" and refused.retry_after_s == 10
    tick.now += 10.0
    assert limits.check_hubspot(search=False).allowed


def test_search_has_its_own_per_second_window_and_no_headers():
    tick = FakeMonotonic()
    limits = RateLimits(LimitSettings("t", hubspot_burst=100, hubspot_search_per_second=2), monotonic=tick)
    first = limits.check_hubspot(search=True)
    assert first.allowed and first.headers == ()
    limits.check_hubspot(search=True)
    third = limits.check_hubspot(search=True)
    assert third.policy == "SECONDLY" and third.retry_after_s == 1
    assert limits.check_hubspot(search=False).allowed  # the 10-second window is separate


def test_daily_budget_refreshes_with_the_sandbox_day():
    clock = Clock()
    clock.freeze(10 * DAY_MS + 1000)
    limits = RateLimits(LimitSettings("t", hubspot_daily=2, salesforce_daily=1), clock=clock)
    assert limits.check_hubspot(search=False).allowed and limits.check_hubspot(search=True).allowed
    daily = limits.check_hubspot(search=False)
    assert daily.policy == "DAILY" and daily.retry_after_s is None
    assert limits.check_salesforce().allowed
    assert limits.check_salesforce().policy == "REQUEST_LIMIT_EXCEEDED"
    clock.advance(DAY_MS)
    assert limits.check_hubspot(search=False).allowed and limits.check_salesforce().allowed


def test_off_profile_allows_everything():
    limits = RateLimits("off")
    assert all(limits.check_hubspot(search=s).allowed for s in (True, False) for _ in range(1000))


def test_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="unknown limits profile"):
        resolve_profile("platinum")


@settings(max_examples=50, deadline=None)
@given(gaps=st.lists(st.floats(min_value=0, max_value=3), min_size=1, max_size=200), burst=st.integers(1, 20))
def test_never_more_than_burst_in_any_window(gaps, burst):
    tick = FakeMonotonic()
    limits = RateLimits(LimitSettings("t", hubspot_burst=burst, hubspot_daily=10**9), monotonic=tick)
    admitted = []
    for gap in gaps:
        tick.now += gap
        if limits.check_hubspot(search=False).allowed:
            admitted.append(tick.now)
    for i, start in enumerate(admitted):
        assert sum(1 for t in admitted[i:] if t < start + 10.0) <= burst


# -- through the real clients ---------------------------------------------------------------------
def test_hubspot_headers_count_down(sandbox, hubspot_client):
    with sandbox.limits("professional"):
        _, _, headers = hubspot_client.crm.contacts.basic_api.get_page_with_http_info()
        second = hubspot_client.crm.contacts.basic_api.get_page_with_http_info()[2]
    assert headers["X-HubSpot-RateLimit-Max"] == "190"
    assert headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert int(second["X-HubSpot-RateLimit-Remaining"]) == int(headers["X-HubSpot-RateLimit-Remaining"]) - 1
    assert headers["X-HubSpot-RateLimit-Daily"] == "625000"


@pytest.fixture
def no_retry_client(sandbox):
    """The client without urllib3's default Retry, which would itself sleep out a 429's Retry-After on GETs."""
    return sandbox.hubspot_client(retry=Retry(0))


def test_the_default_client_waits_out_a_429_on_get(sandbox, hubspot_client):
    sandbox.admin.set_limits("starter", hubspot_burst=1, hubspot_window_ms=1000)
    hubspot_client.crm.contacts.basic_api.get_page()
    started = time.monotonic()
    hubspot_client.crm.contacts.basic_api.get_page()  # urllib3 honours Retry-After: 1 and tries again
    assert time.monotonic() - started >= 0.9
    statuses = [r["status"] for r in sandbox.admin.requests()]
    assert statuses == [200, 429, 200]


def test_hubspot_429_with_retry_after_on_a_small_profile(sandbox, no_retry_client):
    hubspot_client = no_retry_client
    sandbox.admin.set_limits("starter", hubspot_burst=3)
    for _ in range(3):
        hubspot_client.crm.contacts.basic_api.get_page()
    with pytest.raises(ApiException) as info:
        hubspot_client.crm.contacts.basic_api.get_page()
    error = info.value
    assert error.status == 429
    assert 1 <= int(error.headers["Retry-After"]) <= 10
    body = json.loads(error.body)
    assert body["policyName"] == "TEN_SECONDLY_ROLLING" and body["errorType"] == "RATE_LIMIT"
    assert body["status"] == "error" and body["correlationId"]
    assert sandbox.admin.stats()["limits"]["refused"] == {"TEN_SECONDLY_ROLLING": 1}


def test_search_429_is_secondly_without_rate_limit_headers(sandbox, hubspot_client):
    sandbox.admin.set_limits("professional", hubspot_search_per_second=1)
    _, _, headers = hubspot_client.crm.contacts.search_api.do_search_with_http_info(PublicObjectSearchRequest())
    assert not any(h.lower().startswith("x-hubspot-ratelimit") for h in headers)
    with pytest.raises(ApiException) as info:
        hubspot_client.crm.contacts.search_api.do_search(PublicObjectSearchRequest())
    assert info.value.status == 429 and json.loads(info.value.body)["policyName"] == "SECONDLY"


def test_daily_429_has_no_retry_after(sandbox, no_retry_client):
    hubspot_client = no_retry_client
    sandbox.admin.set_limits("professional", hubspot_daily=2)
    hubspot_client.crm.contacts.basic_api.get_page()
    hubspot_client.crm.contacts.basic_api.get_page()
    with pytest.raises(ApiException) as info:
        hubspot_client.crm.contacts.basic_api.get_page()
    assert info.value.status == 429 and "Retry-After" not in info.value.headers
    assert json.loads(info.value.body)["policyName"] == "DAILY"


def test_admin_calls_never_count(sandbox):
    sandbox.admin.set_limits("starter", hubspot_burst=1, salesforce_daily=1)
    for _ in range(5):
        sandbox.admin.stats()
    assert sandbox.admin.get_limits()["counters"]["hubspot"]["daily_used"] == 0


def test_salesforce_budget_header_and_403(sandbox):
    session = sandbox.salesforce_session()
    sandbox.admin.set_limits("professional", salesforce_daily=2)
    url = sandbox.salesforce_url + "/services/data/"
    assert session.get(url, timeout=5).headers["Sforce-Limit-Info"] == "api-usage=1/2"
    session.get(url, timeout=5)
    refused = session.get(url, timeout=5)
    assert refused.status_code == 403
    assert refused.json() == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED", "fields": []}
    ]


def test_reset_restores_the_start_up_limits(sandbox):
    sandbox.admin.set_limits("starter")
    sandbox.admin.reset()
    assert sandbox.admin.get_limits()["settings"]["name"] == "off"
