"""The SOQL the Salesforce reader sends, built only with ``simple_salesforce.format_soql``.

Values always go through ``format_soql``'s quoting. The one exception is the cursor's datetime: ``format_soql``
truncates datetimes to whole seconds, which would break the (SystemModstamp, Id) keyset whenever stamps carry
milliseconds, so ``soql_datetime`` renders it from an integer (never from CRM text) and it is passed with
``{:literal}``. Whole-second stamps (real Salesforce) render without a fraction, exactly as documented SOQL.
Field and object names come from the stream catalog, never from input.
"""

from __future__ import annotations

from datetime import UTC, datetime

from simple_salesforce import format_soql

from connector.crm import Position
from connector.sync.streams import Stream


def soql_datetime(ms: int) -> str:
    """A SOQL datetime literal for epoch milliseconds ``ms`` (UTC)."""
    moment = datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{moment}Z" if ms % 1000 == 0 else f"{moment}.{ms % 1000:03d}Z"


def _select(stream: Stream) -> str:
    return f"SELECT {', '.join(stream.fields)} FROM {stream.object}"


def _fixed_filters(stream: Stream) -> list[str]:
    return [format_soql(f"{name} = {{}}", value) for name, value in stream.where]


def list_query(stream: Stream, after_id: str | None) -> str:
    """One backfill page: live records after ``after_id`` in Id order (resumable forever, unlike a query locator)."""
    clauses = _fixed_filters(stream)
    if after_id:
        clauses.insert(0, format_soql("Id > {}", after_id))
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return f"{_select(stream)}{where} ORDER BY Id LIMIT {int(stream.page_size)}"


def changes_query(stream: Stream, since: Position, until_ms: int) -> str:
    """Records (deleted too, via queryAll) after ``since`` in (SystemModstamp, Id) order, up to ``until_ms``."""
    cursor = stream.cursor_field
    if since.native_id:
        after = format_soql(
            f"(({cursor} > {{since:literal}}) OR ({cursor} = {{since:literal}} AND Id > {{after_id}}))",
            since=soql_datetime(since.modified_ms),
            after_id=since.native_id,
        )
    else:
        after = format_soql(f"{cursor} >= {{since:literal}}", since=soql_datetime(since.modified_ms))
    upper = format_soql(f"{cursor} <= {{until:literal}}", until=soql_datetime(until_ms))
    clauses = [after, upper, *_fixed_filters(stream)]
    return (
        f"{_select(stream)} WHERE {' AND '.join(clauses)} ORDER BY {cursor}, Id LIMIT {int(stream.changes_page_size)}"
    )


def count_query(stream: Stream) -> str:
    """How many live records the stream has."""
    clauses = _fixed_filters(stream)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return f"SELECT COUNT() FROM {stream.object}{where}"
