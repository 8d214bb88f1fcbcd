"""``WebhookIntake``: stored HubSpot webhook events → the contacts they name, in the cache, ready to route.

Each turn: the contacts named by events not tried yet are read by id (one batch read per 100, through the shared
limiter), upserted with the sync's own cache writes, and their events marked processed in the same transaction,
so an event is done exactly when its contact is cached. Ids the read did not return (not visible yet, deleted)
or a read that failed fall back to a people search pass, at once and then every ``RETRY_S``; after ``GIVE_UP_S``
the scheduled sync's overlap window is the backstop. Deletions and events about other objects need no read: the
scheduled passes tombstone and sync those, so their events are done on sight.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlite_utils

from connector.daemon.people_by_id import PeopleById, PeopleRead, cache_people, read_all
from connector.db import transaction
from connector.errors import LeadrelayError
from connector.logs import get_logger
from connector.sync.engine import SyncReport
from connector.web import webhooks
from connector.web.webhooks import WebhookEvent

log = get_logger("leadrelay.daemon.webhooks")
RETRY_S = 1.0  # search again for events whose contact was not found yet
GIVE_UP_S = 300.0  # after this the scheduled sync's overlap window is the backstop
_NO_READ = ("contact.deletion", "contact.privacyDeletion")  # gone: the scheduled passes tombstone them


@dataclass(frozen=True)
class IntakeReport:
    """What one turn of intake did: events seen for the first time, events done, whether a search pass ran."""

    fresh: int = 0
    done: int = 0
    searched: bool = False


def needs_read(event: WebhookEvent) -> bool:
    """Whether the event names a contact whose current state must be cached before it is done.

    Creations, property changes, merges and restores do (and an event of unknown type, to be safe); deletions and
    other objects' events do not: the scheduled passes tombstone the former and sync the latter.
    """
    kind = event.subscription_type
    if kind in _NO_READ:
        return False
    return not kind or kind.startswith("contact.")


class WebhookIntake:
    """Turns waiting webhook events into cached contacts; ``turn`` is called once per daemon turn."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        *,
        by_id: PeopleById | None,
        search: Callable[[], SyncReport] | None,
        should_stop: Callable[[], bool] = lambda: False,
        clock: Callable[[], float] = time.time,
        min_read_s: float = 0.0,
        wait: Callable[[float], object] = time.sleep,
    ) -> None:
        self.db = db
        self.by_id = by_id
        self.search = search
        self.should_stop = should_stop
        self.clock = clock
        self.min_read_s = min_read_s  # paced CRM: reads by id at most this often, gathering the events meanwhile
        self.wait = wait  # the daemon's stop event's wait: a stop cuts the gathering short
        self._tried: set[str] = set()  # events whose contacts were read by id once (the retries are searches)
        self._searched_at = 0.0
        self._read_at = 0.0

    def turn(self) -> IntakeReport:
        """Read, cache and mark what the waiting events need; returns counts (``fresh`` > 0 means new work)."""
        events = webhooks.waiting(self.db)
        if not events or self.should_stop():
            return IntakeReport()
        if self._gather():
            events = webhooks.waiting(self.db)  # what arrived while the read waited for its cycle
        untried = [e for e in events if e.dedup_key not in self._tried]
        done = self._settle_untried(untried)
        left = [e for e in events if e.dedup_key not in done]
        newly_missed = any(e.dedup_key not in self._tried for e in left)
        self._tried = {e.dedup_key for e in left}  # forget what is done: the set stays as small as the backlog
        searched, found = self._search_fallback(left, newly_missed=newly_missed)
        return IntakeReport(fresh=len(untried), done=len(done) + found, searched=searched)

    def _gather(self) -> bool:
        """Paced: wait out the rest of the read cycle so the events arriving meanwhile share the read."""
        remaining = self._read_at + self.min_read_s - self.clock()
        if self.min_read_s <= 0 or remaining <= 0:
            return False
        self.wait(remaining)
        return True

    def _settle_untried(self, untried: list[WebhookEvent]) -> set[str]:
        """Read the contacts of never-tried events; cache them and mark their events (and no-read events) done."""
        if not untried:
            return set()
        no_crm = self.by_id is None and self.search is None  # HubSpot is not configured: nothing to read
        wanted = [] if no_crm else [e for e in untried if needs_read(e)]
        found = PeopleRead()
        if wanted and self.by_id is not None:
            self._read_at = self.clock()
            found = self._read([e.object_id for e in wanted])
        got = {r.lead.native_id for r in found.records}
        wanted_keys = {e.dedup_key for e in wanted}
        done = [e for e in untried if e.dedup_key not in wanted_keys or e.object_id in got]
        now = self.clock()
        with transaction(self.db) as conn:  # contacts and their events commit together: done means cached
            cache_people(conn, found.records, now_ms=int(now * 1000))
            webhooks.mark_processed_in(conn, [e.dedup_key for e in done], now=now)
        if found.missing or found.unmappable:
            log.info("webhook_contacts_not_read", missing=len(found.missing), unmappable=len(found.unmappable))
        return {e.dedup_key for e in done}

    def _read(self, native_ids: Sequence[str]) -> PeopleRead:
        assert self.by_id is not None
        try:
            return read_all(self.by_id, native_ids)
        except LeadrelayError as exc:  # the search pass below is the fallback; the events stay waiting
            log.warning("webhook_read_failed", crm=self.by_id.crm, error=type(exc).__name__, message=exc.message)
            return PeopleRead(missing=tuple(native_ids))

    def _search_fallback(self, left: list[WebhookEvent], *, newly_missed: bool) -> tuple[bool, int]:
        """A people search pass for events still waiting: at once for new misses, else every ``RETRY_S``."""
        if not left or self.search is None or self.should_stop():
            return False, 0
        if not newly_missed and self.clock() < self._searched_at + RETRY_S:
            return False, 0
        began = self.clock()
        sync = self.search()
        self._searched_at = began
        if sync.stopped or sync.failed or sync.paused:
            return True, 0  # not covered: the events stay waiting for the next turn
        cached = cached_contacts(self.db, {e.object_id for e in left})
        done = [e for e in left if e.object_id in cached or began - e.received_at > GIVE_UP_S]
        webhooks.mark_processed(self.db, [e.dedup_key for e in done])
        return True, len(done)


def cached_contacts(db: sqlite_utils.Database, object_ids: set[str]) -> set[str]:
    """Which of these HubSpot contact ids are in the cache."""
    ids = [f"hubspot:contacts:{oid}" for oid in object_ids]
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        marks = ",".join("?" * len(part))
        rows = db.conn.execute(f"SELECT native_id FROM cache_people WHERE id IN ({marks})", part)
        found.update(str(row[0]) for row in rows)
    return found
