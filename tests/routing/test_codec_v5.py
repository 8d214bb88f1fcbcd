"""Stored decision format v5: exact round trips (every float bit for bit, ints and Nones kept), older rows still
read, damage reported, bytes close to v4."""

from __future__ import annotations

import math
import random
import struct
import zlib
from collections.abc import Callable
from typing import Any

import orjson
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.errors import InvalidRecordError
from connector.routing.codec import (
    decode_stored,
    detail_v1,
    detail_v3,
    detail_v4,
    encode_stored,
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
from .test_codec_v3 import _decision, _decisions, _large_team_decisions
from .test_codec_v4 import _deltas, _reads, _same, _traces
from .test_codec_v4 import encode_stored as v4_encode_stored

_MAGICLESS = zstandard.FORMAT_ZSTD1_MAGICLESS
_NAN, _INF = float("nan"), float("inf")


@pytest.fixture(scope="module")
def decisions() -> list[Decision]:
    return _decisions("resume") + _decisions("catch_up")


def _round_trips(decision: Decision, write: Callable[[Decision], tuple[str, bytes]] = encode_stored) -> bytes:
    head, detail = write(decision)
    assert detail[0] == (7 if write is encode_stored else 6)
    _same(decode_stored(head, detail), decision)
    _same(stored_reads(detail), decision.reads)
    _same(stored_delta(detail), decision.delta)
    return detail


# What these tests write as: v5 (what routing stores) and v4 (rows written before it, which share its chunks).
_FORMATS = pytest.mark.parametrize("write", [encode_stored, v4_encode_stored], ids=["v5", "v4"])


def test_routed_decisions_round_trip_exactly(decisions):
    assert any(len(d.assignments) == 2 for d in decisions)  # 2-to-1 decisions among them
    for decision in decisions:
        _round_trips(decision)
        assert decode_stored(*encode_stored(decision)) == decision


def test_routed_round_robin_picks_store_their_delta_as_predicted(decisions):
    # The delta of a weighted round-robin pick is worked out from the credits read: no floats of its own.
    picked = [d for d in decisions if d.delta.credits]
    predicted = [d for d in picked if _own(encode_stored(d)[1])[0][8]]
    assert len(predicted) >= len(picked) * 0.8


def test_a_large_pool_round_trips_and_its_delta_reads_alone():
    team = [rep(f"rep{i}@big.example", weight=1 + i % 3) for i in range(300)]
    ledger = LedgerState()
    for n in range(3):
        decision = decide(routing(team), lead(n), ledger=ledger)
        ledger.apply(decision.delta)
        _round_trips(decision)


@pytest.mark.parametrize("write", [detail_v1, detail_v2, detail_v3, detail_v4], ids=["v1", "v2", "v3", "v4"])
def test_rows_written_by_older_versions_still_read(decisions, write):
    for decision in decisions[::7]:
        head, _detail = encode_stored(decision)
        old = write(decision)
        assert decode_stored(head, old) == decision
        assert stored_reads(old) == decision.reads
        assert stored_delta(old) == decision.delta


def test_details_stay_close_to_v4(decisions):
    # On bench/codec_speed.py's 300-rep workload v5 is ~3% larger than v4; on these teams' details a little more.
    for chosen in (decisions, _large_team_decisions()):
        v5 = sum(len(encode_stored(d)[1]) for d in chosen)
        v4 = sum(len(detail_v4(d)) for d in chosen)
        assert v5 <= v4 * 1.10


# ---- floats, ints and Nones ---------------------------------------------------------------------------------------


def _roster(size: int = 3) -> PickRoster:
    reps = tuple(f"r{i}@x.com" for i in range(size))
    return PickRoster("p", reps, (True,) * size, (None,) * size, (None,) * size, (1.0,) * size)


def _picked(credits: tuple[float | None, ...], roster: PickRoster | None = None) -> StepResult:
    roster = roster or _roster(len(credits))
    pick = Pick(roster, credits)
    return StepResult("inbound", "pool", "pool", "assigned", "picked", pool="p", picks=(pick,), owner="r0@x.com")


def _reads_of(roster: PickRoster, credits: tuple[float, ...], expected: tuple[float, ...] | None = None) -> Reads:
    expected = expected or (0.0,) * len(credits)
    entries = (LedgerEntry(c, e, 0) for c, e in zip(credits, expected, strict=True))
    rows = tuple(zip(("p",) * len(credits), roster.reps, entries, strict=True))
    return Reads(rows, (("r0@x.com", "d:2026-11-23", 3),), (OwnerRead("r0@x.com", True, True, 0),), True)


@pytest.mark.parametrize("value", [_NAN, _INF, -_INF, -0.0, 5e-324, 1.7976931348623157e308], ids=repr)
@pytest.mark.parametrize("where", ["pick", "read_credit", "read_expected", "delta_credit", "delta_expected"])
def test_every_float_round_trips_bit_for_bit(value, where):
    credits = (0.0, 1.5, value if where in ("pick", "read_credit") else -2.25)
    roster = _roster()
    expected = (0.5, value if where == "read_expected" else 1.0, 2.0)
    reads = _reads_of(roster, credits, expected)
    delta_row = (
        "p",
        "r1@x.com",
        value if where == "delta_credit" else 0.75,
        value if where == "delta_expected" else 1.0,
        1,
    )
    decision = _decision((_picked(credits, roster),), reads, LedgerDelta((delta_row,), (CountChange("r1@x.com", "d"),)))
    _round_trips(decision)


def test_a_pick_credit_of_minus_zero_is_not_taken_for_the_zero_read():
    # ``==`` sees -0.0 and 0.0 as equal: the picks' credits must not be left to the reads'.
    roster = _roster(2)
    decision = _decision((_picked((-0.0, 1.0), roster),), _reads_of(roster, (0.0, 1.0)))
    back = decode_stored(*encode_stored(decision))
    credit = back.trace[0].picks[0].credits[0]
    assert credit is not None and math.copysign(1.0, credit) == -1.0
    _round_trips(decision)


@pytest.mark.parametrize("credits", [(None, 1.0, None), (None,), (0.5, None, _NAN)], ids=["some", "only", "nan"])
def test_nones_among_pick_credits_stay_none(credits):
    roster = _roster(len(credits))
    reads = _reads_of(roster, tuple(0.0 if c is None else c for c in credits))
    decision = _decision((_picked(credits, roster),), reads)
    back = decode_stored(*encode_stored(decision))
    assert back.trace[0].picks[0].credits[: len(credits)].count(None) == credits.count(None)
    _round_trips(decision)


@pytest.mark.parametrize("won", [1, True, 2**62, -1], ids=["one", "true", "big", "minus"])
def test_ints_and_bools_keep_their_type(won):
    roster = _roster(2)
    reads = Reads((("p", "r0@x.com", LedgerEntry(0.5, 1.0, won)),), (("r0@x.com", "w:2026-W48", won),))
    delta = LedgerDelta((("p", "r0@x.com", 0.25, 0.5, won),), (CountChange("r0@x.com", "w:2026-W48", won),))
    back = decode_stored(*encode_stored(_decision((_picked((0.5, 0.0), roster),), reads, delta)))
    assert type(back.reads.credits[0][2][2]) is type(won)
    assert type(back.delta.credits[0][4]) is type(won)
    assert type(back.delta.counts[0].added) is type(won)
    assert type(back.reads.counts[0][2]) is type(won)


@_FORMATS
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), trace=_traces())
def test_generated_decisions_round_trip_exactly(write, data, trace):
    decision = _decision(trace, data.draw(_reads(trace)), data.draw(_deltas(trace)))
    _round_trips(decision, write)


@_FORMATS
def test_an_empty_decision_round_trips(write):
    _round_trips(_decision(()), write)


@_FORMATS
def test_a_shared_part_beyond_64_kib_round_trips(write):
    # Sizes past a uint16 take the wide form of the header.
    rng = random.Random(4)
    reps = tuple(f"{rng.getrandbits(128):032x}@huge.example" for _ in range(6_000))
    roster = PickRoster("huge", reps, (True,) * len(reps), (None,) * len(reps), (None,) * len(reps), (1.0,) * len(reps))
    step = StepResult("s", "pool", "pool", "assigned", "picked", pool="huge", picks=(Pick(roster, (0.0,) * len(reps)),))
    decision = _decision((step,))
    assert len(write(decision)[1]) > 0xFFFF
    _round_trips(decision, write)


@_FORMATS
def test_objects_made_and_dropped_one_after_another_never_borrow_each_others_parts(write):
    # The encoder remembers steps and rosters by id; a dropped object's id may be reused by the next one. Past the
    # memos' sizes too (their entries keep their objects, and are cleared when full).
    for n in range(5_000):
        roster = PickRoster(f"p{n % 7}", (f"a{n}", "b"), (n % 2 == 0, True), (None, None), (None, None), (1.0, n))
        plain = StepResult("s", "rules", "rules", "no_match", f"country is {n}", rule=f"r{n % 3}")
        own = StepResult("s", "pool", "pool", "assigned", "picked b", pool="p", picks=(Pick(roster, (0.5, -n)),))
        decision = _decision((plain, own))
        head, detail = write(decision)
        assert decode_stored(head, detail) == decision


# ---- damage -------------------------------------------------------------------------------------------------------


@_FORMATS
def test_every_damaged_byte_and_every_cut_is_reported(decisions, write):
    decision = max(decisions, key=lambda d: len(write(d)[1]))
    head, detail = write(decision)
    damaged = []
    for at in range(1, len(detail)):
        altered = bytearray(detail)
        altered[at] ^= 0x21
        damaged.append(bytes(altered))
    damaged += [detail[:cut] for cut in range(1, len(detail))]
    for bad in damaged:
        for read in (stored_delta, stored_reads, lambda d: decode_stored(head, d)):
            with pytest.raises(InvalidRecordError) as caught:
                read(bad)
            assert caught.value.reason == "corrupt_decision_detail"


@pytest.mark.parametrize(
    ("detail", "reason"),
    [
        (b"\x07", "corrupt_decision_detail"),
        (b"\x07\x00\x00\x00\x00", "corrupt_decision_detail"),
        (b"\x08anything", "unknown_decision_format"),
    ],
)
def test_short_or_unknown_details_raise_a_clear_error(detail, reason):
    for read in (stored_delta, stored_reads):
        with pytest.raises(InvalidRecordError) as caught:
            read(detail)
        assert caught.value.reason == reason


def _own(detail: bytes) -> tuple[list[Any], bytes]:
    """The own JSON and the doubles of a detail whose shared chunks are under 64 KiB."""
    steps_size, rosters_size = struct.unpack_from("<HH", detail, 5)
    chunk = detail[9 + steps_size + rosters_size :]
    raw = chunk[1:] if chunk[:1] == b"\xff" else zstandard.ZstdDecompressor(format=_MAGICLESS).decompress(chunk)
    (size,) = struct.unpack_from("<I", raw)
    return orjson.loads(raw[4 : 4 + size]), raw[4 + size :]


def _with_own(detail: bytes, fields: list[Any], doubles: bytes) -> bytes:
    """The detail with another own chunk (stored plain) and a CRC that matches it."""
    steps_size, rosters_size = struct.unpack_from("<HH", detail, 5)
    text = orjson.dumps(fields)
    body = detail[5 : 9 + steps_size + rosters_size] + b"\xff" + struct.pack("<I", len(text)) + text + doubles
    return b"\x07" + struct.pack("<I", zlib.crc32(body)) + body


def _forged(change: Any) -> Any:
    def forge(detail: bytes) -> bytes:
        fields, doubles = _own(detail)
        return _with_own(detail, *change(fields, doubles))

    return forge


@pytest.mark.parametrize(
    "forge",
    [
        _forged(lambda f, d: (f[:-1], d)),  # a field less
        _forged(lambda f, d: ([f[0][:-1], *f[1:]], d)),  # a step less than the trace places
        _forged(lambda f, d: ([[*f[0], f[0][-1]], *f[1:]], d)),  # a step more
        _forged(lambda f, d: (f, d[:-8])),  # a float less
        _forged(lambda f, d: (f, d[:-3])),  # part of a float
        _forged(lambda f, d: (f, d + d[:8])),  # a float more
        _forged(lambda f, d: ([*f[:3], f[3][:-1], *f[4:]], d)),  # an assigned read less
        _forged(lambda f, d: ([*f[:7], 1, *f[8:]], d)),  # predicted for all members
        _forged(lambda f, d: ([*f[:2], [5, [], []], *f[3:]], d)),  # reads keyed by members it has not
        _forged(lambda f, d: ([*f[:9], f[9][:-1], *f[10:]], d)),  # an assigned_added less
        _forged(lambda f, d: ({"steps": f[0]}, d)),  # another shape
    ],
    ids=[
        "field_less",
        "step_less",
        "step_more",
        "float_less",
        "float_cut",
        "float_more",
        "assigned_less",
        "predicted_members",
        "bad_read_keys",
        "won_less",
        "shape",
    ],
)
def test_a_detail_whose_parts_disagree_is_reported_even_with_a_good_crc(decisions, forge):
    decision = next(
        d for d in decisions if any(s.picks for s in d.trace) and len(d.trace) > 2 and _own(encode_stored(d)[1])[0][8]
    )
    head, detail = encode_stored(decision)
    assert decode_stored(head, _with_own(detail, *_own(detail))) == decision  # the helpers lay details out alike
    forged = forge(detail)
    with pytest.raises(InvalidRecordError) as caught:
        decode_stored(head, forged)
    assert caught.value.reason == "corrupt_decision_detail"
    for read in (stored_reads, stored_delta):  # they may not need the damaged part, but never fail otherwise
        try:
            read(forged)
        except InvalidRecordError as error:
            assert error.reason == "corrupt_decision_detail"
