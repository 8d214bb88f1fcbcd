"""Stored decision format v3 (written now only by ``detail_v3``): exact round trips, older rows still read, damage
reported, no size regression against v2."""

from __future__ import annotations

import dataclasses
import struct
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.errors import InvalidRecordError
from connector.models import Account, Owner
from connector.routing.codec import (
    decode_stored,
    detail_v3,
    stored_delta,
    stored_reads,
)
from connector.routing.codec import (
    encode_stored as encode_v4,
)
from connector.routing.codec_legacy import detail_v2
from connector.routing.ledger import LedgerState
from connector.routing.model import (
    Assignment,
    Candidate,
    CountChange,
    CreditChange,
    Decision,
    LedgerDelta,
    LedgerEntry,
    OwnerRead,
    Reads,
    RoutingInput,
    Snapshot,
    StepResult,
    picks_from_candidates,
)

from .builders import MONDAY_3PM_UTC, decide, lead, rep, routing


def encode_stored(decision: Decision) -> tuple[str, bytes]:
    """The row as v3 wrote it: the same head, the v3 detail."""
    return encode_v4(decision)[0], detail_v3(decision)


NY = {"timezone": "America/New_York", "working_hours": "09:00-17:00"}
TOKYO = {"timezone": "Asia/Tokyo", "working_hours": "09:00-18:00"}


def _team() -> list[dict[str, Any]]:
    """Reps in three time zones, with PTO, caps and weights, so candidates are skipped for every kind of reason."""
    return [
        rep("owner@x.com", role="AE", team="East", **NY),
        rep("pal@x.com", role="AE", team="East", weight=2, **NY),
        rep("away@x.com", role="AE", team="East", pto=[{"start": "2026-11-23", "end": "2026-11-24"}], **NY),
        rep("sdr1@x.com", role="SDR", team="NA", **NY, caps={"per_day": 3}),
        rep("sdr2@x.com", role="SDR", team="NA", weight=1.5),
        rep("sdr3@x.com", role="SDR", team="NA", weight=0.5, territories=["US"]),
        rep("jp1@x.com", role="SDR", team="APAC", **TOKYO),
        rep("jp2@x.com", role="SDR", team="APAC", **TOKYO),
        rep("gone@x.com", role="SDR", team="NA", active=False),
    ]


POOLS = [
    {"name": "apac", "reps": ["jp1@x.com", "jp2@x.com"], "fallback": "na"},
    {"name": "na", "reps": ["sdr1@x.com", "sdr2@x.com", "sdr3@x.com", "gone@x.com"], "require": ["territory"]},
    {"name": "loaded", "reps": ["sdr1@x.com", "sdr2@x.com", "sdr3@x.com"], "strategy": "least_loaded"},
    {"name": "nobody", "reps": ["jp1@x.com", "away@x.com"]},
    {"name": "aes", "reps": ["owner@x.com", "pal@x.com", "away@x.com"], "outside_hours": "assign_anyway"},
]
RULES = [
    {"name": "japan", "when": {"country": ["JP"]}, "to": {"pool": "apac"}},
    {"name": "lost", "when": {"country": ["BR"]}, "to": {"pool": "nobody"}},
    {"name": "big", "when": {"employees": {"min": 1000}}, "to": {"rep": "away@x.com"}},
    {"name": "load", "when": {"country": ["FR"]}, "to": {"pool": "loaded"}},
    {"name": "us", "when": {"country": ["US", "CA"]}, "to": {"pool": "na"}},
]
STAGES = [
    {
        "name": "inbound",
        "steps": [
            {"kind": "named_accounts"},
            {"kind": "account_owner", "min_confidence": 0.8},
            {"kind": "rules", "rules": RULES},
        ],
        "secondary": "ae",
    },
    {"name": "ae", "steps": [{"kind": "account_owner", "roles": ["AE"]}, {"kind": "pool", "pool": "aes"}]},
    {"name": "empty", "steps": []},
]
NAMED = [{"name": "abm", "domains": ["globex.example"], "to": {"pool": "aes"}}]
COUNTRIES = ["US", "CA", "JP", "BR", "FR", "DE", None]


def _decisions(policy: str, count: int = 120) -> list[Decision]:
    """Real decisions from the cascade: 2-to-1, waterfalls, least-loaded and catch-up pools, final fallbacks."""
    config = routing(
        _team(), POOLS, stages=STAGES, named_accounts=NAMED, fairness={"pto_return": policy, "catch_up_limit": 1.5}
    )
    snapshot = Snapshot(
        {r["email"]: Owner(key=r["email"], email=r["email"], name=r["email"]) for r in _team()},
        open_leads={"sdr2@x.com": 4},
    )
    ledger, out = LedgerState(), []
    for n in range(count):
        account = None
        if n % 4 == 0:
            owner = ["owner@x.com", "away@x.com", "queue:hubspot:7", None, "stranger@x.com"][n // 4 % 5]
            account = Account(id=f"a:{n}", crm="hubspot", native_id=str(n), name="Acme", owner_key=owner)
        email_domain = "globex.example" if n % 17 == 0 else f"d{n}.example"
        inp = RoutingInput(
            lead(n, country=COUNTRIES[n % len(COUNTRIES)], employees=[10, 5000][n % 2], email_domain=email_domain),
            account,
            "domain" if account else None,
            0.9 if account else None,
        )
        now = MONDAY_3PM_UTC + timedelta(minutes=97 * n)
        out.append(
            decide(config, inp, snapshot=snapshot, ledger=ledger, now=now, stage="empty" if n % 23 == 0 else None)
        )
    return out


@pytest.fixture(scope="module")
def decisions() -> list[Decision]:
    return _decisions("resume") + _decisions("catch_up")


def _exactly(value: Any) -> list[bytes]:
    """Every float in ``value``, bit for bit and in order (``==`` takes -0.0 for 0.0)."""
    if isinstance(value, float):
        return [struct.pack("<d", value)]
    if dataclasses.is_dataclass(value):
        value = [getattr(value, f.name) for f in dataclasses.fields(value)]
    if isinstance(value, tuple | list):
        return [bits for item in value for bits in _exactly(item)]
    return []


def test_real_decisions_round_trip_exactly(decisions):
    details = set()
    for decision in decisions:
        _round_trips(decision)
        details.add(encode_stored(decision)[1][0])
    assert details == {3, 4}  # small details stay plain, the others are compressed


def test_a_large_detail_keeps_its_delta_in_a_frame_of_its_own():
    # From 16 KiB the delta is compressed apart, so that loading the ledger decompresses only it.
    team = [rep(f"rep{i}@big.example", weight=1 + i % 3) for i in range(300)]
    ledger = LedgerState()
    decisions = [decide(routing(team), lead(n), ledger=ledger) for n in range(3)]
    for decision in decisions:
        head, detail = encode_stored(decision)
        assert detail[0] == 5
        assert decode_stored(head, detail) == decision
        assert stored_delta(detail) == decision.delta
        assert stored_reads(detail) == decision.reads
    head, detail = encode_stored(decisions[-1])
    with pytest.raises(InvalidRecordError):
        stored_delta(detail[:12])  # cut inside the delta's frame
    with pytest.raises(InvalidRecordError):
        decode_stored(head, detail[:-40])  # cut inside the other frame


def test_the_sample_covers_every_shape_of_decision(decisions):
    kinds = {step.kind for d in decisions for step in d.trace}
    assert {"named_accounts", "account_owner", "rules", "pool", "final_fallback"} <= kinds
    assert any(d.secondary_owner for d in decisions)
    assert any(d.final_fallback for d in decisions)
    assert any(len(d.trace) == 1 for d in decisions)  # the stage without steps: only the final fallback
    assert any(c.credit is not None and c.code for d in decisions for s in d.trace for c in s.candidates)
    assert any(len(s.pools_tried) > 1 for d in decisions for s in d.trace)


def _large_team_decisions(count: int = 150) -> list[Decision]:
    """Decisions of a 40-rep team in eight pods and twelve rules: where most of the log's bytes come from."""
    zones = ["America/New_York", "Europe/Berlin", "Asia/Tokyo", "UTC"]
    reps = [
        rep(
            f"rep{i}@team.example",
            team=f"pod{i % 8}",
            timezone=zones[i % 4],
            working_hours="08:00-20:00",
            weight=1 + i % 3,
        )
        for i in range(40)
    ]
    pools = [
        {"name": f"pod{p}", "reps": [r["email"] for r in reps if r["team"] == f"pod{p}"], "fallback": "all"}
        for p in range(8)
    ]
    pools.append({"name": "all", "reps": [r["email"] for r in reps], "outside_hours": "assign_anyway"})
    countries = ["US", "DE", "JP", "FR", "GB", "BR"]
    rules = [
        {
            "name": f"r{n}",
            "when": {"country": [countries[n % 6]], "employees": {"min": 50 * n}},
            "to": {"pool": f"pod{n % 8}"},
        }
        for n in range(12)
    ]
    config = routing(reps, pools, [{"kind": "rules", "rules": rules}, {"kind": "pool", "pool": "all"}])
    ledger = LedgerState()
    return [
        decide(
            config,
            lead(n, country=countries[n % 6], employees=37 * n),
            ledger=ledger,
            now=MONDAY_3PM_UTC + timedelta(minutes=13 * n),
        )
        for n in range(count)
    ]


def test_v3_details_are_smaller_than_v2_for_a_large_team():
    decisions = _large_team_decisions()
    v3 = sum(len(encode_stored(d)[1]) for d in decisions)
    v2 = sum(len(detail_v2(d)) for d in decisions)
    assert v3 < v2


def test_v3_details_of_a_small_team_stay_close_to_v2(decisions):
    # zstd's frame costs a dozen bytes more than zlib's, which shows on details of a few hundred bytes.
    v3 = sum(len(encode_stored(d)[1]) for d in decisions)
    v2 = sum(len(detail_v2(d)) for d in decisions)
    assert v3 <= v2 * 1.08


@pytest.mark.parametrize(
    ("detail", "reason"),
    [
        (b"", "corrupt_decision_detail"),
        (b"\x09{}", "unknown_decision_format"),
        (b"\xff\x00\x00", "unknown_decision_format"),
        (b"\x03\x10\x00\x00\x00[]", "corrupt_decision_detail"),
        (b"\x04\x05\x00\x00\x00hello", "corrupt_decision_detail"),
        # a zstd frame header claiming a terabyte: refused before anything is allocated
        (b"\x04(\xb5/\xfd\xe0\x00\x00\x00\x00\x00\x01\x00\x00\x01\x00\x00", "corrupt_decision_detail"),
        (b"\x02not zlib", "corrupt_decision_detail"),
        (b"\x78\x9cnot zlib either", "corrupt_decision_detail"),
    ],
)
def test_damaged_or_unknown_details_raise_a_clear_error(detail, reason):
    head, _detail = encode_stored(_decision(()))
    for read in (stored_delta, stored_reads, lambda d: decode_stored(head, d)):
        with pytest.raises(InvalidRecordError) as caught:
            read(detail)
        assert caught.value.reason == reason


def test_a_truncated_or_altered_v3_detail_is_reported_not_misread(decisions):
    big = max(decisions, key=lambda d: len(encode_stored(d)[1]))
    head, detail = encode_stored(big)
    assert detail[0] == 4
    altered = bytearray(detail)
    altered[-9] ^= 0x40  # inside the last frame: its checksum no longer matches
    for damaged in (detail[: len(detail) // 2], detail[:-1], bytes(altered)):
        with pytest.raises(InvalidRecordError):
            decode_stored(head, damaged)
        with pytest.raises(InvalidRecordError):
            stored_reads(damaged)


def test_equal_steps_that_are_distinct_objects_encode_alike():
    # The encoder remembers steps by identity; a different object with other content must not borrow their JSON.
    first = _decision((StepResult("s", "rules", "rules", "no_match", "country is FR", rule="r1"),))
    second = _decision((StepResult("s", "rules", "rules", "no_match", "country is DE", rule="r1"),))
    for decision in (first, second, first):
        assert decode_stored(*encode_stored(decision)) == decision


# ---- generated decisions ----------------------------------------------------------------------------------------

_TEXT = st.text(max_size=12)
_FLOATS = st.floats(allow_nan=False, width=64)  # NaN is never equal to itself; infinities and -0.0 are exact too
_INTS = st.integers(-(2**63), 2**63 - 1)
_OPTIONAL_TEXT = st.none() | _TEXT


def _candidates(pools: st.SearchStrategy[str | None] = _OPTIONAL_TEXT) -> st.SearchStrategy[Candidate]:
    return st.builds(
        Candidate, _TEXT, st.booleans(), pools, _OPTIONAL_TEXT, _OPTIONAL_TEXT, _FLOATS, st.none() | _FLOATS
    )


def _steps(candidates: st.SearchStrategy[Candidate] | None = None) -> st.SearchStrategy[StepResult]:
    outcomes = st.sampled_from(["assigned", "no_match", "unavailable", "skipped"])
    return st.builds(
        StepResult,
        st.sampled_from(["inbound", "ae"]),
        st.sampled_from(["rules", "pool", "account continuity"]),
        st.sampled_from(["rules", "pool", "account_owner"]),
        outcomes,
        _TEXT,
        rule=_OPTIONAL_TEXT,
        pool=_OPTIONAL_TEXT,
        pools_tried=st.tuples() | st.tuples(_TEXT) | st.tuples(_TEXT, _TEXT),
        picks=st.lists(_candidates() if candidates is None else candidates, max_size=4).map(picks_from_candidates),
        owner=_OPTIONAL_TEXT,
    )


@st.composite
def _traces(draw: Any, steps_from: st.SearchStrategy[StepResult] | None = None) -> tuple[StepResult, ...]:
    """Steps, some repeated as the very same object (as the cascade shares the rules that did not apply)."""
    steps = draw(st.lists(_steps() if steps_from is None else steps_from, max_size=6))
    if steps and draw(st.booleans()):
        steps += [steps[0]] * draw(st.integers(1, 3))
    return tuple(draw(st.permutations(steps)))


_READS = st.builds(
    Reads,
    st.lists(st.tuples(_TEXT, _TEXT, st.builds(LedgerEntry, _FLOATS, _FLOATS, _INTS)), max_size=5).map(tuple),
    st.lists(st.tuples(_TEXT, _TEXT, _INTS), max_size=4).map(tuple),
    st.lists(st.builds(OwnerRead, _TEXT, st.booleans(), st.booleans(), _INTS), max_size=4).map(tuple),
    st.booleans(),
)
_DELTAS = st.builds(
    LedgerDelta,
    st.lists(st.builds(CreditChange, _TEXT, _TEXT, _FLOATS, _FLOATS, _INTS), max_size=5).map(tuple),
    st.lists(st.builds(CountChange, _TEXT, _TEXT, _INTS), max_size=4).map(tuple),
)


_NO_READS, _NO_DELTA = Reads(), LedgerDelta()


def _decision(trace: tuple[StepResult, ...], reads: Reads = _NO_READS, delta: LedgerDelta = _NO_DELTA) -> Decision:
    owner = Assignment("primary", "inbound", "a@x.com", "A", "pool")
    return Decision(
        "hubspot:contacts:1",
        "inbound",
        datetime(2026, 11, 23, 15, tzinfo=UTC),
        "v1",
        RoutingInput(lead(1)),
        trace,
        (owner,),
        delta,
        reads,
    )


@st.composite
def _aligned_reads(draw: Any, trace: tuple[StepResult, ...]) -> Reads:
    """Reads whose credit reads start with the trace's candidates and whose owner keys end with their reps, as a
    pool pick reads them (the encoder then stores the candidates' keys as a count and the owner keys in part)."""
    candidates = [c for step in trace for c in step.candidates]
    extra = draw(st.lists(st.tuples(_TEXT, _TEXT), max_size=2))
    credits = tuple(
        (pool, rep, LedgerEntry(draw(_FLOATS), draw(_FLOATS), draw(_INTS)))
        for pool, rep in [(c.pool, c.rep) for c in candidates] + extra
    )
    owners = tuple(
        OwnerRead(key, draw(st.booleans()), True, draw(st.sampled_from([0, 0, 3])))
        for key in [*draw(st.lists(_TEXT, max_size=2)), *(c.rep for c in candidates)]
    )
    return Reads(credits, (), owners, True)


def _round_trips(decision: Decision) -> None:
    head, detail = encode_stored(decision)
    back = decode_stored(head, detail)
    assert back == decision
    assert _exactly(back) == _exactly(decision)
    assert stored_reads(detail) == decision.reads
    assert stored_delta(detail) == decision.delta


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_traces(), _READS, _DELTAS)
def test_generated_decisions_round_trip_exactly(trace, reads, delta):
    _round_trips(_decision(trace, reads, delta))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), _traces(_steps(_candidates(pools=_TEXT))), _DELTAS)
def test_generated_decisions_whose_reads_repeat_the_candidates_round_trip_exactly(data, trace, delta):
    _round_trips(_decision(trace, data.draw(_aligned_reads(trace)), delta))


def test_a_v1_row_is_a_zlib_stream():
    # Old rows are told apart from v2/v3 by their first byte; zlib streams at level 1 start with 0x78.
    assert zlib.compress(b"x" * 600, 1)[0] == 0x78
