"""Answer bodies in each CRM's own shape: JSON responses, HubSpot and Salesforce errors, HubSpot timestamps."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def json_response(body: Any, status: int = 200, headers: Iterable[tuple[str, str]] = ()) -> Response:
    """A JSON answer; compact and UTF-8 like both CRMs."""
    response = Response(_ENCODER.encode(body).encode(), status, media_type="application/json;charset=UTF-8")
    for name, value in headers:
        response.headers.append(name, value)
    return response


def iso_ms(epoch_ms: int) -> str:
    """HubSpot's timestamp format: ISO-8601 UTC with milliseconds and ``Z``."""
    seconds, millis = divmod(epoch_ms, 1000)
    return f"{_iso_seconds(seconds)}.{millis:03d}Z"


@functools.lru_cache(maxsize=4096)
def _iso_seconds(seconds: int) -> str:
    # Answers format thousands of timestamps a second, many repeated (a frozen clock, bulk writes): cache them.
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def hubspot_error(
    status: int,
    message: str,
    category: str,
    *,
    headers: Iterable[tuple[str, str]] = (),
    **extra: Any,
) -> Response:
    """HubSpot's error body: ``{"status":"error","message","correlationId","category",...}``."""
    body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category, **extra}
    return json_response(body, status, headers)


def hubspot_rate_limited(policy: str, retry_after_s: int | None, headers: Iterable[tuple[str, str]] = ()) -> Response:
    """HubSpot's 429 for ``policy`` (TEN_SECONDLY_ROLLING, SECONDLY, DAILY); Retry-After on the rolling ones."""
    extra = list(headers)
    if retry_after_s is not None:
        extra.append(("Retry-After", str(retry_after_s)))
    return hubspot_error(
        429,
        f"You have reached your {policy.lower()} limit.",
        "RATE_LIMITS",
        headers=extra,
        errorType="RATE_LIMIT",
        policyName=policy,
    )


def salesforce_error(
    status: int,
    message: str,
    code: str,
    *,
    fields: list[str] | None = None,
    headers: Iterable[tuple[str, str]] = (),
) -> Response:
    """Salesforce's REST error body: a list of ``{"message","errorCode","fields"}``."""
    return json_response([{"message": message, "errorCode": code, "fields": fields or []}], status, headers)
