"""Decisions to and from JSON-ready dicts, so the decision log holds everything needed to explain and replay.

orjson writes the frozen dataclasses directly; reading back is a small generic decoder driven by the
dataclasses' type hints, so adding a field to a value object needs no codec change.
"""

from __future__ import annotations

import dataclasses
import types
import typing
import zlib
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any, Union

import orjson

from connector.routing.model import (
    Candidate,
    CountChange,
    CreditChange,
    Decision,
    LedgerDelta,
    LedgerEntry,
    OwnerRead,
    Reads,
    RoutingInput,
    StepResult,
)


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


_HEAD = ("lead_id", "stage", "decided_at", "config_version", "input", "assignments", "alert")

# The detail column (``trace_z``) has had two formats, both still read:
#   v1: zlib-compressed JSON ``[trace, reads, delta]``, one positional row per step, read credit, owner read and
#       change (a zlib stream always starts with 0x78);
#   v2: a one-byte tag (plain or zlib-compressed) before JSON of the same three parts, written compactly: a step
#       continuing the previous one (the same stage, step, kind and outcome: the rules that did not apply) keeps
#       only its detail and rule, and an owner read that says only "exists, active, no open leads" is just the
#       key. Fewer bytes to build, compress and write; small details are not compressed at all.
_V2_PLAIN = 1
_V2_ZLIB = 2
# Below this many bytes zlib saves next to nothing (its header and the JSON's few repeats).
_COMPRESS_FROM = 512
# zlib level 1: the stored detail shrinks several-fold, at a fraction of the cost of the default level.
_DETAIL_LEVEL = 1


def encode_stored(decision: Decision) -> tuple[str, bytes]:
    """The decision as stored: a JSON head (inputs and owners, which SQL reports query) and the detail (v2).

    The detail holds what explaining and replaying need (trace, reads, delta) and most of a decision's bytes.
    NamedTuples are turned into plain tuples or lists here because orjson writes those natively, far faster than
    through its ``default`` hook.
    """
    head = dumps({name: getattr(decision, name) for name in _HEAD})
    detail = orjson.dumps([_trace_v2(decision.trace), _reads_v2(decision.reads), _delta_row(decision.delta)])
    if len(detail) < _COMPRESS_FROM:
        return head, bytes((_V2_PLAIN,)) + detail
    return head, bytes((_V2_ZLIB,)) + zlib.compress(detail, _DETAIL_LEVEL)


def decode_stored(payload: str | bytes, detail_z: bytes | None) -> Decision:
    """A decision back from ``encode_stored`` (any stored version; with no ``detail_z``, a whole-decision row)."""
    data = loads(payload)
    if detail_z is None:
        return decision_from_dict(data)
    data.update(trace=(), reads=None, delta=None)
    decision = decision_from_dict(data)
    trace, reads, delta = _detail_parts(detail_z)
    return dataclasses.replace(decision, trace=trace, reads=reads, delta=delta)


def stored_reads(detail_z: bytes) -> Reads:
    """Only the reads of a stored detail (what replay needs), from any stored version."""
    version, parts = _unpacked(detail_z)
    return _reads_from_v2(parts[1]) if version == 2 else _reads_from_row(parts[1])


def stored_delta(detail_z: bytes) -> LedgerDelta:
    """Only the ledger delta of a stored detail (what loading the ledger needs), from any stored version."""
    _version, parts = _unpacked(detail_z)
    return _delta_from_row(parts[2])  # the same in v1 and v2


def detail_v1(decision: Decision) -> bytes:
    """The detail as written before v2 (what older rows hold); kept so tests can write such rows."""
    rows = [[_step_row(step) for step in decision.trace], _reads_row(decision.reads), _delta_row(decision.delta)]
    return zlib.compress(orjson.dumps(rows), _DETAIL_LEVEL)


def _unpacked(detail_z: bytes) -> tuple[int, list[Any]]:
    """The detail's format version and its three parts, still in their stored (row) form."""
    tag = detail_z[0]
    if tag == _V2_PLAIN:
        return 2, loads(detail_z[1:])
    if tag == _V2_ZLIB:
        return 2, loads(zlib.decompress(detail_z[1:]))
    return 1, loads(zlib.decompress(detail_z))


def _detail_parts(detail_z: bytes) -> tuple[tuple[StepResult, ...], Reads, LedgerDelta]:
    version, (trace, reads, delta) = _unpacked(detail_z)
    if version == 2:
        return _trace_from_v2(trace), _reads_from_v2(reads), _delta_from_row(delta)
    return tuple(_step_from_row(row) for row in trace), _reads_from_row(reads), _delta_from_row(delta)


def _trace_v2(trace: tuple[StepResult, ...]) -> list[Any]:
    rows: list[Any] = []
    previous: StepResult | None = None
    for step in trace:
        if (
            previous is not None
            and step.outcome == previous.outcome
            and step.step == previous.step
            and step.kind == previous.kind
            and step.stage == previous.stage
            and step.pool is None
            and step.owner is None
            and not step.candidates
            and not step.pools_tried
        ):
            rows.append((step.detail,) if step.rule is None else (step.detail, step.rule))
        else:
            rows.append(_step_row(step))
        previous = step
    return rows


def _trace_from_v2(rows: list[Any]) -> tuple[StepResult, ...]:
    trace: list[StepResult] = []
    for row in rows:
        if len(row) > 2:
            trace.append(_step_from_row(row))
            continue
        before = trace[-1]
        rule = row[1] if len(row) == 2 else None
        trace.append(StepResult(before.stage, before.step, before.kind, before.outcome, row[0], rule=rule))
    return tuple(trace)


def _reads_v2(reads: Reads) -> tuple[Any, ...]:
    credits, counts, owners, known = _reads_row(reads)
    # Nearly every owner read is "exists, active, no open leads": then the key alone says it.
    return credits, counts, [o[0] if o[1:] == _PLAIN_OWNER else o for o in owners], known


_PLAIN_OWNER = (True, True, 0)


def _reads_from_v2(row: list[Any]) -> Reads:
    credits, counts, owners, known = row
    full = [(o, *_PLAIN_OWNER) if isinstance(o, str) else o for o in owners]
    return _reads_from_row([credits, counts, full, known])


_STEP_DEFAULTS = (None, None, (), (), None)  # StepResult's optional fields (rule .. owner), in order


def _step_row(step: StepResult) -> tuple[Any, ...]:
    """A step as a positional row; a step without pool or owner (most: rules that did not apply) is 5 or 6 values."""
    head = (step.stage, step.step, step.kind, step.outcome, step.detail)
    if step.pool is None and step.owner is None and not step.candidates and not step.pools_tried:
        return head if step.rule is None else (*head, step.rule)
    candidates = tuple(map(tuple, step.candidates))
    return (*head, step.rule, step.pool, step.pools_tried, candidates, step.owner)


def _step_from_row(row: list[Any]) -> StepResult:
    optional: list[Any] = [*row[5:], *_STEP_DEFAULTS[len(row) - 5 :]]
    rule, pool, tried, candidates, owner = optional
    stage, step, kind, outcome, detail = row[:5]
    return StepResult(
        stage,
        step,
        kind,
        outcome,
        detail,
        rule=rule,
        pool=pool,
        pools_tried=tuple(tried),
        candidates=tuple(Candidate(*c) for c in candidates),
        owner=owner,
    )


def _reads_row(reads: Reads) -> tuple[Any, ...]:
    return (
        [(pool, rep, *entry) for pool, rep, entry in reads.credits],
        reads.counts,
        tuple(map(tuple, reads.owners)),
        reads.owners_known,
    )


def _reads_from_row(row: list[Any]) -> Reads:
    credits, counts, owners, known = row
    return Reads(
        tuple((c[0], c[1], LedgerEntry(*c[2:])) for c in credits),
        tuple(tuple(c) for c in counts),
        tuple(OwnerRead(*o) for o in owners),
        known,
    )


def _delta_row(delta: LedgerDelta) -> tuple[Any, ...]:
    return tuple(map(tuple, delta.credits)), tuple(map(tuple, delta.counts))


def _delta_from_row(row: list[Any]) -> LedgerDelta:
    credits, counts = row
    return LedgerDelta(tuple(CreditChange(*c) for c in credits), tuple(CountChange(*c) for c in counts))
