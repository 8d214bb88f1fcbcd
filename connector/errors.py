"""leadrelay's error hierarchy: every failure the program reasons about is one of these.

    LeadrelayError
    ├── RetriableError            try again later; the retry policy decides when
    │   ├── RateLimitedError      429 / SECONDLY / TEN_SECONDLY_ROLLING; carries retry_after
    │   ├── ServerError           5xx answers
    │   ├── TransportError        timeouts, connection resets, TLS hiccups
    │   └── RecordLockedError     Salesforce UNABLE_TO_LOCK_ROW
    ├── BudgetExhaustedError      daily API budget spent (HubSpot DAILY 429, Salesforce REQUEST_LIMIT_EXCEEDED);
    │                             never retried in a loop: the CRM is paused until resume_at
    └── FatalError                retrying cannot help
        ├── ConfigError           a config file is invalid; says file, field path and what was expected
        ├── AuthError             401 / 403 other than budget; bad or expired credentials
        ├── RequestError          any other 4xx: the request itself is wrong
        ├── NotFoundError         404 on a record that should exist
        ├── InvalidRecordError    a record from outside that cannot be used (bad email, missing id, ...)
        └── ConflictError         compare-and-set lost: somebody changed the record first

Adapters map each CRM's own exceptions onto this tree; the core only ever catches these.
"""

from __future__ import annotations


class LeadrelayError(Exception):
    """Base of every error leadrelay raises on purpose."""

    def __init__(self, message: str, *, crm: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.crm = crm
        self.status = status


class RetriableError(LeadrelayError):
    """A transient failure: the same call may succeed later."""

    def __init__(
        self,
        message: str,
        *,
        crm: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, crm=crm, status=status)
        self.retry_after = retry_after


class RateLimitedError(RetriableError):
    """The CRM's short-window rate limit was hit (HTTP 429 other than the daily budget)."""


class ServerError(RetriableError):
    """The CRM answered with a 5xx."""


class TransportError(RetriableError):
    """The request never got an HTTP answer: timeout, reset, refused connection."""


class RecordLockedError(RetriableError):
    """Salesforce UNABLE_TO_LOCK_ROW: another transaction holds the record."""


class BudgetExhaustedError(LeadrelayError):
    """The daily API budget is spent; calls to this CRM pause until ``resume_at`` (epoch seconds)."""

    def __init__(self, message: str, *, crm: str | None = None, resume_at: float | None = None) -> None:
        super().__init__(message, crm=crm)
        self.resume_at = resume_at


class FatalError(LeadrelayError):
    """Retrying cannot help; the caller must give up on this call and say why."""


class ConfigError(FatalError):
    """A config file or value is invalid."""

    def __init__(self, message: str, *, path: str | None = None, field: str | None = None) -> None:
        where = ":".join(p for p in (path, field) if p)
        super().__init__(f"{where}: {message}" if where else message)
        self.path = path
        self.field = field


class AuthError(FatalError):
    """Credentials were refused (401, or 403 other than the API budget)."""


class RequestError(FatalError):
    """The CRM rejected the request itself (4xx other than auth, 404 and 429)."""


class NotFoundError(FatalError):
    """The record asked for does not exist."""


class InvalidRecordError(FatalError):
    """A record cannot be used as it is; ``reason`` says why."""

    def __init__(self, message: str, *, reason: str, crm: str | None = None) -> None:
        super().__init__(message, crm=crm)
        self.reason = reason


class ConflictError(FatalError):
    """A compare-and-set lost: the record changed since we last read it."""
