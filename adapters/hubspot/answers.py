"""HubSpot answers read as plain JSON (``_preload_content=False``) instead of the client's generated models.

The generated models deserialize every property and parse every timestamp with dateutil: a sizeable share of the
daemon's CPU for answers of which we read a few fields. The client still raises its exceptions for non-2xx answers
(``map_error`` turns them into ``connector.errors``), so only the success path changes.
"""

from __future__ import annotations

from typing import Any

import orjson

from connector.errors import TransportError


def parse_json(raw: bytes | str | None) -> dict[str, Any]:
    """The JSON object of an answer body; an answer that is not JSON is a retriable ``TransportError``."""
    try:
        body = orjson.loads(raw or b"")
    except (TypeError, orjson.JSONDecodeError) as exc:
        raise TransportError("hubspot sent an answer that is not JSON", crm="hubspot") from exc
    return body if isinstance(body, dict) else {}


def raw_options(timeout_s: float | None = None) -> dict[str, Any]:
    """Keyword arguments that make a generated API call return the raw HTTP answer."""
    options: dict[str, Any] = {"_preload_content": False}
    if timeout_s is not None:
        options["_request_timeout"] = timeout_s
    return options


def results(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``results`` of a batch or search answer (records as dicts)."""
    return [r for r in answer.get("results") or [] if isinstance(r, dict)]


def properties(record: dict[str, Any]) -> dict[str, Any]:
    """A record's ``properties`` (empty when absent)."""
    props = record.get("properties")
    return props if isinstance(props, dict) else {}


def error_keys(answer: dict[str, Any], key: str) -> dict[str, str]:
    """Per failed input (``key``: ``ids`` or ``index`` in each error's context), the error's category and message."""
    found: dict[str, str] = {}
    for error in answer.get("errors") or []:
        if not isinstance(error, dict):
            continue
        context = error.get("context") or {}
        for value in context.get(key) or []:
            found[str(value)] = f"{error.get('category', '')}: {error.get('message', '')}"[:300]
    return found
