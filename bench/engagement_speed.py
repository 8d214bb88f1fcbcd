"""Engagement analytics speed: owner-attributed first touches and the report over synced activities and deals.

Builds N routed HubSpot leads over 30 days (20 reps), ``--activities`` activities per lead (tasks, calls, emails,
meetings by the owner or someone else, before and after routing, each linked to the lead) and a deal on one lead
in ten (half of them won), written through the cache's own upsert. Then times ``detect_first_touches`` (every
assignment of the last 30 days) and ``metrics.compute`` + HTML (meeting rate and the deal funnel per lead).

    python bench/engagement_speed.py --leads 100000 --activities 5
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from connector.analytics import store  # noqa: E402
from connector.analytics.metrics import compute  # noqa: E402
from connector.analytics.report_html import render_html  # noqa: E402
from connector.analytics.touches import detect_first_touches  # noqa: E402
from connector.cache import writes  # noqa: E402
from connector.cache.schema import migrate_cache  # noqa: E402
from connector.config.routing import RoutingConfig  # noqa: E402
from connector.crm import ActivityRecord, DealRecord  # noqa: E402
from connector.db import connect, transaction  # noqa: E402
from connector.pipeline import intake  # noqa: E402
from connector.routing.store import ensure_schema  # noqa: E402

T = TypeVar("T")
START = 1_790_000_000_000
MINUTE = 60_000
REPS = [f"rep{i}@bench.io" for i in range(20)]
KINDS = (("tasks", "task"), ("calls", "call"), ("emails", "email"), ("meetings", "meeting"))
ROUTING = RoutingConfig.model_validate(
    {
        "final_fallback": {"owner": "queue:hubspot:1", "name": "Queue"},
        "reps": [{"email": r} for r in REPS],
        "pools": [{"name": "p", "reps": REPS}],
        "stages": [{"name": "sdr", "steps": [{"kind": "pool", "pool": "p"}]}],
    }
)


def _activity(rng: random.Random, n: int, lead: str, owner: int, at: int) -> ActivityRecord:
    obj, kind = KINDS[n % len(KINDS)]
    rep = owner if rng.random() < 0.6 else rng.randrange(len(REPS))
    when = at + rng.randrange(-120, 600) * MINUTE
    return ActivityRecord(
        f"hubspot:{obj}:{n}", "hubspot", obj, str(n), kind, str(rep), (lead,), None, when,
        True if kind != "meeting" else None, None, "x", when, when,
    )  # fmt: skip


def _deal(n: int, lead: str, at: int) -> DealRecord:
    won = (n // 10) % 2 == 0  # every other deal (deals go to every tenth lead)
    return DealRecord(
        f"hubspot:deals:{n}", "hubspot", "deals", str(n), "d", None, (lead,), "1", "closedwon" if won else "open",
        "default", won, won, 100.0, at + 86_400_000, at + 3_600_000, at + 3_600_000,
    )  # fmt: skip


def build(path: Path, leads: int, per_lead: int) -> tuple[int, int]:
    """Owners, people, decisions, activities and deals; returns (activities, deals) written."""
    db = connect(path)
    for install in (migrate_cache, intake.install, ensure_schema, store.install):
        install(db)
    rng = random.Random(7)
    conn = db.conn
    conn.execute("BEGIN")
    for i, rep in enumerate(REPS):
        conn.execute(
            "INSERT INTO cache_owners (id, crm, object, native_id, key, email, name, active, modified_ms,"
            " content_hash, change_seq, created_seq, synced_ms) VALUES (?, 'hubspot', 'owners', ?, ?, ?, ?, 1, 1,"
            " 'x', ?, ?, 1)",
            (f"hubspot:owners:{i}", str(i), rep, rep, rep, i + 1, i + 1),
        )
    for i in range(leads):
        lead_id, at = f"hubspot:contacts:{i}", START + i * (30 * 86_400_000 // leads)
        payload = json.dumps({"input": {"lead": {"id": lead_id, "crm": "hubspot"}, "match_method": "domain"}})
        conn.execute(
            "INSERT INTO routing_decisions (lead_id, stage, decided_at_ms, owner, step, rule, pool,"
            " final_fallback, config_version, payload) VALUES (?, 'sdr', ?, ?, 'rules', 'r', 'p', 0, 'v', ?)",
            (lead_id, at, REPS[i % len(REPS)], payload),
        )
        conn.execute(
            "INSERT INTO pipeline_leads VALUES (?, 'routed', 'bench', ?, ?, ?, ?)", (lead_id, f"d{i}", at, at, at)
        )
        conn.execute(
            "INSERT INTO cache_people (id, crm, object, native_id, properties, created_ms, modified_ms, content_hash,"
            " change_seq, created_seq, synced_ms) VALUES (?, 'hubspot', 'contacts', ?, '{}', ?, ?, 'x', ?, ?, 1)",
            (lead_id, str(i), at - MINUTE, at, i + 1, i + 1),
        )
    conn.execute("COMMIT")
    activities, deals, n = 0, 0, 0
    for start in range(0, leads, 2000):
        batch, deal_rows = [], []
        for i in range(start, min(leads, start + 2000)):
            lead_id, at = f"hubspot:contacts:{i}", START + i * (30 * 86_400_000 // leads)
            for _ in range(per_lead):
                n += 1
                batch.append(writes.to_row(_activity(rng, n, lead_id, i % len(REPS), at))[1])
            if i % 10 == 0:
                deal_rows.append(writes.to_row(_deal(i, lead_id, at))[1])
        with transaction(db) as tx:
            writes.upsert(tx, "activity", batch, sweep_token=None, now_ms=START)
            writes.upsert(tx, "deal", deal_rows, sweep_token=None, now_ms=START)
        activities, deals = activities + len(batch), deals + len(deal_rows)
    conn.close()
    return activities, deals


def _timed(label: str, fn: Callable[[], T]) -> T:
    started, cpu = time.perf_counter(), time.process_time()
    result = fn()
    print(f"{label}: {time.perf_counter() - started:.1f} s wall, {time.process_time() - cpu:.1f} s CPU")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--activities", type=int, default=5, help="activities per lead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "engagement_bench.sqlite"
        started = time.perf_counter()
        activities, deals = build(path, args.leads, args.activities)
        print(
            f"built {args.leads:,} leads, {activities:,} activities, {deals:,} deals"
            f" in {time.perf_counter() - started:.1f} s"
        )
        db = connect(path)
        end = START + 31 * 86_400_000
        touches = _timed("first touches", lambda: detect_first_touches(db, now_ms=end))
        metrics = _timed("report", lambda: compute(db, ROUTING, START, end))
        html = render_html(metrics)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        overall = metrics.overall
        print(
            f"{len(touches):,} first touches; meeting rate {overall.meeting_rate or 0:.3f};"
            f" funnel {overall.funnel}; peak RSS {peak:.0f} MB; html {len(html) / 1024:.0f} KB"
        )


if __name__ == "__main__":
    main()
