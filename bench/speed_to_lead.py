"""Speed to lead through the daemon: HubSpot webhook received -> owner written back in the (sandbox) CRM.

Starts the sandbox (seeded portal, HubSpot webhooks signed v3 to the daemon) and a Slack stand-in in this
process, and the daemon as deployed (``leadrelay run`` in its own process) with polling off (an hour), then
creates inbound HubSpot contacts at each rate for a while and reports, per routed lead, the time from the webhook
event's arrival (its stored ``received_at``) to its ``set_owner`` effect being done, as p50/p95/p99, with the
stages (received -> cached -> decided -> owner written), the p95 per quarter of the run (growth means the daemon
falls behind), the daemon's CPU per lead and the load average.

The daemon paces its HubSpot calls to the professional plan (190 per 10 s) as deployed; ``--pacing off`` sets
``limits_enabled: false`` (the sandbox's own limits are ``--limits``, off by default). ``--profile DIR`` samples
the daemon with py-spy (the GIL holder, per thread, collapsed stacks) and keeps its JSON log there.

    python bench/speed_to_lead.py                       # 10 and 100 leads/s, 20 s each
    python bench/speed_to_lead.py --rates 10 --seconds 30 --limits professional
    python bench/speed_to_lead.py --rates 100 --seconds 10 --pacing off --profile /tmp/prof
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "daemon"))

import sqlite_utils
from daemon_harness import ENV, WEBHOOK_SECRET, DaemonProcess, free_port, go_live_now, write_config

from adapters.sandbox.generate import iter_seed
from adapters.sandbox.inbound import InboundStream
from adapters.sandbox.runner import SandboxServer
from adapters.slack.standin import SlackStandIn
from connector.config.loader import LoadedConfig, load_config
from connector.db import connect
from connector.demo import FormClients
from connector.logs import configure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[10.0, 100.0], help="Leads per second.")
    parser.add_argument("--seconds", type=float, default=20.0, help="How long to send at each rate.")
    parser.add_argument("--contacts", type=int, default=2000, help="Contacts in the seeded portal.")
    parser.add_argument("--limits", default="off", help="Sandbox limits profile (off, professional, ...).")
    parser.add_argument(
        "--pacing",
        choices=("on", "off"),
        default="on",
        help="The daemon's own HubSpot pacing (professional plan: 190 calls per 10 s); off: limits_enabled false.",
    )
    parser.add_argument("--profile", metavar="DIR", help="Record the daemon with py-spy (raw stacks) into DIR.")
    args = parser.parse_args()
    configure(level="WARNING")
    os.environ.update(ENV)
    print(f"sandbox limits {args.limits}, daemon pacing {args.pacing}")
    for rate in args.rates:
        profile = Path(args.profile) / f"daemon-{rate:g}.txt" if args.profile else None
        waits = run_rate(rate, args.seconds, args.contacts, args.limits, pacing=args.pacing == "on", profile=profile)
        report(rate, waits)


def run_rate(
    rate: float, seconds: float, contacts: int, limits: str, *, pacing: bool = True, profile: Path | None = None
) -> list[float]:
    """Send ``rate`` leads/s for ``seconds`` through a fresh sandbox and daemon; returns seconds per routed lead."""
    with tempfile.TemporaryDirectory() as tmp, SlackStandIn() as slack:
        sandbox = SandboxServer(limits=limits, seed=iter_seed(contacts=contacts, seed=7)).start()
        port = free_port()
        loaded = write_config(Path(tmp), sandbox, slack.base_url, port=port, poll_s=3600, webhooks=True)
        if not pacing:
            loaded = without_pacing(loaded)
        go_live_now(loaded)
        assert loaded.path is not None
        daemon = DaemonProcess(loaded.path, port, Path(tmp) / "daemon.log")
        try:
            daemon.wait_ready(120)
            sandbox.admin.set_webhooks(f"{daemon.url}/webhooks/hubspot", WEBHOOK_SECRET, ["email"])
            spy = py_spy(daemon.proc.pid, seconds + 2, profile) if profile else None
            cpu_before, load_before = cpu_seconds(daemon.proc.pid), os.getloadavg()[0]
            here_before, wall_before = time.process_time(), time.perf_counter()
            sent = send(sandbox, loaded, rate, seconds)
            time.sleep(3.0)  # let the last leads through
            cpu = cpu_seconds(daemon.proc.pid) - cpu_before
            here, wall = time.process_time() - here_before, time.perf_counter() - wall_before
            print(
                f"  daemon CPU {cpu:.1f} s for {sent} leads ({1000 * cpu / max(sent, 1):.1f} ms a lead);"
                f" sandbox + senders (this process) CPU {here:.1f} s in {wall:.1f} s;"
                f" load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
            )
            if spy is not None:
                spy.wait()
            daemon.stop()
            if profile is not None:  # the daemon's JSON log (batch sizes and call times) next to its profile
                shutil.copy(Path(tmp) / "daemon.log", profile.with_suffix(".log"))
            return waits(connect(loaded.config.database), sent)
        finally:
            daemon.kill()
            sandbox.stop()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def py_spy(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    """Sample the daemon's GIL holder for ``seconds`` into ``out`` as collapsed stacks (per thread)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).parent / "py-spy"
    command = [str(spy), "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "200"]
    command += ["--gil", "--threads", "--format", "raw", "--output", str(out)]  # only the GIL holder: CPU, not waits
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)


def without_pacing(loaded: LoadedConfig) -> LoadedConfig:
    """The same config with the daemon's HubSpot pacing off (``limits_enabled: false``), saved in place."""
    assert loaded.path is not None
    text = loaded.path.read_text(encoding="utf-8")
    text = text.replace("    plan: professional\n", "    plan: professional\n    limits_enabled: false\n", 1)
    loaded.path.write_text(text, encoding="utf-8")
    return load_config(loaded.path, environ=ENV)


def send(sandbox: SandboxServer, loaded: object, rate: float, seconds: float) -> int:
    """Create HubSpot contacts at ``rate`` per second (a few form backends in parallel); returns how many."""
    stream = InboundStream(sandbox.context.store, seed=11, salesforce_share=0.0)
    clients = FormClients(loaded)  # type: ignore[arg-type]
    total = int(rate * seconds)
    leads = [sandbox.call(stream.next) for _ in range(total)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        for i, lead in enumerate(leads):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(clients.create, "hubspot", lead.properties)
    return total


def waits(db: sqlite_utils.Database, sent: int) -> list[float]:
    """Seconds from each creation event's arrival to its owner write being done; prints where the time went."""
    received = {
        str(oid): float(at)
        for oid, at in db.conn.execute(
            "SELECT object_id, received_at FROM webhook_events WHERE subscription_type = 'contact.creation'"
        )
    }
    cached = {str(n): ms / 1000 for n, ms in db.conn.execute("SELECT native_id, synced_ms FROM cache_people")}
    rows = db.conn.execute(
        "SELECT a.payload, i.updated_at, a.created_at FROM outbox_items i JOIN outbox_assignments a"
        " USING (decision_id) WHERE i.kind = 'set_owner' AND i.state = 'done'"
    ).fetchall()
    out: list[float] = []
    arrivals: list[tuple[float, float]] = []
    stages: dict[str, list[float]] = {"received -> cached": [], "cached -> decided": [], "decided -> owner written": []}
    for payload, done_at, decided_at in rows:
        native = json.loads(payload)["lead"]["native_id"]
        if native not in received:
            continue
        out.append(float(done_at) - received[native])
        arrivals.append((received[native], out[-1]))
        stages["decided -> owner written"].append(float(done_at) - float(decided_at))
        if native in cached:  # synced_ms is the last write: a later sync pass may have touched the row again
            stages["received -> cached"].append(cached[native] - received[native])
            stages["cached -> decided"].append(float(decided_at) - cached[native])
    print(f"  sent {sent}, webhook events stored {len(received)}, owners written {len(out)}")
    print_trend(arrivals)
    for name, values in stages.items():
        if values:
            values.sort()
            p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
            print(f"  {name}: median {1000 * statistics.median(values):.0f} ms, p95 {1000 * p95:.0f} ms")
    return out


def print_trend(arrivals: list[tuple[float, float]], parts: int = 4) -> None:
    """p95 per quarter of the run by arrival: a daemon that keeps up shows no growth from quarter to quarter."""
    if len(arrivals) < parts * 5:
        return
    arrivals.sort()
    size = len(arrivals) // parts
    figures = []
    for i in range(parts):
        chunk = sorted(w for _, w in arrivals[i * size : (i + 1) * size])
        figures.append(f"{1000 * chunk[min(len(chunk) - 1, int(0.95 * len(chunk)))]:.0f}")
    print(f"  p95 by quarter of the run (ms): {' / '.join(figures)}")


def report(rate: float, waits: list[float]) -> None:
    """Print p50/p95/p99 in milliseconds."""
    if not waits:
        print(f"{rate:g} leads/s: no owner written")
        return
    waits.sort()

    def pct(p: float) -> float:
        return 1000 * waits[min(len(waits) - 1, int(p * len(waits)))]

    print(
        f"{rate:g} leads/s: webhook received -> owner written, n={len(waits)}: "
        f"p50 {pct(0.50):.0f} ms, p95 {pct(0.95):.0f} ms, p99 {pct(0.99):.0f} ms, "
        f"mean {1000 * statistics.mean(waits):.0f} ms"
    )


if __name__ == "__main__":
    main()
