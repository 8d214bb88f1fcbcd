"""``HubSpotReader``: the sync engine's ``CrmReader`` for one HubSpot portal, on hubspot-api-client.

* Backfill reads the list endpoints (``GET /crm/v3/objects/{type}``, 100 per page, resumable by ``after``), never
  search, which stops at 10,000 results.
* Incremental uses search on the modified-date property (contacts ``lastmodifieddate``, companies
  ``hs_lastmodifieddate``), sorted by it then ``hs_object_id``, as a keyset: every page is a new query starting
  after the last (stamp, id) seen, bounded above by the pass's start. The 10,000-result cap never applies, and a
  run of equal stamps across a page boundary is continued by id, not skipped. When the last page ended on a stamp
  few of its records (and none before it) had, the next query is the plain range ``stamp >= last`` instead (one
  filter group, which a search index answers far faster than the two-group keyset) and the few records seen
  again are dropped here; inside long runs of equal stamps the keyset is used.
* Deletions: the ``archived=true`` list. Owners: both owner lists in full every pass (a few hundred at most).

Calls go through the portal's limiter (burst window, search window, daily read share) and the retry policy.
Answers are parsed as JSON directly (``_preload_content=False``): the generated models are slow, and one
malformed record must be skipped with a reason rather than fail the whole page's deserialization.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from adapters.hubspot import mapping
from adapters.hubspot.answers import parse_json
from adapters.hubspot.client import build_client, build_limiter
from adapters.hubspot.errors import map_error
from connector.config.crm import HubSpotConfig
from connector.crm import CacheRecord, Page, Position, RawRecord
from connector.errors import BudgetExhaustedError, RateLimitedError, RetriableError
from connector.models import CrmName
from connector.ratelimit import CrmLimiter
from connector.retry import RetryPolicy
from connector.sync.streams import Stream, hubspot_streams

_OWNER_LISTS = ("live", "archived")  # owners are read as two lists; the list cursor says which and where
# The plain range re-reads the records at the last stamp: worth it while they are at most a tenth of a page.
PLAIN_MAX_TIES_DIVISOR = 10


class HubSpotReader:
    """Reads owners, companies and contacts of one portal."""

    crm: CrmName = "hubspot"

    def __init__(
        self,
        config: HubSpotConfig,
        *,
        client: Any = None,
        limiter: CrmLimiter | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.config = config
        client = client or build_client(config)
        # Each attribute access on the client builds a new API object (and connection pool): build them once.
        self._objects = client.crm.objects.basic_api
        self._search = client.crm.objects.search_api
        self._owners = client.crm.owners.owners_api
        self._associations = client.crm.associations.v4.batch_api
        self.limiter = limiter or build_limiter(config)
        self.retry = retry or RetryPolicy.from_config(config.retry)
        self._streams = hubspot_streams(page_size=config.page_size, search_page_size=config.search_page_size)
        # stream -> where the last changes page ended, when "stamp >= it" re-reads only a few records seen
        self._plain_after: dict[str, Position] = {}

    def streams(self) -> tuple[Stream, ...]:
        """Owners, companies, contacts."""
        return self._streams

    # -- pages ------------------------------------------------------------------------------------------------------
    def list_page(self, stream: Stream, after: str | None) -> Page:
        """One page of the live list (owners: the live list, then the archived one)."""
        if stream.object == "owners":
            return self._owners_page(stream, after)
        body = self._call(
            "default",
            f"list {stream.object}",
            lambda: self._objects.get_page(
                stream.object,
                limit=stream.page_size,
                after=after,
                properties=list(stream.fields),
                associations=list(stream.associations) or None,
                archived=False,
                **self._options(),
            ),
        )
        return self._page(body, stream.cursor_field)

    def changes_page(self, stream: Stream, since: Position, until_ms: int) -> Page:
        """Records modified after ``since`` (keyset on stamp, then id) and at or before ``until_ms``."""
        from hubspot.crm.objects import PublicObjectSearchRequest

        assert stream.cursor_field is not None
        # "stamp >= since" is the keyset's set plus the few records at that stamp already seen (dropped below).
        plain = bool(since.native_id) and self._plain_after.get(stream.key) == since
        lower = Position(since.modified_ms) if plain else since
        request = PublicObjectSearchRequest(
            filter_groups=_keyset_groups(stream.cursor_field, lower, until_ms),
            sorts=[
                {"propertyName": stream.cursor_field, "direction": "ASCENDING"},
                {"propertyName": "hs_object_id", "direction": "ASCENDING"},
            ],
            limit=stream.changes_page_size,
            properties=list(stream.fields),
        )
        body = self._call(
            "search",
            f"search {stream.object}",
            lambda: self._search.do_search(stream.object, request, **self._options()),
            search=True,
        )
        answered = self._page(body, stream.cursor_field).records
        records = tuple(r for r in answered if r.position > since) if plain else answered
        if plain and not records and len(answered) >= stream.changes_page_size:  # late-indexed ties: ask by keyset
            self._plain_after.pop(stream.key, None)
            return self.changes_page(stream, since, until_ms)
        self._remember_end(stream, since, records)
        records = self._with_associations(stream, records) if stream.associations else records
        return Page(records, None, more=len(answered) >= stream.changes_page_size)

    def _remember_end(self, stream: Stream, since: Position, records: tuple[RawRecord, ...]) -> None:
        """Allow the plain range next when the page's last stamp is shared by few records, all on this page."""
        self._plain_after.pop(stream.key, None)
        if not records:
            return
        last = records[-1]
        run = 0  # records at the last stamp, counted back from the end of the page
        while run < len(records) and records[-1 - run].modified_ms == last.modified_ms:
            run += 1
        started_here = run < len(records) or last.modified_ms != since.modified_ms
        if started_here and run <= max(1, stream.changes_page_size // PLAIN_MAX_TIES_DIVISOR):
            self._plain_after[stream.key] = last.position

    def _with_associations(self, stream: Stream, records: tuple[RawRecord, ...]) -> tuple[RawRecord, ...]:
        """Search answers carry no associations: one v4 batch read per associated type fills them in."""
        from hubspot.crm.associations.v4 import BatchInputPublicFetchAssociationsBatchRequest

        ids = [r.native_id for r in records if r.native_id]
        if not ids:
            return records
        request = BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": i} for i in ids])
        linked: dict[str, dict[str, tuple[str, ...]]] = {i: {} for i in ids}
        for to_type in stream.associations:
            read = partial(self._associations.get_page, stream.object, to_type, request, **self._options())
            body = self._call("default", f"read {stream.object} to {to_type} associations", read)
            for from_id, targets in mapping.batch_associations(body).items():
                linked.setdefault(from_id, {})[to_type] = targets
        return tuple(replace(r, associations=linked.get(r.native_id, {})) for r in records)

    def deletions_page(self, stream: Stream, after: str | None) -> Page:
        """One page of the archived list; every record comes back ``deleted``."""
        body = self._call(
            "default",
            f"list archived {stream.object}",
            lambda: self._objects.get_page(
                stream.object, limit=stream.page_size, after=after, archived=True, **self._options()
            ),
        )
        return self._page(body, None, deleted=True)

    def _owners_page(self, stream: Stream, after: str | None) -> Page:
        which, _, cursor = (after or "live:").partition(":")
        body = self._call(
            "default",
            f"list {which} owners",
            lambda: self._owners.get_page(
                limit=stream.page_size, after=cursor or None, archived=which == "archived", **self._options()
            ),
        )
        page = self._page(body, None)
        if page.next_after is not None:
            return Page(page.records, f"{which}:{page.next_after}")
        following = _OWNER_LISTS.index(which) + 1 if which in _OWNER_LISTS else len(_OWNER_LISTS)
        next_list = f"{_OWNER_LISTS[following]}:" if following < len(_OWNER_LISTS) else None
        return Page(page.records, next_list)

    def count(self, stream: Stream) -> int | None:
        """Live records of a companies/contacts stream, from a one-result search (owners: unknown)."""
        from hubspot.crm.objects import PublicObjectSearchRequest

        if stream.object == "owners":
            return None
        request = PublicObjectSearchRequest(limit=1, properties=["hs_object_id"])
        body = self._call(
            "search",
            f"count {stream.object}",
            lambda: self._search.do_search(stream.object, request, **self._options()),
            search=True,
        )
        total = body.get("total")
        return total if isinstance(total, int) else None

    def to_cache_record(self, stream: Stream, record: RawRecord) -> CacheRecord:
        """Map a HubSpot record by its stream."""
        return mapping.MAPPERS.get(stream.object, mapping.owner)(record)

    # -- calls ------------------------------------------------------------------------------------------------------
    def _options(self) -> dict[str, Any]:
        return {"_preload_content": False, "_request_timeout": self.config.request_timeout_s}

    def _page(self, body: dict[str, Any], cursor_field: str | None, *, deleted: bool = False) -> Page:
        results = body.get("results")
        records = tuple(
            mapping.raw_record(r, cursor_field, deleted=deleted) for r in (results if isinstance(results, list) else [])
        )
        after = (body.get("paging") or {}).get("next", {}).get("after")
        return Page(records, str(after) if after not in (None, "") else None, more=after is not None)

    def _call(self, kind: str, what: str, send: Callable[[], Any], *, search: bool = False) -> dict[str, Any]:
        """Send one request through the limiter and the retry policy; returns the parsed JSON body."""

        def attempt() -> dict[str, Any]:
            # The slot is stamped when the answer's headers arrive, before its body is read: the portal counted
            # the call on arrival, earlier still, so the stamp stays safe and a large body costs no pacing time.
            with self.limiter.call(kind):
                response = _sent(send, search)
            try:
                raw = response.data
            except Exception as exc:  # a connection lost mid-body: retriable like any transport failure
                raise _mapped(exc, search) from exc
            self._observe(response.headers)
            return parse_json(raw)

        def on_retry(error: RetriableError, _wait: float) -> None:
            if isinstance(error, RateLimitedError):
                self.limiter.rate_limited(kind, error.retry_after)

        try:
            return self.retry.call(attempt, what=f"hubspot {what}", on_retry=on_retry)
        except BudgetExhaustedError as exc:
            self.limiter.budget.mark_exhausted(exc.resume_at)
            raise

    def _observe(self, headers: Any) -> None:
        """Adopt the portal's own daily usage from the rate-limit headers (search answers carry none)."""
        daily = _int(headers.get("X-HubSpot-RateLimit-Daily"))
        remaining = _int(headers.get("X-HubSpot-RateLimit-Daily-Remaining"))
        if daily is not None and remaining is not None and self.config.limits_enabled:
            self.limiter.budget.observe(used=daily - remaining, limit=self.config.daily_limit or daily)


def _keyset_groups(cursor_field: str, since: Position, until_ms: int) -> list[dict[str, Any]]:
    """Filter groups (OR of ANDs) for "after (stamp, id) and stamp <= until"."""
    upper = {"propertyName": cursor_field, "operator": "LTE", "value": str(until_ms)}
    if not since.native_id:
        lower = {"propertyName": cursor_field, "operator": "GTE", "value": str(since.modified_ms)}
        return [{"filters": [lower, upper]}]
    return [
        {"filters": [{"propertyName": cursor_field, "operator": "GT", "value": str(since.modified_ms)}, upper]},
        {
            "filters": [
                {"propertyName": cursor_field, "operator": "EQ", "value": str(since.modified_ms)},
                {"propertyName": "hs_object_id", "operator": "GT", "value": since.native_id},
            ]
        },
    ]


def _sent(send: Callable[[], Any], search: bool) -> Any:
    """The raw answer of ``send`` (body not yet read), the client's exceptions mapped onto connector.errors."""
    try:
        return send()
    except Exception as exc:  # the client's own exceptions
        raise _mapped(exc, search) from exc


def _mapped(exc: Exception, search: bool) -> BaseException:
    mapped = map_error(exc, search=search)
    return mapped if mapped is not exc else exc


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
