import json
import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import responses
from structlog.testing import capture_logs

from adapters.enrich import HttpEnrichmentProvider, TokenBucket
from adapters.enrich.http_provider import dig, retry_after_seconds
from connector.config.enrichment import HttpProviderConfig
from connector.enrichment import Firmographics
from connector.errors import AuthError, RateLimitedError, RequestError, ServerError, TransportError

URL = "https://enrich.example.com/v2/companies/find"
TOKEN = "s3cret-token-value"
ACME = {
    "name": "Acme GmbH",
    "geo": {"countryCode": "de"},
    "metrics": {"employees": "1,200"},
    "category": {"industry": "Computer Software"},
}


def make_provider(waits=None, **overrides) -> HttpEnrichmentProvider:
    settings = {
        "url_template": URL + "?domain={domain}",
        "token": TOKEN,
        "backoff_initial_seconds": 0.5,
        "backoff_jitter_seconds": 0,
        "max_attempts": 3,
        "burst": 100,
    }
    settings.update(overrides)
    sleep = waits.append if waits is not None else time.sleep
    return HttpEnrichmentProvider(HttpProviderConfig(**settings), sleep=sleep)


@responses.activate
def test_answer_is_mapped_normalized_and_authenticated():
    responses.get(URL, json=ACME, match=[responses.matchers.query_param_matcher({"domain": "acme.de"})])
    found = make_provider().lookup("acme.de")
    assert found == Firmographics(company="Acme GmbH", country="DE", employees=1200, industry="Computer Software")
    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["Accept"] == "application/json"


@responses.activate
def test_field_map_and_raw_api_key_header_are_configurable():
    responses.get(URL, json={"data": {"company": {"legal": "Beispiel AG", "size": "51-200"}, "hq": ["Austria"]}})
    provider = make_provider(
        auth_header="X-Api-Key",
        auth_prefix="",
        field_map={"company": "data.company.legal", "employees": "data.company.size", "country": "data.hq.0"},
    )
    assert provider.lookup("beispiel.at") == Firmographics(company="Beispiel AG", country="AT", employees=51)
    assert responses.calls[0].request.headers["X-Api-Key"] == TOKEN


@pytest.mark.parametrize(("status", "body"), [(404, {"error": "unknown"}), (204, None), (200, {"unrelated": 1})])
@responses.activate
def test_unknown_domains_are_none(status, body):
    responses.get(URL, status=status, json=body)
    assert make_provider().lookup("nobody.example") is None
    assert len(responses.calls) == 1


@responses.activate
def test_429_waits_what_retry_after_asks_then_succeeds():
    responses.get(URL, status=429, headers={"Retry-After": "2"})
    responses.get(URL, json=ACME)
    waits: list[float] = []
    assert make_provider(waits).lookup("acme.de") is not None
    assert waits == [2.0]
    assert len(responses.calls) == 2


@responses.activate
def test_retry_after_longer_than_we_accept_gives_up_at_once():
    responses.get(URL, status=429, headers={"Retry-After": "3600"})
    with pytest.raises(RateLimitedError) as err:
        make_provider([]).lookup("acme.de")
    assert err.value.retry_after == 3600
    assert len(responses.calls) == 1


@responses.activate
def test_after_a_long_retry_after_the_provider_is_not_asked_until_then():
    responses.get(URL, status=429, headers={"Retry-After": "600"})
    now = [1000.0]
    provider = HttpEnrichmentProvider(
        HttpProviderConfig(url_template=URL + "?domain={domain}", max_retry_after_seconds=5),
        sleep=lambda _s: None,
        clock=lambda: now[0],
    )
    with pytest.raises(RateLimitedError):
        provider.lookup("acme.de")
    now[0] += 300
    with pytest.raises(RateLimitedError, match="paused") as err:
        provider.lookup("other.de")
    assert err.value.retry_after == pytest.approx(300)
    assert len(responses.calls) == 1
    now[0] += 301
    responses.replace(responses.GET, URL, json=ACME)
    assert provider.lookup("other.de") is not None


@responses.activate
def test_server_errors_back_off_exponentially_then_raise():
    responses.get(URL, status=503)
    waits: list[float] = []
    with pytest.raises(ServerError) as err:
        make_provider(waits).lookup("acme.de")
    assert err.value.status == 503
    assert len(responses.calls) == 3
    assert waits == [0.5, 1.0]


@pytest.mark.parametrize(
    ("status", "error"), [(401, AuthError), (403, AuthError), (400, RequestError), (422, RequestError)]
)
@responses.activate
def test_other_client_errors_are_fatal_and_not_retried(status, error):
    responses.get(URL, status=status)
    with pytest.raises(error):
        make_provider([]).lookup("acme.de")
    assert len(responses.calls) == 1


@responses.activate
def test_connection_errors_are_retried_transport_errors_without_leaking_the_key():
    responses.get(URL, body=requests.ConnectionError(f"cannot reach {URL}?key={TOKEN}"))
    provider = make_provider([], url_template=URL + "?domain={domain}&key={token}", token=TOKEN)
    with capture_logs() as logs, pytest.raises(TransportError) as err:
        provider.lookup("acme.de")
    assert len(responses.calls) == 3
    assert TOKEN not in str(err.value)
    assert TOKEN not in repr(logs)
    assert [entry["event"] for entry in logs].count("enrichment_retry") == 2


@responses.activate
def test_broken_json_is_a_retriable_server_error():
    responses.get(URL, body="<html>oops</html>", content_type="text/html")
    with pytest.raises(ServerError):
        make_provider([], max_attempts=1).lookup("acme.de")


def test_retry_after_accepts_seconds_and_http_dates():
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC).timestamp()
    date = format_datetime(datetime(2026, 11, 22, 12, 0, 30, tzinfo=UTC), usegmt=True)
    assert retry_after_seconds({"Retry-After": "7"}) == 7
    assert retry_after_seconds({"Retry-After": date}, now=now) == 30
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds({}) is None


def test_dig_follows_dotted_paths():
    body = {"a": {"b": [{"c": 1}]}}
    assert dig(body, "a.b.0.c") == 1
    assert dig(body, "a.x.c") is None
    assert dig(body, "a.b.5") is None


def test_token_bucket_allows_a_burst_then_paces():
    now = [100.0]
    waits: list[float] = []
    bucket = TokenBucket(rate=2, burst=2, clock=lambda: now[0], sleep=waits.append)
    assert [bucket.acquire() for _ in range(4)] == [0.0, 0.0, 0.5, 1.0]
    now[0] += 10  # a quiet spell refills the bucket, up to the burst
    assert [bucket.acquire() for _ in range(3)] == [0.0, 0.0, 0.5]
    assert waits == [0.5, 1.0, 0.5]


@responses.activate
def test_provider_calls_are_rate_limited():
    responses.get(URL, json=ACME)
    waits: list[float] = []
    provider = make_provider(waits, requests_per_second=4, burst=1)
    for _ in range(3):
        provider.lookup("acme.de")
    assert len(waits) == 2 and all(0.2 < w <= 0.5 for w in waits)


# --- against a real HTTP server -------------------------------------------------------------------------


class ScriptedServer:
    """A local HTTP server answering each request with the next scripted step (delay, status, body, headers)."""

    def __init__(self, script):
        self.script = list(script)
        self.hits = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                delay, status, body, headers = owner.script[min(owner.hits, len(owner.script) - 1)]
                owner.hits += 1
                time.sleep(delay)
                payload = json.dumps(body).encode() if body is not None else b""
                try:
                    self.send_response(status)
                    for key, value in {"Content-Type": "application/json", **headers}.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and went away, as intended

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/find?domain={{domain}}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def real_provider(server: ScriptedServer, **overrides) -> HttpEnrichmentProvider:
    settings = {
        "url_template": server.url,
        "timeout_seconds": 0.3,
        "backoff_initial_seconds": 0.01,
        "backoff_jitter_seconds": 0,
        "max_attempts": 3,
    }
    settings.update(overrides)
    return HttpEnrichmentProvider(HttpProviderConfig(**settings))


def test_real_server_timeout_is_retried_and_then_answers():
    with ScriptedServer([(1.5, 200, ACME, {}), (0, 200, ACME, {})]) as server:
        started = time.monotonic()
        found = real_provider(server).lookup("acme.de")
        elapsed = time.monotonic() - started
    assert found is not None and found.company == "Acme GmbH"
    assert server.hits == 2
    assert elapsed < 1.2  # gave up on the slow answer after the timeout instead of waiting for it


def test_real_server_that_never_answers_in_time_raises_transport_error():
    with ScriptedServer([(1.0, 200, ACME, {})]) as server, pytest.raises(TransportError, match="no answer within"):
        real_provider(server, timeout_seconds=0.2, max_attempts=2).lookup("acme.de")
    assert server.hits == 2


def test_real_server_503_with_retry_after_then_success():
    script = [(0, 503, {"error": "busy"}, {"Retry-After": "0.2"}), (0, 200, ACME, {})]
    with ScriptedServer(script) as server:
        started = time.monotonic()
        found = real_provider(server).lookup("acme.de")
        elapsed = time.monotonic() - started
    assert found is not None and server.hits == 2
    assert elapsed >= 0.2  # Retry-After was honoured on the wire


def test_real_server_persistent_5xx_gives_up_after_max_attempts():
    with ScriptedServer([(0, 500, None, {})]) as server, pytest.raises(ServerError):
        real_provider(server).lookup("acme.de")
    assert server.hits == 3
