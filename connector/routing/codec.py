"""Decisions to and from JSON-ready dicts, so the decision log holds everything needed to explain and replay.

orjson writes the frozen dataclasses directly; reading back is a small generic decoder driven by the
dataclasses' type hints, so adding a field to a value object needs no codec change.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any, Union

import orjson

from connector.routing.model import Decision, Reads, RoutingInput


def dumps(value: Any) -> str:
    """Compact JSON of dataclasses, tuples, mappings and datetimes.

    orjson serializes the frozen dataclasses natively in C: logging a decision with its whole trace costs tens of
    microseconds instead of milliseconds with the standard library, and every routed lead writes one.
    """
    return orjson.dumps(value, default=_jsonable).decode()


def loads(text: str | bytes) -> Any:
    """Parse what ``dumps`` wrote."""
    return orjson.loads(text)


def encode(value: Any) -> Any:
    """The JSON-ready (plain dicts and lists) form of ``value``."""
    return orjson.loads(dumps(value))


def _jsonable(value: Any) -> Any:
    """What orjson cannot serialize by itself: read-only mappings (a CRM's raw properties) and sets."""
    if isinstance(value, tuple):  # NamedTuples: orjson only writes plain tuples itself
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    raise TypeError(f"cannot store {type(value).__name__} in the decision log")


def decode(cls: type, data: Any) -> Any:
    """Rebuild a dataclass (recursively) from what ``encode`` produced."""
    hints = _hints(cls)
    kwargs = {name: _decode_as(hints[name], value) for name, value in data.items() if name in hints}
    return cls(**kwargs)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode_as(hint: Any, value: Any) -> Any:  # noqa: PLR0911 - one branch per shape of type hint
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _decode_as(options[0], value) if len(options) == 1 else _first_fitting(options, value)
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode_as(args[0], v) for v in value)
        return tuple(_decode_as(a, v) for a, v in zip(args, value, strict=True))
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return decode(hint, value)
    if isinstance(hint, type) and issubclass(hint, tuple) and hasattr(hint, "_fields"):
        return hint(*value)
    if hint is datetime:
        return datetime.fromisoformat(value)
    if origin in (Mapping, dict) or hint in (Mapping, dict):
        return dict(value)
    return value


def _first_fitting(options: list[Any], value: Any) -> Any:
    for option in options:
        if dataclasses.is_dataclass(option) and isinstance(value, dict):
            return decode(option, value)  # type: ignore[arg-type]
    return value


def decision_to_dict(decision: Decision) -> dict[str, Any]:
    """The whole decision (input, trace, owners, ledger reads and delta) as a JSON-ready dict."""
    return encode(decision)


def decision_from_dict(data: Mapping[str, Any]) -> Decision:
    """The decision back from ``decision_to_dict``."""
    return decode(Decision, data)


def input_from_dict(data: Mapping[str, Any]) -> RoutingInput:
    """A routing input back from its encoded form."""
    return decode(RoutingInput, data)


def reads_from_dict(data: Mapping[str, Any]) -> Reads:
    """A decision's recorded reads back from their encoded form."""
    return decode(Reads, data)
