"""Keeping CPython's cyclic collector off the daemon's loaded data.

Why: the daemon holds large, long-lived data (the cache's account index for matching, the config, the owners) and
allocates many short-lived containers per lead. With the interpreter's defaults the collector runs a young
collection every 700 net container allocations and, every so often, a full collection that walks every object of
the loaded data: on the routing bench (50,000 accounts, 300 reps) that was ~7% of routing CPU and a ~90 ms pause
per full collection, in a daemon that promises speed to lead.

What: ``settle`` collects once and then ``gc.freeze()``s what survived: those objects move to the permanent
generation, which no collection walks. ``tune_collector`` raises the young threshold (figures in
``YOUNG_THRESHOLD``'s comment), so a lead's garbage dies by reference counting long before a young collection looks.

What it costs: a settle is one full collection (~0.1-0.5 s with big data). It runs after loading (daemon start), and
again, rate-limited (``MIN_RESETTLE_S``), after the big data is replaced: never on the per-lead path.

What it risks: frozen objects are still freed by reference counting (which frees nearly everything here), but a
reference cycle among frozen objects is garbage no collection sees. ``HeapPolicy.tend`` therefore re-settles
(``gc.unfreeze(); gc.collect(); gc.freeze()``) after a config reload, after the accounts changed by a good share
of the index, and at least every ``MAX_SETTLED_AGE_S``, so such cycles are collected within the hour, not leaked
for days.

The collector is process-wide: the test suite starts and stops many daemons in one process, and an embedder may run
a daemon inside its own program. ``claim``/``release`` count the policy's users; the last release restores the
thresholds and freeze state found by the first claim. ``LEADRELAY_COLLECTOR=default`` leaves the collector alone.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from connector.logs import get_logger

log = get_logger("leadrelay.heap")

# Young threshold measured with bench/routing_speed.py --leads 20000 --batch 50 after a settle (load 2.8-3.3, two runs
# each): decisions per CPU-second / collector ms in the timed part: 700 (the interpreter's) 2,757-2,855 / 721-768;
# 2,000: 3,014-3,093 / 163-224; 10,000: 3,036-3,059 / 88-135; 50,000: 3,098-3,160 / 29-67. 10,000 takes ~97% of
# the young collections away at ~4 ms a pause; 50,000 gained ~2% more, within the noise, at 15-30 ms a pause (which
# a lead in flight would wait for), so 10,000 it is. A young generation that size is a few MB at most.
YOUNG_THRESHOLD = 10_000
OLDER_THRESHOLDS = (10, 10)  # the interpreter's defaults: with the loaded data frozen, full collections are cheap
MIN_RESETTLE_S = 300.0  # at most one full collection per five minutes from this policy (≤ 0.2% of wall time)
MAX_SETTLED_AGE_S = 3600.0  # a cycle among frozen objects waits at most about this long to be collected
CHURN_SHARE = 0.10  # re-settle when this share of the account index changed since the last settle...
MIN_CHURN = 1_000  # ...and at least this many accounts (a small index churns by small counts)
ENV_SWITCH = "LEADRELAY_COLLECTOR"  # "default": leave the interpreter's collector as it is


@dataclass(frozen=True)
class Settle:
    """What one settle did: why, the garbage found, the objects now frozen, and the milliseconds it took."""

    reason: str
    collected: int
    frozen: int
    ms: float


def settle(reason: str) -> Settle:
    """Collect all garbage, then freeze every surviving object (the loaded data) out of future collections."""
    started = time.perf_counter()
    collected = gc.collect()
    gc.freeze()
    return _settled(reason, collected, started)


def resettle(reason: str) -> Settle:
    """Unfreeze, collect and freeze again: garbage cycles among formerly frozen objects are collected, and the data
    loaded since the last settle is frozen too."""
    started = time.perf_counter()
    gc.unfreeze()
    collected = gc.collect()
    gc.freeze()
    return _settled(reason, collected, started)


def _settled(reason: str, collected: int, started: float) -> Settle:
    done = Settle(reason, collected, gc.get_freeze_count(), round((time.perf_counter() - started) * 1000, 1))
    log.info("heap_settled", reason=done.reason, collected=done.collected, frozen=done.frozen, ms=done.ms)
    return done


def tune_collector() -> tuple[int, int, int]:
    """Set the thresholds for a workload of large frozen data and many short-lived containers; returns the old ones."""
    previous = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
    return previous


def enabled(environ: dict[str, str] | None = None) -> bool:
    """Whether the policy applies (``LEADRELAY_COLLECTOR=default`` turns it off, e.g. to compare)."""
    value = (environ if environ is not None else os.environ).get(ENV_SWITCH, "settle")
    return value.strip().lower() != "default"


# -- process-wide claims ------------------------------------------------------------------------------------------
@dataclass
class _Claims:
    """How many users hold the policy, and the collector state found before the first one."""

    count: int = 0
    thresholds: tuple[int, int, int] = (700, 10, 10)
    frozen_before: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


_claims = _Claims()


def claim() -> None:
    """Take the collector for the policy (tuned thresholds); the first claim remembers the state to restore."""
    with _claims.lock:
        if _claims.count == 0:
            _claims.frozen_before = gc.get_freeze_count()
            _claims.thresholds = tune_collector()
        _claims.count += 1


def release() -> None:
    """Give the collector back; the last release restores the thresholds and the freeze state the first claim found
    (nothing frozen: unfreeze; an embedder had frozen its own data: collect, and freeze what lives, theirs included)."""
    with _claims.lock:
        if _claims.count == 0:
            return
        _claims.count -= 1
        if _claims.count:
            return
        gc.unfreeze()
        if _claims.frozen_before:
            gc.collect()
            gc.freeze()
        gc.set_threshold(*_claims.thresholds)


def claimed() -> int:
    """How many users hold the policy now."""
    return _claims.count


# -- the daemon's policy ------------------------------------------------------------------------------------------
class HeapPolicy:
    """One daemon's use of the collector: ``start`` after loading, ``replaced`` when big data is swapped, ``tend``
    between batches (one clock read unless a re-settle may be due), ``stop`` when the daemon stops.

    ``account_changes`` returns a running count of account changes, ``index_size`` the account index's size; with
    both, ``tend`` re-settles once the accounts changed by ``CHURN_SHARE`` of the index.
    """

    def __init__(
        self,
        *,
        min_interval_s: float = MIN_RESETTLE_S,
        max_age_s: float = MAX_SETTLED_AGE_S,
        clock: Callable[[], float] = time.monotonic,
        active: bool | None = None,
    ) -> None:
        self.min_interval_s = min_interval_s
        self.max_age_s = max_age_s
        self.clock = clock
        self.active = enabled() if active is None else active
        self.running = False
        self.settles: list[Settle] = []
        self._pending: str | None = None
        self._looked_at = 0.0  # when tend last looked (a settle counts as a look)
        self._settled_at = 0.0
        self._changes_at_settle = 0

    def start(self, reason: str = "startup", *, account_changes: int = 0) -> Settle | None:
        """Claim the collector, tune it and settle what is loaded (one full collection)."""
        if not self.active or self.running:
            return None
        claim()
        self.running = True
        return self._record(settle(reason), account_changes)

    def replaced(self, reason: str) -> None:
        """Note that big data was replaced (a config reload rebuilt the index): the next due ``tend`` re-settles."""
        if self.running:
            self._pending = self._pending or reason

    def tend(
        self, account_changes: Callable[[], int] | None = None, index_size: Callable[[], int] | None = None
    ) -> Settle | None:
        """Re-settle if due (data replaced, accounts churned, or the settle is old), at most once per
        ``min_interval_s``: cheap enough to call after every batch."""
        now = self.clock()
        if not self.running or now - self._looked_at < self.min_interval_s:
            return None
        self._looked_at = now
        changes = account_changes() if account_changes is not None else self._changes_at_settle
        reason = self._pending or self._churn_reason(changes, index_size) or self._age_reason(now)
        if reason is None:
            return None
        return self._record(resettle(reason), changes)

    def stop(self) -> None:
        """Release the collector (the last user restores it as it was found); idempotent."""
        if self.running:
            self.running = False
            release()

    def _churn_reason(self, changes: int, index_size: Callable[[], int] | None) -> str | None:
        churn = changes - self._changes_at_settle
        size = index_size() if index_size is not None else 0
        return "accounts_changed" if churn >= max(MIN_CHURN, CHURN_SHARE * size) else None

    def _age_reason(self, now: float) -> str | None:
        return "periodic" if now - self._settled_at >= self.max_age_s else None

    def _record(self, done: Settle, changes: int) -> Settle:
        self.settles.append(done)
        del self.settles[:-10]  # the last few, for tests and the status page; not a history
        self._pending = None
        self._settled_at = self._looked_at = self.clock()
        self._changes_at_settle = changes
        return done


# -- measuring ------------------------------------------------------------------------------------------------------
@dataclass
class CollectorStats:
    """Collections per generation and the milliseconds they took, counted through ``gc.callbacks``."""

    collections: list[int] = field(default_factory=lambda: [0, 0, 0])
    ms: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])

    @property
    def total_ms(self) -> float:
        """Milliseconds spent in all collections."""
        return sum(self.ms)

    def render(self) -> str:
        """One line: ``gen0 444 (190 ms), gen1 40 (40 ms), gen2 3 (270 ms); 500 ms``."""
        parts = ", ".join(f"gen{g} {self.collections[g]} ({self.ms[g]:.0f} ms)" for g in range(3))
        return f"{parts}; {self.total_ms:.0f} ms"


@contextmanager
def watch_collector() -> Iterator[CollectorStats]:
    """Count the collections (and their time) that run inside the ``with`` block, from any thread."""
    stats = CollectorStats()
    started: list[float] = []

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            generation = int(info["generation"])
            stats.collections[generation] += 1
            stats.ms[generation] += (time.perf_counter() - started.pop()) * 1000

    gc.callbacks.append(callback)
    try:
        yield stats
    finally:
        gc.callbacks.remove(callback)
