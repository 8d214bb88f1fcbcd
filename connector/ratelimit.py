"""Client-side pacing per CRM, so the CRM's 429s are the exception rather than the flow control.

``SlidingWindow`` admits at most ``limit`` calls per rolling ``window_s``, like HubSpot's TEN_SECONDLY_ROLLING.
A call's slot is stamped when its *answer* arrives: the server counted it at arrival, which is earlier, so the
window we keep never frees a slot before the server's does, whatever the latency (no 429 caused by our pacing).

``DailyBudget`` counts calls against the CRM's daily allowance and refuses reads past ``read_share`` of it with
``BudgetExhaustedError`` (resume at the next UTC midnight), so the customer's other integrations keep working.
When the CRM reports its own usage (HubSpot ``X-HubSpot-RateLimit-Daily-Remaining``, Salesforce
``Sforce-Limit-Info``) that number replaces our count.

``CrmLimiter`` combines them: one budget plus one window per call kind (``default``, ``search``).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from connector.errors import BudgetExhaustedError
from connector.logs import get_logger

DAY_S = 86_400
MIN_WAIT_S = 0.001
log = get_logger("connector.ratelimit")


class SlidingWindow:
    """At most ``limit`` calls in any rolling ``window_s`` seconds; in-flight calls hold a slot."""

    def __init__(
        self,
        limit: int,
        window_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("a window needs limit >= 1 and window_s > 0")
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._sleep = sleep
        self._done: deque[float] = deque()
        self._in_flight = 0
        self._blocked_until = 0.0
        self._lock = threading.Lock()
        self.waited_s = 0.0

    def acquire(self) -> float:
        """Block until a slot is free, take it, and return how long we waited."""
        waited = 0.0
        while True:
            with self._lock:
                wait = self._wait_needed(self._clock())
                if wait <= 0:
                    self._in_flight += 1
                    self.waited_s += waited
                    return waited
            self._sleep(wait)
            waited += wait

    def _wait_needed(self, now: float) -> float:
        if now < self._blocked_until:
            return self._blocked_until - now
        horizon = now - self.window_s
        while self._done and self._done[0] <= horizon:
            self._done.popleft()
        if len(self._done) + self._in_flight < self.limit:
            return 0.0
        # Full: the oldest finished call leaves the window first; with only in-flight calls, poll shortly.
        # Never less than 1 ms: a float wait below the clock's resolution would spin without time passing.
        return max(self._done[0] - horizon, MIN_WAIT_S) if self._done else 0.01

    def release(self) -> None:
        """The call holding a slot got its answer (or failed): stamp the slot now."""
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            self._done.append(self._clock())

    def block_for(self, seconds: float) -> None:
        """Admit nothing for ``seconds`` (the CRM said Retry-After)."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, self._clock() + seconds)


class DailyBudget:
    """Calls used today (UTC) against a daily ``limit``; reads stop at ``read_share`` of it."""

    def __init__(
        self, crm: str, limit: int | None, read_share: float, *, wall: Callable[[], float] = time.time
    ) -> None:
        self.crm = crm
        self.limit = limit
        self.read_share = read_share
        self._wall = wall
        self._day = self._today()
        self.used = 0
        self.exhausted_until: float | None = None

    def _today(self) -> int:
        return int(self._wall() // DAY_S)

    def _roll(self) -> None:
        today = self._today()
        if today != self._day:
            self._day, self.used, self.exhausted_until = today, 0, None

    def next_reset(self) -> float:
        """Epoch seconds of the next UTC midnight, when daily budgets refill."""
        return float((self._today() + 1) * DAY_S)

    @property
    def read_allowance(self) -> int | None:
        """How many calls reads may use today (None: unknown limit, no cap)."""
        return None if self.limit is None else int(self.limit * self.read_share)

    def check_read(self) -> None:
        """Raise BudgetExhaustedError when reads have used their share today (or the CRM said the budget is gone)."""
        self._roll()
        if self.exhausted_until is not None and self._wall() < self.exhausted_until:
            raise BudgetExhaustedError(
                f"{self.crm} daily API budget exhausted", crm=self.crm, resume_at=self.exhausted_until
            )
        allowance = self.read_allowance
        if allowance is not None and self.used >= allowance:
            raise BudgetExhaustedError(
                f"{self.crm} reads used {self.used} of their {allowance}-call share of the daily budget",
                crm=self.crm,
                resume_at=self.next_reset(),
            )

    def count(self, calls: int = 1) -> None:
        """Count calls we made."""
        self._roll()
        self.used += calls

    def observe(self, *, used: int | None = None, limit: int | None = None) -> None:
        """Adopt the CRM's own figures when an answer carried them."""
        self._roll()
        if limit is not None and limit > 0:
            self.limit = limit
        if used is not None:
            self.used = max(0, used)

    def lift(self) -> bool:
        """Forget that the CRM said the budget was spent (an operator lifted the pause; our count stays).

        True when that pause was still in force.
        """
        in_force = self.exhausted_until is not None and self._wall() < self.exhausted_until
        self.exhausted_until = None
        return in_force

    def mark_exhausted(self, resume_at: float | None = None) -> float:
        """The CRM refused for budget: pause until ``resume_at`` (default next UTC midnight); returns it."""
        self.exhausted_until = resume_at or self.next_reset()
        return self.exhausted_until


@dataclass
class LimiterStats:
    """What the limiter saw: calls per kind, seconds spent waiting, 429s received."""

    calls: dict[str, int] = field(default_factory=dict)
    waited_s: float = 0.0
    rate_limited: int = 0

    @property
    def total(self) -> int:
        """All calls made."""
        return sum(self.calls.values())


class CrmLimiter:
    """One CRM's pacing: a daily budget plus a sliding window per call kind (calls of unknown kinds are unpaced)."""

    def __init__(self, crm: str, budget: DailyBudget, windows: dict[str, SlidingWindow] | None = None) -> None:
        self.crm = crm
        self.budget = budget
        self.windows = dict(windows or {})
        self.stats = LimiterStats()

    @contextmanager
    def call(self, kind: str = "default") -> Iterator[None]:
        """Hold a slot for one call of ``kind``: budget checked first, the window paced, the call counted."""
        self.budget.check_read()
        window = self.windows.get(kind)
        if window is not None:
            self.stats.waited_s += window.acquire()
        try:
            yield
        finally:
            if window is not None:
                window.release()
            self.budget.count()
            self.stats.calls[kind] = self.stats.calls.get(kind, 0) + 1

    def rate_limited(self, kind: str, retry_after: float | None) -> None:
        """The CRM answered 429 anyway: hold back that kind of call for its Retry-After (1 s if none was sent)."""
        self.stats.rate_limited += 1
        window = self.windows.get(kind)
        if window is not None:
            window.block_for(retry_after if retry_after is not None else 1.0)
        log.warning("crm_rate_limited", crm=self.crm, kind=kind, retry_after_s=retry_after)


def unlimited(crm: str) -> CrmLimiter:
    """A limiter that never waits or refuses (benchmarks with the sandbox's limits off)."""
    return CrmLimiter(crm, DailyBudget(crm, None, 1.0))
