"""Sync throughput and memory: records ingested per second and the sync process's RSS, at several world sizes.

The sandbox (limits off) runs in this process, seeded from the generator into a SQLite file; the sync itself runs
as a child process (``leadrelay sync`` on a fresh cache), so only leadrelay's memory is measured: its peak RSS
(``VmHWM``) and its RSS when the pass is over (``VmRSS``), both read from the child's ``/proc/self/status`` at exit,
and its RSS sampled once a second from here. Both must stay flat as the world grows: the sync streams page by page
and keeps nothing per record.

Not ``ru_maxrss`` from ``wait4``: subprocess starts the child with vfork + exec, and Linux carries the high-water mark
of the image before exec (this process: sandbox, seeding) into the child's ``ru_maxrss``, so it reports the larger of
the two processes (``python -c`` under a 400 MB parent reports 400 MB). Earlier figures measured that way were the
bench's own memory whenever it outgrew the sync.

    python bench/sync_speed.py --contacts 100000 --contacts 400000

``--tracemalloc DIR`` also makes the child dump a tracemalloc snapshot at exit (``DIR/sync-<contacts>.snap``, slow:
for finding growth, not for timing); ``--compare`` prints the top line-number differences between the first two sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

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

# The sync child: ``leadrelay sync`` with a probe that writes its memory figures when the process exits (click ends
# with SystemExit, so atexit runs). Nothing here is imported by the sync itself.
CHILD = """
import atexit, json, os, sys
_out, _trace = os.environ["BENCH_MEMORY_OUT"], os.environ.get("BENCH_TRACEMALLOC_OUT")
if _trace:
    import tracemalloc
    tracemalloc.start(int(os.environ.get("BENCH_TRACEMALLOC_FRAMES", "1")))
def _probe():
    status = dict(line.split(":", 1) for line in open("/proc/self/status"))
    figures = {key: int(status[key].split()[0]) for key in ("VmRSS", "VmHWM")}
    if _trace:
        figures["traced_kib"], figures["traced_peak_kib"] = (n // 1024 for n in tracemalloc.get_traced_memory())
        tracemalloc.take_snapshot().dump(_trace)
    with open(_out, "w") as out:
        json.dump(figures, out)
atexit.register(_probe)
from connector.cli import main
main()
"""


def run(contacts: int, crm: str, seed: int, workdir: Path, trace_dir: Path | None) -> dict[str, Any]:
    """Seed a world of ``contacts`` people, sync it in a child process, and return the figures."""
    started = time.monotonic()
    sandbox = SandboxServer(
        limits="off", db_path=str(workdir / f"sandbox-{contacts}.sqlite"), seed=iter_seed(contacts=contacts, seed=seed)
    )
    with sandbox:
        seeded_s = time.monotonic() - started
        database = workdir / f"cache-{contacts}.sqlite"
        config = _write_config(workdir / f"leadrelay-{contacts}.yaml", database, sandbox, crm)
        memory_out = workdir / f"memory-{contacts}.json"
        env = {
            **os.environ,
            "LEADRELAY_LOG_FORMAT": "json",
            "BENCH_MEMORY_OUT": str(memory_out),
        }
        if trace_dir is not None:
            env["BENCH_TRACEMALLOC_OUT"] = str(trace_dir / f"sync-{contacts}.snap")
        level = os.environ.get("BENCH_LOG_LEVEL", "WARNING")
        command = [sys.executable, "-c", CHILD, "--log-level", level, "sync", "--config", str(config)]
        began = time.monotonic()
        child = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL)
        sampler = RssSampler(child.pid)
        sampler.start()
        _pid, status, usage = os.wait4(child.pid, 0)
        elapsed = time.monotonic() - began
        sampler.stop()
        if status != 0:
            raise SystemExit(f"sync failed with status {status}")
    memory = json.loads(memory_out.read_text())
    records = _count_records(database)
    return {
        "contacts": contacts,
        "records": records,
        "seconds": elapsed,
        "records_per_s": records / elapsed,
        "peak_rss_mb": memory["VmHWM"] / 1024,  # KiB; the child's own high-water mark since exec
        "sampled_peak_mb": max(sampler.samples, default=0.0),
        "ru_maxrss_mb": usage.ru_maxrss / 1024,  # shown for comparison only (see the module docstring)
        "end_rss_mb": memory["VmRSS"] / 1024,
        "traced_peak_mb": memory.get("traced_peak_kib", 0) / 1024,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "seed_s": seeded_s,
        "rss_by_tenth_mb": sampler.by_tenth(),
    }


class RssSampler(threading.Thread):
    """Reads a process's resident set size once a second until it exits: the shape of its memory over the run."""

    def __init__(self, pid: int, interval_s: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval_s = pid, interval_s
        self.samples: list[float] = []  # MB, one per interval
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.interval_s):
            try:
                status = Path(f"/proc/{self.pid}/status").read_text()
            except OSError:  # exited (and reaped) between two samples
                return
            rss = next((line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")), None)
            if rss is not None:  # a zombie has no VmRSS line
                self.samples.append(int(rss) / 1024)

    def stop(self) -> None:
        self._done.set()
        self.join()

    def by_tenth(self) -> list[float]:
        """The RSS at the end of each tenth of the run (flat memory shows as a plateau after the first tenths)."""
        n = len(self.samples)
        return [self.samples[max(0, n * k // 10 - 1)] for k in range(1, 11)] if n else []


def _write_config(path: Path, database: Path, sandbox: SandboxServer, crm: str) -> Path:
    path.write_text(
        CONFIG.format(
            database=database,
            hubspot_url=sandbox.hubspot_url,
            salesforce_url=sandbox.salesforce_url,
            ca=sandbox.ca_path,
            hubspot=str(crm in ("hubspot", "both")).lower(),
            salesforce=str(crm in ("salesforce", "both")).lower(),
        )
    )
    return path


def _count_records(database: Path) -> int:
    with sqlite3.connect(database) as conn:
        return sum(
            conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("cache_people", "cache_accounts", "cache_owners")
        )


def compare_snapshots(smaller: Path, larger: Path, top: int = 15) -> None:
    """Print the allocation sites that grew most from the smaller world's snapshot to the larger one's."""
    import tracemalloc

    ignore = [
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
    ]
    before = tracemalloc.Snapshot.load(str(smaller)).filter_traces(ignore)
    after = tracemalloc.Snapshot.load(str(larger)).filter_traces(ignore)
    print(f"\ntracemalloc: {smaller.name} -> {larger.name}, top {top} growths by line")
    for stat in after.compare_to(before, "lineno")[:top]:
        print(f"  {stat.size_diff / 1024:>+10.0f} KiB {stat.count_diff:>+9,} blocks  {stat.traceback}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, action="append", help="world size (repeatable); default 100000")
    parser.add_argument("--crm", choices=["hubspot", "salesforce", "both"], default="both")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--tracemalloc", type=Path, metavar="DIR", help="dump a tracemalloc snapshot per size here")
    parser.add_argument("--compare", action="store_true", help="with --tracemalloc: diff the first two sizes")
    args = parser.parse_args()
    sizes = args.contacts or [100_000]
    if args.tracemalloc:
        args.tracemalloc.mkdir(parents=True, exist_ok=True)
    print(
        f"{'contacts':>10} {'records':>10} {'seconds':>8} {'records/s':>10} {'sync CPU s':>10} {'rec/CPU-s':>10}"
        f" {'peak RSS MB':>12} {'end RSS MB':>11}  (crm={args.crm}, load {os.getloadavg()[0]:.2f})"
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="leadrelay-bench-") as tmp:
        for size in sizes:
            r = run(size, args.crm, args.seed, Path(tmp), args.tracemalloc)
            results.append(r)
            traced = f"  traced peak {r['traced_peak_mb']:.1f} MB" if args.tracemalloc else ""
            print(
                f"{r['contacts']:>10,} {r['records']:>10,} {r['seconds']:>8.1f} {r['records_per_s']:>10,.0f} "
                f"{r['cpu_s']:>10.1f} {r['records'] / r['cpu_s']:>10,.0f} {r['peak_rss_mb']:>12.1f} "
                f"{r['end_rss_mb']:>11.1f}{traced}  (load {os.getloadavg()[0]:.2f})",
                flush=True,
            )
            tenths = " ".join(f"{v:.0f}" for v in r["rss_by_tenth_mb"])
            print(
                f"{'':>10} RSS MB at each tenth of the run: {tenths}; sampled peak {r['sampled_peak_mb']:.1f} MB "
                f"(wait4 ru_maxrss {r['ru_maxrss_mb']:.1f} MB, includes this process's pre-exec image)"
            )
            print(f"{'':>10} sandbox seeded in {r['seed_s']:.0f} s", flush=True)
    _print_differences(results)
    if args.tracemalloc and args.compare and len(sizes) >= 2:
        compare_snapshots(args.tracemalloc / f"sync-{sizes[0]}.snap", args.tracemalloc / f"sync-{sizes[1]}.snap")


def _print_differences(results: list[dict[str, Any]]) -> None:
    """Peak and end RSS of every size against the smallest: the flatness the sync promises."""
    if len(results) < 2:
        return
    base = min(results, key=lambda r: r["contacts"])
    for r in results:
        if r is base:
            continue
        print(
            f"{base['contacts']:,} -> {r['contacts']:,} contacts: "
            f"peak RSS {r['peak_rss_mb'] - base['peak_rss_mb']:+.1f} MB, "
            f"end RSS {r['end_rss_mb'] - base['end_rss_mb']:+.1f} MB"
        )


if __name__ == "__main__":
    main()
