"""The daemon's outbox delivery: two lanes on their own threads and connections, owner writes first and at once.

The owner lane delivers only ``set_owner`` effects: woken after each routing batch, it writes the owners of the
whole batch (one batch read and one batch update per 100 in HubSpot) without waiting behind tasks or Slack nudges.
The follow-up lane delivers tasks and notifications; they wait on their owner write anyway (``store.claim``), so
the owner lane wakes it after each batch, and it spaces its passes by ``FOLLOW_UP_PASS_S`` so its batches gather
(fewer CRM calls per lead, which leaves the rate budget to owner writes and webhook reads). Leases make two lanes
on one outbox safe: an item is claimed by one worker at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from connector.config.actions import OutboxConfig
from connector.db import connect
from connector.outbox import EffectKind, OutboxWorker, Performer

FOLLOW_UP_PASS_S = 0.25  # tasks and nudges are not latency-critical: a quarter second gathers several leads
FOLLOW_UP_KINDS = frozenset(EffectKind) - {EffectKind.SET_OWNER}


class DeliveryLanes:
    """The owner lane and the follow-up lane; ``start``, ``wake`` after decisions, ``stop`` to finish."""

    def __init__(self, database: str, performers: Iterable[Performer], policy: OutboxConfig) -> None:
        found = list(performers)
        self._dbs = [connect(database), connect(database)]
        self.follow_up = OutboxWorker(self._dbs[1], found, policy, kinds=FOLLOW_UP_KINDS, min_pass_s=FOLLOW_UP_PASS_S)
        self.owners = OutboxWorker(
            self._dbs[0], found, policy, kinds={EffectKind.SET_OWNER}, after_batch=self.follow_up.wake
        )
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start both lanes (each runs until ``stop``)."""
        for name, worker in (("leadrelay-owner-writes", self.owners), ("leadrelay-outbox", self.follow_up)):
            thread = threading.Thread(target=worker.run, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    @property
    def running(self) -> bool:
        """Whether the lanes were started and not stopped."""
        return bool(self._threads)

    def wake(self) -> None:
        """New decisions were committed: the owner lane starts on them at once."""
        self.owners.wake()

    def stop(self, join_s: float) -> None:
        """Let each lane finish the batch in hand, then join them (at most ``join_s`` each)."""
        for worker in (self.owners, self.follow_up):
            worker.stop()
        for thread in self._threads:
            thread.join(join_s)
        self._threads = []

    def close(self) -> None:
        """Release the lanes' database connections."""
        for db in self._dbs:
            db.conn.close()
