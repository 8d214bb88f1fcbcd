"""Decisions to and from JSON-ready dicts, so the decision log holds everything needed to explain and replay.

orjson writes the frozen dataclasses directly; reading back is a small generic decoder driven by the
dataclasses' type hints, so adding a field to a value object needs no codec change.

A logged decision is a JSON *head* (``encode_stored``: inputs, owners, alert; SQL reports query it with
json_extract) and a *detail* (trace, reads, delta: what explaining and replaying need, most of the bytes). The
detail has had three formats; all are read, v3 is written. Its first byte is the format tag.

v3 (tags 3, 4, 5): two JSON parts, the ledger delta first so that loading the ledger reads only it.
    delta part  [0, credit changes as [pool, rep, credit, expected_added, assigned_added] rows,
                    count changes as [rep, period, added] rows]
    other part  [0, credit reads as [pool, rep, [credit, expected, assigned]] rows, count reads as
                    [rep, period, count] rows, owner reads as columns [keys, found, active, open leads] (only
                    [keys] when every owner exists, is active and holds no open leads), owners_known,
                    steps, then the candidates of all steps one after the other, as seven columns:
                    reps, eligible, pools, codes, reasons, weights, credits]
    A step is [stage, step, kind, outcome, detail], then rule (when set), or when it has a pool, pools tried,
    candidates or owner: [..., rule, pool, pools_tried, number of candidates, owner]. A step of the same stage,
    step, kind and outcome as the one before it, with no more than a rule (the rules that did not apply), is
    only [detail] or [detail, rule].
    Floats are JSON numbers, which orjson writes and reads back bit for bit; a decision holding inf or NaN
    (which JSON cannot) is written with marker 1 instead of 0 and every float as ``float.hex()`` text.
    Tag 3: a uint32 (little-endian) size of the delta part, the delta part, the other part, uncompressed (small
    details). Tag 4: the same in one zstd frame. Tag 5 (details from 3 KiB): a uint32 size of the delta part's
    frame, a zstd frame of the delta part, a zstd frame of the other part, so that the ledger's catch-up
    decompresses a few hundred bytes, not the whole detail. Frames are zstd level 1 with a checksum.
v2 (tags 1, 2): JSON ``[trace, reads, delta]`` of positional rows, plain (1) or zlib-compressed (2); a step
    continuing the one before keeps only its detail and rule, a plain owner read is just its key.
v1 (no tag: a zlib stream, first byte 0x78): zlib-compressed JSON ``[trace, reads, delta]`` of positional rows.
"""

from __future__ import annotations

import dataclasses
import math
import struct
import threading
import types
import typing
import zlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import cache
from itertools import chain, repeat
from typing import Any, Union

import orjson
import zstandard

from connector.errors import InvalidRecordError
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


def encode_stored(decision: Decision) -> tuple[str, bytes]:
    """The decision as stored: a JSON head (inputs and owners, which SQL reports query) and the detail (v3).

    The detail holds what explaining and replaying need (trace, reads, delta) and most of a decision's bytes.
    """
    head = dumps({name: getattr(decision, name) for name in _HEAD})
    return head, _detail_v3(decision)


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
    """Only the ledger delta of a stored detail (what loading the ledger needs), from any stored version."""
    return _readable(_delta_part, detail_z)


def detail_v1(decision: Decision) -> bytes:
    """The detail as written before v2 (what older rows hold); kept so tests can write such rows."""
    rows = [[_step_row(step) for step in decision.trace], _reads_row(decision.reads), _delta_row(decision.delta)]
    return zlib.compress(orjson.dumps(rows), _V1_LEVEL)


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
            f"stored decision detail cannot be read (format tag {tag}): {exc}", reason="corrupt_decision_detail"
        ) from exc


def _detail_parts(detail_z: bytes) -> tuple[tuple[StepResult, ...], Reads, LedgerDelta]:
    if _tag(detail_z) in _V3_TAGS:
        delta, rest = _v3_parts(detail_z, rest=True)
        marker, credits, counts, owners, known, steps, *candidates = loads(rest)
        reads = _reads_from_v3(marker, credits, counts, owners, known)
        return _steps_from_v3(steps, _candidates_from_v3(marker, *candidates)), reads, _delta_from_v3(loads(delta))
    version, (trace, reads, delta) = _unpacked(detail_z)
    if version == 2:
        return _trace_from_v2(trace), _reads_from_v2(reads), _delta_from_row(delta)
    return tuple(_step_from_row(row) for row in trace), _reads_from_row(reads), _delta_from_row(delta)


def _reads_part(detail_z: bytes) -> Reads:
    if _tag(detail_z) in _V3_TAGS:
        marker, credits, counts, owners, known, *_trace = loads(_v3_parts(detail_z, rest=True)[1])
        return _reads_from_v3(marker, credits, counts, owners, known)
    version, parts = _unpacked(detail_z)
    return _reads_from_v2(parts[1]) if version == 2 else _reads_from_row(parts[1])


def _delta_part(detail_z: bytes) -> LedgerDelta:
    if _tag(detail_z) in _V3_TAGS:
        return _delta_from_v3(loads(_v3_parts(detail_z, rest=False)[0]))
    return _delta_from_row(_unpacked(detail_z)[1][2])  # the same in v1 and v2


def _tag(detail_z: bytes) -> int:
    if not detail_z:
        raise InvalidRecordError("stored decision detail is empty", reason="corrupt_decision_detail")
    tag = detail_z[0]
    if tag not in _KNOWN_TAGS:
        raise InvalidRecordError(
            f"stored decision detail has an unknown format tag {tag} (written by a newer leadrelay?)",
            reason="unknown_decision_format",
        )
    return tag


# ---- v3 (see the module docstring) ----------------------------------------------------------------------------
_V2_PLAIN = 1
_V2_ZLIB = 2
_V3_PLAIN = 3
_V3_ZSTD = 4
_V3_SPLIT = 5
_V3_TAGS = frozenset((_V3_PLAIN, _V3_ZSTD, _V3_SPLIT))
_V1_FIRST = 0x78  # a zlib stream's first byte
_KNOWN_TAGS = frozenset((_V2_PLAIN, _V2_ZLIB, *_V3_TAGS, _V1_FIRST))
_CORRUPT = "corrupt_decision_detail"
_LENGTH = struct.Struct("<I")  # the stored size of the delta part
# Below this many bytes zstd saves next to nothing (its frame headers and the few repeats).
_ZSTD_FROM = 256
# From this many bytes the delta goes in a frame of its own, so that loading the ledger decompresses only it (a
# few hundred bytes) and not the whole detail; below, one frame compresses better and is small to decompress anyway.
_SPLIT_FROM = 3_072
_ZSTD_LEVEL = 1  # zstd's fastest positive level: several times zlib level 1's speed, and fewer bytes
_V1_LEVEL = 1  # zlib level of v1 and v2 details
_V2_COMPRESS_FROM = 512
_new = tuple.__new__  # a NamedTuple from an iterable of its values, without its keyword-handling constructor
_MEMO_SIZE = 20_000  # entries per memo below: a working set far above one rule file's steps and pools
_EXACT, _HEX = 0, 1  # how a part writes its floats: JSON numbers, or float.hex() strings (for inf and NaN)


class _Zstd(threading.local):
    """zstd contexts are reused (making one costs more than compressing a detail) but are not thread-safe."""

    def __init__(self) -> None:
        self.compressor = zstandard.ZstdCompressor(level=_ZSTD_LEVEL, write_checksum=True)
        self.decompressor = zstandard.ZstdDecompressor()


_ZSTD = _Zstd()


def _detail_v3(decision: Decision) -> bytes:
    delta, reads = decision.delta, decision.reads
    candidates = _candidate_columns(decision.trace)
    delta_text = orjson.dumps((_EXACT, delta.credits, delta.counts), default=tuple)
    reads_text = orjson.dumps((reads.credits, reads.counts), default=tuple)
    if b"null" in delta_text or b"null" in reads_text or not _finite(candidates[5], candidates[6]):
        # orjson writes inf and NaN as null; "null" inside a string (rare) lands here too, and costs only time.
        return _detail_hex(decision)
    rest = b"".join(
        (
            b"[0,",
            reads_text[1:-1],
            b",",
            _owners_json(reads.owners),
            b"true," if reads.owners_known else b"false,",
            _steps_json(decision.trace),
            b",",
            orjson.dumps(candidates)[1:],
        )
    )
    return _packed(delta_text, rest)


def _packed(delta: bytes, rest: bytes) -> bytes:
    size = len(delta) + len(rest)
    if size < _ZSTD_FROM:
        return b"\x03" + _LENGTH.pack(len(delta)) + delta + rest
    compress = _ZSTD.compressor.compress
    if size < _SPLIT_FROM:
        return b"\x04" + compress(_LENGTH.pack(len(delta)) + delta + rest)
    delta = compress(delta)
    return b"\x05" + _LENGTH.pack(len(delta)) + delta + compress(rest)


def _finite(weights: tuple[float, ...], credits: tuple[float | None, ...]) -> bool:
    """Whether JSON numbers can hold these exactly: no inf or NaN (an overflowing sum only costs the slow path)."""
    try:
        return math.isfinite(sum(weights) + sum(typing.cast(tuple[float, ...], credits)))
    except TypeError:  # a credit is None (the pick read none)
        return math.isfinite(sum(weights) + sum(c for c in credits if c is not None))


def _v3_parts(detail_z: bytes, *, rest: bool) -> tuple[bytes | memoryview, bytes | memoryview]:
    """The delta part of a v3 detail and, when ``rest``, the other part (else maybe empty), uncompressed."""
    tag = detail_z[0]
    if tag == _V3_SPLIT:
        view = memoryview(detail_z)
        (size,) = _LENGTH.unpack_from(view, 1)
        delta, others = view[5 : 5 + size], view[5 + size :]
        if len(delta) != size:
            raise InvalidRecordError(f"stored decision detail (v3) is cut short at {len(view)} bytes", reason=_CORRUPT)
        decompress = _ZSTD.decompressor.decompress
        return decompress(delta), decompress(others) if rest else b""
    body = memoryview(detail_z)[1:] if tag == _V3_PLAIN else memoryview(_ZSTD.decompressor.decompress(detail_z[1:]))
    (size,) = _LENGTH.unpack_from(body)
    if _LENGTH.size + size > len(body):
        raise InvalidRecordError(f"stored decision detail (v3) is cut short at {len(body)} bytes", reason=_CORRUPT)
    return body[_LENGTH.size : _LENGTH.size + size], body[_LENGTH.size + size :]


def _delta_from_v3(part: list[Any]) -> LedgerDelta:
    marker, credits, counts = part
    changes: Iterable[CreditChange] = map(_new, repeat(CreditChange), credits)
    if marker == _HEX:
        changes = (CreditChange(p, r, float.fromhex(c), float.fromhex(e), a) for p, r, c, e, a in credits)
    return LedgerDelta(tuple(changes), tuple(map(_new, repeat(CountChange), counts)))


# The owner reads are the snapshot's own (shared) objects, and the same pools give the same list of them from one
# decision to the next: their JSON is kept per list (the entry keeps the list, so equal ids mean the same objects).
_OWNERS_JSON: dict[tuple[int, int, int], tuple[tuple[OwnerRead, ...], bytes]] = {}


def _owners_json(owners: tuple[OwnerRead, ...]) -> bytes:
    """The owner reads by columns (key, found, active, open leads), and a comma."""
    key = (len(owners), id(owners[0]), id(owners[-1])) if owners else (0, 0, 0)
    known = _OWNERS_JSON.get(key)
    if known is None or known[0] != owners:
        if len(_OWNERS_JSON) >= _MEMO_SIZE:
            _OWNERS_JSON.clear()
        known = _OWNERS_JSON[key] = (owners, orjson.dumps(_owner_columns(owners)) + b",")
    return known[1]


def _owner_columns(owners: tuple[OwnerRead, ...]) -> tuple[Any, ...]:
    """Key, found, active and open leads; only the keys when every owner exists, is active and holds no leads."""
    keys, found, active, open_leads = _columns(owners, 4)
    return (keys,) if all(found) and all(active) and not any(open_leads) else (keys, found, active, open_leads)


def _columns(rows: Sequence[Sequence[Any]], width: int) -> tuple[Any, ...]:
    """The rows' columns (``width`` of them, empty when there are no rows), transposed in C by ``zip``."""
    return tuple(zip(*rows, strict=True)) if rows else ((),) * width


def _reads_from_v3(marker: int, credits: list[Any], counts: list[Any], owners: list[Any], known: bool) -> Reads:
    if marker == _HEX:
        entries = (LedgerEntry(float.fromhex(c), float.fromhex(e), a) for _p, _r, (c, e, a) in credits)
    else:
        entries = (_new(LedgerEntry, entry) for _p, _r, entry in credits)
    return Reads(
        tuple(zip((c[0] for c in credits), (c[1] for c in credits), entries, strict=True)),
        tuple(map(tuple, counts)),
        tuple(map(_new, repeat(OwnerRead), zip(*owners, strict=True) if len(owners) == 4 else _plain(owners[0]))),
        known,
    )


def _plain(keys: list[str]) -> Iterable[tuple[str, bool, bool, int]]:
    """Owner reads of keys that exist, are active and hold no open leads."""
    return zip(keys, repeat(True), repeat(True), repeat(0))


class _StepJson(typing.NamedTuple):
    """A step without candidates, encoded whole and, when it can be, as the continuation of a step of its group."""

    step: StepResult  # kept so that a recycled id cannot alias
    group: tuple[str, ...]  # stage, step, kind, outcome
    whole: bytes
    continued: bytes | None  # [detail] or [detail, rule]; None when the step has more to say


# Steps without candidates (the rules that did not apply: most of a trace) are the same objects from one decision
# to the next (the cascade shares them), so each one's JSON is made once.
_STEP_JSON: dict[int, _StepJson] = {}


def _steps_json(trace: tuple[StepResult, ...]) -> bytes:
    """The steps as a JSON list; a step's candidates are in the candidate columns (``_candidate_columns``)."""
    rows: list[bytes] = []
    memo = _STEP_JSON
    group: tuple[Any, ...] | None = None
    for step in trace:
        if step.candidates:
            rows.append(orjson.dumps(_step_v3(step)))
            group = (step.stage, step.step, step.kind, step.outcome)
            continue
        known = memo.get(id(step))
        if known is None or known.step is not step:
            known = _remember(step)
        rows.append(known.continued if known.continued is not None and known.group == group else known.whole)
        group = known.group
    return b"[" + b",".join(rows) + b"]"


def _remember(step: StepResult) -> _StepJson:
    if len(_STEP_JSON) >= _MEMO_SIZE:
        _STEP_JSON.clear()
    row = _step_v3(step)
    continued = orjson.dumps(row[4:]) if len(row) <= 6 else None
    known = _STEP_JSON[id(step)] = _StepJson(step, row[:4], orjson.dumps(row), continued)
    return known


def _step_v3(step: StepResult) -> tuple[Any, ...]:
    """[stage, step, kind, outcome, detail], then rule, pool, pools_tried, candidates, owner when any is set."""
    head = (step.stage, step.step, step.kind, step.outcome, step.detail)
    if step.pool is None and step.owner is None and not step.candidates and not step.pools_tried:
        return head if step.rule is None else (*head, step.rule)
    return (*head, step.rule, step.pool, step.pools_tried, len(step.candidates), step.owner)


def _candidate_columns(trace: tuple[StepResult, ...]) -> tuple[tuple[Any, ...], ...]:
    """The candidates of all steps, one after the other, by columns (rep, eligible, pool, code, reason, weight,
    credit): runs of one pool, one reason, one weight are what compresses best."""
    batches = [step.candidates for step in trace if step.candidates]
    candidates = batches[0] if len(batches) == 1 else tuple(chain.from_iterable(batches))
    return _columns(candidates, 7)


def _candidates_from_v3(marker: int, *columns: list[Any]) -> tuple[Candidate, ...]:
    if marker == _HEX:
        weights, credits = columns[5:]
        columns = (
            *columns[:5],
            [float.fromhex(w) for w in weights],
            [None if c is None else float.fromhex(c) for c in credits],
        )
    return tuple(map(_new, repeat(Candidate), zip(*columns, strict=True)))


# Decoded steps without candidates are shared the same way (a step is immutable), which keeps explaining and
# simulating a long history from building the same rule results over and over.
_STEPS: dict[tuple[Any, ...], StepResult] = {}


def _steps_from_v3(rows: list[list[Any]], candidates: tuple[Candidate, ...]) -> tuple[StepResult, ...]:
    trace: list[StepResult] = []
    start = 0
    for row in rows:
        if len(row) <= 2:  # a continuation (detail and rule) of the step before
            before = trace[-1]
            trace.append(_shared_step((before.stage, before.step, before.kind, before.outcome, *row)))
        elif len(row) <= 6:
            trace.append(_shared_step(tuple(row)))
        else:
            stage, step, kind, outcome, detail, rule, pool, tried, size, owner = row
            mine = candidates[start : start + size]
            trace.append(StepResult(stage, step, kind, outcome, detail, rule, pool, tuple(tried), mine, owner))
            start += size
    if start != len(candidates):
        raise InvalidRecordError(
            f"stored decision detail (v3) has {len(candidates)} candidates, its steps name {start}",
            reason="corrupt_decision_detail",
        )
    return tuple(trace)


def _shared_step(row: tuple[Any, ...]) -> StepResult:
    step = _STEPS.get(row)
    if step is None:
        if len(_STEPS) >= _MEMO_SIZE:
            _STEPS.clear()
        step = _STEPS[row] = StepResult(*row)
    return step


def _detail_hex(decision: Decision) -> bytes:
    """The v3 detail with every float written by ``float.hex()``: slower, but exact for inf and NaN too."""
    delta, reads = decision.delta, decision.reads
    hexed = float.hex
    changes = [(p, r, hexed(float(c)), hexed(float(e)), a) for p, r, c, e, a in delta.credits]
    credits = [(p, r, (hexed(float(e[0])), hexed(float(e[1])), e[2])) for p, r, e in reads.credits]
    columns: list[Any] = list(_candidate_columns(decision.trace))
    columns[5] = [hexed(float(w)) for w in columns[5]]
    columns[6] = [None if c is None else hexed(float(c)) for c in columns[6]]
    rest = (
        _HEX,
        credits,
        reads.counts,
        _owner_columns(reads.owners),
        reads.owners_known,
        orjson.Fragment(_steps_json(decision.trace)),
        *columns,
    )
    return _packed(orjson.dumps((_HEX, changes, delta.counts), default=tuple), orjson.dumps(rest, default=tuple))


# ---- v1 and v2 (read; written only by tests) ---------------------------------------------------------------------


def _detail_v2(decision: Decision) -> bytes:
    """The detail as written before v3; kept so tests can write such rows."""
    detail = orjson.dumps([_trace_v2(decision.trace), _reads_v2(decision.reads), _delta_row(decision.delta)])
    if len(detail) < _V2_COMPRESS_FROM:
        return bytes((_V2_PLAIN,)) + detail
    return bytes((_V2_ZLIB,)) + zlib.compress(detail, _V1_LEVEL)


def _unpacked(detail_z: bytes) -> tuple[int, list[Any]]:
    """A v1 or v2 detail's format version and its three parts, still in their stored (row) form."""
    tag = _tag(detail_z)
    if tag == _V2_PLAIN:
        return 2, loads(detail_z[1:])
    if tag == _V2_ZLIB:
        return 2, loads(zlib.decompress(detail_z[1:]))
    return 1, loads(zlib.decompress(detail_z))


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
