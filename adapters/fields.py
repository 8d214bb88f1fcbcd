"""Reading one CRM record's properties into normalized values, whatever the CRM (or a forger) put there.

``FieldReader`` wraps a record's properties and returns normalized values through ``connector.normalize``.
A value that is present but unusable (a malformed email, a number where text belongs) becomes None and is
counted with its reason in ``issues`` and logged at debug level: one bad field must not cost the whole record.
Only what makes a record unusable as a whole (no id, no modified stamp, properties that are not an object)
raises ``InvalidRecordError``; the engine then skips the record with that reason.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from connector import normalize
from connector.errors import InvalidRecordError
from connector.logs import get_logger

log = get_logger("adapters.fields")
_SCALARS = (str, int, float, bool)
_PHONE_SEPARATORS = str.maketrans("", "", " -().\u00a0")
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")


@lru_cache(maxsize=normalize.WORKING_SET)  # a working set: a bigger cache only grows with the portal
def _clean(value: str | int | float, max_length: int) -> str | None:
    # CRM values repeat a lot (countries, stages, sources, industries): cleaning each distinct one once is the
    # difference between ~1.5k and ~5k records per second through mapping.
    cleaned = normalize.clean_text(value, max_length)
    return None if cleaned is None or normalize.is_placeholder(cleaned) else cleaned


@lru_cache(maxsize=normalize.WORKING_SET)  # a working set: a bigger cache only grows with the portal
def _person_name(value: str | int | float) -> str | None:
    return normalize.person_name(value)


def to_ms(value: Any) -> int | None:
    """Epoch milliseconds from epoch-ms numbers/strings, ISO-8601 datetimes (``Z``, ``+0000``) or dates; else None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return int(text)
    try:
        parsed = datetime.fromisoformat(_iso_offset(text))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def _iso_offset(text: str) -> str:
    # Salesforce writes offsets as +0000; fromisoformat wants +00:00.
    if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit() and ":" not in text[-5:]:
        return f"{text[:-2]}:{text[-2:]}"
    return text


def date_ms(value: Any) -> int | None:
    """Epoch ms of a ``YYYY-MM-DD`` date (midnight UTC) or of anything ``to_ms`` understands."""
    if isinstance(value, str) and len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return None
        return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
    return to_ms(value)


def require_id(value: Any) -> str:
    """The record's native id as text; raises InvalidRecordError when it is missing or not an id."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip() or ":" in value or len(value) > 64:
        raise InvalidRecordError("record has no usable id", reason="missing_id")
    return value.strip()


def require_properties(value: Any) -> Mapping[str, Any]:
    """The properties object; raises InvalidRecordError when it is not a JSON object."""
    if not isinstance(value, Mapping):
        raise InvalidRecordError("record properties are not an object", reason="properties_not_object")
    return value


class FieldReader:
    """Normalized access to one record's properties, collecting the reasons values were dropped."""

    def __init__(self, stream: str, native_id: str, properties: Mapping[str, Any]) -> None:
        self.stream = stream
        self.native_id = native_id
        self.properties = properties
        self.issues: dict[str, str] = {}

    def _drop(self, name: str, reason: str) -> None:
        self.issues[name] = reason
        log.debug("record_field_invalid", stream=self.stream, native_id=self.native_id, field=name, reason=reason)

    def raw(self, name: str) -> Any:
        """The property as sent, or None when it is not a scalar (garbage types are dropped)."""
        value = self.properties.get(name)
        if value is None or isinstance(value, _SCALARS):
            return value
        self._drop(name, "not_a_scalar")
        return None

    def text(self, name: str, max_length: int = normalize.MAX_TEXT_LENGTH) -> str | None:
        """Cleaned text; placeholders ("N/A", "-") count as missing."""
        value = self.raw(name)
        if value is None or isinstance(value, bool):
            return None
        return _clean(value, max_length)

    def name(self, name: str) -> str | None:
        """A person's name part, cleaned."""
        value = self.raw(name)
        return None if value is None or isinstance(value, bool) else _person_name(value)

    def email_domain(self, email: str | None) -> str | None:
        """The registered domain of a normalized email (looked up by host: hosts repeat, so lookups cache)."""
        if not email:
            return None
        try:
            return normalize.registered_domain(email.rpartition("@")[2])
        except InvalidRecordError:
            return None

    def parsed(self, name: str, parser: Any) -> Any:
        """A ``connector.normalize`` parser's value, or None (with the parser's reason) when it cannot parse."""
        value = self.raw(name)
        if value is None:
            return None
        try:
            return parser(value)
        except InvalidRecordError as exc:
            self._drop(name, exc.reason)
            return None

    def email(self, name: str) -> str | None:
        """A normalized email, or None."""
        return self.parsed(name, normalize.email)

    def country(self, name: str) -> str | None:
        """An ISO 3166-1 alpha-2 code, or None."""
        return self.parsed(name, normalize.country_code)

    def employees(self, name: str) -> int | None:
        """A headcount, or None."""
        return self.parsed(name, normalize.employee_count)

    def domain(self, name: str) -> str | None:
        """The registered domain of a URL, host or email, or None."""
        return self.parsed(name, normalize.registered_domain)

    def domains(self, name: str, separator: str = ";") -> tuple[str, ...]:
        """Registered domains of a separated list, de-duplicated in order."""
        value = self.text(name, 4000)
        if not value:
            return ()
        found: dict[str, None] = {}
        for part in value.replace(",", separator).split(separator):
            try:
                domain = normalize.registered_domain(part)
            except InvalidRecordError as exc:
                self._drop(name, exc.reason)
                continue
            if domain:
                found[domain] = None
        return tuple(found)

    def phone(self, name: str, country: str | None) -> str | None:
        """An E.164 phone number, or None."""
        value = self.raw(name)
        if value is None or isinstance(value, bool):
            return None
        # Most CRM numbers are already international ("+48 686-361-879"): without separators they are E.164, and
        # skipping the full parse (~300 us) for them triples mapping throughput. Anything else is parsed properly.
        compact = str(value).translate(_PHONE_SEPARATORS)
        if _E164.match(compact):
            return compact
        return normalize.phone_e164(value, country)

    def integer(self, name: str) -> int | None:
        """A whole number (``"12"``, ``12.0``), or None."""
        value = self.raw(name)
        if value is None or isinstance(value, bool):
            return None
        try:
            return int(float(value))
        except (TypeError, ValueError, OverflowError):
            self._drop(name, "not_a_number")
            return None

    def number(self, name: str) -> float | None:
        """A finite decimal number (amounts: ``"1250.50"``), or None."""
        value = self.raw(name)
        if value is None or value == "" or isinstance(value, bool):
            return None
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            self._drop(name, "not_a_number")
            return None
        if not math.isfinite(number):
            self._drop(name, "not_a_number")
            return None
        return number

    def flag(self, name: str) -> bool:
        """A boolean sent as bool or text ("true"/"false")."""
        value = self.raw(name)
        return value is True or (isinstance(value, str) and value.strip().lower() == "true")

    def ms(self, name: str) -> int | None:
        """Epoch ms of a datetime/date property, or None."""
        value = self.raw(name)
        if value is None or value == "":
            return None
        parsed = date_ms(value)
        if parsed is None:
            self._drop(name, "not_a_date")
        return parsed

    def choices(self, name: str, separator: str = ";") -> tuple[str, ...]:
        """A multi-select value split into its options."""
        value = self.text(name, 4000)
        return tuple(part.strip() for part in value.split(separator) if part.strip()) if value else ()

    def kept(self, names: tuple[str, ...]) -> dict[str, Any]:
        """The raw scalar properties among ``names`` that are set, for rules and tasks downstream."""
        return {n: v for n in names if (v := self.properties.get(n)) is not None and isinstance(v, _SCALARS)}
