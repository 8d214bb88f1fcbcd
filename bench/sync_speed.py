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
CHILD = r"""
import atexit, json, os, sys, threading
_out, _trace = os.environ["BENCH_MEMORY_OUT"], os.environ.get("BENCH_TRACEMALLOC_OUT")
_at_peak = {}
if _trace:
    import tracemalloc
    tracemalloc.start(int(os.environ.get("BENCH_TRACEMALLOC_FRAMES", "1")))
    _stop_watch = threading.Event()
    def _watch():
        # Traced memory polled: its highest value per phase (named by the prefetch threads running, or "between
        # reads"), and a snapshot whenever it passes the last snapshot's by 5%: the last one is the peak's.
        last = 0
        while not _stop_watch.wait(0.01):
            current = tracemalloc.get_traced_memory()[0]
            names = sorted(t.name for t in threading.enumerate() if t.name.startswith("sync-prefetch-"))
            phase = names[0] if names else "between reads"
            _at_peak.setdefault("phases", {})
            _at_peak["phases"][phase] = max(_at_peak["phases"].get(phase, 0), current)
            if current > last * 1.05 + (1 << 20):
                _at_peak["snapshot"], _at_peak["phase"], last = tracemalloc.take_snapshot(), phase, current
    threading.Thread(target=_watch, daemon=True).start()
def _native_memory():
    # Memory Python does not see: SQLite's own allocator and glibc malloc's heap (in use vs. held but free), KiB.
    import ctypes, ctypes.util
    figures = {}
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("sqlite3"))
        lib.sqlite3_memory_used.restype = lib.sqlite3_memory_highwater.restype = ctypes.c_int64
        figures["sqlite_used_kib"] = lib.sqlite3_memory_used() // 1024
        figures["sqlite_highwater_kib"] = lib.sqlite3_memory_highwater(0) // 1024
    except (OSError, AttributeError, TypeError):
        pass
    class Mallinfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in
                    ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                     "keepcost")]
    try:
        libc = ctypes.CDLL(None)
        libc.mallinfo2.restype = Mallinfo2
        info = libc.mallinfo2()
        figures.update(malloc_heap_kib=info.arena // 1024, malloc_mmap_kib=info.hblkhd // 1024,
                       malloc_used_kib=info.uordblks // 1024, malloc_free_kib=info.fordblks // 1024)
    except (OSError, AttributeError):
        pass
    return figures
def _pymalloc():
    # Python's small-object allocator: its arenas (1 MiB mmaps) and how full they are, from sys._debugmallocstats,
    # which writes to the C stderr: sent to a file for the moment. KiB.
    import re, tempfile
    with tempfile.TemporaryFile("w+") as sink:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        sink.seek(0)
        text = sink.read()
    def figure(pattern):
        found = re.search(pattern + r"\s*=\s*([\d,]+)", text)
        return int(found.group(1).replace(",", "")) if found else 0
    arena_kib = figure(r"arenas \* \d+ bytes/arena") // max(1, figure(r"# arenas allocated current")) // 1024
    return {"pymalloc_arenas_kib": figure(r"arenas \* \d+ bytes/arena") // 1024,
            "pymalloc_highwater_kib": figure(r"# arenas highwater mark") * arena_kib,
            "pymalloc_used_kib": figure(r"# bytes in allocated blocks") // 1024,
            "pymalloc_free_kib": (figure(r"# bytes in available blocks")
                                  + figure(r"unused pools \* \d+ bytes")) // 1024}
def _probe():
    status = dict(line.split(":", 1) for line in open("/proc/self/status"))
    figures = {key: int(status[key].split()[0]) for key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem")}
    figures.update(_native_memory())
    figures.update(_pymalloc())
    if _trace:
        _stop_watch.set()
        figures["traced_kib"], figures["traced_peak_kib"] = (n // 1024 for n in tracemalloc.get_traced_memory())
        figures["traced_phases_kib"] = {k: v // 1024 for k, v in _at_peak.get("phases", {}).items()}
        tracemalloc.take_snapshot().dump(_trace)
        if "snapshot" in _at_peak:
            _at_peak["snapshot"].dump(_trace[: -len(".snap")] + "-peak.snap")
            figures["peak_phase"] = _at_peak["phase"]
    with open(_out, "w") as out:
        json.dump(figures, out)
atexit.register(_probe)
from connector.cli import main
main()
"""


# What the child reports beside the peak: how its RSS splits (anonymous memory vs. mapped files vs. shared memory,
# e.g. SQLite's WAL index) and the native allocators' figures (SQLite's own, glibc's heap in use and held free).
NATIVE_KEYS = (
    "RssAnon",
    "RssFile",
    "RssShmem",
    "sqlite_used_kib",
    "sqlite_highwater_kib",
    "malloc_heap_kib",
    "malloc_mmap_kib",
    "malloc_used_kib",
    "malloc_free_kib",
    "pymalloc_arenas_kib",
    "pymalloc_highwater_kib",
    "pymalloc_used_kib",
    "pymalloc_free_kib",
)


def run(contacts: int, crm: str, seed: int, workdir: Path, trace_dir: Path | None, frames: int = 1) -> dict[str, Any]:
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
            env["BENCH_TRACEMALLOC_FRAMES"] = str(frames)
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
    native = {key: memory[key] for key in NATIVE_KEYS if key in memory}
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
        "traced_phases_kib": memory.get("traced_phases_kib", {}),
        "peak_phase": memory.get("peak_phase"),
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "seed_s": seeded_s,
        "rss_by_tenth_mb": sampler.by_tenth(),
        "native_kib": native,
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


def compare_snapshots(smaller: Path, larger: Path, top: int = 15, by: str = "lineno") -> None:
    """Print the allocation sites that grew most from the smaller world's snapshot to the larger one's."""
    import tracemalloc

    ignore = [
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
    ]
    before = tracemalloc.Snapshot.load(str(smaller)).filter_traces(ignore)
    after = tracemalloc.Snapshot.load(str(larger)).filter_traces(ignore)
    print(f"\ntracemalloc: {smaller.name} -> {larger.name}, top {top} growths by {by}")
    for stat in after.compare_to(before, by)[:top]:
        print(f"  {stat.size_diff / 1024:>+10.0f} KiB {stat.count_diff:>+9,} blocks  {stat.traceback}")
        for line in stat.traceback.format()[2:] if by == "traceback" else ():
            print(f"  {'':>35}{line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, action="append", help="world size (repeatable); default 100000")
    parser.add_argument("--crm", choices=["hubspot", "salesforce", "both"], default="both")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--tracemalloc", type=Path, metavar="DIR", help="dump a tracemalloc snapshot per size here")
    parser.add_argument("--compare", action="store_true", help="with --tracemalloc: diff the first two sizes")
    parser.add_argument("--frames", type=int, default=1, help="with --tracemalloc: frames kept per allocation")
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
            r = run(size, args.crm, args.seed, Path(tmp), args.tracemalloc, args.frames)
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
            native = ", ".join(
                f"{key.removesuffix('_kib')} {value / 1024:.1f}" for key, value in r["native_kib"].items()
            )
            print(f"{'':>10} at exit, MB: {native}")
            if r["traced_phases_kib"]:
                phases = ", ".join(
                    f"{k.removeprefix('sync-prefetch-')} {v / 1024:.1f}" for k, v in r["traced_phases_kib"].items()
                )
                print(f"{'':>10} traced MB at most, by phase: {phases}; last snapshot in: {r['peak_phase']}")
    _print_differences(results)
    if args.tracemalloc and args.compare and len(sizes) >= 2:
        for suffix in ("", "-peak"):
            compare_snapshots(
                args.tracemalloc / f"sync-{sizes[0]}{suffix}.snap",
                args.tracemalloc / f"sync-{sizes[1]}{suffix}.snap",
                by="traceback" if args.frames > 1 else "lineno",
            )


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
