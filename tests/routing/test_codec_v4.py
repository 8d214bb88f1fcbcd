"""Stored decision format v4: exact round trips (shared steps and rosters, every float), older rows still read,
damage reported, no more bytes than v3."""

from __future__ import annotations

import dataclasses
import struct
import zlib
from typing import Any

import orjson
import pytest
import zstandard
from hypothesis import strategies as st

from connector.errors import InvalidRecordError
from connector.routing import codec
from connector.routing.codec import (
    decode_stored,
    detail_v1,
    detail_v3,
    detail_v4,
    dumps,
    stored_delta,
    stored_reads,
)
from connector.routing.codec_legacy import detail_v2
from connector.routing.ledger import LedgerState
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

from .builders import decide, lead, rep, routing
from .test_codec_v3 import _decision, _decisions, _exactly, _large_team_decisions


def encode_stored(decision: Decision) -> tuple[str, bytes]:
    """The decision stored as v4 wrote it (``codec.encode_stored`` writes v5 now: tests/routing/test_codec_v5.py)."""
    return codec.encode_stored(decision)[0], detail_v4(decision)


@pytest.fixture(scope="module")
def decisions() -> list[Decision]:
    return _decisions("resume") + _decisions("catch_up")


def _same(back: Any, original: Any) -> None:
    """Equal in every field and every float bit for bit (``==`` would take -0.0 for 0.0 and never NaN for NaN)."""
    assert repr(_plain(back)) == repr(_plain(original))
    assert _exactly(back) == _exactly(original)


def _plain(value: Any) -> Any:
    """Ledger rows in one spelling: routing builds plain tuples or NamedTuples for them, which are equal."""
    if isinstance(value, Decision):
        return dataclasses.replace(value, reads=_plain(value.reads), delta=_plain(value.delta))
    if isinstance(value, Reads):
        return dataclasses.replace(value, credits=tuple((p, r, LedgerEntry(*e)) for p, r, e in value.credits))
    if isinstance(value, LedgerDelta):
        return dataclasses.replace(value, credits=tuple((p, r, c, e, a) for p, r, c, e, a in value.credits))
    return value


def _round_trips(decision: Decision) -> None:
    head, detail = encode_stored(decision)
    assert detail[0] == 6
    _same(decode_stored(head, detail), decision)
    _same(stored_reads(detail), decision.reads)
    _same(stored_delta(detail), decision.delta)


def test_routed_decisions_round_trip_exactly(decisions):
    for decision in decisions:
        _round_trips(decision)
        assert decode_stored(*encode_stored(decision)) == decision


def test_a_large_pool_round_trips_and_its_delta_reads_alone():
    team = [rep(f"rep{i}@big.example", weight=1 + i % 3) for i in range(300)]
    ledger = LedgerState()
    for n in range(3):
        decision = decide(routing(team), lead(n), ledger=ledger)
        _round_trips(decision)


@pytest.mark.parametrize("write", [detail_v1, detail_v2, detail_v3], ids=["v1", "v2", "v3"])
def test_rows_written_by_older_versions_still_read(decisions, write):
    for decision in decisions[::7]:
        head, _detail = encode_stored(decision)
        old = write(decision)
        assert decode_stored(head, old) == decision
        assert stored_reads(old) == decision.reads
        assert stored_delta(old) == decision.delta


def test_whole_decision_rows_still_read(decisions):
    for decision in decisions[::11]:
        assert decode_stored(dumps(decision), None) == decision


def test_v4_details_of_a_large_team_stay_close_to_v3():
    # On bench/codec_speed.py's 300-rep workload v4 is ~1% smaller; on this 40-rep team's ~800-byte details the
    # per-decision frame's own entropy tables cost a few percent.
    chosen = _large_team_decisions()
    v4 = sum(len(encode_stored(d)[1]) for d in chosen)
    v3 = sum(len(detail_v3(d)) for d in chosen)
    assert v4 <= v3 * 1.06


def test_v4_details_of_a_small_team_stay_close_to_v3(decisions):
    # Details of a few hundred bytes: v3 stored those under 256 bytes plain, v4 pays a CRC and up to four zstd
    # frames, the steps and the rosters compressed apart (their text repeats the reasons: ~1.15x v3 here).
    v4 = sum(len(encode_stored(d)[1]) for d in decisions)
    v3 = sum(len(detail_v3(d)) for d in decisions)
    assert v4 <= v3 * 1.16


# Every damaged byte and every cut: test_codec_v5.py runs that for v4 and v5 alike.


@pytest.mark.parametrize(
    ("detail", "reason"),
    [
        (b"", "corrupt_decision_detail"),
        (b"\x06", "corrupt_decision_detail"),
        (b"\x06\x00\x00\x00\x00", "corrupt_decision_detail"),
        (b"\x08anything", "unknown_decision_format"),
    ],
)
def test_empty_short_or_unknown_details_raise_a_clear_error(detail, reason):
    for read in (stored_delta, stored_reads):
        with pytest.raises(InvalidRecordError) as caught:
            read(detail)
        assert caught.value.reason == reason


def test_steps_and_rosters_equal_but_not_the_same_objects_encode_alike():
    # The encoder remembers steps and rosters by identity; other objects with other content must not borrow them.
    def pick_step(reason: str) -> StepResult:
        roster = PickRoster("p", ("a", "b"), (True, False), (None, "pto"), (None, reason), (1.0, 2.0))
        return StepResult("s", "pool", "pool", "assigned", "picked a", pool="p", picks=(Pick(roster, (0.5, 1.5)),))

    first = _decision((StepResult("s", "rules", "rules", "no_match", "country is FR", rule="r1"), pick_step("away")))
    second = _decision((StepResult("s", "rules", "rules", "no_match", "country is DE", rule="r1"), pick_step("gone")))
    for decision in (first, second, first, second):
        _round_trips(decision)


def test_steps_and_rosters_are_shared_apart():
    # The same rules failing with other pools' rosters, or other rules with the same rosters, share a chunk each.
    roster = PickRoster("p", ("a", "b"), (True, True), (None, None), (None, None), (1.0, 1.0))
    other_roster = PickRoster("p", ("a", "b"), (True, False), (None, "pto"), (None, "away"), (1.0, 1.0))
    rule, other_rule = (StepResult("s", "rules", "rules", "no_match", f"country is {c}", rule="r") for c in "FD")

    def parts(plain: StepResult, picked: PickRoster) -> tuple[bytes, bytes]:
        own = StepResult("s", "pool", "pool", "assigned", "picked a", pool="p", picks=(Pick(picked, (0.5, 1.5)),))
        return _parts(encode_stored(_decision((plain, own)))[1])[0]

    (steps, rosters), (same_steps, other_rosters), (other_steps, same_rosters) = (
        parts(rule, roster),
        parts(rule, other_roster),
        parts(other_rule, roster),
    )
    assert steps == same_steps and rosters == same_rosters
    assert steps != other_steps and rosters != other_rosters


# ---- generated decisions ----------------------------------------------------------------------------------------

_TEXT = st.text(max_size=8)
_OPTIONAL_TEXT = st.none() | _TEXT
_FLOATS = st.floats(width=64) | st.sampled_from([0.0, -0.0, float("inf"), float("-inf"), float("nan")])
_INTS = st.integers(-(2**63), 2**63 - 1)


@st.composite
def _rosters(draw: Any) -> PickRoster:
    size = draw(st.integers(0, 4))
    column = lambda values: tuple(draw(st.lists(values, min_size=size, max_size=size)))  # noqa: E731
    return PickRoster(
        draw(_OPTIONAL_TEXT), column(_TEXT), column(st.booleans()), column(_OPTIONAL_TEXT), column(_OPTIONAL_TEXT),
        column(_FLOATS),
    )  # fmt: skip


@st.composite
def _traces(draw: Any) -> tuple[StepResult, ...]:
    """Plain steps repeated as the very same objects, and pool steps whose picks share rosters by identity."""
    rosters = draw(st.lists(_rosters(), min_size=1, max_size=3))
    plain = draw(
        st.lists(
            st.builds(
                StepResult,
                st.sampled_from(["inbound", "ae"]),
                st.sampled_from(["rules", "named accounts"]),
                st.sampled_from(["rules", "named_accounts"]),
                st.sampled_from(["no_match", "skipped"]),
                _TEXT,
                rule=_OPTIONAL_TEXT,
                pools_tried=st.tuples() | st.tuples(_TEXT),
            ),
            max_size=4,
        )
    )

    def pick(roster: PickRoster) -> Pick:
        credits = draw(st.lists(st.none() | _FLOATS, min_size=len(roster.reps), max_size=len(roster.reps)))
        return Pick(roster, tuple(credits))

    own = [
        StepResult(
            "inbound",
            "pool",
            "pool",
            draw(st.sampled_from(["assigned", "unavailable"])),
            draw(_TEXT),
            rule=draw(_OPTIONAL_TEXT),
            pool=draw(_OPTIONAL_TEXT),
            pools_tried=tuple(draw(st.lists(_TEXT, max_size=2))),
            picks=tuple(pick(r) for r in draw(st.lists(st.sampled_from(rosters), max_size=3))),
            owner=draw(_OPTIONAL_TEXT),
        )
        for _ in range(draw(st.integers(0, 3)))
    ]
    steps = plain + plain[:1] * draw(st.integers(0, 2)) + own
    return tuple(draw(st.permutations(steps)))


def _keys(trace: tuple[StepResult, ...]) -> list[tuple[str | None, str, float | None]]:
    return [
        (p.roster.pool, rep, c) for s in trace for p in s.picks for rep, c in zip(p.roster.reps, p.credits, strict=True)
    ]


@st.composite
def _reads(draw: Any, trace: tuple[StepResult, ...]) -> Reads:
    """Reads that follow the picks (the picks' members first, their credits the picks' own), or random ones."""
    entries = st.builds(LedgerEntry, _FLOATS, _FLOATS, _INTS)
    extra = draw(st.lists(st.tuples(_TEXT, _TEXT, entries), max_size=3))
    follows = draw(st.sampled_from(["follows", "other_credits", "random"]))
    credits: list[Any] = extra
    if follows != "random":
        head = [
            (pool, rep, LedgerEntry(c if follows == "follows" and c is not None else draw(_FLOATS), *draw(entries)[1:]))
            for pool, rep, c in _keys(trace)
        ]
        credits = head + extra
    member_reps = [rep for _, rep, _ in _keys(trace)]
    keys = draw(st.lists(_TEXT, max_size=2)) + (member_reps if draw(st.booleans()) else [])
    everyone_fine = draw(st.booleans())
    owners = tuple(
        OwnerRead(key, True, True, 0)
        if everyone_fine
        else OwnerRead(key, draw(st.booleans()), draw(st.booleans()), draw(_INTS))
        for key in keys
    )
    counts = tuple(draw(st.lists(st.tuples(_TEXT, _TEXT, _INTS), max_size=2)))
    return Reads(tuple(credits), counts, owners, draw(st.booleans()))


@st.composite
def _deltas(draw: Any, trace: tuple[StepResult, ...]) -> LedgerDelta:
    """Deltas over the picks' eligible members, all their members, or other keys."""
    picks = [p for s in trace for p in s.picks]
    eligible = [(p.roster.pool, r) for p in picks for r, ok in zip(p.roster.reps, p.roster.eligible, strict=True) if ok]
    members = [(p.roster.pool, r) for p in picks for r in p.roster.reps]
    keys = draw(st.sampled_from([eligible, members, draw(st.lists(st.tuples(_TEXT, _TEXT), max_size=4))]))
    credits = tuple((pool, rep, draw(_FLOATS), draw(_FLOATS), draw(_INTS)) for pool, rep in keys)
    counts = tuple(draw(st.lists(st.builds(CountChange, _TEXT, _TEXT, _INTS), max_size=2)))
    return LedgerDelta(credits, counts)


# The generated, empty, past-64-KiB and reused-id round trips run for v4 and v5 alike in test_codec_v5.py.


_MAGICLESS = zstandard.FORMAT_ZSTD1_MAGICLESS


_Parts = tuple[tuple[bytes, bytes], bytes, bytes]


def _parts(detail: bytes) -> _Parts:
    """The steps chunk, and decompressed, the rosters chunk, the numbers chunk and the own JSON of a detail whose
    chunks are under 64 KiB, as the module docstring lays them out."""
    steps_size, rosters_size, numbers_size = struct.unpack_from("<HHH", detail, 5)
    steps, rest = detail[11 : 11 + steps_size], detail[11 + steps_size :]
    rosters, rest = rest[:rosters_size], rest[rosters_size:]
    return (steps, _unzstd(rosters) if rosters else b""), _unzstd(rest[:numbers_size]), _unzstd(rest[numbers_size:])


def _unzstd(chunk: bytes) -> bytes:
    if chunk[:1] == b"\xff":  # stored as it is: a frame would have been longer
        return chunk[1:]
    return zstandard.ZstdDecompressor(format=_MAGICLESS).decompress(chunk)


def _framed(shared: tuple[bytes, bytes], numbers: bytes, own: bytes) -> bytes:
    """A detail of these parts (the rosters stored as they are, the others as zstd frames), with a CRC that matches
    them."""
    params = zstandard.ZstdCompressionParameters.from_level(1, format=_MAGICLESS)
    zstd = zstandard.ZstdCompressor(compression_params=params).compress
    numbers, own = zstd(numbers), zstd(own)
    steps, rosters = shared
    rosters = b"\xff" + rosters if rosters else b""
    body = struct.pack("<HHH", len(steps), len(rosters), len(numbers)) + steps + rosters + numbers + own
    return b"\x06" + struct.pack("<I", zlib.crc32(body)) + body


def _own_json(change: Any) -> Any:
    def changed(parts: _Parts) -> bytes:
        shared, numbers, own = parts
        return _framed(shared, numbers, orjson.dumps(change(orjson.loads(own))))

    return changed


def _numbers(change: Any) -> Any:
    def changed(parts: _Parts) -> bytes:
        shared, numbers, own = parts
        return _framed(shared, change(numbers), own)

    return changed


def _roster_chunk(change: Any) -> Any:
    def changed(parts: _Parts) -> bytes:
        (steps, rosters), numbers, own = parts
        return _framed((steps, change(rosters)), numbers, own)

    return changed


def _roster_json(change: Any) -> Any:
    """The first roster's JSON changed (its weights left as they are)."""

    def changed(rosters: bytes) -> bytes:
        size, at = _leb128_at(rosters, 0)
        text, at = _leb128_at(rosters, at)
        weights_end = at + 8 * size
        new = orjson.dumps(change(orjson.loads(rosters[weights_end : weights_end + text])))
        return _leb128(size) + _leb128(len(new)) + rosters[at:weights_end] + new + rosters[weights_end + text :]

    return changed


def _leb128(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes([*out, value])


def _leb128_at(raw: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while raw[at] & 0x80:
        value |= (raw[at] & 0x7F) << shift
        at, shift = at + 1, shift + 7
    return value | raw[at] << shift, at + 1


@pytest.mark.parametrize(
    "forge",
    [
        _own_json(lambda own: [own[0], own[1][:-1], *own[2:]]),  # a step less than the trace places
        _own_json(lambda own: [own[0], [*own[1], own[1][-1]], *own[2:]]),  # a step more
        _own_json(lambda own: own[:-1]),  # a field less
        _own_json(lambda own: [own[0], [["x"] * 7], *own[2:]]),  # a step of another shape
        _numbers(lambda numbers: numbers[:-8]),  # a float less
        _numbers(lambda numbers: numbers[:-3]),  # part of a float
        _numbers(lambda numbers: numbers[:4] + b"[0,0,99,[]]" + numbers[4 + struct.unpack_from("<I", numbers)[0] :]),
        _numbers(lambda numbers: struct.pack("<I", 9_999) + numbers[4:]),  # a JSON size past the chunk
        _roster_chunk(lambda rosters: rosters[:-3]),  # a roster cut short
        _roster_chunk(lambda rosters: b"\x02\x80"),  # a roster's sizes cut short
        _roster_chunk(lambda rosters: b""),  # no rosters for the picks
        _roster_chunk(_roster_json(lambda row: [row[0], row[1][:-1], *row[2:]])),  # a rep less than weights
        _roster_chunk(_roster_json(lambda row: row[:4])),  # a column less
        _roster_chunk(_roster_json(lambda row: {"pool": row[0]})),  # a roster of another shape
    ],
    ids=[
        "step_less",
        "step_more",
        "field_less",
        "bad_step",
        "float_less",
        "float_cut",
        "bad_delta",
        "bad_size",
        "roster_cut",
        "roster_sizes_cut",
        "rosters_missing",
        "roster_rep_less",
        "roster_column_less",
        "roster_shape",
    ],
)
def test_a_detail_whose_parts_disagree_is_reported_even_with_a_good_crc(decisions, forge):
    decision = next(d for d in decisions if any(s.picks for s in d.trace) and len(d.trace) > 2)
    head, detail = encode_stored(decision)
    assert decode_stored(head, _framed(*_parts(detail))) == decision  # the helpers lay details out as the encoder
    forged = forge(_parts(detail))
    with pytest.raises(InvalidRecordError) as caught:
        decode_stored(head, forged)
    assert caught.value.reason == "corrupt_decision_detail"
    for read in (stored_reads, stored_delta):  # they may not need the damaged part, but never fail otherwise
        try:
            read(forged)
        except InvalidRecordError as error:
            assert error.reason == "corrupt_decision_detail"
