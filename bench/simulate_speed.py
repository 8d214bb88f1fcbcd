"""Time to simulate a candidate rule file over 100,000 historical leads read from the decision log.

    python bench/simulate_speed.py [--leads 100000] [--db PATH]

Uses the demo team's rule file (config/leadrelay.example.yaml). The history is made once by routing synthetic
leads over 30 days through the real router (logged to SQLite; kept when --db is given, so later runs skip it);
the candidate file is the same team with the `resume` PTO policy switched to `catch_up` and the DACH rule removed.
The timed part is what `leadrelay simulate` does: stream the history out of SQLite, decode inputs and reads, route
every lead again with a fresh ledger, and build the side-by-side report.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from connector.config import load_config, parse_config
from connector.db import connect
from connector.logs import configure
from connector.models import Account, Lead
from connector.routing.model import RoutingInput, Snapshot
from connector.routing.router import Router
from connector.routing.simulate import simulate
from connector.routing.store import history_since

EXAMPLE = Path(__file__).parents[1] / "config" / "leadrelay.example.yaml"
COUNTRIES = ["US", "US", "US", "CA", "GB", "DE", "AT", "FR", "NL", "SE", "ES", "AU", "SG", "JP", "BR", "MX"]
STATES = ["NY", "CA", "TX", "MA", "WA", "IL", "FL", "CO"]
START = datetime(2026, 10, 1, tzinfo=UTC)


def make_history(db_path: Path, leads: int) -> None:
    """Route ``leads`` synthetic leads over 30 days with the example file and log them."""
    loaded = load_config(EXAMPLE)
    router = Router(connect(db_path), loaded.config.routing, config_version=loaded.version)
    rng = random.Random(11)
    reps = [r.email for r in loaded.config.routing.reps]
    step = timedelta(days=30) / leads
    batch: list[RoutingInput] = []
    for n in range(leads):
        batch.append(_input(n, rng, reps))
        if len(batch) == 200 or n == leads - 1:
            router.route_many(batch, Snapshot(), START + step * n)
            batch = []


def _input(n: int, rng: random.Random, reps: list[str]) -> RoutingInput:
    country = rng.choice(COUNTRIES)
    lead = Lead(
        id=f"hubspot:contacts:{n}",
        crm="hubspot",
        native_id=str(n),
        object="contacts",
        email=f"p{n}@c{n % 4000}.example",
        email_domain=f"c{n % 4000}.example",
        country=country,
        state=rng.choice(STATES) if country == "US" else None,
        employees=rng.choice([8, 40, 250, 900, 3000]),
        language=rng.choice(["en", "en", "de", "fr", "es"]),
        source=rng.choice(["web", "webinar", "event"]),
        products=(rng.choice(["core", "analytics", "enterprise-security"]),),
    )
    account = None
    if n % 4 == 0:
        account = Account(
            id=f"hubspot:companies:{n % 4000}",
            crm="hubspot",
            native_id=str(n % 4000),
            name=f"Company {n % 4000}",
            domain=f"c{n % 4000}.example",
            country=country,
            owner_key=rng.choice(reps),
        )
    return RoutingInput(
        lead,
        account,
        "domain" if account else None,
        0.95 if account else None,
        fit=rng.choice("ABCD"),
        activity=rng.choice("1234"),
    )


def candidate_text() -> str:
    """The example file with a different PTO policy and without the DACH rule."""
    text = EXAMPLE.read_text(encoding="utf-8").replace("pto_return: resume", "pto_return: catch_up")
    return text.replace(
        "            - name: dach\n              when: {region: [dach]}\n              to: {pool: sdr-dach}\n", ""
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--db", type=Path, default=None, help="keep the history here (reused when it exists)")
    args = parser.parse_args()
    configure(json=True, level="WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        db_path = args.db or Path(tmp) / "history.sqlite"
        db = connect(db_path)
        have = 0
        if db["routing_decisions"].exists():
            have = db.conn.execute("SELECT COUNT(*) FROM routing_decisions").fetchone()[0]
        if have < args.leads:
            started = time.perf_counter()
            make_history(db_path, args.leads - have)
            print(f"history: routed and logged {args.leads - have} leads in {time.perf_counter() - started:.1f} s")
        candidate = parse_config(candidate_text()).config.routing
        started, cpu_started = time.perf_counter(), time.process_time()
        report = simulate(candidate, history_since(db, START - timedelta(days=1)))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    moved = sum(1 for c in report.changes if c.route_changed)
    print(
        f"simulated {report.total} leads: {len(report.changes)} change owner ({moved} by a different route, the rest"
        f" by rotation), {len(report.fallbacks)} reach the final fallback (before: {report.fallbacks_before})"
    )
    print(f"wall: {elapsed:.1f} s ({report.total / elapsed:,.0f} leads/s)")
    print(f"cpu:  {cpu:.1f} s ({report.total / cpu:,.0f} leads per CPU-second)")


if __name__ == "__main__":
    main()
