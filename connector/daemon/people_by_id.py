"""Reading named people straight from a CRM (``PeopleById``) and putting them in the cache, as the sync would.

A webhook names the contacts that changed; reading exactly those by id (HubSpot's batch read) is one cheap call and,
unlike search, sees a contact the moment it exists. The records go through the same cache upsert as the sync, so
the people feed, the content hashes and the next incremental pass see them exactly as if the sync had read them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from connector.cache import writes
from connector.crm import PersonRecord
from connector.models import CrmName


@dataclass(frozen=True)
class PeopleRead:
    """What a read by id found: mapped records, ids the CRM did not return, ids it returned but we cannot map."""

    records: tuple[PersonRecord, ...] = ()
    missing: tuple[str, ...] = ()
    unmappable: tuple[str, ...] = ()


class PeopleById(Protocol):
    """Reads people of one CRM object by native id (at most ``batch_limit`` per call)."""

    crm: CrmName
    object: str
    batch_limit: int

    def read(self, native_ids: Sequence[str]) -> PeopleRead:
        """The current state of each named person; raises a ``LeadrelayError`` when the call fails."""
        ...


def read_all(reader: PeopleById, native_ids: Sequence[str]) -> PeopleRead:
    """``reader.read`` over any number of ids, ``batch_limit`` per call, duplicates asked once."""
    unique = list(dict.fromkeys(native_ids))
    records: list[PersonRecord] = []
    missing: list[str] = []
    unmappable: list[str] = []
    for start in range(0, len(unique), reader.batch_limit):
        part = reader.read(unique[start : start + reader.batch_limit])
        records += part.records
        missing += part.missing
        unmappable += part.unmappable
    return PeopleRead(tuple(records), tuple(missing), tuple(unmappable))


def cache_people(conn: sqlite3.Connection, records: Sequence[PersonRecord], *, now_ms: int) -> writes.WriteCounts:
    """Upsert ``records`` into the cache inside the caller's transaction (new and changed ones enter the feed)."""
    return writes.upsert(conn, "person", [writes.to_row(r)[1] for r in records], sweep_token=None, now_ms=now_ms)
