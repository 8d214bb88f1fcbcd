"""The decision log's detail formats before v3: read for the rows they wrote; written only by tests and benchmarks.

v1 (no tag: a zlib stream, whose first byte is 0x78): zlib-compressed JSON ``[trace, reads, delta]``, one
    positional row per step, credit read, owner read and change.
v2 (tags 1 and 2): the same three parts as JSON, plain (1, under 512 bytes) or zlib-compressed (2); a step
    continuing the one before it (same stage, step, kind and outcome: the rules that did not apply) keeps only its
    detail and rule, and an owner read saying only "exists, active, no open leads" is just its key.
"""

from __future__ import annotations

import zlib
from typing import Any

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
    StepResult,
    picks_from_candidates,
)

V2_PLAIN = 1
V2_ZLIB = 2
V1_FIRST = 0x78  # a zlib stream's first byte
_LEVEL = 1  # zlib level
_V2_COMPRESS_FROM = 512


def detail_v1(decision: Decision) -> bytes:
    """The detail as v1 wrote it; kept so tests can write such rows."""
    rows = [[_step_row(step) for step in decision.trace], _reads_row(decision.reads), _delta_row(decision.delta)]
    return zlib.compress(orjson.dumps(rows), _LEVEL)


def detail_v2(decision: Decision) -> bytes:
    """The detail as v2 wrote it; kept so tests and benchmarks can write such rows."""
    detail = orjson.dumps([_trace_v2(decision.trace), _reads_v2(decision.reads), _delta_row(decision.delta)])
    if len(detail) < _V2_COMPRESS_FROM:
        return bytes((V2_PLAIN,)) + detail
    return bytes((V2_ZLIB,)) + zlib.compress(detail, _LEVEL)


def detail_parts(detail_z: bytes) -> tuple[tuple[StepResult, ...], Reads, LedgerDelta]:
    """Trace, reads and delta of a v1 or v2 detail."""
    version, (trace, reads, delta) = _unpacked(detail_z)
    if version == 2:
        return _trace_from_v2(trace), _reads_from_v2(reads), _delta_from_row(delta)
    return tuple(_step_from_row(row) for row in trace), _reads_from_row(reads), _delta_from_row(delta)


def reads_part(detail_z: bytes) -> Reads:
    """Only the reads of a v1 or v2 detail."""
    version, parts = _unpacked(detail_z)
    return _reads_from_v2(parts[1]) if version == 2 else _reads_from_row(parts[1])


def delta_part(detail_z: bytes) -> LedgerDelta:
    """Only the delta of a v1 or v2 detail (the same in both)."""
    return _delta_from_row(_unpacked(detail_z)[1][2])


def _unpacked(detail_z: bytes) -> tuple[int, list[Any]]:
    """A v1 or v2 detail's format version and its three parts, still in their stored (row) form."""
    tag = detail_z[0]
    if tag == V2_PLAIN:
        return 2, orjson.loads(detail_z[1:])
    if tag == V2_ZLIB:
        return 2, orjson.loads(zlib.decompress(detail_z[1:]))
    return 1, orjson.loads(zlib.decompress(detail_z))


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
        picks=picks_from_candidates(Candidate(*c) for c in candidates),
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
