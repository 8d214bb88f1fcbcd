"""Budget use with real limits on: the share of HubSpot's allowed request rate the sync actually uses, and 429s.

The sandbox runs in its own process with a plan's real limits (professional: 190 calls per rolling 10 s, search
5 per rolling second) and is seeded with contacts. A backfill (list calls), then an incremental pass over contacts
created after it (search calls), run with leadrelay's own pacing on. Each phase should last a minute or more.
The changes carry distinct modified stamps over the last minute, as edits do; ``--tied`` seeds them in bulk
batches of 20,000 sharing one stamp each (the sandbox answers the keyset query inside such a run far slower).
``--latency 150ms`` adds a network-like answer time to every call.

Two measures per phase, both against what a perfect client could do:

* rate share: calls per second over the phase, against the limit's rate (190 / 10 s = 19/s; search 5/s);
* windowed share: the calls the sandbox received in each complete window (10 s, or 1 s for search) counted from the
  phase's first call, against the window's limit. A partial last window is left out: a run that ends 1 s into a
  window would otherwise count as if it had had the whole window (the old "limit x (floor(T/10)+1)" allowance,
  still printed as "old measure", marks a perfect client down to 80% for ending early).

Goals: >= 90% of the allowed rate used in both phases, and no 429.

    python bench/sync_budget.py --contacts 120000 --changed 60000 --plan professional [--tied] [--latency 150ms]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from adapters.hubspot import HubSpotReader  # noqa: E402
from adapters.sandbox.admin import SandboxAdmin  # noqa: E402
from connector.cache import open_cache  # noqa: E402
from connector.config.crm import HUBSPOT_PLAN_LIMITS, HubSpotConfig  # noqa: E402
from connector.logs import configure  # noqa: E402
from connector.sync.engine import SyncEngine  # noqa: E402


def _contacts(n: int, prefix: str = "person") -> list[dict[str, object]]:
    return [
        {"kind": "hubspot.contacts", "properties": {"email": f"{prefix}{i}@company{i % 5000}.com"}} for i in range(n)
    ]


def _old_share(calls: int, seconds: float, limit: int, window_s: float) -> float:
    """The previous measure: calls over a full window's limit now and at each rollover (penalizes an early end)."""
    return calls / (limit * (math.floor(seconds / window_s) + 1))


def _windowed_share(arrivals: list[float], limit: int, window_s: float) -> tuple[float, int]:
    """Mean share of ``limit`` used per complete window counted from the first call; and how many windows that was."""
    if not arrivals:
        return 0.0, 0
    first, last = arrivals[0], arrivals[-1]
    complete = int((last - first) // window_s)
    if complete == 0:
        return 0.0, 0
    counted = sum(1 for at in arrivals if at < first + complete * window_s)
    return counted / (limit * complete), complete


class ServedLog:
    """Arrival times (seconds) of the HubSpot calls the sandbox served, read from its request log as the run goes.

    The log keeps only the latest requests, so a thread reads it every second; an answer's arrival is its logged
    time minus its logged latency (the sandbox counts a call against its limits when it arrives).
    """

    def __init__(self, admin: SandboxAdmin) -> None:
        self.admin = admin
        self.seen: set[tuple[object, ...]] = set()
        self.arrivals: dict[str, list[float]] = {"default": [], "search": []}
        self.latency_ms: dict[str, list[tuple[float, float]]] = {"default": [], "search": []}  # (arrival, ms)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> ServedLog:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._read()

    def _poll(self) -> None:
        while not self._stop.wait(1.0):
            self._read()

    def _read(self) -> None:
        for item in self.admin.requests(limit=500):
            key = (item["at_ms"], item["method"], item["path"], item["latency_ms"], item["status"])
            if item["side"] != "hubspot" or key in self.seen:
                continue
            self.seen.add(key)
            kind = "search" if item["path"].endswith("/search") else "default"
            arrival = (item["at_ms"] - item["latency_ms"]) / 1000
            self.arrivals[kind].append(arrival)
            self.latency_ms[kind].append((arrival, item["latency_ms"]))

    def between(self, kind: str, start: float, end: float) -> list[float]:
        """Sorted arrival times of ``kind`` calls within [start, end] (epoch seconds)."""
        return sorted(at for at in self.arrivals[kind] if start <= at <= end)

    def median_answer_ms(self, kind: str, start: float, end: float) -> float:
        """The sandbox's median time to answer a ``kind`` call within [start, end]."""
        times = [ms for at, ms in self.latency_ms[kind] if start <= at <= end]
        return statistics.median(times) if times else 0.0


@dataclass(frozen=True)
class Phase:
    """One measured phase: calls of one kind, its wall and CPU time, and its window."""

    name: str
    kind: str
    calls: int
    seconds: float
    cpu_s: float
    arrivals: list[float]
    limit: int
    window_s: float
    refused: int
    limiter_waited_s: float  # pacing: the limiter held calls back (the limit was the bound)
    answer_ms: float  # the sandbox's median time to answer one call (a CRM's answer time bounds a sequential read)
    engine_bound_s: float  # pages fetched and mapped ahead waited for the engine's writes (the writes were the bound)

    def report(self) -> str:
        """The phase's lines: calls, rate and its share, windowed share, old measure, 429s, and what bound it."""
        allowed = self.limit / self.window_s
        rate = self.calls / self.seconds
        windowed, windows = _windowed_share(self.arrivals, self.limit, self.window_s)
        old = _old_share(self.calls, self.seconds, self.limit, self.window_s)
        return (
            f"{self.name}: {self.calls:,} {self.kind} calls in {self.seconds:.1f} s (sync CPU {self.cpu_s:.1f} s)"
            f" = {rate:.2f}/s of {allowed:.1f}/s allowed\n"
            f"  rate share {rate / allowed:.1%}; windowed share {windowed:.1%} over {windows} complete"
            f" {self.window_s:g}-s windows (old measure {old:.1%}); 429s: {self.refused}\n"
            f"  limiter waited {self.limiter_waited_s:.1f} s; pages waited for the writes {self.engine_bound_s:.1f} s;"
            f" sandbox median answer {self.answer_ms:.0f} ms; sync used {self.cpu_s / self.seconds:.0%} of a core"
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _sandbox_process(plan: str, workdir: Path) -> Iterator[str]:
    """``leadrelay sandbox serve`` in its own process (its CPU is not ours, as a real CRM's is not); its URL."""
    port, tls_port = _free_port(), _free_port()
    command = [
        sys.executable,
        "-c",
        "from connector.cli import main; main()",
        "--log-level",
        "WARNING",
        "sandbox",
        "serve",
        "--port",
        str(port),
        "--tls-port",
        str(tls_port),
        "--limits",
        plan,
        "--db",
        str(workdir / "sandbox.sqlite"),
        "--tls-dir",
        str(workdir),
    ]
    server = subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                SandboxAdmin(url, timeout_s=1).health()
                break
            except Exception:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the sandbox did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def _refused(admin: SandboxAdmin) -> dict[str, int]:
    return dict(admin.get_limits()["counters"]["refused"])


def _seed_changes(admin: SandboxAdmin, count: int, *, after_ms: int, tied: bool) -> None:
    """Contacts for the incremental pass, modified after ``after_ms``: one after another over the last minute, as
    edits arrive (default), or in bulk, each seeding batch of 20,000 sharing one stamp (``tied``)."""
    records = _contacts(count, prefix="new")
    if tied:
        _seed(admin, records)
        return
    end = int(time.time() * 1000) - 1000  # before the pass starts: the pass reads up to its own start
    start = max(after_ms + 1, end - 60_000)
    for i, record in enumerate(records):
        record["created_ms"] = start + (end - start) * i // max(1, count)
    admin.freeze_clock(start - 1)  # a record's modified stamp is the later of its creation and the sandbox's now
    try:
        _seed(admin, records)
    finally:  # back to real time: unfreezing alone would run on from the frozen instant, a minute behind
        admin.freeze_clock(int(time.time() * 1000))
        admin.unfreeze_clock()


def _seed(admin: SandboxAdmin, records: list[dict[str, object]]) -> None:
    for start in range(0, len(records), 20_000):
        admin.seed(records[start : start + 20_000])


def _phase(
    name: str, kind: str, engine: SyncEngine, reader: HubSpotReader, admin: SandboxAdmin, served: ServedLog, limit: int
) -> Phase:
    """Run one sync pass and measure its calls of ``kind``."""
    before = reader.limiter.stats.calls.get(kind, 0)
    refused_before = sum(_refused(admin).values())
    waited_before = reader.limiter.stats.waited_s
    wall_start, cpu_start, started = time.time(), time.process_time(), time.monotonic()
    report = engine.run_pass()
    seconds, cpu_s, wall_end = time.monotonic() - started, time.process_time() - cpu_start, time.time()
    time.sleep(1.5)  # let the log reader catch the last calls
    return Phase(
        name=name,
        kind=kind,
        calls=reader.limiter.stats.calls.get(kind, 0) - before,
        seconds=seconds,
        cpu_s=cpu_s,
        arrivals=served.between(kind, wall_start - 1, wall_end + 1),
        limit=limit,
        window_s=10.0 if kind == "default" else 1.0,
        refused=sum(_refused(admin).values()) - refused_before,
        limiter_waited_s=reader.limiter.stats.waited_s - waited_before,
        answer_ms=served.median_answer_ms(kind, wall_start - 1, wall_end + 1),
        engine_bound_s=sum(stream.engine_bound_s for stream in report.streams),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=120_000, help="contacts backfilled (100 per list call)")
    parser.add_argument("--changed", type=int, default=60_000, help="contacts created before the incremental pass")
    parser.add_argument("--plan", choices=sorted(HUBSPOT_PLAN_LIMITS), default="professional")
    parser.add_argument(
        "--tied", action="store_true", help="changes in bulk batches of 20,000 sharing one modified stamp each"
    )
    parser.add_argument(
        "--latency", default=None, help="added to every HubSpot answer, like a real network (e.g. 150ms, 100-300ms)"
    )
    args = parser.parse_args()
    configure(json=True, level="WARNING")
    burst, _daily = HUBSPOT_PLAN_LIMITS[args.plan]

    with tempfile.TemporaryDirectory(prefix="leadrelay-budget-") as tmp, _sandbox_process(args.plan, Path(tmp)) as url:
        admin = SandboxAdmin(url)
        _seed(admin, _contacts(args.contacts))
        token = SecretStr("sandbox-token")
        config = HubSpotConfig(enabled=True, access_token=token, base_url=url, plan=args.plan, overlap_s=0)
        reader = HubSpotReader(config)
        engine = SyncEngine(open_cache(Path(tmp) / "cache.sqlite"), [reader])
        admin.set_limits(args.plan)  # fresh counters: seeding does not count
        if args.latency:
            admin.set_faults(f"hubspot:latency={args.latency}")
        with ServedLog(admin) as served:
            backfill_started_ms = int(time.time() * 1000)
            backfill = _phase("backfill", "default", engine, reader, admin, served, burst)
            _seed_changes(admin, args.changed, after_ms=backfill_started_ms, tied=args.tied)
            incremental = _phase("incremental", "search", engine, reader, admin, served, config.search_per_second)
        refused = _refused(admin)

    latency = (f" latency={args.latency}" if args.latency else "") + (" tied" if args.tied else "")
    print(
        f"plan={args.plan} contacts={args.contacts:,} changed={args.changed:,}{latency}"
        f" load average {os.getloadavg()[0]:.2f}"
    )
    print(backfill.report())
    print(incremental.report())
    print(f"429s in all: {sum(refused.values())} {refused or ''}")


if __name__ == "__main__":
    main()
