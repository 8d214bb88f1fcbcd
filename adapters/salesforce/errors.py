"""Salesforce's failures mapped onto ``connector.errors``.

simple-salesforce raises ``SalesforceError`` subclasses with ``.status`` and ``.content`` (the parsed error list
``[{"message", "errorCode", "fields"}]``) but drops the response headers, so ``Retry-After`` is lost;
``HeaderRecordingSession`` keeps the last answer's status and headers for the mapping to read.
``REQUEST_LIMIT_EXCEEDED`` (403) is the org's daily budget: pause, never retry in a loop.
"""

from __future__ import annotations

import time
from typing import Any

import requests

from connector.errors import (
    AuthError,
    BudgetExhaustedError,
    LeadrelayError,
    NotFoundError,
    RateLimitedError,
    RecordLockedError,
    RequestError,
    ServerError,
    TransportError,
)

CRM = "salesforce"
DAY_S = 86_400
# Salesforce's daily budget is a rolling 24 hours; without a better figure, wait an hour and look again.
BUDGET_RECHECK_S = 3600.0


class HeaderRecordingSession(requests.Session):
    """A ``requests.Session`` that remembers the status and headers of the last answer (simple-salesforce's
    exceptions do not carry them, and a 429's ``Retry-After`` lives there)."""

    def __init__(self) -> None:
        super().__init__()
        self.last_status: int | None = None
        self.last_headers: dict[str, str] = {}
        self.hooks["response"].append(self._record)

    def _record(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.last_status = response.status_code
        self.last_headers = {k.lower(): v for k, v in response.headers.items()}


def error_codes(exc: BaseException) -> list[str]:
    """The ``errorCode`` values of a simple-salesforce error's content."""
    content = getattr(exc, "content", None)
    items = content if isinstance(content, list) else [content]
    return [str(item.get("errorCode")) for item in items if isinstance(item, dict) and item.get("errorCode")]


def _message(exc: BaseException) -> str:
    content = getattr(exc, "content", None)
    items = content if isinstance(content, list) else [content]
    messages = [str(item.get("message")) for item in items if isinstance(item, dict) and item.get("message")]
    return "; ".join(messages)[:300] or type(exc).__name__


def map_error(exc: BaseException, session: HeaderRecordingSession | None = None) -> BaseException:
    """The ``connector.errors`` error for a simple-salesforce/requests exception (unknown ones unchanged)."""
    if isinstance(exc, LeadrelayError):
        return exc
    if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout | ConnectionError):
        return TransportError(f"salesforce unreachable: {type(exc).__name__}", crm=CRM)
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError):
        return TransportError(f"salesforce answer cut short: {type(exc).__name__}", crm=CRM)
    status = getattr(exc, "status", None)
    if not isinstance(status, int) or not hasattr(exc, "content"):
        return exc
    headers = session.last_headers if session is not None and session.last_status == status else {}
    return _from_status(status, error_codes(exc), _message(exc), headers)


def _from_status(  # noqa: PLR0911 - one return per row of the mapping table reads best
    status: int, codes: list[str], message: str, headers: dict[str, str]
) -> LeadrelayError:
    if status == 429:  # a short-window limit (proxies, concurrency caps): wait it out, whatever the body says
        retry_after = _seconds(headers.get("retry-after"))
        return RateLimitedError(f"salesforce rate limit: {message}", crm=CRM, status=status, retry_after=retry_after)
    if "REQUEST_LIMIT_EXCEEDED" in codes:  # the org's daily budget (a 403): pause, do not retry
        return BudgetExhaustedError(
            f"salesforce daily API limit reached: {message}", crm=CRM, resume_at=time.time() + BUDGET_RECHECK_S
        )
    if "UNABLE_TO_LOCK_ROW" in codes:
        return RecordLockedError(f"salesforce record locked: {message}", crm=CRM, status=status)
    if status in (401, 403):
        return AuthError(f"salesforce refused the session: {message}", crm=CRM, status=status)
    if status == 404:
        return NotFoundError(f"salesforce: {message}", crm=CRM, status=status)
    if status >= 500:
        return ServerError(f"salesforce server error: {message}", crm=CRM, status=status)
    return RequestError(f"salesforce rejected the request: {message}", crm=CRM, status=status)


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
