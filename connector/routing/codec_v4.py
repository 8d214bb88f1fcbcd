"""Decision detail format v4 (tag 6): what ``codec.encode_stored`` writes since v4.

v4 (tag 6) is built for the router's hot path. Most of a decision is shared with the decisions before it: the
rules that did not apply are the same step objects from lead to lead, and a pool pick's roster is shared by every
lead picked from the pool while the verdicts hold. Those two parts vary apart (the same rules fail while caps fill
and rosters change), so each is compressed once, remembered by the identity of its own objects, and copied into
each detail; only the decision's own part is compressed per decision. Floats are little-endian doubles (exact for
every float: inf, NaN and -0.0 too; nothing to format or parse).
    detail   tag 6, a CRC-32 (uint32, little-endian) of all that follows, the sizes of the steps, rosters and
             numbers chunks (each a uint16, or 0xFFFF and a uint32), then the steps, rosters, numbers and own
             chunks, each a magic-less zstd frame (the steps and rosters ones at level 9, made once; the numbers
             one at level -1, the own one at level 1: the text gains from Huffman coding, the doubles do not), or
             0xFF and the chunk's bytes when the frame would be longer (tiny chunks; no frame starts with 0xFF:
             its header's reserved bit would be set).
    steps    the steps' JSON: a row per trace step, 0 where one of the decision's own steps goes (a step with
             picks, a pool or an owner); [stage, step, kind, outcome, detail], with [..., rule] or [..., rule,
             pools_tried] as needed; [detail] or [detail, rule] after a step of the same stage, step, kind and
             outcome. Remembered by the identities of the trace's other steps.
    rosters  a section per pick (none when the decision has no picks): two sizes as LEB128 varints (the number
             of weights, the roster's JSON), the roster's weights as doubles, then its JSON [pool, reps, eligible,
             codes, reasons]. Remembered by the identities of the picks' rosters when writing, and each section by its
             bytes when reading. (The rosters of a decision share most of their members and reasons: one frame
             for them all is ~30% smaller than a frame per roster.)
    numbers  a uint32 size of the delta's JSON [mode, keys, assigned_added (or the position of its only 1),
             count changes as [rep, period, added]], the JSON, then the doubles: the picks' credits (0.0 for
             None), the credits read (all, or those after the first n when they are the picks'), the credit
             reads' expected column, and (unless the delta is predicted) its credit and expected_added columns.
    own      JSON [positions of None among the picks' credits, the own steps as [stage, step, kind, outcome,
             detail, rule, pool, pools_tried (0: just the pool), number of picks, owner] (the first three left out
             when the step before has them), n, the pools of the credit reads after the first n (one name when
             all alike), their reps, whether the first n credits read are the picks' own, the credit reads'
             assigned column, the count reads as [rep, period, count] (or the counts alone when of the count
             changes' periods), the owner reads as v3 wrote them, owners_known].
    The first n credit reads are keyed (pool, rep) by the picks' members in pick order (a pool pick reads every
    member's standing: nearly always n is all of them). The delta's keys are the picks' eligible members (modes
    0 and 1), all their members (2) or [pools, reps] (3). Mode 0 (nearly every round-robin pick) stores no floats:
    each eligible member's expected_added is its share of the pick (its weight over the eligible weights, worked
    out as routing does) and its credit the credit it read plus that share minus its assigned_added; the encoder
    checks both bit for bit before it chooses mode 0.
The CRC makes any damaged or cut detail an ``InvalidRecordError`` before anything is decompressed. Loading the
ledger (``stored_delta``) reads the numbers chunk and the rosters chunk (its rosters' keys remembered by its
bytes), not the steps nor the own chunk.
"""

from __future__ import annotations

import struct
import sys
import threading
import typing
import zlib
from array import array
from collections.abc import Iterable, Iterator, Sequence
from functools import cache, lru_cache
from itertools import chain, compress, count, repeat
from operator import add, attrgetter, is_, not_, sub, truediv
from typing import Any

import orjson
import zstandard

from connector.errors import InvalidRecordError
from connector.routing import codec_v3
from connector.routing.model import (
    CountChange,
    Decision,
    LedgerDelta,
    LedgerEntry,
    OwnerRead,
    Pick,
    PickRoster,
    Reads,
    StepResult,
)

TAG = 6
CORRUPT = "corrupt_decision_detail"
_SIZE = struct.Struct("<I")  # a CRC, a JSON's size or a count
_SHORT = struct.Struct("<H")  # a chunk's size (0xFFFF: a uint32 follows)
_WIDE = struct.Struct("<HI")  # 0xFFFF and a chunk's size
_BIG_ENDIAN = sys.byteorder == "big"
_PLAIN_MARK = b"\xff"  # a chunk stored as it is follows (a zstd frame header never starts so)
_LARGEST = 64 << 20  # bytes: far above any decision's chunk (a 300-rep pool's decision is ~20 KiB)
_MEMO_SIZE = 4_096  # entries per memo below: far above one rule file's step sequences and pool verdicts
_MAGICLESS = zstandard.FORMAT_ZSTD1_MAGICLESS  # the tag already says what follows: zstd's 4-byte magic is waste
# Steps and rosters chunks are compressed once and copied into thousands of details: worth zstd's level 9. On the
# example rule file's workload a new steps chunk comes every ~9 decisions and a new rosters chunk every ~5: level 9
# saves ~20 bytes a detail over level 3 for ~4 us more per decision; level 15 saves 9 bytes more for ten times
# that. A decision's own chunk (its text) is compressed on the hot path: level 1; level -1 takes half the time but
# leaves the text without Huffman coding, ~50 bytes more per decision.
_SHARED_PARAMS = zstandard.ZstdCompressionParameters.from_level(
    9, write_checksum=False, write_dict_id=False, format=_MAGICLESS
)
_OWN_PARAMS = zstandard.ZstdCompressionParameters.from_level(
    1, write_checksum=False, write_dict_id=False, format=_MAGICLESS
)
# The numbers chunk (the delta's JSON and the doubles) gains next to nothing from Huffman coding: level -1 leaves
# it out, which halves the time to compress it and to decompress it (loading the ledger decompresses only it).
_NUMBERS_PARAMS = zstandard.ZstdCompressionParameters.from_level(
    -1, write_checksum=False, write_dict_id=False, format=_MAGICLESS
)
_new = tuple.__new__  # a NamedTuple from an iterable of its values, without its keyword-handling constructor
_PICKS, _CREDITS, _ROSTER = attrgetter("picks"), attrgetter("credits"), attrgetter("roster")
_STEP_PLACE = attrgetter("stage", "step", "kind")


class _Zstd4(threading.local):
    """zstd contexts are reused (making one costs more than compressing a chunk) but are not thread-safe."""

    def __init__(self) -> None:
        self.shared = zstandard.ZstdCompressor(compression_params=_SHARED_PARAMS).compress
        self.own = zstandard.ZstdCompressor(compression_params=_OWN_PARAMS).compress
        self.numbers = zstandard.ZstdCompressor(compression_params=_NUMBERS_PARAMS).compress
        self.decompress = zstandard.ZstdDecompressor(format=_MAGICLESS).decompress


_ZSTD4 = _Zstd4()


class _Shared(typing.NamedTuple):
    """A rosters chunk and what the picks it holds give the reads and the delta, worked out once."""

    chunk: bytes
    keep: tuple[bytes, ...]  # (decoding) the roster sections, one per pick (see ``_shared_rosters``)
    # (encoding) one per pick, in pick order; kept alive so that no id in the memo key can become another object's
    rosters: tuple[PickRoster, ...]
    pools: tuple[str | None, ...]  # the picks' members' (pool, rep) keys, pick after pick
    reps: tuple[str, ...]
    eligible: tuple[bool, ...]
    eligible_pools: tuple[str | None, ...]
    eligible_reps: tuple[str, ...]
    shares: tuple[float, ...] | None  # each eligible member's share of its round-robin pick, as routing works it


def _shared_of(chunk: bytes, keep: Any, rosters: Any, keyed: list[tuple[Any, ...]]) -> _Shared:
    """The rosters chunk with its picks' keys joined: ``keyed`` holds each pick's (pools, reps, eligible, eligible
    pools, eligible reps, shares)."""
    if len(keyed) == 1:  # one pick (nearly always): its roster's own tuples
        pools, reps, eligible, eligible_pools, eligible_reps, shares = keyed[0]
        return _Shared(chunk, keep, rosters, pools, reps, eligible, eligible_pools, eligible_reps, shares)
    columns = list(zip(*keyed, strict=True)) if keyed else [()] * 6
    pools, reps, eligible, eligible_pools, eligible_reps = (_joined(column) for column in columns[:5])
    shares = None if None in columns[5] else _joined(columns[5])
    return _Shared(chunk, keep, rosters, pools, reps, eligible, eligible_pools, eligible_reps, shares)


def _keys_of(
    pool: str | None, reps: tuple[str, ...], eligible: tuple[bool, ...], weights: Sequence[float]
) -> tuple[Any, ...]:
    """A roster's (pools, reps, eligible, eligible pools, eligible reps, shares)."""
    pools = (pool,) * len(reps)
    eligible_reps = tuple(compress(reps, eligible))
    return (pools, reps, eligible, pools[: len(eligible_reps)], eligible_reps, _shares(weights, eligible))


def _shares(weights: Sequence[float], eligible: tuple[bool, ...]) -> tuple[float, ...] | None:
    """Each eligible member's weight over their total, added and divided as routing's pick plan does (so each
    share is the same float), or None when there is no such share."""
    chosen = tuple(compress(weights, eligible))
    if not chosen:
        return ()
    total = sum(chosen)
    return tuple(map(truediv, chosen, repeat(total))) if total else None


class _KnownRoster(typing.NamedTuple):
    """A roster's keys and shares (see ``_keys_of``) and its section of a rosters chunk, worked out once."""

    roster: PickRoster  # (encoding) kept alive, so that its id stays its own; (decoding) built when a trace is read
    keys: tuple[Any, ...]
    section: bytes


# Each roster by its id (the entry keeps the roster): the pools' rosters recur in many rosters chunks, with one
# other roster or another.
_ROSTER_KEYS: dict[int, _KnownRoster] = {}


def _known_roster(roster: PickRoster) -> _KnownRoster:
    """The roster's keys and section, remembered."""
    known = _ROSTER_KEYS.get(id(roster))
    if known is None:
        if len(_ROSTER_KEYS) >= _MEMO_SIZE:
            _ROSTER_KEYS.clear()
        keys = _keys_of(roster.pool, roster.reps, roster.eligible, roster.weights)
        text = orjson.dumps((roster.pool, roster.reps, roster.eligible, roster.codes, roster.reasons))
        section = _varint(len(roster.weights)) + _varint(len(text)) + _doubles(roster.weights) + text
        known = _ROSTER_KEYS[id(roster)] = _KnownRoster(roster, keys, section)
    return known


def _varint(value: int) -> bytes:
    """LEB128: seven bits a byte, lowest first, the top bit set on all but the last (a roster's sizes: 1 or 2
    bytes where two uint32s took 8)."""
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _varint_at(raw: bytes, at: int) -> tuple[int, int]:
    """The varint at ``at`` and where what follows it starts."""
    value = shift = 0
    while True:
        if at >= len(raw) or shift > 35:
            raise InvalidRecordError("stored decision detail (v4) has a roster cut short", reason=CORRUPT)
        byte = raw[at]
        value |= (byte & 0x7F) << shift
        at += 1
        if byte < 0x80:
            return value, at
        shift += 7


def _joined(parts: Iterable[tuple[Any, ...]]) -> tuple[Any, ...]:
    return tuple(chain.from_iterable(parts))


# ---- v4: writing ----
def detail_v4(decision: Decision) -> bytes:
    steps, shared, rows, picks = shared_parts(decision.trace)
    delta, own, floats = _own_parts(decision, shared, rows, picks)
    zstd = _ZSTD4
    numbers = _squeezed(_SIZE.pack(len(delta)) + delta + floats, zstd.numbers)
    return _framed(steps, shared.chunk, numbers, _squeezed(own, zstd.own))


def shared_parts(trace: tuple[StepResult, ...]) -> tuple[bytes, _Shared, list[Any], tuple[Pick, ...]]:
    """The trace's steps chunk and its picks' rosters chunk (each remembered by its objects' identities), its own
    steps' rows (see ``_own_step``) and its picks: what v4 and v5 write alike.

    Public for v5 and for bench/codec_speed.py, which times this part apart."""
    ids = list(map(id, trace))
    own_at = _own_positions(trace, ids)
    own_steps = [trace[i] for i in own_at]
    picks: tuple[Pick, ...] = _joined(map(_PICKS, own_steps)) if own_steps else ()
    for i in own_at:
        ids[i] = 0
    steps_key = tuple(ids)
    steps = _STEPS.get(steps_key) or _remember_steps(steps_key, trace)
    rosters_key = tuple(map(id, map(_ROSTER, picks)))
    shared = _SHARED.get(rosters_key) or _remember(rosters_key, picks)
    rows = [_own_step(trace[i - 1] if i else None, trace[i]) for i in own_at]
    return steps[0], shared, rows, picks


def _squeezed(raw: bytes, compress: typing.Callable[[bytes], bytes]) -> bytes:
    """The chunk's zstd frame, or 0xFF and its bytes when shorter (see ``_unsqueeze``)."""
    frame = compress(raw)
    return frame if len(frame) <= len(raw) else _PLAIN_MARK + raw


def _framed(steps: bytes, rosters: bytes, numbers: bytes, own: bytes) -> bytes:
    """Tag, CRC, the sizes of the steps, rosters and numbers chunks, and the chunks."""
    body = b"".join((_size(len(steps)), _size(len(rosters)), _size(len(numbers)), steps, rosters, numbers, own))
    return b"\x06" + _SIZE.pack(zlib.crc32(body)) + body


def _size(size: int) -> bytes:
    """A uint16, or 0xFFFF and a uint32 (see ``_size_at``)."""
    return _SHORT.pack(size) if size < 0xFFFF else _WIDE.pack(0xFFFF, size)


class _PlainStep(typing.NamedTuple):
    """A step with no picks, pool or owner (the cascade shares these: the rules that did not apply)."""

    step: StepResult  # kept alive: while it is, its id cannot be another step's
    group: tuple[str, ...]  # stage, step, kind and outcome: one tuple per group, so that groups compare by identity
    after_same: bytes  # its JSON row after a step of its group
    whole: bytes


# Steps seen to hold no picks, pool or owner, by id, with their JSON rows: the cascade shares such steps (the rules
# that did not apply), so a trace is told apart from its decision's own steps by looking up ids, and only the
# steps not seen before are looked into.
_PLAIN: dict[int, _PlainStep] = {}
_GROUPS: dict[tuple[str, ...], tuple[str, ...]] = {}  # one tuple per stage, step, kind and outcome


def _own_positions(trace: tuple[StepResult, ...], ids: list[int]) -> list[int]:
    """Where the decision's own steps are: those with picks, a pool or an owner."""
    own = []
    for i in compress(count(), map(not_, map(_PLAIN.__contains__, ids))):
        step = trace[i]
        if step.picks or step.pool is not None or step.owner is not None:
            own.append(i)
        else:
            _plain(step)
    return own


def _plain(step: StepResult) -> _PlainStep:
    """The step's JSON rows (see the module docstring), remembered by its id."""
    if len(_PLAIN) >= 4 * _MEMO_SIZE:
        _PLAIN.clear()
        _GROUPS.clear()
    place = (step.stage, step.step, step.kind, step.outcome)
    group = _GROUPS.setdefault(place, place)
    tail: tuple[Any, ...] = (step.detail,) if step.rule is None else (step.detail, step.rule)
    if step.pools_tried:
        tail = (step.detail, step.rule, step.pools_tried)
    whole = orjson.dumps(place + tail)
    known = _PLAIN[id(step)] = _PlainStep(step, group, orjson.dumps(tail) if len(tail) <= 2 else whole, whole)
    return known


# Steps chunks by the ids of the trace's steps (0 where a step is the decision's own), with the steps whose ids
# those are (kept alive, so that no id in a key can become another object's): the same key comes back for every
# lead alike in the fields the rules test.
_STEPS: dict[tuple[int, ...], tuple[bytes, tuple[StepResult, ...]]] = {}


def _remember_steps(key: tuple[int, ...], trace: tuple[StepResult, ...]) -> tuple[bytes, tuple[StepResult, ...]]:
    if len(_STEPS) >= _MEMO_SIZE:
        _STEPS.clear()
    plain = tuple(compress(trace, key))  # the steps whose ids are in the key (not the decision's own)
    known = _STEPS[key] = (_squeezed(_steps_json(trace, key), _ZSTD4.shared), plain)
    return known


# Rosters chunks by the ids of the picks' rosters: the same key comes back for every lead picked from pools in the
# same state, whatever rules it failed on the way.
_SHARED: dict[tuple[int, ...], _Shared] = {}


def _remember(key: tuple[int, ...], picks: tuple[Pick, ...]) -> _Shared:
    rosters = tuple(map(_ROSTER, picks))
    known = [_known_roster(roster) for roster in rosters]
    chunk = _squeezed(b"".join(k.section for k in known), _ZSTD4.shared) if known else b""  # no picks: empty
    if len(_SHARED) >= _MEMO_SIZE:
        _SHARED.clear()
    shared = _SHARED[key] = _shared_of(chunk, (), rosters, [k.keys for k in known])
    return shared


def _steps_json(trace: tuple[StepResult, ...], key: tuple[int, ...]) -> bytes:
    """The steps' rows: 0 for the decision's own steps (their ids are 0 in ``key``), the others' JSON."""
    rows = []
    group = None
    for step, step_id in zip(trace, key, strict=True):
        if not step_id:
            rows.append(b"0")
            group = None
            continue
        known = _PLAIN.get(step_id) or _plain(step)
        rows.append(known.after_same if known.group is group else known.whole)
        group = known.group
    return b"[" + b",".join(rows) + b"]"


def _own_parts(
    decision: Decision, shared: _Shared, rows: list[Any], picks: tuple[Pick, ...]
) -> tuple[bytes, bytes, bytes]:
    """The own chunk's delta JSON, other JSON and doubles."""
    reads = decision.reads
    credits: tuple[Any, ...] = picks[0].credits if len(picks) == 1 else _joined(map(_CREDITS, picks))
    none_at: list[int] = []
    if None in credits:
        none_at = [i for i, credit in enumerate(credits) if credit is None]
        credits = tuple(0.0 if credit is None else credit for credit in credits)
    read_pools, read_reps, entries = zip(*reads.credits, strict=True) if reads.credits else ((), (), ())
    read_credit, expected, assigned = zip(*entries, strict=True) if entries else ((), (), ())
    size = len(shared.reps)
    first = size if size and read_reps[:size] == shared.reps and read_pools[:size] == shared.pools else 0
    same = bool(first) and _same_floats(read_credit[:first], credits)
    mode, keys, won, delta_floats = _delta_parts(decision.delta, shared, credits)
    delta_counts = decision.delta.counts
    # CountChanges are NamedTuples, which orjson would hand to ``default`` one by one.
    delta = orjson.dumps((mode, keys, _one_won(won), list(map(tuple, delta_counts))), default=tuple)
    text = orjson.dumps(
        (
            none_at,
            rows,
            first,
            _one_or_all(read_pools[first:]),
            read_reps[first:],
            same,
            assigned,
            _count_reads(reads.counts, delta_counts),
            orjson.Fragment(_owners_json(reads.owners, shared.reps)),
            reads.owners_known,
        ),
        default=tuple,
    )
    return delta, text, _doubles(chain(credits, read_credit[first:] if same else read_credit, expected, delta_floats))


def _own_step(before: StepResult | None, step: StepResult) -> tuple[Any, ...]:
    """[stage, step, kind, outcome, detail, rule, pool, pools_tried, number of picks, owner], without its first
    three when the step before has the same ones, and pools_tried 0 when it is just the pool."""
    tried = 0 if step.pools_tried == (step.pool,) else step.pools_tried
    row = (step.outcome, step.detail, step.rule, step.pool, tried, len(step.picks), step.owner)
    if before is not None and _STEP_PLACE(before) == _STEP_PLACE(step):
        return row
    return (*_STEP_PLACE(step), *row)


def _one_won(won: tuple[Any, ...]) -> Any:
    """The assigned_added column, or the position of its only 1 when the others are 0 (one rep chosen per pick).
    Told by the JSON, which tells 1 from 1.0 and True (``==`` does not)."""
    text = orjson.dumps(won)
    if len(won) > 1 and 1 in won:
        chosen = won.index(1)
        if text == _one_hot(len(won), chosen):
            return chosen
    return orjson.Fragment(text)


@lru_cache(maxsize=1_024)
def _one_hot(size: int, chosen: int) -> bytes:
    return orjson.dumps([int(i == chosen) for i in range(size)])


def _count_reads(reads: tuple[tuple[str, str, int], ...], changes: tuple[CountChange, ...]) -> Any:
    """The count reads, or only their counts when they are of the periods the count changes are (as routing
    reads a rep's counts for the periods it then counts the lead in)."""
    if reads and len(reads) == len(changes) and [r[:2] for r in reads] == [c[:2] for c in changes]:
        return [r[2] for r in reads]
    return reads


# Owner reads are the snapshot's own (shared) objects, read for the same pools' members from one decision to the
# next: their JSON is remembered by the ids of the first and last read and of the members' keys; the entry keeps
# those objects, so the ids stay theirs, and is used only for the very same reads.
_OWNERS: dict[tuple[int, int, int, int], tuple[tuple[OwnerRead, ...], tuple[str, ...], bytes]] = {}


def _owners_json(owners: tuple[OwnerRead, ...], reps: tuple[str, ...]) -> bytes:
    """The owner reads as v3 wrote them (``codec_v3._owners_json``): the keys that the members' reps complete."""
    key = (len(owners), id(owners[0]), id(owners[-1]), id(reps)) if owners else (0, 0, 0, id(reps))
    known = _OWNERS.get(key)
    if known is None or known[1] is not reps or known[0] != owners:
        if len(_OWNERS) >= _MEMO_SIZE:
            _OWNERS.clear()
        known = _OWNERS[key] = (owners, reps, codec_v3._owners_json(owners, reps)[:-1])
    return known[2]


def _delta_parts(
    delta: LedgerDelta, shared: _Shared, credits: tuple[float, ...]
) -> tuple[int, Any, tuple[int, ...], Iterable[float]]:
    """The delta's mode, keys, assigned_added column and doubles (see the module docstring)."""
    pools, reps, credit, expected, won = zip(*delta.credits, strict=True) if delta.credits else ((),) * 5
    floats = chain(credit, expected)
    if reps == shared.eligible_reps and pools == shared.eligible_pools:
        if _predicted(shared, credits, credit, expected, won):
            return 0, 0, won, ()
        return 1, 0, won, floats
    if reps == shared.reps and pools == shared.pools:
        return 2, 0, won, floats
    return 3, (_one_or_all(pools), reps), won, floats


def _predicted(
    shared: _Shared, credits: tuple[Any, ...], credit: tuple[Any, ...], expected: tuple[Any, ...], won: Any
) -> bool:
    """Whether the credit changes are what a weighted round-robin pick makes of the credits it read (nearly every
    pick): each eligible member gains its share of the pick, the one chosen loses a lead; bit for bit."""
    shares = shared.shares
    if shares is None or not _same_floats(expected, shares):
        return False
    try:
        made = tuple(map(sub, map(add, compress(credits, shared.eligible), shares), won))
    except TypeError:  # a credit that is None, or an assigned_added that is no number
        return False
    return _same_floats(made, credit)


def _same_floats(first: tuple[Any, ...], second: tuple[Any, ...]) -> bool:
    """Equal bit for bit. ``==`` takes -0.0 for 0.0 (and NaN for unequal unless the very same object), so when a
    zero is among them they must be the very same objects (as routing passes floats on) or be written alike (JSON
    tells -0.0 from 0.0, and takes a None among them, which doubles would not)."""
    return first == second and (
        0.0 not in first or all(map(is_, first, second)) or orjson.dumps(first) == orjson.dumps(second)
    )


def _doubles(values: Iterable[float]) -> bytes:
    """The values as little-endian doubles (``array`` writes the machine's order)."""
    packed = array("d", values)
    if _BIG_ENDIAN:
        packed.byteswap()
    return packed.tobytes()


def _one_or_all(pools: tuple[Any, ...]) -> Any:
    """The one pool name when every row is in that pool (one pick), else the column."""
    return pools[0] if pools and isinstance(pools[0], str) and pools.count(pools[0]) == len(pools) else pools


# ---- v4: reading ----
class _Own(typing.NamedTuple):
    """A v4 own chunk's other JSON, parsed (see ``_own_parts``)."""

    none_at: list[int]
    steps: list[list[Any]]
    first: int
    read_pools: str | list[str]
    read_reps: list[str]
    same: bool
    assigned: list[int]
    counts: list[list[Any]]
    owners: list[Any]
    owners_known: bool


class _Delta(typing.NamedTuple):
    """A v4 own chunk's delta JSON, parsed (see ``_delta_parts``)."""

    mode: int
    keys: Any
    won: list[int]
    counts: list[list[Any]]


class _Detail(typing.NamedTuple):
    steps: memoryview  # the steps chunk, read only by those who need the trace
    shared: _Shared
    delta: _Delta
    own: memoryview  # the own chunk (a frame of the other JSON), read only by those who need it
    floats: memoryview

    def own_fields(self) -> _Own:
        return _Own._make(orjson.loads(_unsqueeze(self.own)))


def _chunks(detail_z: bytes) -> _Detail:
    """A v4 detail's chunks, checked against the CRC: the rosters one read (or remembered by its bytes), the
    numbers one decompressed and its delta JSON parsed."""
    view = checked(detail_z, "v4")
    at, steps_size = _size_at(view, 5)
    at, shared_size = _size_at(view, at)
    at, numbers_size = _size_at(view, at)
    steps = view[at : at + steps_size]
    at += steps_size
    chunk = detail_z[at : at + shared_size]
    shared = _SHARED_READ.get(chunk) or _shared_read(chunk)
    at += shared_size
    numbers = memoryview(_unsqueeze(view[at : at + numbers_size]))
    (size,) = _SIZE.unpack_from(numbers)
    end = _SIZE.size + size
    if end > len(numbers) or (len(numbers) - end) % 8:
        raise InvalidRecordError(f"stored decision detail (v4) has {len(numbers)} bytes of numbers", reason=CORRUPT)
    delta = _Delta._make(orjson.loads(numbers[_SIZE.size : end]))
    return _Detail(steps, shared, delta, view[at + numbers_size :], numbers[end:])


def checked(detail_z: bytes, version: str) -> memoryview:
    """The detail as a view once the CRC after its tag matches all that follows (v4 and v5 alike); a damaged or
    cut detail raises ``InvalidRecordError`` before anything is decompressed."""
    view = memoryview(detail_z)
    (crc,) = _SIZE.unpack_from(view, 1)
    if zlib.crc32(view[5:]) != crc:
        raise InvalidRecordError(f"stored decision detail ({version}) is damaged or cut short (CRC)", reason=CORRUPT)
    return view


def _size_at(view: memoryview, at: int) -> tuple[int, int]:
    """Where the chunk after a size at ``at`` starts, and the size (see ``_size``)."""
    (size,) = _SHORT.unpack_from(view, at)
    if size != 0xFFFF:
        return at + _SHORT.size, size
    return at + _SHORT.size + _SIZE.size, _SIZE.unpack_from(view, at + _SHORT.size)[0]


_SHARED_READ: dict[bytes, _Shared] = {}


def _shared_read(chunk: bytes) -> _Shared:
    """The rosters chunk's keys (what loading the ledger needs), each roster's remembered by its section's bytes
    (a pool's roster recurs in many chunks); the rosters themselves are built when a trace is read."""
    raw = _unsqueeze(chunk) if chunk else b""
    sections, at = [], 0
    while at < len(raw):
        size, start = _varint_at(raw, at)
        text, start = _varint_at(raw, start)
        end = start + 8 * size + text
        sections.append(raw[at:end])
        at = end
    if at != len(raw):
        raise InvalidRecordError("stored decision detail (v4) has a roster cut short", reason=CORRUPT)
    keyed = [(_ROSTERS_READ.get(section) or _roster_read(section)).keys for section in sections]
    if len(_SHARED_READ) >= _MEMO_SIZE:
        _SHARED_READ.clear()
    shared = _SHARED_READ[chunk] = _shared_of(chunk, tuple(sections), (), keyed)
    return shared


# Rosters read back by their section's bytes: their keys at once, the roster itself when a trace is read.
_ROSTERS_READ: dict[bytes, _KnownRoster] = {}


def _roster_read(section: bytes) -> _KnownRoster:
    size, at = _varint_at(section, 0)
    _, at = _varint_at(section, at)  # the JSON runs to the section's end
    weights = _unpacked(section, at, size)
    row = orjson.loads(memoryview(section)[at + 8 * size :])
    if not (isinstance(row, list) and len(row) == 5 and all(isinstance(column, list) for column in row[1:])):
        raise InvalidRecordError("stored decision detail (v4) has a roster of another shape", reason=CORRUPT)
    pool, reps, eligible, codes, reasons = row
    if not len(reps) == len(eligible) == len(codes) == len(reasons) == size:
        raise InvalidRecordError("stored decision detail (v4) has a roster of other sizes", reason=CORRUPT)
    roster = PickRoster(pool, tuple(reps), tuple(eligible), tuple(codes), tuple(reasons), weights)
    if len(_ROSTERS_READ) >= _MEMO_SIZE:
        _ROSTERS_READ.clear()
    known = _ROSTERS_READ[section] = _KnownRoster(
        roster, _keys_of(pool, roster.reps, roster.eligible, weights), section
    )
    return known


def _shared_rosters(shared: _Shared) -> tuple[PickRoster, ...]:
    """The picks' rosters, in pick order."""
    return tuple((_ROSTERS_READ.get(section) or _roster_read(section)).roster for section in shared.keep)


# The steps of a steps chunk by its bytes, built when a trace is read (loading the ledger needs only the rosters).
_STEPS_READ: dict[bytes, tuple[StepResult | None, ...]] = {}


def _shared_steps(chunk: memoryview) -> tuple[StepResult | None, ...]:
    key = bytes(chunk)
    steps = _STEPS_READ.get(key)
    if steps is None:
        if len(_STEPS_READ) >= _MEMO_SIZE:
            _STEPS_READ.clear()
        rows = orjson.loads(_unsqueeze(chunk))
        if not isinstance(rows, list):
            raise InvalidRecordError("stored decision detail (v4) has steps of another shape", reason=CORRUPT)
        steps = _STEPS_READ[key] = _steps_from_rows(rows)
    return steps


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
                raise InvalidRecordError("stored decision detail (v4) continues a step it lacks", reason=CORRUPT)
            row = [before.stage, before.step, before.kind, before.outcome, *row]
        steps.append(_step_of((*row[:6], tuple(row[6])) if len(row) == 7 else tuple(row)))
    return tuple(steps)


# Steps read back by their row: the same rules that did not apply, shared by the steps read (they are immutable).
_STEP_OF_ROW: dict[tuple[Any, ...], StepResult] = {}


def _step_of(row: tuple[Any, ...]) -> StepResult:
    step = _STEP_OF_ROW.get(row)
    if step is None:
        if len(_STEP_OF_ROW) >= 4 * _MEMO_SIZE:
            _STEP_OF_ROW.clear()
        if len(row) == 7:
            stage, name, kind, outcome, detail, rule, tried = row
            step = StepResult(stage, name, kind, outcome, detail, rule, pools_tried=tried)
        else:
            step = StepResult(*row)
        _STEP_OF_ROW[row] = step
    return step


def _unsqueeze(frame: bytes | memoryview) -> bytes:
    if frame[:1] == _PLAIN_MARK:  # a chunk stored as it is (see ``_squeezed``)
        return bytes(frame[1:])
    # The CRC has vouched for the bytes already; a forged frame header could still claim any size: refuse to
    # allocate what no chunk ever needs.
    if zstandard.get_frame_parameters(frame, format=_MAGICLESS).content_size > _LARGEST:
        raise InvalidRecordError("stored decision detail (v4) claims an impossible size", reason=CORRUPT)
    return _ZSTD4.decompress(frame)


def _unpacked(raw: bytes | memoryview, offset: int, size: int) -> tuple[float, ...]:
    """``size`` little-endian doubles at ``offset``."""
    return _doubles_struct(size).unpack_from(raw, offset)


@cache
def _doubles_struct(size: int) -> struct.Struct:
    return struct.Struct(f"<{size}d")


def delta_part(detail_z: bytes) -> LedgerDelta:
    return _delta_from(_chunks(detail_z))


def reads_part(detail_z: bytes) -> Reads:
    detail = _chunks(detail_z)
    return _reads_from(detail, detail.own_fields())


def detail_parts(detail_z: bytes) -> tuple[tuple[StepResult, ...], Reads, LedgerDelta]:
    detail = _chunks(detail_z)
    own = detail.own_fields()
    return _trace_from(detail, own), _reads_from(detail, own), _delta_from(detail)


def _delta_keys(shared: _Shared, delta: _Delta) -> tuple[Any, Any]:
    if delta.mode <= 1:
        return shared.eligible_pools, shared.eligible_reps
    if delta.mode == 2:
        return shared.pools, shared.reps
    return delta.keys


def _delta_from(detail: _Detail) -> LedgerDelta:
    """The delta; its credit changes are plain tuples (as routing builds them, and half the cost)."""
    shared, delta, floats = detail.shared, detail.delta, detail.floats
    pools, reps = _delta_keys(shared, delta)
    size = len(reps)
    won = delta.won
    if isinstance(won, int):  # the position of the only 1
        if not 0 <= won < size:
            raise InvalidRecordError("stored decision detail (v4) names no such credit change", reason=CORRUPT)
        won = [0] * size
        won[delta.won] = 1
    if isinstance(pools, str):
        pools = repeat(pools, size)
    credit: Iterable[float]
    expected: Sequence[float]
    if delta.mode == 0:
        if shared.shares is None:
            raise InvalidRecordError("stored decision detail (v4) predicts shares it lacks", reason=CORRUPT)
        credits = compress(_unpacked(floats, 0, len(shared.reps)), shared.eligible)
        expected = shared.shares
        credit = map(sub, map(add, credits, expected), won)
    else:
        both = _unpacked(floats, len(floats) - 16 * size, 2 * size)
        credit, expected = both[:size], both[size:]
    changes = tuple(zip(pools, reps, credit, expected, won, strict=True))
    return LedgerDelta(changes, tuple(map(_new, repeat(CountChange), delta.counts)))


def _reads_from(detail: _Detail, own: _Own) -> Reads:
    shared, delta = detail.shared, detail.delta
    first, members = own.first, len(shared.reps)
    pools: Iterable[Any] = own.read_pools
    reps: list[str] = own.read_reps
    if isinstance(pools, str):
        pools = repeat(pools, len(reps))
    if first:
        pools, reps = chain(shared.pools[:first], pools), [*shared.reps[:first], *reps]
    size = len(reps)
    stored = size - first if own.same else size
    delta_floats = 0 if delta.mode == 0 else 2 * len(_delta_keys(shared, delta)[1])
    if 8 * (members + stored + size + delta_floats) != len(detail.floats):
        raise InvalidRecordError("stored decision detail (v4) holds other floats than it names", reason=CORRUPT)
    floats = _unpacked(detail.floats, 0, members + stored + size)
    read = floats[members : members + stored]
    credit = (*floats[:first], *read) if own.same else read
    entries = map(_new, repeat(LedgerEntry), zip(credit, floats[members + stored :], own.assigned, strict=True))
    return Reads(
        tuple(zip(pools, reps, entries, strict=True)),
        _count_reads_from(own.counts, delta.counts),
        _owner_reads(own.owners, shared),
        own.owners_known,
    )


# Owner reads read back, by the rosters chunk and the keys before the members' (when every owner is found, active
# and holds no open leads, as nearly always): the same reads recur from one decision to the next.
_OWNERS_READ: dict[tuple[bytes, int, tuple[str, ...]], tuple[OwnerRead, ...]] = {}


def _owner_reads(owners: list[Any], shared: _Shared) -> tuple[OwnerRead, ...]:
    if len(owners) != 2:  # with found, active and open_leads columns
        return tuple(map(_new, repeat(OwnerRead), codec_v3._owner_rows(owners, list(shared.reps))))
    key = (shared.chunk, owners[0], tuple(owners[1]))
    known = _OWNERS_READ.get(key)
    if known is None:
        if len(_OWNERS_READ) >= _MEMO_SIZE:
            _OWNERS_READ.clear()
        rows = codec_v3._owner_rows(owners, list(shared.reps))
        known = _OWNERS_READ[key] = tuple(map(_new, repeat(OwnerRead), rows))
    return known


def _count_reads_from(counts: list[Any], changes: list[list[Any]]) -> tuple[tuple[Any, ...], ...]:
    if counts and not isinstance(counts[0], list):  # the counts alone, of the count changes' periods
        return tuple((change[0], change[1], count) for change, count in zip(changes, counts, strict=True))
    return tuple(map(tuple, counts))


def _trace_from(detail: _Detail, own: _Own) -> tuple[StepResult, ...]:
    shared = detail.shared
    credits: list[float | None] = list(_unpacked(detail.floats, 0, len(shared.reps)))
    for i in own.none_at:
        credits[i] = None
    rosters, rows, read = iter(_shared_rosters(shared)), iter(own.steps), tuple(credits)
    trace: list[StepResult] = []
    start = 0
    for shared_step in _shared_steps(detail.steps):
        step = shared_step
        if step is None:  # one of the decision's own steps goes here
            step, start = _own_step_from(next(rows, None), trace, rosters, read, start)
        trace.append(step)
    if next(rows, None) is not None or next(rosters, None) is not None:
        raise InvalidRecordError("stored decision detail (v4) has steps its trace does not place", reason=CORRUPT)
    return tuple(trace)


def _own_step_from(
    row: list[Any] | None,
    trace: list[StepResult],
    rosters: Iterator[PickRoster],
    credits: tuple[float | None, ...],
    start: int,
) -> tuple[StepResult, int]:
    """An own step from its row, its picks' rosters taken in turn and their credits from ``start`` on; and where
    the next pick's credits start."""
    if row is None:
        raise InvalidRecordError("stored decision detail (v4) lacks one of its own steps", reason=CORRUPT)
    if len(row) == 7:  # in the place (stage, step, kind) of the step before
        if not trace:
            raise InvalidRecordError("stored decision detail (v4) has a step with no place", reason=CORRUPT)
        row = [*_STEP_PLACE(trace[-1]), *row]
    stage, name, kind, outcome, detail, rule, pool, tried, size, owner = row
    picks = []
    for _ in range(size):
        roster = next(rosters, None)
        if roster is None:
            raise InvalidRecordError("stored decision detail (v4) lacks a pick's roster", reason=CORRUPT)
        end = start + len(roster.reps)
        picks.append(Pick(roster, credits[start:end]))
        start = end
    pools_tried = (pool,) if tried == 0 else tuple(tried)
    return StepResult(stage, name, kind, outcome, detail, rule, pool, pools_tried, tuple(picks), owner), start
