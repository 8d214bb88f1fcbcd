"""The decision log's detail format v3 (tags 3, 4, 5): read for the rows it wrote; written now only by tests and
benchmarks (``detail_v3``), v4 having replaced it.

v3 is two JSON parts, the ledger delta first so that loading the ledger reads only that part.
    delta part  a uint32 size of its JSON, the JSON [pool, reps, assigned_added, count changes as
                 [rep, period, added] rows], then the credit column and the expected_added column of the credit
                 changes as little-endian doubles (exact, and the fastest for loading the ledger to read)
    other part  [marker, [credit reads as columns: pool, reps, credits, expected, assigned; then the count reads
                 as [rep, period, count] rows], owner reads as [follows, keys, found, active, open_leads],
                 owners_known, steps, candidates as columns: reps, eligible, pools, codes, reasons, weights,
                 credits]
    A pool column is one name when every row is in that pool (one pick).
    The candidates of all steps follow one another in the columns; their reps and pools are the number n when
    they are those of the first n credit reads, in order (a pool pick reads every member's credit, so nearly
    always). Owner reads are [follows, keys] alone when every owner exists, is active and holds no open leads;
    ``follows`` is 1 when the candidates' reps complete the keys (the snapshot is read for them in that order).
    A step is [stage, step, kind, outcome, detail], then its rule when set, or when it has a pool, pools tried,
    candidates or owner [..., rule, pool, pools_tried, number of candidates, owner]; a step with no more than a
    rule, after one of the same stage, step, kind and outcome (the rules that did not apply), is [detail] or
    [detail, rule].
    Floats in the other part are JSON numbers, which orjson writes and reads back bit for bit. JSON has no inf or
    NaN: a decision holding one there is written with marker 1 instead of 0 and those floats as ``float.hex()``.
    Tag 3: a uint32 (little-endian) size of the delta part, the delta part and the other part, uncompressed (under
    256 bytes). Tag 4: the same in one zstd frame. Tag 5 (from 16 KiB): a uint32 size of the delta part's frame, a
    zstd frame of the delta part and one of the other part, so that catching the ledger up decompresses a few
    hundred bytes per decision rather than the whole detail. Frames are zstd's fast strategy with small tables
    (``_ZSTD_PARAMS``) and a checksum.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Iterable, Sequence
from functools import cache
from itertools import chain, repeat
from typing import Any

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
    StepResult,
    picks_from_candidates,
)


def detail_v3(decision: Decision) -> bytes:
    """The detail as v3 wrote it; kept so tests and benchmarks can write such rows."""
    return _detail_v3(decision)


def detail_parts(detail_z: bytes) -> tuple[tuple[StepResult, ...], Reads, LedgerDelta]:
    """Trace, reads and delta of a v3 detail."""
    delta, rest = _v3_parts(detail_z, rest=True)
    part = orjson.loads(rest)
    reps, pools = _candidate_keys(part)
    candidates = _candidates_from_v3(part[0], reps, part[6], pools, *part[8:])
    trace = _steps_from_v3(part[4], candidates)
    return trace, _reads_from_v3(part, reps), _delta_from_v3(delta)


def reads_part(detail_z: bytes) -> Reads:
    """Only the reads of a v3 detail."""
    part = orjson.loads(_v3_parts(detail_z, rest=True)[1])
    return _reads_from_v3(part, _candidate_keys(part)[0])


def delta_part(detail_z: bytes) -> LedgerDelta:
    """Only the delta of a v3 detail; its credit changes are plain tuples in ``CreditChange`` field order."""
    return _delta_from_v3(_v3_parts(detail_z, rest=False)[0], rows=True)


_V3_PLAIN = 3
_V3_ZSTD = 4
_V3_SPLIT = 5
TAGS = frozenset((_V3_PLAIN, _V3_ZSTD, _V3_SPLIT))
_CORRUPT = "corrupt_decision_detail"
_LENGTH = struct.Struct("<I")  # the stored size of the delta part
# Below this many bytes zstd saves next to nothing (its frame headers and the few repeats).
_ZSTD_FROM = 256
# From this many bytes the delta goes in a frame of its own, so that loading the ledger decompresses only it (a
# few hundred bytes) and not the whole detail. Below, one frame: a second frame costs every routed lead ~10 us and
# ~50 bytes (the bench's 5 KiB details), while decompressing the whole detail costs the ledger's catch-up, which
# reads at most a checkpoint's worth of decisions, only a few microseconds more per decision.
_SPLIT_FROM = 16_384
# zstd's "fast" strategy (its level 1) with tables sized for details of a few KiB: 4 KiB of hash table instead of
# level 1's 64 KiB, which routing has just pushed out of the CPU's caches; as many bytes saved, a quarter less time.
_ZSTD_PARAMS = zstandard.ZstdCompressionParameters(
    window_log=14,
    hash_log=10,
    chain_log=10,
    search_log=1,
    min_match=5,
    target_length=0,
    strategy=zstandard.STRATEGY_FAST,
    write_checksum=True,
)
_new = tuple.__new__  # a NamedTuple from an iterable of its values, without its keyword-handling constructor
_MEMO_SIZE = 20_000  # entries per memo below: a working set far above one rule file's steps and pools
_OWNERS_MEMO_SIZE = 4_096  # owner-read lists are larger (a pool's worth of keys): fewer of them
_LARGEST = 64 << 20  # bytes: far above any decision's detail (a 300-rep pool's is ~50 KiB)
_HEX = 1  # the other part's marker when its floats are float.hex() strings (for inf and NaN); 0 when JSON numbers


class _Zstd(threading.local):
    """zstd contexts are reused (making one costs more than compressing a detail) but are not thread-safe."""

    def __init__(self) -> None:
        self.compressor = zstandard.ZstdCompressor(compression_params=_ZSTD_PARAMS)
        self.decompressor = zstandard.ZstdDecompressor()


_ZSTD = _Zstd()


def _detail_v3(decision: Decision) -> bytes:
    delta, reads = decision.delta, decision.reads
    reps, eligible, pools, codes, reasons, weights, credits = _candidate_columns(decision.trace)
    read_pools, read_reps, entries = _columns(reads.credits, 3)
    reads_text = orjson.dumps((_one_or_all(read_pools), read_reps, *_columns(entries, 3), reads.counts), default=tuple)
    weights_text, credits_text = orjson.dumps(weights), orjson.dumps(credits)
    # orjson writes inf and NaN as null, where only a candidate's credit may be null: such a decision is written
    # with hex floats. A "null" inside a string (rare) takes that path too, which only costs time.
    if b"null" in reads_text or b"null" in weights_text:
        return _detail_hex(decision)
    if credits_text.count(b"null") != credits.count(None):
        return _detail_hex(decision)
    size = len(reps)
    keys: tuple[Any, ...] = (reps, pools)
    if size and read_reps[:size] == reps and read_pools[:size] == pools:
        keys = (size, size)  # the pool members whose credit was read, in the same order (nearly always)
    rest = b"".join(
        (
            b"[0,",
            reads_text,
            b",",
            _owners_json(reads.owners, reps),
            b"true," if reads.owners_known else b"false,",
            _steps_json(decision.trace),
            b",",
            orjson.dumps((keys[0], eligible, keys[1], codes, reasons))[1:-1],
            b",",
            weights_text,
            b",",
            credits_text,
            b"]",
        )
    )
    return _packed(_delta_bytes(delta), rest)


def _packed(delta: bytes, rest: bytes) -> bytes:
    """Tag and parts: plain when small, one zstd frame, or (from ``_SPLIT_FROM``) a frame for each part."""
    body = _LENGTH.pack(len(delta)) + delta + rest
    if len(body) < _ZSTD_FROM:
        return b"\x03" + body
    compress = _ZSTD.compressor.compress
    if len(body) < _SPLIT_FROM:
        packed = compress(body)
        return b"\x04" + packed if len(packed) < len(body) else b"\x03" + body
    delta = compress(delta)
    return b"\x05" + _LENGTH.pack(len(delta)) + delta + compress(rest)


def _v3_parts(detail_z: bytes, *, rest: bool) -> tuple[bytes | memoryview, bytes | memoryview]:
    """The delta part of a v3 detail and, when ``rest``, the other part (else maybe empty), uncompressed."""
    tag = detail_z[0]
    if tag == _V3_SPLIT:
        view = memoryview(detail_z)
        (size,) = _LENGTH.unpack_from(view, 1)
        delta, others = view[5 : 5 + size], view[5 + size :]
        if len(delta) != size:
            raise InvalidRecordError(f"stored decision detail (v3) is cut short at {len(view)} bytes", reason=_CORRUPT)
        return _unzstd(delta), _unzstd(others) if rest else b""
    body = memoryview(detail_z)[1:] if tag == _V3_PLAIN else memoryview(_unzstd(detail_z[1:]))
    (size,) = _LENGTH.unpack_from(body)
    if _LENGTH.size + size > len(body):
        raise InvalidRecordError(f"stored decision detail (v3) is cut short at {len(body)} bytes", reason=_CORRUPT)
    return body[_LENGTH.size : _LENGTH.size + size], body[_LENGTH.size + size :]


def _unzstd(frame: bytes | memoryview) -> bytes:
    # A damaged frame header could claim any size: refuse to allocate what no decision ever needs.
    if zstandard.frame_content_size(frame) > _LARGEST:
        raise InvalidRecordError("stored decision detail (v3) claims an impossible size", reason=_CORRUPT)
    return _ZSTD.decompressor.decompress(frame)


def _delta_bytes(delta: LedgerDelta) -> bytes:
    """The delta part: its JSON's size, the JSON, then the credits and expected_added as doubles (exact, and what
    loading the ledger parses fastest)."""
    changes = delta.credits
    pools, reps, credit, expected, assigned = zip(*changes, strict=True) if changes else ((),) * 5
    text = orjson.dumps((_one_or_all(pools), reps, assigned, delta.counts), default=tuple)
    return _LENGTH.pack(len(text)) + text + _doubles(2 * len(credit)).pack(*credit, *expected)


def _one_or_all(pools: tuple[str, ...]) -> str | tuple[str, ...]:
    """The one pool name when every row is in that pool (one pick), else the column."""
    return pools[0] if pools and pools.count(pools[0]) == len(pools) else pools


def _delta_from_v3(part: bytes | memoryview, *, rows: bool = False) -> LedgerDelta:
    """The delta; with ``rows``, its credit changes are plain tuples (as routing builds them: half the cost)."""
    view = memoryview(part)
    (size,) = _LENGTH.unpack_from(view)
    pool, reps, assigned, counts = orjson.loads(view[_LENGTH.size : _LENGTH.size + size])
    changed = len(reps)
    if _LENGTH.size + size + 16 * changed != len(view):
        raise InvalidRecordError(
            f"stored decision delta (v3) is {len(view)} bytes, not as its JSON says", reason=_CORRUPT
        )
    floats = _doubles(2 * changed).unpack_from(view, _LENGTH.size + size)
    pools = repeat(pool, changed) if isinstance(pool, str) else pool
    changes = zip(pools, reps, floats[:changed], floats[changed:], assigned, strict=True)
    credits = tuple(changes) if rows else tuple(map(_new, repeat(CreditChange), changes))
    return LedgerDelta(credits, tuple(map(_new, repeat(CountChange), counts)))


@cache
def _doubles(count: int) -> struct.Struct:
    return struct.Struct(f"<{count}d")


# The owner reads are the snapshot's own (shared) objects, and the same pools give the same list of them from one
# decision to the next: their JSON is kept per list (the entry keeps the list, so equal ids mean the same objects):
# (the list, its keys, the keys' JSON, the JSON of the other columns with a leading comma, or nothing).
_OWNERS_JSON: dict[tuple[int, int, int], tuple[tuple[OwnerRead, ...], tuple[str, ...], bytes, bytes]] = {}


def _owners_json(owners: tuple[OwnerRead, ...], reps: tuple[str, ...]) -> bytes:
    """[follows, keys, ...the other columns] and a comma; ``follows`` is 1 when the keys go on with ``reps`` (the
    candidates' reps, which the snapshot was read for in the same order), left out of ``keys``."""
    key = (len(owners), id(owners[0]), id(owners[-1])) if owners else (0, 0, 0)
    known = _OWNERS_JSON.get(key)
    if known is None or known[0] != owners:
        if len(_OWNERS_JSON) >= _OWNERS_MEMO_SIZE:
            _OWNERS_JSON.clear()
        keys, *others = _owner_columns(owners)
        known = _OWNERS_JSON[key] = (owners, keys, orjson.dumps(keys), orjson.dumps(others)[1:-1])
    keys, size = known[1], len(reps)
    if size and keys[-size:] == reps:
        return b"[1," + orjson.dumps(keys[:-size]) + (b"," + known[3] if known[3] else b"") + b"],"
    return b"[0," + known[2] + (b"," + known[3] if known[3] else b"") + b"],"


def _owner_columns(owners: tuple[OwnerRead, ...]) -> tuple[Any, ...]:
    """Key, found, active and open leads; only the keys when every owner exists, is active and holds no leads."""
    keys, found, active, open_leads = _columns(owners, 4)
    return (keys,) if all(found) and all(active) and not any(open_leads) else (keys, found, active, open_leads)


def _columns(rows: Sequence[Sequence[Any]], width: int) -> tuple[Any, ...]:
    """The rows' columns (``width`` of them, empty when there are no rows), transposed in C by ``zip``."""
    return tuple(zip(*rows, strict=True)) if rows else ((),) * width


def _reads_from_v3(part: list[Any], reps: list[str]) -> Reads:
    """The reads from the other part's JSON; ``reps`` are the candidates' reps (the owner keys may go on with them)."""
    marker, (pools, reps_read, credit, expected, assigned, counts), owners, known = part[:4]
    if marker == _HEX:
        credit, expected = map(float.fromhex, credit), map(float.fromhex, expected)
    entries = map(_new, repeat(LedgerEntry), zip(credit, expected, assigned, strict=True))
    pools = repeat(pools, len(reps_read)) if isinstance(pools, str) else pools
    return Reads(
        tuple(zip(pools, reps_read, entries, strict=True)),
        tuple(map(tuple, counts)),
        tuple(map(_new, repeat(OwnerRead), _owner_rows(owners, reps))),
        known,
    )


def _owner_rows(owners: list[Any], reps: list[str]) -> Iterable[tuple[str, bool, bool, int]]:
    follows, keys, *others = owners
    if follows:
        keys = keys + reps
    if others:
        return zip(keys, *others, strict=True)
    return zip(keys, repeat(True), repeat(True), repeat(0))  # each exists, is active and holds no open leads


def _candidate_keys(part: list[Any]) -> tuple[list[str], list[str]]:
    """The candidates' reps and pools from the other part's JSON: from the first credit reads when stored as their
    number."""
    (read_pools, read_reps, *_entries), reps, pools = part[1], part[5], part[7]
    if isinstance(reps, int):
        return read_reps[:reps], [read_pools] * reps if isinstance(read_pools, str) else read_pools[:reps]
    return reps, pools


# Steps without candidates (the rules that did not apply: most of a trace) are the same objects from one decision
# to the next (the cascade shares them), so each one's JSON is made once: the entry is (the step, kept so that a
# recycled id cannot alias; its group: stage, step, kind and outcome, one shared tuple per group; its JSON when it
# continues a step of the same group: [detail] or [detail, rule]; its JSON otherwise).
_STEP_JSON: dict[int, tuple[StepResult, tuple[str, ...], bytes, bytes]] = {}
_GROUPS: dict[tuple[str, ...], tuple[str, ...]] = {}


def _steps_json(trace: tuple[StepResult, ...]) -> bytes:
    """The steps as a JSON list; a step's candidates are in the candidate columns (``_candidate_columns``)."""
    rows: list[bytes] = []
    get, append = _STEP_JSON.get, rows.append
    group: tuple[str, ...] | None = None
    for step in trace:
        known = get(id(step))
        if known is None or known[0] is not step:
            if step.candidates:
                append(orjson.dumps(_step_v3(step)))
                group = _group((step.stage, step.step, step.kind, step.outcome))
                continue
            known = _remember(step)
        append(known[2] if known[1] is group else known[3])
        group = known[1]
    return b"[" + b",".join(rows) + b"]"


def _remember(step: StepResult) -> tuple[StepResult, tuple[str, ...], bytes, bytes]:
    if len(_STEP_JSON) >= _MEMO_SIZE:
        _STEP_JSON.clear()
    row = _step_v3(step)
    whole = orjson.dumps(row)
    known = _STEP_JSON[id(step)] = (step, _group(row[:4]), orjson.dumps(row[4:]) if len(row) <= 6 else whole, whole)
    return known


def _group(group: tuple[str, ...]) -> tuple[str, ...]:
    """One tuple object per group of steps, so that consecutive steps of a group are told by identity."""
    if len(_GROUPS) >= _MEMO_SIZE:
        _GROUPS.clear()
    return _GROUPS.setdefault(group, group)


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
            picks = picks_from_candidates(mine)
            trace.append(StepResult(stage, step, kind, outcome, detail, rule, pool, tuple(tried), picks, owner))
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
    reads, hexed = decision.reads, float.hex
    pools, reps, entries = _columns(reads.credits, 3)
    credit, expected, assigned = _columns(entries, 3)
    credits = (
        pools,
        reps,
        [hexed(float(c)) for c in credit],
        [hexed(float(e)) for e in expected],
        assigned,
        reads.counts,
    )
    columns: list[Any] = list(_candidate_columns(decision.trace))
    columns[5] = [hexed(float(w)) for w in columns[5]]
    columns[6] = [None if c is None else hexed(float(c)) for c in columns[6]]
    rest = (
        _HEX,
        credits,
        (0, *_owner_columns(reads.owners)),
        reads.owners_known,
        orjson.Fragment(_steps_json(decision.trace)),
        *columns,
    )
    return _packed(_delta_bytes(decision.delta), orjson.dumps(rest, default=tuple))
