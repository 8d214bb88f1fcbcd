"""HubSpot's failures mapped onto ``connector.errors``.

hubspot-api-client raises each API package's own ``ApiException`` (``.status``, ``.body``, ``.headers``) for any
non-2xx answer, ``ApiException(status=0)`` for TLS failures, and lets urllib3's exceptions through for timeouts and
dropped connections. A 429 says which limit in ``policyName``: ``DAILY`` means the portal's budget is gone until
midnight (pause, never retry in a loop); the others are short windows worth waiting out.
"""

from __future__ import annotations

import json
import time
from typing import Any

import urllib3

from connector.errors import (
    AuthError,
    BudgetExhaustedError,
    LeadrelayError,
    NotFoundError,
    RateLimitedError,
    RequestError,
    ServerError,
    TransportError,
)

CRM = "hubspot"
DAY_S = 86_400
SEARCH_RETRY_AFTER_S = 1.0  # search 429s carry no Retry-After; HubSpot's window for search is one second


def map_error(exc: BaseException, *, search: bool = False) -> BaseException:
    """The ``connector.errors`` error for a HubSpot client exception (anything unknown is returned unchanged)."""
    if isinstance(exc, LeadrelayError):
        return exc
    if isinstance(exc, urllib3.exceptions.HTTPError | ConnectionError | TimeoutError):
        return TransportError(f"hubspot unreachable: {type(exc).__name__}", crm=CRM)
    status = getattr(exc, "status", None)
    if status is None or not hasattr(exc, "body"):
        return exc
    return _from_status(int(status), _body(exc), _headers(exc), search=search)


def _from_status(status: int, body: dict[str, Any], headers: dict[str, str], *, search: bool) -> LeadrelayError:
    message = str(body.get("message") or f"HTTP {status}")[:300]
    if status == 0:
        return TransportError(f"hubspot TLS failure: {message}", crm=CRM)
    if status == 429:
        return _rate_limited(body, headers, message, search=search)
    if status in (401, 403):
        return AuthError(f"hubspot refused the credentials: {message}", crm=CRM, status=status)
    if status == 404:
        return NotFoundError(f"hubspot: {message}", crm=CRM, status=status)
    if status >= 500:
        return ServerError(f"hubspot server error: {message}", crm=CRM, status=status)
    return RequestError(f"hubspot rejected the request: {message}", crm=CRM, status=status)


def _rate_limited(body: dict[str, Any], headers: dict[str, str], message: str, *, search: bool) -> LeadrelayError:
    policy = str(body.get("policyName") or "").upper()
    if policy == "DAILY":
        return BudgetExhaustedError(f"hubspot daily API limit reached: {message}", crm=CRM, resume_at=_next_midnight())
    retry_after = _seconds(headers.get("retry-after"))
    if retry_after is None:
        retry_after = SEARCH_RETRY_AFTER_S if search or policy == "SECONDLY" else None
    what = f"hubspot {policy or 'rate'} limit: {message}"
    return RateLimitedError(what, crm=CRM, status=429, retry_after=retry_after)


def _next_midnight() -> float:
    return float((int(time.time()) // DAY_S + 1) * DAY_S)


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _body(exc: BaseException) -> dict[str, Any]:
    raw = getattr(exc, "body", None)
    try:
        parsed = json.loads(raw) if raw else {}
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _headers(exc: BaseException) -> dict[str, str]:
    raw = getattr(exc, "headers", None) or {}
    try:
        return {str(k).lower(): str(v) for k, v in raw.items()}
    except AttributeError:
        return {}
