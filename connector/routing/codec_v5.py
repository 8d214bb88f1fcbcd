"""Decision detail format v5 (tag 7): what ``codec.encode_stored`` writes since v5.

v5 keeps v4's shared chunks (``codec_v4``): the steps the decision shares with the decisions before it (the rules
that did not apply) and its picks' rosters, each compressed once, remembered by the identity of its own objects
and copied into each detail. What changes is the decision's own part. v4 saved bytes there with Python work per
entry (one-hot and count-read elision, a JSON and a frame apart for the delta, two zstd calls); v5 writes it in one
zstd frame and keeps only the savings that cost no Python work per entry: columns made by ``zip``, compared whole
with the rosters' columns (tuple equality), and the round-robin prediction of the delta (``map`` over ``operator``
functions), all in C.
    detail   tag 7, a CRC-32 (uint32, little-endian) of all that follows, the sizes of the steps and rosters
             chunks (as v4 writes them: a uint16, or 0xFFFF and a uint32), then the steps, rosters and own chunks.
             The own chunk is a magic-less zstd frame at level -1, or 0xFF and its bytes when the frame would be
             longer (tiny decisions).
    steps,   exactly as in v4 (see ``codec_v4``).
    rosters
    own      a uint32 size of a JSON text, the text, then little-endian doubles. The JSON: [the own steps as
             v4 writes them ([stage, step, kind, outcome, detail, rule, pool, pools_tried (0: just the pool),
             number of picks, owner], the first three left out when the step before has them), picks, read keys,
             the credit reads' assigned column, the count reads as [rep, period, count], the owner reads as v3
             and v4 write them, owners_known, delta keys, predicted, the delta's assigned_added column, the count
             changes as [rep, period, added]], where
             - picks is 0 when the picks' credits are the first credits read (bit for bit), else the positions
               of None among the picks' credits (0.0 in the doubles);
             - read keys are [n, pools, reps]: the first n credit reads are keyed (pool, rep) by the picks'
               members in pick order (n is 0 or all of them), then the others' pools (one name when all alike)
               and reps;
             - delta keys are 0 for the picks' eligible members, 1 for all their members, else [pools, reps];
             - predicted is true when the delta is a weighted round-robin pick's: each eligible member's
               expected_added its share of the pick (its weight over the eligible weights, worked out as routing
               does) and its credit the credit it read plus that share minus its assigned_added (the encoder
               checks both bit for bit).
             The doubles: the credit reads' credit and expected columns, the picks' credits (unless picks is 0),
             and the delta's credit and expected_added columns (unless predicted).
Floats are doubles: exact for every float (NaN, infinities and -0.0 too), and cheaper to write than their text
(``struct`` packs a column in one call). The CRC makes any damaged or cut detail an ``InvalidRecordError`` before
anything is decompressed. Loading the ledger (``delta_part``) reads the rosters chunk (remembered by its bytes)
and the own chunk, not the steps.
"""

from __future__ import annotations

import struct
import threading
import typing
import zlib
from functools import cache
from itertools import chain, compress, repeat
from operator import add, sub
from typing import Any

import orjson
import zstandard

from connector.errors import InvalidRecordError
from connector.routing import codec_v4
from connector.routing.codec_v4 import (
    _CREDITS,
    _SHARED_READ,
    _SIZE,
    _joined,
    _one_or_all,
    _own_step_from,
    _owner_reads,
    _owners_json,
    _predicted,
    _same_floats,
    _Shared,
    _shared_read,
    _shared_rosters,
    _shared_steps,
    _size,
    _size_at,
    _squeezed,
    _unsqueeze,
    checked,
    shared_parts,
)
from connector.routing.model import CountChange, Decision, LedgerDelta, LedgerEntry, Pick, Reads, StepResult

TAG = 7
CORRUPT = codec_v4.CORRUPT
_TAG_BYTE = bytes((TAG,))
# The own chunk is compressed on the hot path. Level -1 leaves out Huffman coding: on the routing bench it
# compresses in ~half the time of level 1 for ~40 bytes more a detail (its doubles gain nothing from Huffman
# coding; its names and small ints little).
_OWN_PARAMS = zstandard.ZstdCompressionParameters.from_level(
    -1, write_checksum=False, write_dict_id=False, format=zstandard.FORMAT_ZSTD1_MAGICLESS
)
_new = tuple.__new__  # a NamedTuple from an iterable of its values, without its keyword-handling constructor
_NO_COLUMNS: tuple[tuple[Any, ...], ...] = ((), (), ())


class _Zstd5(threading.local):
    """A zstd context is reused (making one costs more than compressing a chunk) but is not thread-safe."""

    def __init__(self) -> None:
        self.own = zstandard.ZstdCompressor(compression_params=_OWN_PARAMS).compress


_ZSTD5 = _Zstd5()


@cache
def _doubles(size: int) -> struct.Struct:
    """Packs and unpacks ``size`` little-endian doubles."""
    return struct.Struct(f"<{size}d")


# ---- v5: writing ----
def detail_v5(decision: Decision) -> bytes:
    """The decision's detail in v5 (see the module docstring)."""
    steps, shared, rows, picks = shared_parts(decision.trace)
    return _framed(steps, shared.chunk, _squeezed(_own_part(decision, shared, rows, picks), _ZSTD5.own))


def _framed(steps: bytes, rosters: bytes, own: bytes) -> bytes:
    """Tag, CRC, the sizes of the steps and rosters chunks, and the chunks."""
    body = b"".join((_size(len(steps)), _size(len(rosters)), steps, rosters, own))
    return _TAG_BYTE + _SIZE.pack(zlib.crc32(body)) + body


def _own_part(decision: Decision, shared: _Shared, rows: list[Any], picks: tuple[Pick, ...]) -> bytes:
    """The own chunk before compression: its JSON's size, the JSON and the doubles (see the module docstring)."""
    reads, delta = decision.reads, decision.delta
    # Columns by zip, in C: the reads' entries and the delta's changes may be plain tuples or NamedTuples alike.
    read_pools, read_reps, entries = zip(*reads.credits, strict=True) if reads.credits else _NO_COLUMNS
    read_credit, read_expected, assigned = zip(*entries, strict=True) if entries else _NO_COLUMNS
    credits: tuple[Any, ...] = picks[0].credits if len(picks) == 1 else _joined(map(_CREDITS, picks))
    members = len(shared.reps)
    first = members if members and read_reps[:members] == shared.reps and read_pools[:members] == shared.pools else 0
    keys, predicted, credit, expected, won = _delta_columns(delta, shared, credits)
    floats = read_credit + read_expected
    picks_field: Any = 0
    if not _same_floats(credits, read_credit[:members]):
        picks_field = []
        if None in credits:  # no double for None: its position, and 0.0 in its place
            picks_field = [i for i, credit in enumerate(credits) if credit is None]
            credits = tuple(0.0 if credit is None else credit for credit in credits)
        floats += credits
    if not predicted:
        floats += credit + expected
    text = orjson.dumps(
        (
            rows,
            picks_field,
            (first, _one_or_all(read_pools[first:]), read_reps[first:]),
            assigned,
            reads.counts,
            orjson.Fragment(_owners_json(reads.owners, shared.reps)),
            reads.owners_known,
            keys,
            predicted,
            won,
            delta.counts,
        ),
        default=tuple,  # NamedTuples (count changes): orjson writes plain tuples only
    )
    return _SIZE.pack(len(text)) + text + _doubles(len(floats)).pack(*floats)


def _delta_columns(
    delta: LedgerDelta, shared: _Shared, credits: tuple[Any, ...]
) -> tuple[Any, bool, tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]:
    """The delta's keys (0: the picks' eligible members, 1: all their members), whether it is predicted, and its
    credit, expected_added and assigned_added columns."""
    pools, reps, credit, expected, won = zip(*delta.credits, strict=True) if delta.credits else ((),) * 5
    if reps == shared.eligible_reps and pools == shared.eligible_pools:
        return 0, _predicted(shared, credits, credit, expected, won), credit, expected, won
    if reps == shared.reps and pools == shared.pools:
        return 1, False, credit, expected, won
    return (_one_or_all(pools), reps), False, credit, expected, won


# ---- v5: reading ----
class _Own(typing.NamedTuple):
    """A v5 own chunk's JSON, parsed (see the module docstring)."""

    steps: list[list[Any]]
    picks: Any
    read_keys: list[Any]
    assigned: list[Any]
    counts: list[list[Any]]
    owners: list[Any]
    owners_known: bool
    delta_keys: Any
    predicted: bool
    won: list[Any]
    delta_counts: list[list[Any]]


class _Detail(typing.NamedTuple):
    """A v5 detail's parts: the steps chunk (read only by those who need the trace), the rosters, the own JSON
    and the doubles cut into their columns."""

    steps: memoryview
    shared: _Shared
    own: _Own
    read_credit: tuple[float, ...]
    read_expected: tuple[float, ...]
    pick_credits: tuple[float | None, ...]
    delta_credit: tuple[float, ...]
    delta_expected: tuple[float, ...]


def _read(detail_z: bytes) -> _Detail:
    """A v5 detail checked against its CRC, its rosters read (or remembered by their bytes), its own chunk
    decompressed and parsed."""
    view = checked(detail_z, "v5")
    at, steps_size = _size_at(view, 5)
    at, shared_size = _size_at(view, at)
    steps = view[at : at + steps_size]
    at += steps_size
    chunk = detail_z[at : at + shared_size]
    shared = _SHARED_READ.get(chunk) or _shared_read(chunk)
    raw = memoryview(_unsqueeze(view[at + shared_size :]))
    (size,) = _SIZE.unpack_from(raw)
    end = _SIZE.size + size
    if end > len(raw) or (len(raw) - end) % 8:
        raise InvalidRecordError(f"stored decision detail (v5) has {len(raw)} bytes of its own", reason=CORRUPT)
    fields = orjson.loads(raw[_SIZE.size : end])
    if not isinstance(fields, list) or len(fields) != len(_Own._fields):
        raise InvalidRecordError("stored decision detail (v5) has an own part of another shape", reason=CORRUPT)
    own = _Own._make(fields)
    return _Detail(steps, shared, own, *_columns(raw, end, shared, own))


def _columns(raw: memoryview, at: int, shared: _Shared, own: _Own) -> tuple[tuple[Any, ...], ...]:
    """The doubles cut into the read credit and expected, pick credit, delta credit and expected columns."""
    reads, members, changes = len(own.assigned), len(shared.reps), len(own.won)
    picks_stored = 0 if own.picks == 0 else members
    delta_stored = 0 if own.predicted else 2 * changes
    size = 2 * reads + picks_stored + delta_stored
    if 8 * size != len(raw) - at or (not picks_stored and members > reads):
        raise InvalidRecordError("stored decision detail (v5) holds other floats than it names", reason=CORRUPT)
    floats = _doubles(size).unpack_from(raw, at)
    read_credit = floats[:reads]
    picked: tuple[Any, ...] = floats[2 * reads : 2 * reads + picks_stored] if picks_stored else read_credit[:members]
    if picks_stored and own.picks:
        listed = list(picked)
        for i in own.picks:
            listed[i] = None
        picked = tuple(listed)
    delta = floats[2 * reads + picks_stored :]
    return read_credit, floats[reads : 2 * reads], picked, delta[:changes], delta[changes:]


def delta_part(detail_z: bytes) -> LedgerDelta:
    """The ledger delta; its credit changes are plain tuples (as routing builds them, and half the cost)."""
    return _delta_from(_read(detail_z))


def reads_part(detail_z: bytes) -> Reads:
    """The reads (what replaying needs)."""
    return _reads_from(_read(detail_z))


def detail_parts(detail_z: bytes) -> tuple[tuple[StepResult, ...], Reads, LedgerDelta]:
    """The trace, the reads and the delta."""
    detail = _read(detail_z)
    return _trace_from(detail), _reads_from(detail), _delta_from(detail)


def _delta_from(detail: _Detail) -> LedgerDelta:
    shared, own = detail.shared, detail.own
    keys = own.delta_keys
    pools: Any
    reps: Any
    if keys == 0:
        pools, reps = shared.eligible_pools, shared.eligible_reps
    elif keys == 1:
        pools, reps = shared.pools, shared.reps
    else:
        pools, reps = keys
        if isinstance(pools, str):
            pools = repeat(pools, len(reps))
    won = own.won
    credit: Any = detail.delta_credit
    expected: Any = detail.delta_expected
    if own.predicted:  # a round-robin pick's, worked out as the encoder checked
        if keys != 0 or shared.shares is None:
            raise InvalidRecordError("stored decision detail (v5) predicts shares it lacks", reason=CORRUPT)
        expected = shared.shares
        credit = map(sub, map(add, compress(detail.pick_credits, shared.eligible), expected), won)
    changes = tuple(zip(pools, reps, credit, expected, won, strict=True))
    return LedgerDelta(changes, tuple(map(_new, repeat(CountChange), own.delta_counts)))


def _reads_from(detail: _Detail) -> Reads:
    shared, own = detail.shared, detail.own
    first, pools, reps = own.read_keys
    if first not in (0, len(shared.reps)):
        raise InvalidRecordError("stored decision detail (v5) keys its reads by no picks' members", reason=CORRUPT)
    if isinstance(pools, str):
        pools = repeat(pools, len(reps))
    if first:
        pools, reps = chain(shared.pools, pools), chain(shared.reps, reps)
    entries = map(_new, repeat(LedgerEntry), zip(detail.read_credit, detail.read_expected, own.assigned, strict=True))
    return Reads(
        tuple(zip(pools, reps, entries, strict=True)),
        tuple(map(tuple, own.counts)),
        _owner_reads(own.owners, shared),
        own.owners_known,
    )


def _trace_from(detail: _Detail) -> tuple[StepResult, ...]:
    rosters, rows = iter(_shared_rosters(detail.shared)), iter(detail.own.steps)
    trace: list[StepResult] = []
    start = 0
    for shared_step in _shared_steps(detail.steps):
        step = shared_step
        if step is None:  # one of the decision's own steps goes here
            step, start = _own_step_from(next(rows, None), trace, rosters, detail.pick_credits, start)
        trace.append(step)
    if next(rows, None) is not None or next(rosters, None) is not None:
        raise InvalidRecordError("stored decision detail (v5) has steps its trace does not place", reason=CORRUPT)
    return tuple(trace)
