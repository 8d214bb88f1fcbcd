"""Decisions to and from JSON-ready dicts, so the decision log holds everything needed to explain and replay.

orjson writes the frozen dataclasses directly; reading back is a small generic decoder driven by the
dataclasses' type hints, so adding a field to a value object needs no codec change.

A logged decision is a JSON *head* (``encode_stored``: inputs, owners, alert; SQL reports query it with
json_extract) and a *detail* (trace, reads, delta: what explaining and replaying need, most of the bytes). The
detail's first byte says its format; v1 and v2 rows are read by ``codec_legacy``, v3 rows by ``codec_v3``, v4 rows
by ``codec_v4``, and v5 is written (v4 for the rare decision holding a NaN or infinite float).

The v5 layout is described in ``codec_v5`` (it shares v4's steps and rosters chunks); v4 in ``codec_v4``; v3 in
``codec_v3``.
"""

from __future__ import annotations

import dataclasses
import struct
import types
import typing
import zlib
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cache
from typing import Any, Union

import orjson
import zstandard

from connector.errors import InvalidRecordError
from connector.routing import codec_legacy as legacy
from connector.routing import codec_v3, codec_v4, codec_v5
from connector.routing.model import (
    Candidate,
    Decision,
    LedgerDelta,
    Pick,
    PickRoster,
    Reads,
    RoutingInput,
    StepResult,
    picks_from_candidates,
)

_new = tuple.__new__  # a NamedTuple from an iterable of its values, without its keyword-handling constructor


def dumps(value: Any) -> str:
    """Compact JSON of dataclasses, tuples, mappings and datetimes.

    orjson serializes the frozen dataclasses natively in C: logging a decision with its whole trace costs tens of
    microseconds instead of milliseconds with the standard library, and every routed lead writes one.
    """
    return orjson.dumps(value, default=_jsonable).decode()


def loads(text: str | bytes | memoryview) -> Any:
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
    return _dataclass_decoder(cls)(data)


# Decoding is driven by the dataclasses' type hints. Working out what each hint asks for (``typing.get_origin`` and
# friends) costs more than the decoding itself, and every lead ``simulate`` replays decodes a few dozen fields, so
# each hint is turned once into a small function that does only its own part.
Decoder = Callable[[Any], Any]


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


@cache
def _dataclass_decoder(cls: type) -> Decoder:
    fields: dict[str, Decoder] = {}

    def decode_fields(data: Any) -> Any:
        if not fields:  # filled on first use, so a dataclass whose fields refer back to it does not recurse forever
            fields.update({name: _decoder(hint) for name, hint in _hints(cls).items()})
        return cls(**{name: fields[name](value) for name, value in data.items() if name in fields})

    return decode_fields


def _same(value: Any) -> Any:
    return value


@cache
def _decoder(hint: Any) -> Decoder:  # noqa: PLR0911 - one branch per shape of type hint
    """The function that rebuilds a value of type ``hint`` from its JSON form (None stays None)."""
    if hint is StepResult:
        return _optional(_step_from_dict)
    if hint is Pick:
        as_roster = _dataclass_decoder(PickRoster)
        return _optional(lambda value: Pick(as_roster(value[0]), tuple(value[1])))
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(options) == 1:
            return _decoder(options[0])
        fitting = next((o for o in options if dataclasses.is_dataclass(o) and isinstance(o, type)), None)
        if fitting is None:
            return _same
        as_fitting = _dataclass_decoder(fitting)
        return lambda value: as_fitting(value) if isinstance(value, dict) else value
    if origin is tuple:
        return _tuple_decoder(typing.get_args(hint))
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _optional(_dataclass_decoder(hint))
    if isinstance(hint, type) and issubclass(hint, tuple) and hasattr(hint, "_fields"):
        return _optional(lambda value: hint(*value))
    if hint is datetime:
        return _optional(datetime.fromisoformat)
    if origin in (Mapping, dict) or hint in (Mapping, dict):
        return _optional(dict)
    return _same


def _step_from_dict(data: Mapping[str, Any]) -> StepResult:
    """A step from its JSON object: with ``picks`` as written now, or ``candidates`` rows as older versions wrote."""
    step: StepResult = _dataclass_decoder(StepResult)(data)
    candidates = data.get("candidates")
    if candidates and not step.picks:
        return dataclasses.replace(step, picks=picks_from_candidates(_new(Candidate, c) for c in candidates))
    return step


def _tuple_decoder(args: tuple[Any, ...]) -> Decoder:
    if len(args) == 2 and args[1] is Ellipsis:
        each = _decoder(args[0])
        if each is _same:
            return _optional(tuple)
        return _optional(lambda value: tuple(map(each, value)))
    parts = tuple(_decoder(a) for a in args)
    return _optional(lambda value: tuple(part(v) for part, v in zip(parts, value, strict=True)))


def _optional(decode_value: Decoder) -> Decoder:
    return lambda value: None if value is None else decode_value(value)


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


_HEAD = ("lead_id", "stage", "decided_at", "config_version", "input", "assignments", "alert")


def encode_stored(decision: Decision) -> tuple[str, bytes]:
    """The decision as stored: a JSON head (inputs and owners, which SQL reports query) and the detail (v5).

    The detail holds what explaining and replaying need (trace, reads, delta) and most of a decision's bytes.
    """
    head = dumps({name: getattr(decision, name) for name in _HEAD})
    return head, codec_v5.detail_v5(decision)


def decode_stored(payload: str | bytes, detail_z: bytes | None) -> Decision:
    """A decision back from ``encode_stored`` (any stored version; with no ``detail_z``, a whole-decision row).

    Raises ``InvalidRecordError`` when the detail is damaged or of a format this version does not know.
    """
    data = loads(payload)
    if detail_z is None:
        return decision_from_dict(data)
    data.update(trace=(), reads=None, delta=None)
    decision = decision_from_dict(data)
    trace, reads, delta = _readable(_detail_parts, detail_z)
    return dataclasses.replace(decision, trace=trace, reads=reads, delta=delta)


def stored_reads(detail_z: bytes) -> Reads:
    """Only the reads of a stored detail (what replay needs), from any stored version."""
    return _readable(_reads_part, detail_z)


def stored_delta(detail_z: bytes) -> LedgerDelta:
    """Only the ledger delta of a stored detail (what loading the ledger needs), from any stored version.

    From v3, v4 and v5 rows its credit changes are plain tuples in ``CreditChange`` field order (equal to them, and
    what routing itself builds): this runs for every decision the ledger catches up on.
    """
    return _readable(_delta_part, detail_z)


def detail_v1(decision: Decision) -> bytes:
    """The detail as written before v2 (what the oldest rows hold); kept so tests can write such rows."""
    return legacy.detail_v1(decision)


def detail_v3(decision: Decision) -> bytes:
    """The detail as v3 wrote it (tags 3 to 5); kept so tests and benchmarks can write such rows."""
    return codec_v3.detail_v3(decision)


def detail_v4(decision: Decision) -> bytes:
    """The detail as v4 wrote it (tag 6); kept so tests and benchmarks can write such rows."""
    return codec_v4.detail_v4(decision)


_T = typing.TypeVar("_T")


def _readable(read: typing.Callable[[bytes], _T], detail_z: bytes) -> _T:
    """``read(detail_z)``, with a damaged or unknown detail reported as one clear error instead of a codec's own."""
    try:
        return read(detail_z)
    except InvalidRecordError:
        raise
    except (ValueError, TypeError, IndexError, KeyError, struct.error, zlib.error, zstandard.ZstdError) as exc:
        # orjson's JSONDecodeError is a ValueError; zlib, zstd and struct raise their own.
        tag = detail_z[0] if detail_z else None
        raise InvalidRecordError(
            f"stored decision detail cannot be read (format tag {tag}): {exc}", reason=codec_v4.CORRUPT
        ) from exc


def _detail_parts(detail_z: bytes) -> tuple[tuple[StepResult, ...], Reads, LedgerDelta]:
    return _format(detail_z).detail_parts(detail_z)


def _reads_part(detail_z: bytes) -> Reads:
    return _format(detail_z).reads_part(detail_z)


def _delta_part(detail_z: bytes) -> LedgerDelta:
    return _format(detail_z).delta_part(detail_z)


def _format(detail_z: bytes) -> types.ModuleType:
    """The module that reads a detail of this format (each has ``detail_parts``, ``reads_part``, ``delta_part``)."""
    tag = _tag(detail_z)
    if tag == codec_v5.TAG:
        return codec_v5
    if tag == codec_v4.TAG:
        return codec_v4
    return codec_v3 if tag in codec_v3.TAGS else legacy


_KNOWN_TAGS = frozenset((legacy.V2_PLAIN, legacy.V2_ZLIB, *codec_v3.TAGS, codec_v4.TAG, codec_v5.TAG, legacy.V1_FIRST))


def _tag(detail_z: bytes) -> int:
    if not detail_z:
        raise InvalidRecordError("stored decision detail is empty", reason=codec_v4.CORRUPT)
    tag = detail_z[0]
    if tag not in _KNOWN_TAGS:
        raise InvalidRecordError(
            f"stored decision detail has an unknown format tag {tag} (written by a newer leadrelay?)",
            reason="unknown_decision_format",
        )
    return tag
