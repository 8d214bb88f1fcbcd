"""``HubSpotContactsById``: named contacts through ``POST /crm/v3/objects/contacts/batch/read`` (100 ids a call).

The webhook path's read: one call answers for every contact a webhook batch named, with the properties the
contacts stream reads, mapped by the stream's own mapping. Unlike search it sees a contact as soon as it exists
(search indexing lags creations by seconds). The call goes through the portal's shared limiter (``default``
window: the batch endpoints count against the burst limit, not the search limit) and the retry policy.

An id HubSpot does not return (deleted, merged, or not visible yet) is reported as missing, never as an error:
the daemon falls back to a search pass for those and keeps their webhook events waiting.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.hubspot import mapping
from adapters.hubspot.answers import parse_json
from adapters.hubspot.errors import map_error
from connector.crm import PersonRecord
from connector.daemon.people_by_id import PeopleRead
from connector.errors import BudgetExhaustedError, InvalidRecordError, RateLimitedError, RetriableError
from connector.logs import get_logger
from connector.models import CrmName
from connector.ratelimit import CrmLimiter
from connector.retry import RetryPolicy
from connector.sync.streams import Stream

log = get_logger("leadrelay.hubspot.contacts_by_id")
BATCH_LIMIT = 100  # HubSpot's batch endpoints take 100 inputs
_GARBAGE = (TypeError, ValueError, KeyError, AttributeError, OverflowError)  # as the sync engine: a bad record


class HubSpotContactsById:
    """Reads contacts by id with the contacts stream's properties, through the shared client and limiter."""

    crm: CrmName = "hubspot"
    object = "contacts"
    batch_limit = BATCH_LIMIT

    def __init__(
        self,
        client: Any,
        stream: Stream,
        *,
        limiter: CrmLimiter,
        retry: RetryPolicy | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        if stream.crm != "hubspot" or stream.object != "contacts":
            raise ValueError(f"HubSpotContactsById reads the hubspot contacts stream, not {stream.key}")
        self.stream = stream
        self.limiter = limiter
        self.retry = retry or RetryPolicy()
        self.timeout_s = timeout_s
        self._batch = client.crm.objects.batch_api  # built once: each attribute access builds a new pool
        wanted = [*stream.fields, stream.cursor_field, "createdate"]
        self._properties = [p for p in dict.fromkeys(wanted) if p]

    def read(self, native_ids: Sequence[str]) -> PeopleRead:
        """The named contacts as cache records (at most ``BATCH_LIMIT`` ids); raises a ``LeadrelayError`` on failure."""
        ids = list(dict.fromkeys(str(i) for i in native_ids))
        if len(ids) > BATCH_LIMIT:
            raise ValueError(f"at most {BATCH_LIMIT} ids per batch read, got {len(ids)}")
        if not ids:
            return PeopleRead()
        body = self._call(ids)
        records, unmappable = self._map(body.get("results"))
        found = {r.lead.native_id for r in records} | set(unmappable)
        missing = tuple(i for i in ids if i not in found)
        return PeopleRead(tuple(records), missing, tuple(unmappable))

    def _map(self, results: Any) -> tuple[list[PersonRecord], list[str]]:
        records: list[PersonRecord] = []
        unmappable: list[str] = []
        for result in results if isinstance(results, list) else []:
            raw = mapping.raw_record(result, self.stream.cursor_field)
            try:
                records.append(mapping.contact(raw))
                continue
            except InvalidRecordError as exc:
                reason = exc.reason
            except _GARBAGE as exc:
                reason = f"unmappable_{type(exc).__name__}"
            unmappable.append(raw.native_id)
            log.warning("record_skipped", stream=self.stream.key, native_id=raw.native_id or None, reason=reason)
        return records, [u for u in unmappable if u]

    def _call(self, ids: list[str]) -> dict[str, Any]:
        """One batch read under the limiter and the retry policy; the parsed JSON answer (200 or 207)."""
        request = {"inputs": [{"id": i} for i in ids], "properties": self._properties, "archived": False}

        def attempt() -> dict[str, Any]:
            with self.limiter.call("default"):
                try:
                    response = self._batch.read(
                        "contacts", request, _preload_content=False, _request_timeout=self.timeout_s
                    )
                    raw = response.data
                except Exception as exc:  # the client's own exceptions, mapped onto connector.errors
                    mapped = map_error(exc)
                    raise (mapped if mapped is not exc else exc) from exc
            return parse_json(raw)

        def on_retry(error: RetriableError, _wait: float) -> None:
            if isinstance(error, RateLimitedError):
                self.limiter.rate_limited("default", error.retry_after)

        try:
            return self.retry.call(attempt, what="hubspot batch read contacts", on_retry=on_retry)
        except BudgetExhaustedError as exc:
            self.limiter.budget.mark_exhausted(exc.resume_at)
            raise
