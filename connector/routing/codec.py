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


# zlib level 1: the stored detail shrinks about tenfold, at a fraction of the cost of the default level.
_DETAIL_LEVEL = 1
_HEAD = ("lead_id", "stage", "decided_at", "config_version", "input", "assignments", "alert")


def encode_stored(decision: Decision) -> tuple[str, bytes]:
    """The decision as stored: a JSON head (inputs and owners, which SQL reports query) and a compressed detail.

    The detail is zlib-compressed JSON of ``[trace, reads, delta]`` as positional rows: what explaining and
    replaying need, and most of a decision's bytes. NamedTuples are turned into plain tuples here because orjson
    writes those natively, far faster than through its ``default`` hook.
    """
    head = dumps({name: getattr(decision, name) for name in _HEAD})
    detail = orjson.dumps(
        [[_step_row(step) for step in decision.trace], _reads_row(decision.reads), _delta_row(decision.delta)]
    )
    return head, zlib.compress(detail, _DETAIL_LEVEL)


def decode_stored(payload: str | bytes, detail_z: bytes | None) -> Decision:
    """A decision back from ``encode_stored`` (or, with no ``detail_z``, from a row holding the whole decision)."""
    data = loads(payload)
    if detail_z is None:
        return decision_from_dict(data)
    trace, reads, delta = loads(zlib.decompress(detail_z))
    data.update(trace=(), reads=None, delta=None)
    decision = decision_from_dict(data)
    return dataclasses.replace(
        decision,
        trace=tuple(_step_from_row(row) for row in trace),
        reads=_reads_from_row(reads),
        delta=_delta_from_row(delta),
    )


def stored_reads(detail_z: bytes) -> Reads:
    """Only the reads of a stored detail (what replay needs)."""
    return _reads_from_row(loads(zlib.decompress(detail_z))[1])


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
