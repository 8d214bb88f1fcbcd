"""Request parsing and validation shared by the HubSpot routes (objects, search, associations, owners)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from adapters.sandbox.hubspot_model import object_type
from adapters.sandbox.shapes import hubspot_error, iso_ms

BATCH_LIMIT = 100
_PROPERTY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class HubSpotError(Exception):
    """A request HubSpot would refuse; ``response()`` renders HubSpot's error body."""

    def __init__(self, status: int, message: str, category: str = "VALIDATION_ERROR", **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.category = category
        self.extra = extra

    def response(self) -> Response:
        return hubspot_error(self.status, self.message, self.category, **self.extra)


def not_found(type_name: str, oid: str) -> HubSpotError:
    """HubSpot's 404 for a record id."""
    return HubSpotError(
        404,
        f"Object not found.  objectId are usually numeric. ({type_name} {oid})",
        "OBJECT_NOT_FOUND",
        context={"id": [oid]},
    )


def path_type(request: Request, key: str = "object_type") -> str:
    """The canonical object type named in the path, or a 400 like HubSpot's for an unknown one."""
    raw = request.path_params[key]
    name = object_type(raw)
    if name is None:
        raise HubSpotError(400, f"Unable to infer object type from: {raw}", "VALIDATION_ERROR")
    return name


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object body, or a 400 HubSpot-style."""
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else {}
    except json.JSONDecodeError as exc:
        raise HubSpotError(400, f"Invalid input JSON on line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    if not isinstance(body, dict):
        raise HubSpotError(400, "Invalid input JSON: expected an object")
    return body


def multi_param(request: Request, name: str) -> list[str]:
    """A list query parameter sent either repeated (``a=1&a=2``) or comma-separated (``a=1,2``)."""
    values: list[str] = []
    for raw in request.query_params.getlist(name):
        values.extend(part.strip() for part in raw.split(",") if part.strip())
    return values


def bool_param(request: Request, name: str, default: bool = False) -> bool:
    """A boolean query parameter (``true``/``false``, any case)."""
    raw = request.query_params.get(name)
    return default if raw is None else raw.strip().lower() == "true"


def int_param(request: Request, name: str, default: int) -> int:
    """An integer query parameter, or a 400."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise HubSpotError(400, f"Invalid value for {name}: {raw!r}") from None


def batch_inputs(body: dict[str, Any]) -> list[dict[str, Any]]:
    """A batch's ``inputs`` list, refusing more than HubSpot's 100 per call."""
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        raise HubSpotError(400, "Invalid input JSON: `inputs` must be a list")
    if len(inputs) > BATCH_LIMIT:
        raise HubSpotError(
            400,
            f"Batch input size {len(inputs)} exceeds the maximum of {BATCH_LIMIT} inputs per request.",
            "VALIDATION_ERROR",
            subCategory="BATCH_INPUT_TOO_LARGE",
        )
    return [item if isinstance(item, dict) else {"id": item} for item in inputs]


def clean_properties(raw: Any, read_only: set[str]) -> dict[str, Any]:
    """Property values to store: strings as HubSpot keeps them, ``""`` clears; read-only names are dropped."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise HubSpotError(400, "Invalid input JSON: `properties` must be an object")
    bad = [name for name in raw if not isinstance(name, str) or not _PROPERTY_NAME.match(name)]
    if bad:
        raise HubSpotError(
            400,
            "Property values were not valid",
            errors=[{"message": f'Property "{name}" does not exist', "code": "PROPERTY_DOESNT_EXIST"} for name in bad],
        )
    cleaned: dict[str, Any] = {}
    for name, value in raw.items():
        if name in read_only:
            continue
        cleaned[name] = None if value is None or value == "" else _as_text(value)
    return cleaned


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(map(str, value))
    return str(value)


def now_iso(now_ms: int) -> str:
    """``startedAt``/``completedAt`` stamps of batch answers."""
    return iso_ms(now_ms)


def epoch_ms(value: Any) -> int:
    """A date filter value as epoch ms: HubSpot takes epoch-ms strings; ISO dates are accepted too."""
    text = str(value).strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return int(float(text))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise HubSpotError(400, f"Invalid date value: {text!r} (expected epoch milliseconds)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)
