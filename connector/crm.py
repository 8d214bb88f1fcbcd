"""What a CRM adapter implements for the sync engine: read pages of a stream, map raw records to cache records.

The core never imports a CRM client library. An adapter (``adapters/hubspot``, ``adapters/salesforce``) turns its
client's calls and errors into these values and ``connector.errors``; the engine (``connector.sync.engine``) runs
every stream the same way. Write operations come in a later issue.

Reading a stream:

* ``list_page(stream, after)``: one page of the full list (backfill, full refresh); ``after`` is the CRM's own
  opaque cursor (HubSpot's ``after``, the last Salesforce ``Id``), resumable after a crash.
* ``changes_page(stream, since, until_ms)``: records whose modified stamp is in ``(since, until]`` in
  (modified, native id) keyset order, so ties on the timestamp across a page boundary lose nothing.
* ``deletions_page(stream, after)``: one page of archived/deleted records (HubSpot's ``archived=true`` list).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from connector.models import Account, CrmName, Lead

if TYPE_CHECKING:
    from connector.ratelimit import CrmLimiter
    from connector.sync.streams import Stream


@dataclass(frozen=True, order=True)
class Position:
    """A point in a stream's (modified_ms, native_id) order; ``native_id=""`` sorts before every record."""

    modified_ms: int
    native_id: str = ""


@dataclass(frozen=True)
class RawRecord:
    """A record as the CRM sent it: id, modified stamp, the properties we asked for, and whether it is deleted."""

    native_id: str
    modified_ms: int
    properties: Mapping[str, Any] = field(default_factory=dict)
    deleted: bool = False
    # Ids of associated records by object type (HubSpot engagements and deals: "contacts", "companies").
    associations: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def position(self) -> Position:
        """Where this record sits in its stream's keyset order."""
        return Position(self.modified_ms, self.native_id)


@dataclass(frozen=True)
class Page:
    """One answer: records in stream order, the list cursor for the next page (None: last), and whether more follow."""

    records: tuple[RawRecord, ...]
    next_after: str | None = None
    more: bool = False


@dataclass(frozen=True)
class PersonRecord:
    """A lead/contact ready for the cache: the model plus the CRM owner id (resolved to an Owner key on read)."""

    lead: Lead
    owner_native_id: str | None
    modified_ms: int


@dataclass(frozen=True)
class AccountRecord:
    """A company/Account ready for the cache."""

    account: Account
    owner_native_id: str | None
    modified_ms: int
    created_ms: int = 0
    properties: Mapping[str, Any] = field(default_factory=dict)  # raw CRM properties kept for rules


@dataclass(frozen=True)
class OwnerRecord:
    """One CRM's owner/user/queue. Records with the same ``key`` (normalized email) are one ``Owner``."""

    id: str
    crm: CrmName
    object: str
    native_id: str
    key: str
    email: str | None
    name: str
    active: bool
    is_queue: bool
    teams: tuple[str, ...]
    modified_ms: int
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ActivityRecord:
    """A task, call, email, meeting (HubSpot) or Task/Event (Salesforce) ready for the cache.

    ``person_ids`` and ``account_id`` are cache-wide ids of the people and account it is linked to;
    ``completed`` is None when the CRM keeps no status for the kind (meetings without an outcome, Events).
    """

    id: str
    crm: CrmName
    object: str
    native_id: str
    kind: str  # task, call, email, meeting, event
    owner_native_id: str | None
    person_ids: tuple[str, ...]
    account_id: str | None
    occurred_ms: int | None
    completed: bool | None
    outcome: str | None
    subject: str | None
    created_ms: int
    modified_ms: int
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DealRecord:
    """A HubSpot deal or Salesforce Opportunity ready for the cache (people linked where the CRM gives them)."""

    id: str
    crm: CrmName
    object: str
    native_id: str
    name: str | None
    account_id: str | None
    person_ids: tuple[str, ...]
    owner_native_id: str | None
    stage: str | None
    pipeline: str | None
    is_closed: bool
    is_won: bool
    amount: float | None
    close_ms: int | None  # the expected or actual close date
    created_ms: int
    modified_ms: int
    properties: Mapping[str, Any] = field(default_factory=dict)

    @property
    def closed_ms(self) -> int | None:
        """When the deal closed (its close date), None while it is open."""
        return self.close_ms if self.is_closed else None


CacheRecord = PersonRecord | AccountRecord | OwnerRecord | ActivityRecord | DealRecord


class CrmReader(Protocol):
    """The read side of a CRM adapter."""

    crm: CrmName
    limiter: CrmLimiter

    def streams(self) -> tuple[Stream, ...]:
        """The streams this CRM syncs, in dependency order (owners, accounts, people)."""
        ...

    def list_page(self, stream: Stream, after: str | None) -> Page:
        """One page of every live record of ``stream``, starting after the list cursor ``after``."""
        ...

    def changes_page(self, stream: Stream, since: Position, until_ms: int) -> Page:
        """Up to a page of records after ``since`` with modified stamp <= ``until_ms``, in keyset order."""
        ...

    def deletions_page(self, stream: Stream, after: str | None) -> Page:
        """One page of archived/deleted records of ``stream`` (``deleted=True`` records)."""
        ...

    def count(self, stream: Stream) -> int | None:
        """How many live records ``stream`` has (for progress ETA), or None when it costs too much to know."""
        ...

    def to_cache_record(self, stream: Stream, record: RawRecord) -> CacheRecord:
        """Map and normalize a raw record; raises InvalidRecordError(reason=...) when it cannot be used."""
        ...
