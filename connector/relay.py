"""The composition root: one ``Relay`` wires sync, the lead pipeline and outbox delivery for a loaded config.

    relay = Relay.open(loaded)           # migrates the database, builds CRM readers, performers, the pipeline
    report = relay.tick()                 # one turn: incremental sync → route waiting leads → deliver effects
    relay.close()

This is the only core module that imports adapters, and only inside ``build_crm_parts``: the rest of the core
talks to protocols.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlite_utils

from connector.cache import open_cache
from connector.config.loader import LoadedConfig
from connector.config.root import LeadrelayConfig
from connector.crm import CrmReader
from connector.logs import get_logger
from connector.outbox import OutboxWorker, Performer
from connector.outbox import store as outbox_store
from connector.pipeline import LeadPipeline, PipelineResult
from connector.retry import RetryPolicy
from connector.sync.engine import SyncEngine, SyncReport
from connector.sync.progress import ProgressSink
from connector.sync.readers import overlaps_ms

if TYPE_CHECKING:  # the daemon package imports this module
    from connector.daemon.people_by_id import PeopleById

log = get_logger("leadrelay.relay")


@dataclass
class TickReport:
    """What one turn of the relay did, with how long each part took."""

    sync: SyncReport | None = None
    pipeline: PipelineResult = field(default_factory=PipelineResult)
    delivered: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class CrmParts:
    """Everything that talks to the CRMs, built once so readers and writers share one client and one rate limiter
    per CRM (two limiters would each spend the whole budget)."""

    readers: list[CrmReader] = field(default_factory=list)
    performers: list[Performer] = field(default_factory=list)
    people_by_id: list[PeopleById] = field(default_factory=list)  # webhook reads of named people (HubSpot)


def build_crm_parts(config: LeadrelayConfig, *, clients: dict[str, Any] | None = None) -> CrmParts:
    """Readers and outbox performers for the enabled CRMs, plus the Slack and email notifiers the config asks for.

    ``clients`` may hand in ready CRM clients by name ("hubspot", "salesforce"); a CRM given a client is used even
    if its section is not enabled (tests wire a single CRM this way).
    """
    given = clients or {}
    crms, outbox = config.crms, config.actions.outbox
    parts = CrmParts()
    if crms.hubspot.enabled or "hubspot" in given:
        _add_hubspot(parts, config, given.get("hubspot"))
    if crms.salesforce.enabled or "salesforce" in given:
        _add_salesforce(parts, config, given.get("salesforce"))
    parts.performers += _notifiers(config, outbox.notify_batch_size)
    return parts


def _add_hubspot(parts: CrmParts, config: LeadrelayConfig, client: Any | None) -> None:
    from adapters.hubspot import HubSpotReader
    from adapters.hubspot.client import build_client, build_limiter
    from adapters.hubspot.contacts_by_id import HubSpotContactsById
    from adapters.hubspot.writes import HubSpotOwnerWriter, HubSpotTaskWriter

    section, size = config.crms.hubspot, config.actions.outbox.hubspot_batch_size
    client = client or build_client(section)
    limiter, retry = build_limiter(section), RetryPolicy.from_config(section.retry)
    reader = HubSpotReader(section, client=client, limiter=limiter, retry=retry)
    parts.readers.append(reader)
    contacts = next(s for s in reader.streams() if s.object == "contacts")
    by_id = HubSpotContactsById(client, contacts, limiter=limiter, retry=retry, timeout_s=section.request_timeout_s)
    parts.people_by_id.append(by_id)
    parts.performers.append(HubSpotOwnerWriter(client, retry=retry, limiter=limiter, batch_size=size))
    parts.performers.append(HubSpotTaskWriter(client, config.actions, retry=retry, limiter=limiter, batch_size=size))


def _add_salesforce(parts: CrmParts, config: LeadrelayConfig, client: Any | None) -> None:
    from adapters.salesforce import SalesforceReader
    from adapters.salesforce.client import build_client, build_limiter, build_session
    from adapters.salesforce.writes import SalesforceOwnerWriter, SalesforceTaskWriter

    section, size = config.crms.salesforce, config.actions.outbox.salesforce_batch_size
    session = build_session(section)
    sf = client or build_client(section, session)
    limiter, retry = build_limiter(section), RetryPolicy.from_config(section.retry)
    parts.readers.append(SalesforceReader(section, client=sf, session=session, limiter=limiter, retry=retry))
    parts.performers.append(SalesforceOwnerWriter(sf, retry=retry, limiter=limiter, batch_size=size))
    parts.performers.append(SalesforceTaskWriter(sf, config.actions, retry=retry, limiter=limiter, batch_size=size))


def _notifiers(config: LeadrelayConfig, batch_size: int) -> list[Performer]:
    from connector.notify import NotificationPerformer

    actions = config.actions
    found: list[Performer] = []
    if actions.slack.enabled:
        from adapters.slack.notifier import SlackNotifier

        found.append(NotificationPerformer(SlackNotifier(actions.slack), actions, batch_size=batch_size))
    if actions.email.enabled:
        from adapters.email.notifier import EmailNotifier

        found.append(NotificationPerformer(EmailNotifier(actions.email), actions, batch_size=batch_size))
    return found


class Relay:
    """Sync, route and deliver for one deployment; drive it with ``tick`` (the daemon adds schedules and servers)."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        loaded: LoadedConfig,
        engine: SyncEngine,
        pipeline: LeadPipeline,
        worker: OutboxWorker,
    ) -> None:
        self.db = db
        self.loaded = loaded
        self.engine = engine
        self.pipeline = pipeline
        self.worker = worker

    @classmethod
    def open(
        cls,
        loaded: LoadedConfig,
        *,
        progress: ProgressSink | None = None,
        parts: CrmParts | None = None,
        should_stop: Callable[[], bool] = lambda: False,
        route_db: sqlite_utils.Database | None = None,
    ) -> Relay:
        """Open the database named by the config and build every part from it (``parts`` overrides the CRM side).

        ``route_db`` gives the pipeline its own connection (the daemon routes API leads from another thread).
        """
        config = loaded.config
        db = open_cache(config.database)
        outbox_store.install(db)
        parts = parts if parts is not None else build_crm_parts(config)
        engine = SyncEngine(
            db, parts.readers, overlap_ms=overlaps_ms(config.crms), progress=progress, should_stop=should_stop
        )
        pipeline = LeadPipeline(route_db or db, loaded)
        worker = OutboxWorker(db, parts.performers, config.actions.outbox)
        return cls(db, loaded, engine, pipeline, worker)

    def tick(self, *, sync: bool = True, full: bool = False) -> TickReport:
        """One turn: sync (unless told not to), route every waiting lead, deliver what is due."""
        report = TickReport()
        if sync:
            started = time.perf_counter()
            report.sync = self.engine.run_pass(full=full)
            report.seconds["sync"] = time.perf_counter() - started
        started = time.perf_counter()
        report.pipeline = self.pipeline.process_pending()
        report.seconds["route"] = time.perf_counter() - started
        started = time.perf_counter()
        report.delivered = self.deliver_all()
        report.seconds["deliver"] = time.perf_counter() - started
        return report

    def deliver_all(self, *, max_passes: int = 50) -> int:
        """Deliver due outbox items until none is left due now (or ``max_passes``); returns items settled."""
        total = 0
        for _ in range(max_passes):
            settled = self.worker.deliver()
            total += settled
            if settled == 0:
                break
        return total

    def close(self) -> None:
        """Release the database connection."""
        self.db.conn.close()
