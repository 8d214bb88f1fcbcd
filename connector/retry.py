"""The retry policy: a value you can read (attempts, backoff, jitter, Retry-After), run by tenacity.

Only ``RetriableError`` is retried. ``BudgetExhaustedError`` and every ``FatalError`` pass straight through: a
spent daily budget must pause the CRM, not spin in a loop, and a wrong request stays wrong however often it is sent.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import tenacity

from connector.errors import RetriableError
from connector.logs import get_logger

T = TypeVar("T")
log = get_logger("connector.retry")


@dataclass(frozen=True)
class RetryPolicy:
    """Up to ``attempts`` tries; exponential backoff from ``initial_s`` (x``multiplier``, capped at ``max_s``) plus
    up to ``jitter_s`` of random spread; a server's Retry-After (capped at ``max_retry_after_s``) wins when longer."""

    attempts: int = 5
    initial_s: float = 0.5
    max_s: float = 30.0
    multiplier: float = 2.0
    jitter_s: float = 0.5
    honour_retry_after: bool = True
    max_retry_after_s: float = 120.0

    @classmethod
    def from_config(cls, config: Any) -> RetryPolicy:
        """Build from a ``RetryConfig`` section."""
        return cls(
            attempts=config.attempts,
            initial_s=config.initial_backoff_s,
            max_s=config.max_backoff_s,
            jitter_s=config.jitter_s,
            max_retry_after_s=config.max_retry_after_s,
        )

    def backoff(self, attempt: int, *, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based), before Retry-After is considered."""
        base = min(self.max_s, self.initial_s * self.multiplier ** max(0, attempt - 1))
        spread = (rng or random).uniform(0, self.jitter_s) if self.jitter_s else 0.0
        return base + spread

    def wait_for(self, attempt: int, error: BaseException | None) -> float:
        """Seconds to wait after ``error`` ended attempt ``attempt``: backoff, or the server's Retry-After if longer."""
        wait = self.backoff(attempt)
        retry_after = getattr(error, "retry_after", None)
        if self.honour_retry_after and retry_after is not None:
            wait = max(wait, min(float(retry_after), self.max_retry_after_s))
        return wait

    def call(
        self,
        fn: Callable[[], T],
        *,
        what: str = "call",
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[RetriableError, float], None] | None = None,
    ) -> T:
        """Run ``fn`` until it succeeds, raises a non-retriable error, or the attempts run out (last error raised)."""

        def before_sleep(state: tenacity.RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            log.info(
                "request_retrying",
                what=what,
                attempt=state.attempt_number,
                wait_s=round(wait, 3),
                error=type(error).__name__,
                status=getattr(error, "status", None),
            )
            if on_retry is not None and isinstance(error, RetriableError):
                on_retry(error, wait)

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=_PolicyWait(self),
            retry=tenacity.retry_if_exception_type(RetriableError),
            before_sleep=before_sleep,
            sleep=sleep,
            reraise=True,
        )
        return retrying(fn)


class _PolicyWait(tenacity.wait.wait_base):
    """tenacity wait strategy delegating to the policy (so Retry-After is honoured, dlt-style)."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        return self.policy.wait_for(retry_state.attempt_number, error)
