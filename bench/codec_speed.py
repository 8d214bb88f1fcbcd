"""CPU per decision to store and read back routing decisions (the decision log's detail formats v5, v4 and v3).

    python bench/codec_speed.py [--leads 5000] [--reps 300] [--rules 50] [--accounts 50000]

Routes the same synthetic leads as bench/routing_speed.py (the team, rules and accounts are built by its functions)
with the cascade and an in-memory ledger, and right after each decision (while it is still in the CPU's caches,
as in the router) times ``encode_stored`` (v5) and, for comparison, the v4 and v3 encoders. Then it times reading
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

from routing_speed import build_accounts, build_config, build_inputs, calibration

from connector.models import Owner
from connector.routing import codec
from connector.routing.cascade import route
from connector.routing.ledger import LedgerState
from connector.routing.model import Decision, Snapshot


def encode_v3(decision: Decision) -> tuple[str, bytes]:
    """What ``encode_stored`` wrote before v4: the same head, the v3 detail."""
    return codec.dumps({name: getattr(decision, name) for name in codec._HEAD}), codec.detail_v3(decision)


def encode_v4(decision: Decision) -> tuple[str, bytes]:
    """What ``encode_stored`` wrote before v5: the same head, the v4 detail."""
    return codec.dumps({name: getattr(decision, name) for name in codec._HEAD}), codec.detail_v4(decision)


@dataclass
class Encoder:
    """An encoder under test, the rows it wrote and the CPU seconds it took."""

    encode: Callable[[Decision], tuple[str, bytes]]
    rows: list[tuple[str, bytes]] = field(default_factory=list)
    cpu: float = 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=5_000)
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--accounts", type=int, default=50_000)
    args = parser.parse_args()
    rng = random.Random(7)
    config = build_config(args.reps, args.rules, rng)
    inputs = build_inputs(args.leads, build_accounts(args.accounts, args.reps, rng), rng)
    snapshot = Snapshot({r.email: Owner(key=r.email, email=r.email, name=r.email) for r in config.reps})
    ledger, start = LedgerState(), datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    encoders = {"v5": Encoder(codec.encode_stored), "v4": Encoder(encode_v4), "v3": Encoder(encode_v3)}
    turns = list(encoders.values())
    clock = time.process_time
    for i, inp in enumerate(inputs):
        decision = route(inp, snapshot, config, ledger, start + timedelta(seconds=i * 2), config_version="bench")
        ledger.apply(decision.delta)
        # Whichever encoder runs first finds the decision's objects out of the CPU's caches: take turns.
        for encoder in turns[i % 3 :] + turns[: i % 3]:
            started = clock()
            encoder.rows.append(encoder.encode(decision))
            encoder.cpu += clock() - started
    per = 1e6 / args.leads
    print(f"reps={args.reps} rules={args.rules} accounts={args.accounts} leads={args.leads}")
    v5, v4, v3 = (encoders[name].cpu * per for name in ("v5", "v4", "v3"))
    print(f"encode_stored: v5 {v5:6.1f} us/decision   (v4 {v4:6.1f} us, v3 {v3:6.1f} us)")
    for name, encoder in encoders.items():
        head, detail = mean(len(h.encode()) for h, _ in encoder.rows), mean(len(d) for _, d in encoder.rows)
        print(f"stored bytes {name}: {head + detail:,.0f} per decision (head {head:,.0f} + detail {detail:,.0f})")
    for name, encoder in encoders.items():
        reads = read_back(encoder.rows)
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
