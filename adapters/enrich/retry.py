"""The enrichment provider's retry policy: a readable value, run by tenacity.

Retried: every ``RetriableError`` (429, 5xx, timeouts, resets), waiting what ``Retry-After`` asks when the
answer said, else exponential backoff with jitter. Not retried: ``FatalError`` (other 4xx, auth), and a
``Retry-After`` longer than ``max_retry_after`` (holding a lead for minutes is worse than skipping the vendor).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import tenacity

from connector.errors import RetriableError
from connector.logs import get_logger

log = get_logger("leadrelay.enrichment")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed call is tried again."""

    attempts: int = 3  # tries in all, the first included
    initial_wait: float = 0.5  # seconds before the first retry; doubles each time
    max_wait: float = 10.0  # cap on one backoff wait
    jitter: float = 0.5  # up to this many seconds added at random, so clients do not retry in step
    max_retry_after: float = 30.0  # a longer Retry-After gives up at once

    def should_retry(self, exc: BaseException) -> bool:
        """True for a RetriableError whose Retry-After (if any) we are willing to wait."""
        if not isinstance(exc, RetriableError):
            return False
        return exc.retry_after is None or exc.retry_after <= self.max_retry_after

    def wait_for(self, exc: BaseException | None, attempt: int) -> float:
        """Seconds to wait before try ``attempt + 1``: Retry-After when given, else backoff (without jitter)."""
        if isinstance(exc, RetriableError) and exc.retry_after is not None:
            return max(0.0, exc.retry_after)
        return min(self.max_wait, self.initial_wait * 2 ** (attempt - 1))

    def retrying(self, *, sleep: Callable[[float], None] = time.sleep, what: str = "call") -> tenacity.Retrying:
        """A tenacity ``Retrying`` running this policy; the last error is re-raised as itself."""
        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts),
            retry=tenacity.retry_if_exception(self.should_retry),
            wait=_Wait(self),
            sleep=sleep,
            reraise=True,
            before_sleep=lambda state: _log_retry(state, what),
        )


class _Wait(tenacity.wait.wait_base):
    """Retry-After when the error carries one, else capped exponential backoff plus random jitter."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self._jitter = tenacity.wait_random(0, policy.jitter)

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        base = self.policy.wait_for(exc, retry_state.attempt_number)
        if isinstance(exc, RetriableError) and exc.retry_after is not None:
            return base  # the server named the time; jitter would only make us late
        return base + float(self._jitter(retry_state))


def _log_retry(state: tenacity.RetryCallState, what: str) -> None:
    exc: Any = state.outcome.exception() if state.outcome else None
    log.info(
        "enrichment_retry",
        call=what,
        attempt=state.attempt_number,
        wait=round(state.upcoming_sleep, 3),
        error=type(exc).__name__,
        status=getattr(exc, "status", None),
    )
