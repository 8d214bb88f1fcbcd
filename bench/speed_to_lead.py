"""Speed to lead through the daemon: HubSpot webhook received -> owner written back in the (sandbox) CRM.

Starts the sandbox (seeded portal, HubSpot webhooks signed v3 to the daemon) and a Slack stand-in in this
process, and the daemon as deployed (``leadrelay run`` in its own process) with polling off (an hour), then
creates inbound HubSpot contacts at each rate for a while and reports, per routed lead, the time from the webhook
event's arrival (its stored ``received_at``) to its ``set_owner`` effect being done, as p50/p95/p99.

    python bench/speed_to_lead.py                       # 10 and 100 leads/s, 20 s each
    python bench/speed_to_lead.py --rates 10 --seconds 30 --limits professional
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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
from connector.db import connect
from connector.demo import FormClients
from connector.logs import configure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[10.0, 100.0], help="Leads per second.")
    parser.add_argument("--seconds", type=float, default=20.0, help="How long to send at each rate.")
    parser.add_argument("--contacts", type=int, default=2000, help="Contacts in the seeded portal.")
    parser.add_argument("--limits", default="off", help="Sandbox limits profile (off, professional, ...).")
    args = parser.parse_args()
    configure(level="WARNING")
    os.environ.update(ENV)
    for rate in args.rates:
        waits = run_rate(rate, args.seconds, args.contacts, args.limits)
        report(rate, waits)


def run_rate(rate: float, seconds: float, contacts: int, limits: str) -> list[float]:
    """Send ``rate`` leads/s for ``seconds`` through a fresh sandbox and daemon; returns seconds per routed lead."""
    with tempfile.TemporaryDirectory() as tmp, SlackStandIn() as slack:
        sandbox = SandboxServer(limits=limits, seed=iter_seed(contacts=contacts, seed=7)).start()
        port = free_port()
        loaded = write_config(Path(tmp), sandbox, slack.base_url, port=port, poll_s=3600, webhooks=True)
        go_live_now(loaded)
        assert loaded.path is not None
        daemon = DaemonProcess(loaded.path, port, Path(tmp) / "daemon.log")
        try:
            daemon.wait_ready(120)
            sandbox.admin.set_webhooks(f"{daemon.url}/webhooks/hubspot", WEBHOOK_SECRET, ["email"])
            sent = send(sandbox, loaded, rate, seconds)
            time.sleep(3.0)  # let the last leads through
            daemon.stop()
            return waits(connect(loaded.config.database), sent)
        finally:
            daemon.kill()
            sandbox.stop()


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
    """Seconds from each creation event's arrival to its owner write being done."""
    received = {
        str(oid): float(at)
        for oid, at in db.conn.execute(
            "SELECT object_id, received_at FROM webhook_events WHERE subscription_type = 'contact.creation'"
        )
    }
    rows = db.conn.execute(
        "SELECT a.payload, i.updated_at, a.created_at FROM outbox_items i JOIN outbox_assignments a"
        " USING (decision_id) WHERE i.kind = 'set_owner' AND i.state = 'done'"
    ).fetchall()
    out, decided = [], []
    for payload, done_at, decided_at in rows:
        native = json.loads(payload)["lead"]["native_id"]
        if native in received:
            out.append(float(done_at) - received[native])
            decided.append(float(decided_at) - received[native])
    print(f"  sent {sent}, webhook events stored {len(received)}, owners written {len(out)}")
    if decided:
        print(f"  of which received -> decided (sync + route): median {1000 * statistics.median(decided):.0f} ms")
    return out


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
