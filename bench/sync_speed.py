"""Sync throughput: records ingested per second and the sync process's peak RSS, at several world sizes.

The sandbox (limits off) runs in this process, seeded from the generator into a SQLite file; the sync itself runs
as a child process (``leadrelay sync`` on a fresh cache), so its peak RSS is measured alone (``wait4``).
Peak RSS must stay flat as the world grows: the sync streams page by page.

    python bench/sync_speed.py --contacts 100000 --contacts 1000000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from adapters.sandbox.generate import iter_seed  # noqa: E402
from adapters.sandbox.runner import SandboxServer  # noqa: E402

CONFIG = """
database: {database}
crms:
  hubspot:
    enabled: {hubspot}
    access_token: sandbox-token
    base_url: {hubspot_url}
    overlap_s: 0
    limits_enabled: false
  salesforce:
    enabled: {salesforce}
    access_token: sandbox-token
    instance_url: {salesforce_url}
    ca_bundle: {ca}
    overlap_s: 0
    limits_enabled: false
"""


def run(contacts: int, crm: str, seed: int, workdir: Path) -> dict[str, float]:
    """Seed a world of ``contacts`` people, sync it in a child process, and return the figures."""
    started = time.monotonic()
    sandbox = SandboxServer(
        limits="off", db_path=str(workdir / f"sandbox-{contacts}.sqlite"), seed=iter_seed(contacts=contacts, seed=seed)
    )
    with sandbox:
        seeded_s = time.monotonic() - started
        config = workdir / f"leadrelay-{contacts}.yaml"
        database = workdir / f"cache-{contacts}.sqlite"
        config.write_text(
            CONFIG.format(
                database=database,
                hubspot_url=sandbox.hubspot_url,
                salesforce_url=sandbox.salesforce_url,
                ca=sandbox.ca_path,
                hubspot=str(crm in ("hubspot", "both")).lower(),
                salesforce=str(crm in ("salesforce", "both")).lower(),
            )
        )
        env = {
            **os.environ,
            "LEADRELAY_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
            "LEADRELAY_LOG_FORMAT": "json",
        }
        command = [sys.executable, "-c", "from connector.cli import main; main()", "sync", "--config", str(config)]
        began = time.monotonic()
        if os.environ.get("BENCH_LOG_LEVEL"):
            print("child start", time.strftime("%H:%M:%S"), time.time() % 60, flush=True)
        child = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL)
        _pid, status, usage = os.wait4(child.pid, 0)
        elapsed = time.monotonic() - began
        if status != 0:
            raise SystemExit(f"sync failed with status {status}")
    import sqlite3

    with sqlite3.connect(database) as conn:
        records = sum(
            conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("cache_people", "cache_accounts", "cache_owners")
        )
    return {
        "contacts": contacts,
        "records": records,
        "seconds": elapsed,
        "records_per_s": records / elapsed,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # Linux reports KiB
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "seed_s": seeded_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, action="append", help="world size (repeatable); default 100000")
    parser.add_argument("--crm", choices=["hubspot", "salesforce", "both"], default="both")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    sizes = args.contacts or [100_000]
    print(
        f"{'contacts':>10} {'records':>10} {'seconds':>8} {'records/s':>10} {'peak RSS MB':>12} {'sync CPU s':>10}"
        f"  (crm={args.crm})"
    )
    with tempfile.TemporaryDirectory(prefix="leadrelay-bench-") as tmp:
        for size in sizes:
            r = run(size, args.crm, args.seed, Path(tmp))
            print(
                f"{r['contacts']:>10,} {r['records']:>10,} {r['seconds']:>8.1f} {r['records_per_s']:>10,.0f} "
                f"{r['peak_rss_mb']:>12.1f} {r['cpu_s']:>10.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
