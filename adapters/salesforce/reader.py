"""``SalesforceReader``: the sync engine's ``CrmReader`` for one Salesforce org, on simple-salesforce.

* Backfill: ``query`` pages keyed on ``Id`` (``WHERE Id > last ORDER BY Id LIMIT n``). A ``nextRecordsUrl`` query
  locator expires after ~15 minutes idle; the last Id never does, so a crashed backfill resumes any time later.
* Incremental: ``queryAll`` on ``SystemModstamp`` ordered by ``SystemModstamp, Id`` with the (stamp, Id) keyset and
  an upper bound at the pass's start. ``queryAll`` returns deleted rows (``IsDeleted = true``) in the same order,
  so deletions reach the cache through the same cursor and no separate getDeleted call is needed.
* Budget: ``Sforce-Limit-Info`` (``sf.api_usage``) after every answer sets the daily budget's used/limit figures.
* Sessions: an expired session (401 ``INVALID_SESSION_ID``) is renewed once with the configured refresh token or
  username and password and the call retried; a second refusal, or no credentials to log in with, is a fatal
  ``AuthError`` saying so.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from adapters.salesforce import mapping, queries
from adapters.salesforce.client import build_client, build_limiter, build_session, can_log_in, renew_session
from adapters.salesforce.errors import HeaderRecordingSession, error_codes, map_error
from connector.config.crm import SalesforceConfig
from connector.crm import CacheRecord, Page, Position, RawRecord
from connector.errors import AuthError, BudgetExhaustedError, RateLimitedError, RetriableError
from connector.models import CrmName
from connector.ratelimit import CrmLimiter
from connector.retry import RetryPolicy
from connector.sync.streams import Stream, salesforce_streams


class SalesforceReader:
    """Reads Users, lead Queues, Accounts, Leads and Contacts of one org."""

    crm: CrmName = "salesforce"

    def __init__(
        self,
        config: SalesforceConfig,
        *,
        client: Any = None,
        session: HeaderRecordingSession | None = None,
        limiter: CrmLimiter | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.config = config
        self.session = session or build_session(config)
        self.sf = client or build_client(config, self.session)
        self.limiter = limiter or build_limiter(config)
        self.retry = retry or RetryPolicy.from_config(config.retry)
        self._streams = salesforce_streams(page_size=config.page_size)

    def streams(self) -> tuple[Stream, ...]:
        """Users, Queues, Accounts, Leads, Contacts."""
        return self._streams

    def list_page(self, stream: Stream, after: str | None) -> Page:
        """Live records after the Id ``after``; the last Id of a full page is the next cursor."""
        rows = self._query(queries.list_query(stream, after), what=f"list {stream.object}")
        records = tuple(mapping.raw_record(r, stream.cursor_field, owned=True) for r in rows)
        full = len(rows) >= stream.page_size
        last_id = rows[-1].get("Id") if rows and isinstance(rows[-1], dict) else None
        next_after = str(last_id) if full and last_id else None
        return Page(records, next_after, more=next_after is not None)

    def changes_page(self, stream: Stream, since: Position, until_ms: int) -> Page:
        """Changed and deleted records after ``since`` up to ``until_ms``, in (SystemModstamp, Id) order."""
        soql = queries.changes_query(stream, since, until_ms)
        rows = self._query(soql, what=f"changes {stream.object}", include_deleted=True)
        records = tuple(mapping.raw_record(r, stream.cursor_field, owned=True) for r in rows)
        return Page(records, None, more=len(rows) >= stream.changes_page_size)

    def deletions_page(self, stream: Stream, after: str | None) -> Page:
        """Nothing: deletions arrive inline with the changes (queryAll)."""
        return Page(())

    def count(self, stream: Stream) -> int | None:
        """Live records of the stream (one ``SELECT COUNT()``)."""
        body = self._call(lambda: self.sf.query(queries.count_query(stream)), what=f"count {stream.object}")
        total = body.get("totalSize") if isinstance(body, dict) else None
        return total if isinstance(total, int) else None

    def to_cache_record(self, stream: Stream, record: RawRecord) -> CacheRecord:
        """Map a Salesforce record by its sObject."""
        return mapping.MAPPERS[stream.object](record)

    # -- calls -------------------------------------------------------------------------------------------------------
    def _query(self, soql: str, *, what: str, include_deleted: bool = False) -> list[Any]:
        """All rows of one SOQL query (LIMITed to a page, so normally one batch; later batches are followed)."""
        body = self._call(lambda: self.sf.query(soql, include_deleted=include_deleted), what=what)
        rows = list(body.get("records") or [])
        while not body.get("done", True) and body.get("nextRecordsUrl"):
            url: str = body["nextRecordsUrl"]
            body = self._call(partial(self.sf.query_more, url, identifier_is_url=True), what=f"{what} (more)")
            rows.extend(body.get("records") or [])
        return rows

    def _call(self, send: Callable[[], Any], *, what: str) -> Any:
        """Send one request (limiter, retry policy); an expired session is renewed once and the request sent again."""
        try:
            return self._call_paced(send, what=what)
        except _SessionExpired as exc:
            if not can_log_in(self.config):
                raise AuthError(
                    "salesforce session expired and no username/password is configured to log in again "
                    "(nor a refresh token with its connected app's consumer key)",
                    crm="salesforce",
                    status=401,
                ) from exc
        self.retry.call(lambda: renew_session(self.sf, self.config, self.session), what="salesforce login")
        try:
            return self._call_paced(send, what=what)
        except _SessionExpired as exc:
            raise AuthError(
                "salesforce refused the new session right after logging in again: check the user's permissions, "
                "the connected app's policies and the org's session settings",
                crm="salesforce",
                status=401,
            ) from exc

    def _call_paced(self, send: Callable[[], Any], *, what: str) -> Any:
        """Send one request through the limiter and the retry policy."""

        def attempt() -> Any:
            with self.limiter.call("default"):
                try:
                    result = send()
                except Exception as exc:  # simple-salesforce/requests exceptions, mapped onto connector.errors
                    if getattr(exc, "status", None) == 401 and "INVALID_SESSION_ID" in error_codes(exc):
                        raise _SessionExpired("salesforce session expired", crm="salesforce", status=401) from exc
                    mapped = map_error(exc, self.session)
                    raise mapped from exc
            self._observe()
            return result

        def on_retry(error: RetriableError, _wait: float) -> None:
            if isinstance(error, RateLimitedError):
                self.limiter.rate_limited("default", error.retry_after)

        try:
            return self.retry.call(attempt, what=f"salesforce {what}", on_retry=on_retry)
        except BudgetExhaustedError as exc:
            self.limiter.budget.mark_exhausted(exc.resume_at)
            raise

    def _observe(self) -> None:
        """Adopt the org's API usage from ``Sforce-Limit-Info`` (parsed by simple-salesforce into ``api_usage``)."""
        usage = (getattr(self.sf, "api_usage", None) or {}).get("api-usage")
        if usage is not None and self.config.limits_enabled:
            self.limiter.budget.observe(used=usage.used, limit=self.config.daily_limit or usage.total)


class _SessionExpired(AuthError):
    """401 INVALID_SESSION_ID: the session timed out or was revoked; logging in again may help (once)."""
