"""Routing decisions per second: 300 reps, 50 rules, 50,000 accounts, every decision logged to SQLite.

    python bench/routing_speed.py [--reps 300] [--rules 50] [--accounts 50000] [--leads 20000] [--batch 1]
                                  [--collector daemon|default] [--young N] [--rows encoded|constant]

Each decision runs the whole cascade (named accounts, account continuity with pod fallback, the rules, the
default pool's waterfall), checks every candidate's hours / PTO / holidays / caps, updates the fairness ledger and
writes the decision (inputs, trace, candidates, ledger reads and delta) in its own SQLite transaction (--batch 1,
as a daemon routing leads one by one) or in transactions of --batch leads (a bulk import). The ledger is
checkpointed as the router does in production (every 1,000 decisions). A second, untimed-by-the-headline pass
routes the same leads with the cascade alone (no SQLite) to split the cost into decision logic and logging, and
times encoding those decisions (the row's JSON head and compressed detail) on its own.

After loading the team, accounts and inputs, and before the timed part, the collector is set up as the daemon does
after loading (``connector.heap``: settle the loaded data, tune the thresholds); ``--collector default`` leaves the
interpreter's collector as it is (the A/B baseline). The collections that ran during the timed part (per generation,
with their milliseconds) are printed either way.

``--rows constant`` is a measuring device, not a mode of leadrelay: every decision is logged as the first decision's
row (the same head and detail bytes), so the run shows what the cascade, the ledger and SQLite cost with the row
encoding taken out: the ceiling that any faster encoder (compiled or not) could reach on this machine.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connector import heap
from connector.config.routing import RoutingConfig
from connector.db import connect
from connector.logs import configure
from connector.models import Account, Lead, Owner
from connector.routing import store
from connector.routing.cascade import route
from connector.routing.codec import encode_stored
from connector.routing.ledger import LedgerState
from connector.routing.model import Decision, RoutingInput, Snapshot
from connector.routing.router import Router

ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "Asia/Singapore",
    "Australia/Sydney",
    "America/Sao_Paulo",
    "Asia/Tokyo",
]
COUNTRIES = ["US", "CA", "GB", "DE", "FR", "NL", "ES", "IT", "SE", "AU", "SG", "JP", "BR", "MX", "IN"]
US_STATES = ["NY", "CA", "TX", "MA", "IL", "WA", "FL", "GA", "CO", "NJ"]
INDUSTRIES = ["software", "retail", "finance", "health", "manufacturing", "education"]
TEAMS = 20


def build_config(reps: int, rules: int, rng: random.Random) -> RoutingConfig:
    """A large synthetic team: ``reps`` reps in 20 pods, a pool per pod, ``rules`` rules over lead fields."""
    rep_rows: list[dict[str, Any]] = []
    for i in range(reps):
        team = i % TEAMS
        rep_rows.append(
            {
                "email": f"rep{i}@bench.example",
                "role": "AE" if i % 3 == 0 else "SDR",
                "team": f"pod{team}",
                "timezone": ZONES[team % len(ZONES)],
                "working_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                "working_hours": "06:00-22:00" if i % 4 else "00:00-24:00",
                "languages": ["en"],
                "territories": [COUNTRIES[team % len(COUNTRIES)]],
                "weight": rng.choice([0.5, 1.0, 1.0, 1.5, 2.0]),
                "caps": {"per_day": 400} if i % 5 == 0 else {},
                "pto": [{"start": "2026-11-23", "end": "2026-11-24"}] if i % 29 == 0 else [],
                "holidays": {"country": "US"} if ZONES[team % len(ZONES)].startswith("America/") and i % 2 else None,
            }
        )
    pools = [
        {"name": f"pod{t}", "reps": [r["email"] for r in rep_rows if r["team"] == f"pod{t}"], "fallback": "global"}
        for t in range(TEAMS)
    ]
    pools.append({"name": "global", "reps": [r["email"] for r in rep_rows[::10]], "outside_hours": "assign_anyway"})
    rule_rows = [_rule(n, rng) for n in range(rules)]
    named = [{"name": "abm", "domains": [f"acct{i}.example" for i in range(0, 50_000, 500)], "to": {"pool": "pod0"}}]
    return RoutingConfig.model_validate(
        {
            "reps": rep_rows,
            "pools": pools,
            "named_accounts": named,
            "stages": [
                {
                    "name": "inbound",
                    "steps": [
                        {"kind": "named_accounts"},
                        {"kind": "account_owner", "min_confidence": 0.8},
                        {"kind": "rules", "rules": rule_rows},
                        {"kind": "pool", "pool": "global"},
                    ],
                }
            ],
            "final_fallback": {"owner": "queue:hubspot:1"},
        }
    )


def _rule(n: int, rng: random.Random) -> dict[str, Any]:
    when: dict[str, Any] = {"country": rng.sample(COUNTRIES, 2)}
    if n % 3 == 0:
        when["employees"] = {"min": rng.choice([10, 200, 1000])}
    if n % 4 == 0:
        when["industry"] = rng.sample(INDUSTRIES, 2)
    if n % 5 == 0:
        when["fit"] = ["A", "B"]
    if n % 7 == 0:
        when = {"country": ["US"], "state": [f"US-{s}" for s in rng.sample(US_STATES, 3)]}
    return {"name": f"rule{n}", "when": when, "to": {"pool": f"pod{n % TEAMS}"}}


def build_accounts(count: int, reps: int, rng: random.Random) -> list[Account]:
    """``count`` accounts, four in five owned by a rep."""
    return [
        Account(
            id=f"hubspot:companies:{i}",
            crm="hubspot",
            native_id=str(i),
            name=f"Account {i}",
            domain=f"acct{i}.example",
            country=rng.choice(COUNTRIES),
            employees=rng.randint(1, 20_000),
            industry=rng.choice(INDUSTRIES),
            owner_key=f"rep{rng.randrange(reps)}@bench.example" if i % 5 else None,
        )
        for i in range(count)
    ]


def build_inputs(count: int, accounts: list[Account], rng: random.Random) -> list[RoutingInput]:
    """Leads: a third matched to an account, the rest routed by rules."""
    out = []
    for n in range(count):
        country = rng.choice(COUNTRIES)
        lead = Lead(
            id=f"hubspot:contacts:{n}",
            crm="hubspot",
            native_id=str(n),
            object="contacts",
            email=f"p{n}@lead{n % 997}.example",
            email_domain=f"lead{n % 997}.example",
            country=country,
            state=rng.choice(US_STATES) if country == "US" else None,
            employees=rng.randint(1, 20_000),
            industry=rng.choice(INDUSTRIES),
            source="web",
        )
        account = rng.choice(accounts) if n % 3 == 0 else None
        out.append(
            RoutingInput(
                lead,
                account,
                "domain" if account else None,
                0.95 if account else None,
                fit=rng.choice("ABCD"),
                activity=rng.choice("1234"),
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1, help="decisions per SQLite transaction")
    parser.add_argument("--db", type=Path, default=None, help="database file (default: a temporary one)")
    parser.add_argument(
        "--collector",
        choices=("daemon", "default"),
        default="daemon",
        help="daemon: settle and tune as the daemon does after loading; default: the interpreter's collector",
    )
    parser.add_argument("--young", type=int, default=None, help="young-generation threshold instead of the policy's")
    parser.add_argument(
        "--rows",
        choices=("encoded", "constant"),
        default="encoded",
        help="constant: log every decision as the first one's row (the cost without encoding; see the docstring)",
    )
    args = parser.parse_args()
    if args.rows == "constant":
        store.encode_stored = _first_row_every_time(store.encode_stored)
    configure(json=True, level="WARNING")  # info events (one per lead) are filtered, as in a quiet daemon
    rng = random.Random(7)
    config = build_config(args.reps, args.rules, rng)
    accounts = build_accounts(args.accounts, args.reps, rng)
    inputs = build_inputs(args.leads, accounts, rng)
    snapshot = Snapshot({r.email: Owner(key=r.email, email=r.email, name=r.email) for r in config.reps})
    with tempfile.TemporaryDirectory() as tmp:
        router = Router(connect(args.db or Path(tmp) / "bench.sqlite"), config, config_version="bench")
        collector_setup = set_up_collector(args.collector, args.young)
        start_clock = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
        with heap.watch_collector() as collections:
            started, cpu_started = time.perf_counter(), time.process_time()
            for i in range(0, len(inputs), args.batch):
                now = start_clock + timedelta(seconds=i * 2)  # a lead every two seconds (a batch shares its instant)
                router.route_many(inputs[i : i + args.batch], snapshot, now)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        rows = router.db.conn.execute(
            "SELECT COUNT(*), SUM(final_fallback), AVG(LENGTH(payload) + COALESCE(LENGTH(trace_z), 0))"
            " FROM routing_decisions"
        ).fetchone()
    print(f"python {sys.version.split()[0]} ({sys.executable}); {sys.version}")
    print(
        f"reps={args.reps} rules={args.rules} accounts={args.accounts} leads={args.leads} batch={args.batch}"
        f" rows={args.rows}"
    )
    print(f"collector: {collector_setup}")
    print(f"collections during the timed part: {collections.render()}")
    print(f"decisions logged: {rows[0]} (final fallback: {rows[1]}), {rows[2]:,.0f} bytes stored per decision")
    print(f"wall: {elapsed:.2f} s -> {args.leads / elapsed:,.0f} routing decisions/s")
    print(f"cpu:  {cpu:.2f} s -> {args.leads / cpu:,.0f} routing decisions per CPU-second (one core)")
    logic, encoding = cascade_only(inputs, config, snapshot, start_clock, batch=args.batch)
    per_lead = 1e6 / args.leads
    print(
        f"split: cascade {logic * per_lead:,.0f} us/decision, logging + ledger + transaction"
        f" {(cpu - logic) * per_lead:,.0f} us/decision (CPU), of which encoding the row {encoding * per_lead:,.0f} us"
    )
    print(f"machine calibration: {calibration():.3f} CPU-s for 10M loop additions (a 2023 laptop: about 0.4 s)")


def _first_row_every_time(encode: Callable[[Decision], tuple[str, bytes]]) -> Callable[[Decision], tuple[str, bytes]]:
    """``encode`` for the first decision; that decision's row, unchanged, for every later one (``--rows constant``)."""
    first: list[tuple[str, bytes]] = []

    def constant(decision: Decision) -> tuple[str, bytes]:
        if not first:
            first.append(encode(decision))
        return first[0]

    return constant


def set_up_collector(mode: str, young: int | None) -> str:
    """Set the collector up as ``mode`` says (after loading, before timing); returns a line saying what was done."""
    if mode == "default":
        if young is not None:
            gc.set_threshold(young, *gc.get_threshold()[1:])
        return f"the interpreter's (nothing frozen), thresholds {gc.get_threshold()}"
    heap.tune_collector()
    if young is not None:
        gc.set_threshold(young, *heap.OLDER_THRESHOLDS)
    done = heap.settle("bench")
    return (
        f"settled as the daemon does after loading: {done.frozen:,} objects frozen"
        f" ({done.collected} garbage collected) in {done.ms:.0f} ms; thresholds {gc.get_threshold()}"
    )


def cascade_only(
    inputs: list[RoutingInput], config: RoutingConfig, snapshot: Snapshot, start: datetime, *, batch: int
) -> tuple[float, float]:
    """CPU seconds to route ``inputs`` (at the main pass's instants) with the cascade and an in-memory ledger only,
    and, timed apart from that, CPU seconds to encode those decisions as the decision log stores them."""
    ledger = LedgerState()
    encoding = 0.0
    cpu_started = time.process_time()
    for i, inp in enumerate(inputs):
        now = start + timedelta(seconds=(i - i % batch) * 2)
        decision = route(inp, snapshot, config, ledger, now, config_version="bench")
        ledger.apply(decision.delta)
        encode_started = time.process_time()
        encode_stored(decision)
        encoding += time.process_time() - encode_started
    return time.process_time() - cpu_started - encoding, encoding


def calibration() -> float:
    """CPU seconds for a fixed pure-Python loop, to compare figures taken on different (or busy) machines."""
    started = time.process_time()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.process_time() - started


if __name__ == "__main__":
    main()
