"""CPU per decision to store and read back routing decisions (the decision log's detail formats v5, v4 and v3).

    python bench/codec_speed.py [--leads 5000] [--reps 300] [--rules 50] [--accounts 50000] [--collector settle]

Routes the same synthetic leads as bench/routing_speed.py (the team, rules and accounts are built by its functions)
with the cascade and an in-memory ledger, and right after each decision (while it is still in the CPU's caches,
as in the router) times the detail encoders (v5, which ``encode_stored`` writes, and for comparison v4 and v3) and
the head ``encode_stored`` adds to any of them. Then it times reading
every stored row back: the delta only (``stored_delta``, for loading the ledger) as the first read after a restart
does, the whole decision (``decode_stored``, for explain), the reads only (``stored_reads``, for simulate) and the
delta again (the shared parts read before), and prints the bytes stored per decision.
Figures are CPU microseconds per decision (``time.process_time``), so a busy machine inflates them less than wall time.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import mean

sys.path.insert(0, str(Path(__file__).resolve().parent))

from routing_speed import build_accounts, build_config, build_inputs, calibration, set_up_collector

from connector.models import Owner
from connector.routing import codec, codec_v4, codec_v5
from connector.routing.cascade import route
from connector.routing.ledger import LedgerState
from connector.routing.model import Decision, Snapshot


def head_of(decision: Decision) -> str:
    """The head ``encode_stored`` writes (the same in every format)."""
    return codec.dumps({name: getattr(decision, name) for name in codec._HEAD})


@dataclass
class Encoder:
    """A detail encoder under test, the details it wrote and the CPU seconds it took."""

    detail: Callable[[Decision], bytes]
    details: list[bytes] = field(default_factory=list)
    cpu: float = 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=5_000)
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--collector", choices=["settle", "default"], default="settle")
    args = parser.parse_args()
    rng = random.Random(7)
    config = build_config(args.reps, args.rules, rng)
    inputs = build_inputs(args.leads, build_accounts(args.accounts, args.reps, rng), rng)
    snapshot = Snapshot({r.email: Owner(key=r.email, email=r.email, name=r.email) for r in config.reps})
    ledger, start = LedgerState(), datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    # As the daemon does after loading: otherwise collections walking the 50,000 accounts land on whichever
    # encoder happens to be running.
    collector = set_up_collector(args.collector, None)
    # ``encode_stored`` is the head and the detail: the head is timed apart, once (it is the same in every format).
    head = Encoder(lambda d: head_of(d).encode())
    encoders = {"v5": Encoder(codec_v5.detail_v5), "v4": Encoder(codec.detail_v4), "v3": Encoder(codec.detail_v3)}
    turns = [head, *encoders.values()]
    # v5 and v4 share their steps and rosters chunks (compressed when new, then remembered): timed once, apart,
    # before the encoders (each then finds them remembered), and counted in both formats' figures.
    shared_cpu = 0.0
    clock = time.process_time
    for i, inp in enumerate(inputs):
        decision = route(inp, snapshot, config, ledger, start + timedelta(seconds=i * 2), config_version="bench")
        ledger.apply(decision.delta)
        started = clock()
        codec_v4.shared_parts(decision.trace)
        shared_cpu += clock() - started
        # Whichever encoder runs first finds the decision's objects out of the CPU's caches: take turns.
        for encoder in turns[i % 4 :] + turns[: i % 4]:
            started = clock()
            encoder.details.append(encoder.detail(decision))
            encoder.cpu += clock() - started
    per = 1e6 / args.leads
    print(f"reps={args.reps} rules={args.rules} accounts={args.accounts} leads={args.leads}")
    print(f"collector: {collector}")
    shared = shared_cpu * per
    v5, v4 = (shared + encoders[name].cpu * per for name in ("v5", "v4"))
    v3 = encoders["v3"].cpu * per
    print(f"detail encode: v5 {v5:6.1f} us/decision   (v4 {v4:6.1f} us, v3 {v3:6.1f} us)")
    print(f"  of v5's and v4's: {shared:6.1f} us making their shared steps and rosters chunks when new")
    print(f"encode_stored: v5 {head.cpu * per + v5:6.1f} us/decision   (the head {head.cpu * per:6.1f} us of it)")
    heads = [h.decode() for h in head.details]
    head_bytes = mean(map(len, head.details))
    for name, encoder in encoders.items():
        detail = mean(map(len, encoder.details))
        total = head_bytes + detail
        print(f"stored bytes {name}: {total:,.0f} per decision (head {head_bytes:,.0f} + detail {detail:,.0f})")
    for name, encoder in encoders.items():
        reads = read_back(list(zip(heads, encoder.details, strict=True)))
        print(f"read back {name}: " + "   ".join(f"{label} {cpu * per:6.1f} us" for label, cpu in reads))
    print(f"machine calibration: {calibration():.3f} CPU-s for 10M loop additions (a 2023 laptop: about 0.4 s)")


def read_back(rows: list[tuple[str, bytes]]) -> list[tuple[str, float]]:
    """CPU seconds to read every row's delta (first read), the whole row, its reads only and its delta again."""
    out = []
    for label, read in (
        # First, as loading the ledger after a restart does: nothing read before, so v4's shared parts are new.
        ("stored_delta first", lambda row: codec.stored_delta(row[1])),
        ("decode_stored", lambda row: codec.decode_stored(*row)),
        ("stored_reads", lambda row: codec.stored_reads(row[1])),
        ("stored_delta", lambda row: codec.stored_delta(row[1])),
    ):
        started = time.process_time()
        for row in rows:
            read(row)
        out.append((label, time.process_time() - started))
    return out


if __name__ == "__main__":
    main()
