"""The daemon's outbox delivery: two lanes on their own threads and connections, owner writes first and at once.

The owner lane delivers only ``set_owner`` effects: woken after each routing batch, it writes the owners of the
whole batch (one batch read and one batch update per 100 in HubSpot) without waiting behind tasks or Slack nudges;
its two workers let a batch decided while the other waits on the CRM go out at once, not a round trip later
(one worker when the CRM calls are paced: under a rate budget, fewer and fuller batches are what keeps up).
The follow-up lane delivers tasks and notifications; they wait on their owner write anyway (``store.claim``), so
the owner lane wakes it after each batch, and it spaces its passes by ``FOLLOW_UP_PASS_S`` so its batches gather
(fewer CRM calls per lead, which leaves the rate budget to owner writes and webhook reads). Leases make several
workers on one outbox safe: an item is claimed by one worker at a time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from connector.config.actions import OutboxConfig
from connector.db import connect
from connector.outbox import EffectKind, OutboxWorker, Performer

FOLLOW_UP_PASS_S = 1.0  # tasks and nudges are not latency-critical: a second gathers a batch (one CRM call)
FOLLOW_UP_KINDS = frozenset(EffectKind) - {EffectKind.SET_OWNER}
OWNER_PASS_BURST = 2
OWNER_WORKERS = 2  # one can claim fresh decisions while the other waits on the CRM (1 when calls are paced)


class DeliveryLanes:
    """The owner lane and the follow-up lane; ``start``, ``wake`` after decisions, ``stop`` to finish."""

    def __init__(
        self,
        database: str,
        performers: Iterable[Performer],
        policy: OutboxConfig,
        *,
        owner_workers: int = OWNER_WORKERS,
        owner_cycle_s: float = 0.0,
    ) -> None:
        found = list(performers)
        self._dbs = [connect(database) for _ in range(owner_workers + 1)]
        follow_up_s = max(FOLLOW_UP_PASS_S, owner_cycle_s)
        self.follow_up = OutboxWorker(self._dbs[0], found, policy, kinds=FOLLOW_UP_KINDS, min_pass_s=follow_up_s)
        self.owner_lane = [
            OutboxWorker(
                db,
                found,
                policy,
                kinds={EffectKind.SET_OWNER},
                after_batch=self.follow_up.wake,
                # Paced: one owner batch per cycle sustained (``pacing.cycle_seconds``); two at once, so a batch
                # decided off the cycle's beat is not held back while the budget allows it.
                min_pass_s=owner_cycle_s,
                pass_burst=OWNER_PASS_BURST,
            )
            for db in self._dbs[1:]
        ]
        self._threads: list[threading.Thread] = []

    @property
    def owners(self) -> OutboxWorker:
        """The owner lane's first worker (its ``deliver`` writes every due owner, a batch per target)."""
        return self.owner_lane[0]

    def start(self) -> None:
        """Start every worker of both lanes (each runs until ``stop``)."""
        named = [(f"leadrelay-owner-writes-{i}", w) for i, w in enumerate(self.owner_lane)]
        for name, worker in [*named, ("leadrelay-outbox", self.follow_up)]:
            thread = threading.Thread(target=worker.run, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    @property
    def running(self) -> bool:
        """Whether the lanes were started and not stopped."""
        return bool(self._threads)

    def wake(self) -> None:
        """New decisions were committed: the owner lane starts on them at once (on an idle worker if one is busy)."""
        for worker in self.owner_lane:
            worker.wake()

    def stop(self, join_s: float) -> None:
        """Let each worker finish the batch in hand, then join them (``join_s`` for all of them together)."""
        for worker in [*self.owner_lane, self.follow_up]:
            worker.stop()
        deadline = time.monotonic() + join_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = []

    def close(self) -> None:
        """Release the lanes' database connections."""
        for db in self._dbs:
            db.conn.close()
