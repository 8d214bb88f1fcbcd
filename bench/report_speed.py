"""Report speed: ``metrics.compute`` over a period of N routed leads with realistic decision payloads.

Decisions carry a ~3 KB trace like real ones; a quarter of the leads are touched, one in twenty re-routed.

    python bench/report_speed.py --leads 100000
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from connector.analytics import store  # noqa: E402
from connector.analytics.metrics import compute  # noqa: E402
from connector.analytics.report_html import render_html  # noqa: E402
from connector.cache.schema import migrate_cache  # noqa: E402
from connector.config.routing import RoutingConfig  # noqa: E402
from connector.db import connect  # noqa: E402
from connector.pipeline import intake  # noqa: E402
from connector.routing.store import ensure_schema  # noqa: E402

START = 1_790_000_000_000
REPS = [f"rep{i}@bench.io" for i in range(20)]
ROUTING = RoutingConfig.model_validate(
    {
        "final_fallback": {"owner": "queue:hubspot:1", "name": "Queue"},
        "reps": [{"email": r, "weight": 1 + i % 3} for i, r in enumerate(REPS)],
        "pools": [{"name": "p", "reps": REPS}],
        "stages": [{"name": "sdr", "steps": [{"kind": "pool", "pool": "p"}]}],
    }
)


def build(path: Path, leads: int) -> None:
    """Decisions, pipeline rows, people and touches for ``leads`` leads over 30 days."""
    db = connect(path)
    for install in (migrate_cache, intake.install, ensure_schema, store.install):
        install(db)
    trace = [{"step": "rules", "detail": "x" * 120, "candidates": [[r, True, "p"] for r in REPS[:5]]}] * 4
    conn = db.conn
    conn.execute("BEGIN")
    for i in range(leads):
        lead_id, at = f"hubspot:contacts:{i}", START + i * (30 * 86_400_000 // leads)
        owner = REPS[i % len(REPS)]
        payload = json.dumps({"input": {"lead": {"id": lead_id, "crm": "hubspot", "source": f"s{i % 5}"},
                                        "match_method": "domain" if i % 4 else None}, "trace": trace})  # fmt: skip
        for n in range(2 if i % 20 == 0 else 1):
            conn.execute(
                "INSERT INTO routing_decisions (lead_id, stage, decided_at_ms, owner, step, rule, pool,"
                " final_fallback, config_version, payload) VALUES (?, 'sdr', ?, ?, 'rules', ?, 'p', 0, 'v', ?)",
                (lead_id, at + n * 3_600_000, owner, f"r{i % 7}", payload),
            )
        conn.execute(
            "INSERT INTO pipeline_leads VALUES (?, 'routed', 'bench', ?, ?, ?, ?)",
            (lead_id, f"d{i}", at, at - 60_000, at),
        )
        conn.execute(
            "INSERT INTO cache_people (id, crm, object, native_id, source, properties, created_ms, modified_ms,"
            " content_hash, change_seq, created_seq, synced_ms) VALUES (?, 'hubspot', 'contacts', ?, ?, ?, ?, ?, 'x',"
            " ?, ?, 1)",
            (lead_id, str(i), f"s{i % 5}", '{"lifecyclestage": "lead"}', at - 60_000, at, i, i),
        )
        if i % 4 == 0:
            conn.execute(
                "INSERT INTO analytics_touches VALUES (?, ?, ?, ?, ?, 'bench')",
                (f"d{i}", lead_id, owner, at, at + (i % 50) * 60_000),
            )
    conn.execute("COMMIT")
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report_bench.sqlite"
        started = time.perf_counter()
        build(path, args.leads)
        print(f"built {args.leads:,} leads in {time.perf_counter() - started:.1f} s")
        db = connect(path)
        started, cpu = time.perf_counter(), time.process_time()
        metrics = compute(db, ROUTING, START, START + 31 * 86_400_000)
        html = render_html(metrics)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"report over {metrics.overall.leads:,} leads: {wall:.1f} s wall, {cpu:.1f} s CPU,"
            f" peak RSS {peak:.0f} MB, html {len(html) / 1024:.0f} KB"
        )


if __name__ == "__main__":
    main()
