"""A generic JSON-over-HTTP enrichment provider (requests): one GET per company domain.

Configured, not coded, per vendor: ``url_template`` (with ``{domain}``, and ``{token}`` for vendors that want
the key in the query), an auth header carrying a secret, and ``field_map`` from Lead fields to dotted paths in
the JSON answer. HTTP outcomes map onto connector.errors:

    200 with data -> Firmographics     404, 204, 200 without mapped data -> None (not found)
    429 -> RateLimitedError (Retry-After)     5xx, 202 (still looking) -> ServerError
    timeouts, connection errors -> TransportError     401/403 -> AuthError     other 4xx -> RequestError

URLs are never logged nor put in error messages: a template may carry the API key.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import requests

from adapters.enrich.rate_limit import TokenBucket
from adapters.enrich.retry import RetryPolicy
from connector.config.enrichment import HttpProviderConfig
from connector.enrichment.provider import Firmographics
from connector.errors import (
    AuthError,
    RateLimitedError,
    RequestError,
    ServerError,
    TransportError,
)
from connector.logs import get_logger

log = get_logger("leadrelay.enrichment")


class HttpEnrichmentProvider:
    """An ``EnrichmentProvider`` talking to a JSON API, with timeout, retries and a client-side rate limit."""

    def __init__(
        self,
        config: HttpProviderConfig,
        *,
        session: requests.Session | None = None,
        limiter: TokenBucket | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._session = session or requests.Session()
        self._limiter = limiter or TokenBucket(config.requests_per_second, config.burst, sleep=sleep)
        self.policy = RetryPolicy(
            attempts=config.max_attempts,
            initial_wait=config.backoff_initial_seconds,
            max_wait=config.backoff_max_seconds,
            jitter=config.backoff_jitter_seconds,
            max_retry_after=config.max_retry_after_seconds,
        )
        self._sleep = sleep
        self._clock = clock
        self._paused_until = 0.0

    @property
    def name(self) -> str:
        """The configured provider name."""
        return self.config.name

    def lookup(self, domain: str) -> Firmographics | None:
        """Firmographics of ``domain``, None when unknown; retries per ``self.policy``, then raises its error.

        After a 429 whose Retry-After was too long to wait, calls fail at once (no request) until that time:
        a vendor out of quota must not be asked again by every following lead.
        """
        pause = self._paused_until - self._clock()
        if pause > 0:
            raise RateLimitedError(f"{self.name}: paused by the provider for {pause:.0f}s more", retry_after=pause)
        retrying = self.policy.retrying(sleep=self._sleep, what=f"enrichment:{self.name}")
        try:
            answer: Firmographics | None = retrying(self._fetch_once, domain)
        except RateLimitedError as exc:
            if exc.retry_after is not None and not self.policy.should_retry(exc):
                self._paused_until = self._clock() + exc.retry_after
                log.warning("enrichment_provider_paused", provider=self.name, seconds=round(exc.retry_after))
            raise
        log.debug("enrichment_lookup", provider=self.name, domain=domain, found=answer is not None)
        return answer

    def _fetch_once(self, domain: str) -> Firmographics | None:
        self._limiter.acquire()
        try:
            response = self._session.get(
                self._url(domain), headers=self._headers(), timeout=self.config.timeout_seconds
            )
        except requests.Timeout as exc:
            raise TransportError(f"{self.name}: no answer within {self.config.timeout_seconds}s") from exc
        except requests.RequestException as exc:
            # The exception text may hold the URL (and a key in it): name only its type.
            raise TransportError(f"{self.name}: {type(exc).__name__} while asking about {domain}") from None
        return self._answer(domain, response)

    def _url(self, domain: str) -> str:
        token = self.config.token.get_secret_value() if self.config.token else ""
        return self.config.url_template.format(domain=quote(domain, safe=""), token=quote(token, safe=""))

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.config.token is not None:
            headers[self.config.auth_header] = self.config.auth_prefix + self.config.token.get_secret_value()
        return headers

    def _answer(self, domain: str, response: requests.Response) -> Firmographics | None:
        status = response.status_code
        raise_for_status(self.name, domain, response)
        if status in (204, 404):
            return None
        try:
            body = response.json()
        except ValueError as exc:
            raise ServerError(f"{self.name}: answer for {domain} is not JSON", status=status) from exc
        found = Firmographics.from_raw(map_fields(body, self.config.field_map))
        return None if found.empty else found


def raise_for_status(name: str, domain: str, response: requests.Response) -> None:
    """Raise the connector error an HTTP status means (see the module docstring); 2xx and 404 pass."""
    status = response.status_code
    where = f"{name}: HTTP {status} for {domain}"
    if status == 429:
        raise RateLimitedError(where, status=status, retry_after=retry_after_seconds(response.headers))
    if status >= 500 or status == 202:  # 202: the vendor queued the lookup; ask again shortly
        raise ServerError(where, status=status, retry_after=retry_after_seconds(response.headers))
    if status in (401, 403):
        raise AuthError(f"{where}: check the provider token", status=status)
    if status >= 400 and status != 404:
        raise RequestError(where, status=status)


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds asked by a ``Retry-After`` header (delta-seconds or HTTP-date); None when absent or unreadable."""
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def map_fields(body: Any, field_map: Mapping[Any, str]) -> dict[str, Any]:
    """Pick each field's value from ``body`` by its dotted path (``geo.countryCode``, ``tags.0``)."""
    return {field: dig(body, path) for field, path in field_map.items()}


def dig(node: Any, path: str) -> Any:
    """The value at dotted ``path`` in nested dicts and lists, or None when any step is missing."""
    for part in path.split("."):
        if isinstance(node, Mapping):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node
