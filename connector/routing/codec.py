"""Decisions to and from JSON-ready dicts, so the decision log holds everything needed to explain and replay.

orjson writes the frozen dataclasses directly; reading back is a small generic decoder driven by the
dataclasses' type hints, so adding a field to a value object needs no codec change.

A logged decision is a JSON *head* (``encode_stored``: inputs, owners, alert; SQL reports query it with
json_extract) and a *detail* (trace, reads, delta: what explaining and replaying need, most of the bytes). The
detail's first byte says its format; v1 and v2 rows are read by ``codec_legacy``, v3 rows by ``codec_v3``, and v4
is written.

v4 (tag 6) is built for the router's hot path: most of a decision is shared with the decisions before it (the
rules that did not apply are the same step objects; a pool pick's roster is shared by every lead picked from the
pool while the verdicts hold), so those parts are compressed once, remembered by object identity, and copied into
every detail that holds them; only what is the decision's own is compressed per decision, and floats are stored
as little-endian doubles (exact for every float, inf, NaN and -0.0 included, and nothing to format or parse).
    detail   tag 6, a CRC-32 (uint32, little-endian) of everything after it, a header, then the chunks
    header   a flags byte (0: the roster count is a uint8 and chunk sizes uint16; 1: all uint32), the number k of
             roster chunks, the sizes of the steps chunk, of each roster chunk and of the delta chunk (the own
             chunk is the rest)
    chunks   each a magic-less zstd frame (or nothing, when empty):
      steps   (shared) JSON list, one row per trace step: 0 where a step of the decision's own goes (one with
              picks, a pool or an owner); [stage, step, kind, outcome, detail] with [..., rule] or
              [..., rule, pools_tried] as needed; [detail] or [detail, rule] after a step of the same stage, step,
              kind and outcome (the rules that did not apply)
      roster  (shared) a uint32 n, the n weights as doubles, then JSON [pool, reps, eligible, codes, reasons]
      delta   a uint32 size of its JSON, the JSON [mode, keys, assigned_added, count changes as [rep, period,
              added]], then the credit and expected_added columns as doubles. The keys (pool, rep) are the picks'
              eligible members in pick order (mode 0, keys = the roster index of each pick), all their members
              (mode 1, the same) or [pools, reps] (mode 2; pools one name when all rows share it)
      own     a uint32 size of its JSON, the JSON [roster index of each pick, positions of None credits in the
              picks, the decision's own steps as [stage, step, kind, outcome, detail, rule, pool, pools_tried,
              number of picks, owner], n: the first n credit reads are the picks' members in order, the other
              reads' pools and reps, 1 when the first n credits read are the picks' own, credit reads' assigned
              column, count reads as [rep, period, count], owner reads as v3 wrote them, owners_known], then
              doubles: the picks' credits, the credits read (only those after the first n when they are the
              picks'), the expected column of the reads
The CRC makes any damaged or cut detail an ``InvalidRecordError`` before anything is decompressed; loading the
ledger (``stored_delta``) decompresses only the delta chunk and the rosters it names, each remembered by its bytes.
"""

from __future__ import annotations

import dataclasses
import struct
import sys
import threading
import types
import typing
import zlib
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from functools import cache
from itertools import chain, compress, count, repeat
from operator import add, attrgetter, ne, sub
from typing import Any, Union

import orjson
import zstandard

from connector.errors import InvalidRecordError
from connector.routing import codec_legacy as legacy
from connector.routing import codec_v3
from connector.routing.model import (
    Candidate,
    CountChange,
    Decision,
    LedgerDelta,
    LedgerEntry,
    OwnerRead,
    Pick,
    PickRoster,
    Reads,
    RoutingInput,
    StepResult,
    picks_from_candidates,
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
    """The decision as stored: a JSON head (inputs and owners, which SQL reports query) and the detail (v4).

    The detail holds what explaining and replaying need (trace, reads, delta) and most of a decision's bytes.
    """
    head = dumps({name: getattr(decision, name) for name in _HEAD})
    return head, _detail_v4(decision)


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

    From v3 and v4 rows its credit changes are plain tuples in ``CreditChange`` field order (equal to them, and
    what routing itself builds): this runs for every decision the ledger catches up on.
    """
    return _readable(_delta_part, detail_z)


def detail_v1(decision: Decision) -> bytes:
    """The detail as written before v2 (what the oldest rows hold); kept so tests can write such rows."""
    return legacy.detail_v1(decision)


def detail_v3(decision: Decision) -> bytes:
    """The detail as v3 wrote it (tags 3 to 5); kept so tests and benchmarks can write such rows."""
    return codec_v3.detail_v3(decision)


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
            f"stored decision detail cannot be read (format tag {tag}): {exc}", reason=_CORRUPT
        ) from exc


def _detail_parts(detail_z: bytes) -> tuple[tuple[StepResult, ...], Reads, LedgerDelta]:
    tag = _tag(detail_z)
    if tag == _V4:
        return _v4_parts(detail_z)
    if tag in codec_v3.TAGS:
        return codec_v3.detail_parts(detail_z)
    return legacy.detail_parts(detail_z)


def _reads_part(detail_z: bytes) -> Reads:
    tag = _tag(detail_z)
    if tag == _V4:
        return _v4_reads(detail_z)
    if tag in codec_v3.TAGS:
        return codec_v3.reads_part(detail_z)
    return legacy.reads_part(detail_z)


def _delta_part(detail_z: bytes) -> LedgerDelta:
    tag = _tag(detail_z)
    if tag == _V4:
        return _v4_delta(detail_z)
    if tag in codec_v3.TAGS:
        return codec_v3.delta_part(detail_z)
    return legacy.delta_part(detail_z)


def _tag(detail_z: bytes) -> int:
    if not detail_z:
        raise InvalidRecordError("stored decision detail is empty", reason=_CORRUPT)
    tag = detail_z[0]
    if tag not in _KNOWN_TAGS:
        raise InvalidRecordError(
            f"stored decision detail has an unknown format tag {tag} (written by a newer leadrelay?)",
            reason="unknown_decision_format",
        )
    return tag


# ---- v4 (see the module docstring) ----------------------------------------------------------------------------
_V4 = 6
_KNOWN_TAGS = frozenset((legacy.V2_PLAIN, legacy.V2_ZLIB, *codec_v3.TAGS, _V4, legacy.V1_FIRST))
_CORRUPT = "corrupt_decision_detail"
_SIZE = struct.Struct("<I")  # a CRC, a JSON's size or a count
_SHORT = struct.Struct("<H")  # the shared chunk's size
_BIG_ENDIAN = sys.byteorder == "big"
_LARGEST = 64 << 20  # bytes: far above any decision's chunk (a 300-rep pool's roster is ~20 KiB)
_MEMO_SIZE = 4_096  # entries per memo below: far above one rule file's step sequences and pool verdicts
_MAGICLESS = zstandard.FORMAT_ZSTD1_MAGICLESS  # the tag already says what follows: zstd's 4-byte magic is waste
# Shared chunks are compressed once and copied into thousands of details: worth zstd's level 3. A decision's own
# chunk is compressed on the hot path: level 1 (level -1 saves ~9 us of ~100 but stores ~40 bytes more per
# decision, its text literals left without Huffman coding, which would make v4 rows larger than v3's).
_SHARED_PARAMS = zstandard.ZstdCompressionParameters.from_level(
    3, write_checksum=False, write_dict_id=False, format=_MAGICLESS
)
_OWN_PARAMS = zstandard.ZstdCompressionParameters.from_level(
    1, write_checksum=False, write_dict_id=False, format=_MAGICLESS
)
_new = tuple.__new__  # a NamedTuple from an iterable of its values, without its keyword-handling constructor
_PLAIN_STEP = ((), None, None)  # picks, owner and pool of a step that is no decision's own (see _STEP_OWNED_BY)
_STEP_OWNED_BY = attrgetter("picks", "owner", "pool")
_CREDITS = attrgetter("credits")
_PICKS = attrgetter("picks")


class _Zstd4(threading.local):
    """zstd contexts are reused (making one costs more than compressing a chunk) but are not thread-safe."""

    def __init__(self) -> None:
        self.shared = zstandard.ZstdCompressor(compression_params=_SHARED_PARAMS).compress
        self.own = zstandard.ZstdCompressor(compression_params=_OWN_PARAMS).compress
        self.decompress = zstandard.ZstdDecompressor(format=_MAGICLESS).decompress


_ZSTD4 = _Zstd4()


class _Roster(typing.NamedTuple):
    """A roster with the (pool, rep) keys its members give the ledger reads and delta."""

    roster: PickRoster  # kept alive: while it is, its id cannot be another roster's (the encoder's memo key)
    pools: tuple[str | None, ...]  # the roster's pool once per member
    eligible_reps: tuple[str, ...]
    eligible_pools: tuple[str | None, ...]
    shares: tuple[float, ...]  # each eligible member's share of a round-robin pick (as routing works it out)


class _Shared(typing.NamedTuple):
    """A shared chunk: the steps (None where the decision's own go) and the rosters, with its stored bytes."""

    steps: tuple[StepResult | None, ...]
    rosters: list[_Roster]
    chunk: bytes


def _detail_v4(decision: Decision) -> bytes:
    trace, reads, delta = decision.trace, decision.reads, decision.delta
    own_at = tuple(compress(count(), map(ne, map(_STEP_OWNED_BY, trace), repeat(_PLAIN_STEP))))
    own_steps = tuple(map(trace.__getitem__, own_at))
    picks = tuple(chain.from_iterable(map(_PICKS, own_steps)))
    rosters, pick_at = _rosters(picks)
    shared = _shared(trace, own_at, rosters)
    members = _member_keys(rosters, pick_at, eligible=False)
    delta_raw = _delta_chunk(delta, picks, rosters, pick_at, members)
    own = _own_chunk(own_steps, picks, pick_at, members, reads)
    return _framed(shared.chunk, _ZSTD4.own(_SIZE.pack(len(delta_raw)) + delta_raw + own))


def _framed(shared: bytes, own: bytes) -> bytes:
    """Tag, CRC, the shared chunk's size (uint16, or 0xFFFF and a uint32) and the chunks."""
    size = _SHORT.pack(len(shared)) if len(shared) < 0xFFFF else _SHORT.pack(0xFFFF) + _SIZE.pack(len(shared))
    body = b"".join((size, shared, own))
    return b"\x06" + _SIZE.pack(zlib.crc32(body)) + body


def _doubles(values: Iterable[float]) -> bytes:
    """The values as little-endian doubles (``array`` writes the machine's order)."""
    packed = array("d", values)
    if _BIG_ENDIAN:
        packed.byteswap()
    return packed.tobytes()


# Shared chunks by the ids of the trace's steps (0 where a step is the decision's own) and of its picks' rosters:
# the cascade shares the steps of the rules that did not apply and the rosters of the pools, so the same key comes
# back for every lead alike in the fields the rules test, picked from pools in the same state. Each entry keeps the
# trace and rosters, so no id in its key can be reused while the entry lives.
_SHARED: dict[tuple[int, ...], tuple[tuple[StepResult, ...], _Shared]] = {}


def _shared(trace: tuple[StepResult, ...], own_at: tuple[int, ...], rosters: list[_Roster]) -> _Shared:
    ids = list(map(id, trace))
    for i in own_at:
        ids[i] = 0
    ids.append(-1)  # the steps' ids end here, the rosters' begin
    ids.extend(id(r.roster) for r in rosters)
    key = tuple(ids)
    known = _SHARED.get(key)
    if known is None:
        if len(_SHARED) >= _MEMO_SIZE:
            _SHARED.clear()
        weights = _joined(r.roster.weights for r in rosters)
        text = orjson.dumps((_steps_rows(trace, own_at), [_roster_row(r.roster) for r in rosters]))
        raw = _SIZE.pack(len(weights)) + _doubles(weights) + text
        known = _SHARED[key] = (trace, _Shared((), rosters, _ZSTD4.shared(raw)))
    return known[1]


def _roster_row(roster: PickRoster) -> tuple[Any, ...]:
    return (roster.pool, roster.reps, roster.eligible, roster.codes, roster.reasons)


def _steps_rows(trace: tuple[StepResult, ...], own_at: tuple[int, ...]) -> list[Any]:
    rows: list[Any] = []
    group: tuple[str, ...] | None = None
    for i, step in enumerate(trace):
        if i in own_at:
            rows.append(0)
            group = None
            continue
        head = (step.stage, step.step, step.kind, step.outcome)
        tail: tuple[Any, ...] = (step.detail,) if step.rule is None else (step.detail, step.rule)
        if step.pools_tried:
            tail = (step.detail, step.rule, step.pools_tried)
        rows.append(tail if head == group and len(tail) <= 2 else head + tail)
        group = head
    return rows


_SHARED_READ: dict[bytes, _Shared] = {}


def _shared_read(chunk: bytes) -> _Shared:
    """The shared chunk's steps and rosters, remembered by the chunk's bytes."""
    known = _SHARED_READ.get(chunk)
    if known is None:
        raw = memoryview(_unsqueeze(chunk))
        (size,) = _SIZE.unpack_from(raw)
        weights = _unpacked(raw, _SIZE.size, size)
        rows, roster_rows = orjson.loads(raw[_SIZE.size + 8 * size :])
        rosters, start = [], 0
        for pool, reps, eligible, codes, reasons in roster_rows:
            end = start + len(reps)
            roster = PickRoster(pool, tuple(reps), tuple(eligible), tuple(codes), tuple(reasons), weights[start:end])
            rosters.append(_keyed(roster))
            start = end
        if start != size:
            raise InvalidRecordError("stored decision detail (v4) has rosters of other sizes", reason=_CORRUPT)
        if len(_SHARED_READ) >= _MEMO_SIZE:
            _SHARED_READ.clear()
        known = _SHARED_READ[chunk] = _Shared(_steps_from_rows(rows), rosters, chunk)
    return known


def _steps_from_rows(rows: list[Any]) -> tuple[StepResult | None, ...]:
    steps: list[StepResult | None] = []
    for stored in rows:
        if stored == 0:
            steps.append(None)
            continue
        row = stored
        if len(row) <= 2:  # a continuation of the step before: its stage, step, kind and outcome
            before = steps[-1]
            if before is None:
                raise InvalidRecordError("stored decision detail (v4) continues a step it lacks", reason=_CORRUPT)
            row = [before.stage, before.step, before.kind, before.outcome, *row]
        if len(row) == 7:
            stage, name, kind, outcome, detail, rule, tried = row
            steps.append(StepResult(stage, name, kind, outcome, detail, rule, pools_tried=tuple(tried)))
        else:
            steps.append(StepResult(*row))
    return tuple(steps)


# Rosters with their keys by the roster's id (the entry keeps the roster).
_ROSTERS: dict[int, _Roster] = {}


def _rosters(picks: tuple[Pick, ...]) -> tuple[list[_Roster], list[int]]:
    """The distinct rosters of the picks, in first-use order, and each pick's index among them."""
    if len(picks) == 1:
        return [_roster(picks[0].roster)], [0]
    rosters: list[_Roster] = []
    at: dict[int, int] = {}
    pick_at = []
    for pick in picks:
        index = at.get(id(pick.roster))
        if index is None:
            index = at[id(pick.roster)] = len(rosters)
            rosters.append(_roster(pick.roster))
        pick_at.append(index)
    return rosters, pick_at


def _roster(roster: PickRoster) -> _Roster:
    known = _ROSTERS.get(id(roster))
    if known is None:
        if len(_ROSTERS) >= _MEMO_SIZE:
            _ROSTERS.clear()
        known = _ROSTERS[id(roster)] = _keyed(roster)
    return known


def _keyed(roster: PickRoster) -> _Roster:
    eligible = tuple(compress(roster.reps, roster.eligible))
    pools = (roster.pool,) * len(roster.reps)
    weights = tuple(compress(roster.weights, roster.eligible))
    total = sum(weights)  # as routing's pick plan adds them, so that each share is the same float
    shares = tuple(weight / total for weight in weights) if total else ()
    return _Roster(roster, pools, eligible, pools[: len(eligible)], shares)


def _member_keys(rosters: list[_Roster], pick_at: list[int], *, eligible: bool) -> tuple[tuple[Any, ...], ...]:
    """(pools, reps) of the picks' members (or eligible members) in pick order."""
    if len(pick_at) == 1:
        only = rosters[0]
        return (only.eligible_pools, only.eligible_reps) if eligible else (only.pools, only.roster.reps)
    chosen = [rosters[i] for i in pick_at]
    if eligible:
        return _joined(r.eligible_pools for r in chosen), _joined(r.eligible_reps for r in chosen)
    return _joined(r.pools for r in chosen), _joined(r.roster.reps for r in chosen)


def _joined(parts: Iterable[tuple[Any, ...]]) -> tuple[Any, ...]:
    return tuple(chain.from_iterable(parts))


def _unpacked(raw: bytes | memoryview, offset: int, size: int) -> tuple[float, ...]:
    """``size`` little-endian doubles at ``offset``."""
    return _doubles_struct(size).unpack_from(raw, offset)


@cache
def _doubles_struct(size: int) -> struct.Struct:
    return struct.Struct(f"<{size}d")


def _unsqueeze(frame: bytes | memoryview) -> bytes:
    # The CRC has vouched for the bytes already; a forged frame header could still claim any size: refuse to
    # allocate what no chunk ever needs.
    if zstandard.get_frame_parameters(frame, format=_MAGICLESS).content_size > _LARGEST:
        raise InvalidRecordError("stored decision detail (v4) claims an impossible size", reason=_CORRUPT)
    return _ZSTD4.decompress(frame)


# ---- v4: the delta chunk ----
def _delta_chunk(
    delta: LedgerDelta, picks: tuple[Pick, ...], rosters: list[_Roster], pick_at: list[int], members: tuple[Any, ...]
) -> bytes:
    changes = delta.credits
    pools, reps, credit, expected, assigned = zip(*changes, strict=True) if changes else ((),) * 5
    keys: list[Any]
    floats: Iterable[float] = chain(credit, expected)
    if pick_at and reps == (eligible := _member_keys(rosters, pick_at, eligible=True))[1] and pools == eligible[0]:
        keys = [0, pick_at, _predicted(picks, [rosters[i] for i in pick_at], credit, expected, assigned)]
        floats = () if keys[2] else floats
    elif pick_at and reps == members[1] and pools == members[0]:
        keys = [1, pick_at, False]
    else:
        keys = [2, [_one_or_all(pools), reps], False]
    text = orjson.dumps((*keys, assigned, delta.counts), default=tuple)
    return _SIZE.pack(len(text)) + text + _doubles(floats)


def _predicted(
    picks: tuple[Pick, ...], rosters: list[_Roster], credit: tuple[float, ...], expected: tuple[float, ...], won: Any
) -> bool:
    """Whether the credit changes are what a weighted round-robin pick makes of the credits it read (nearly every
    pick): each eligible member gains its share of the pick, the chosen one loses one lead; compared bit for bit."""
    shares = _joined(r.shares for r in rosters)
    if len(shares) != len(credit) or _doubles(shares) != _doubles(expected):
        return False
    try:
        read = chain.from_iterable(
            compress(pick.credits, r.roster.eligible) for pick, r in zip(picks, rosters, strict=True)
        )
        return _doubles(map(sub, map(add, read, shares), won)) == _doubles(credit)
    except TypeError:  # a credit read as None (rows from before credits were recorded)
        return False


def _one_or_all(pools: tuple[str, ...]) -> str | tuple[str, ...]:
    """The one pool name when every row is in that pool (one pick), else the column."""
    return pools[0] if pools and pools.count(pools[0]) == len(pools) else pools


def _delta_from(raw: memoryview, own: memoryview, rosters: list[_Roster]) -> LedgerDelta:
    """The delta; its credit changes are plain tuples (as routing builds them, and half the cost)."""
    text, floats = _split_own(raw)
    mode, keys, predicted, assigned, counts = orjson.loads(text)
    if mode == 2:
        pools, reps = keys
    else:
        pools, reps = _member_keys(rosters, keys, eligible=mode == 0)
    size = len(reps)
    if isinstance(pools, str):
        pools = repeat(pools, size)
    if predicted:
        chosen = [rosters[i] for i in keys]
        shares = _joined(r.shares for r in chosen)
        credits = _unpacked(_split_own(own)[1], 0, sum(len(r.roster.reps) for r in chosen))
        read: list[float] = []
        start = 0
        for r in chosen:
            read.extend(compress(credits[start : start + len(r.roster.reps)], r.roster.eligible))
            start += len(r.roster.reps)
        credit: Sequence[float] = list(map(sub, map(add, read, shares), assigned))
        expected: Sequence[float] = shares
    else:
        both = _unpacked(floats, 0, 2 * size)
        credit, expected = both[:size], both[size:]
    changes = zip(pools, reps, credit, expected, assigned, strict=True)
    return LedgerDelta(tuple(changes), tuple(map(_new, repeat(CountChange), counts)))


def _split_own(raw: bytes | memoryview) -> tuple[memoryview, memoryview]:
    """A delta or own chunk's JSON and its doubles."""
    view = memoryview(raw)
    (size,) = _SIZE.unpack_from(view)
    end = _SIZE.size + size
    if end > len(view) or (len(view) - end) % 8:
        raise InvalidRecordError(f"stored decision detail (v4) has a chunk of {len(view)} bytes", reason=_CORRUPT)
    return view[_SIZE.size : end], view[end:]


# ---- v4: the decision's own chunk ----
def _own_chunk(
    own_steps: tuple[StepResult, ...],
    picks: tuple[Pick, ...],
    pick_at: list[int],
    members: tuple[Any, ...],
    reads: Reads,
) -> bytes:
    credits: Sequence[float | None] = picks[0].credits if len(picks) == 1 else _joined(map(_CREDITS, picks))
    none_at: list[int] = []
    if None in credits:
        none_at = [i for i, c in enumerate(credits) if c is None]
        credits = [0.0 if c is None else c for c in credits]
    pick_bytes = _doubles(credits)  # type: ignore[arg-type]  # the Nones are gone
    read_pools, read_reps, entries = _columns(reads.credits, 3)
    read_credit, expected, assigned = _columns(entries, 3)
    size = len(members[1])
    follows = bool(size) and read_reps[:size] == members[1] and read_pools[:size] == members[0]
    first = size if follows else 0
    same_credits = follows and _doubles(read_credit[:size]) == pick_bytes
    text = orjson.dumps(
        (
            pick_at,
            none_at,
            [_own_step(step) for step in own_steps],
            first,
            _one_or_all(read_pools[first:]),
            read_reps[first:],
            same_credits,
            assigned,
            reads.counts,
            orjson.Fragment(codec_v3._owners_json(reads.owners, members[1])[:-1]),
            reads.owners_known,
        ),
        default=tuple,
    )
    floats = pick_bytes + _doubles(chain(read_credit[first:] if same_credits else read_credit, expected))
    return _SIZE.pack(len(text)) + text + floats


def _own_step(step: StepResult) -> tuple[Any, ...]:
    """[stage, step, kind, outcome, detail, rule, pool, pools_tried, number of picks, owner]."""
    return (*_STEP_HEAD(step), len(step.picks), step.owner)


_STEP_HEAD = attrgetter("stage", "step", "kind", "outcome", "detail", "rule", "pool", "pools_tried")


def _columns(rows: Sequence[Sequence[Any]], width: int) -> tuple[Any, ...]:
    """The rows' columns (``width`` of them, empty when there are no rows), transposed in C by ``zip``."""
    return tuple(zip(*rows, strict=True)) if rows else ((),) * width


class _Own(typing.NamedTuple):
    """A v4 own chunk, parsed: its JSON fields and its doubles."""

    pick_at: list[int]
    none_at: list[int]
    steps: list[list[Any]]
    first: int
    read_pools: str | list[str]
    read_reps: list[str]
    same_credits: bool
    assigned: list[int]
    counts: list[list[Any]]
    owners: list[Any]
    owners_known: bool
    floats: memoryview


def _own_from(raw: bytes | memoryview) -> _Own:
    text, floats = _split_own(raw)
    return _Own._make([*orjson.loads(text), floats])


# ---- v4: reading ----
class _Chunks(typing.NamedTuple):
    shared: _Shared
    delta: memoryview
    own: memoryview


def _chunks(detail_z: bytes) -> _Chunks:
    """A v4 detail's chunks, checked against its CRC: the shared one read (or remembered), the rest decompressed."""
    view = memoryview(detail_z)
    (crc,) = _SIZE.unpack_from(view, 1)
    if zlib.crc32(view[5:]) != crc:
        raise InvalidRecordError("stored decision detail (v4) is damaged or cut short (CRC)", reason=_CORRUPT)
    (size,) = _SHORT.unpack_from(view, 5)
    at = 5 + _SHORT.size
    if size == 0xFFFF:
        (size,) = _SIZE.unpack_from(view, at)
        at += _SIZE.size
    shared = _shared_read(bytes(view[at : at + size]))
    both = memoryview(_unsqueeze(view[at + size :]))
    (size,) = _SIZE.unpack_from(both)
    delta, mine = both[_SIZE.size : _SIZE.size + size], both[_SIZE.size + size :]
    if len(delta) != size:
        raise InvalidRecordError("stored decision detail (v4) is shorter than its delta", reason=_CORRUPT)
    return _Chunks(shared, delta, mine)


def _v4_delta(detail_z: bytes) -> LedgerDelta:
    chunks = _chunks(detail_z)
    return _delta_from(chunks.delta, chunks.own, chunks.shared.rosters)


def _v4_reads(detail_z: bytes) -> Reads:
    chunks = _chunks(detail_z)
    own = _own_from(chunks.own)
    return _reads_from(own, chunks.shared.rosters, _pick_credits(own, chunks.shared.rosters))


def _v4_parts(detail_z: bytes) -> tuple[tuple[StepResult, ...], Reads, LedgerDelta]:
    chunks = _chunks(detail_z)
    own = _own_from(chunks.own)
    rosters = chunks.shared.rosters
    credits = _pick_credits(own, rosters)
    trace = _trace_from(chunks.shared.steps, own, rosters, credits)
    return trace, _reads_from(own, rosters, credits), _delta_from(chunks.delta, chunks.own, rosters)


def _pick_credits(own: _Own, rosters: list[_Roster]) -> tuple[float, ...]:
    """The picks' credits as doubles (0.0 where a pick read None: see ``_credits_with_nones``)."""
    size = sum(len(rosters[i].roster.reps) for i in own.pick_at)
    return _unpacked(own.floats, 0, size)


def _reads_from(own: _Own, rosters: list[_Roster], pick_credits: tuple[float, ...]) -> Reads:
    first = own.first
    pools: Iterable[Any] = own.read_pools
    reps: list[str] = own.read_reps
    if isinstance(pools, str):
        pools = repeat(pools, len(reps))
    members = _member_keys(rosters, own.pick_at, eligible=False) if own.pick_at else ((), ())
    if first:
        pools, reps = chain(members[0][:first], pools), [*members[1][:first], *reps]
    size, start = len(reps), len(pick_credits)
    stored = size - first if own.same_credits else size
    floats = _unpacked(own.floats, 8 * start, stored + size)
    if 8 * (start + stored + size) != len(own.floats):
        raise InvalidRecordError("stored decision detail (v4) holds other floats than it names", reason=_CORRUPT)
    credit = (*pick_credits[:first], *floats[:stored]) if own.same_credits else floats[:stored]
    entries = map(_new, repeat(LedgerEntry), zip(credit, floats[stored:], own.assigned, strict=True))
    return Reads(
        tuple(zip(pools, reps, entries, strict=True)),
        tuple(map(tuple, own.counts)),
        tuple(map(_new, repeat(OwnerRead), codec_v3._owner_rows(own.owners, list(members[1])))),
        own.owners_known,
    )


def _trace_from(
    shared: tuple[StepResult | None, ...], own: _Own, rosters: list[_Roster], credits: tuple[float, ...]
) -> tuple[StepResult, ...]:
    credits_of = _credits_with_nones(credits, own.none_at)
    picks = iter(own.pick_at)
    steps = iter(own.steps)
    start, trace = 0, []
    for step in shared:
        if step is not None:
            trace.append(step)
            continue
        stage, name, kind, outcome, detail, rule, pool, tried, size, owner = next(steps)
        made = []
        for _ in range(size):
            roster = rosters[next(picks)].roster
            made.append(Pick(roster, credits_of[start : start + len(roster.reps)]))
            start += len(roster.reps)
        trace.append(StepResult(stage, name, kind, outcome, detail, rule, pool, tuple(tried), tuple(made), owner))
    if next(steps, None) is not None or next(picks, None) is not None or (not shared and own.steps):
        raise InvalidRecordError("stored decision detail (v4) has steps its trace does not place", reason=_CORRUPT)
    return tuple(trace)


def _credits_with_nones(credits: tuple[float, ...], none_at: list[int]) -> tuple[float | None, ...]:
    """The picks' credits with None back where a pick read none (rows from before credits were recorded)."""
    if not none_at:
        return credits
    restored: list[float | None] = list(credits)
    for i in none_at:
        restored[i] = None
    return tuple(restored)
