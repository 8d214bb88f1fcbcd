"""POST /v1/route latency: the daemon as deployed (``leadrelay run`` in its own process) over a seeded sandbox portal.

Sends ``--requests`` realistic inbound leads one after another over a keep-alive connection (a form backend) and
prints the latency p50/p95/p99 as the client sees it, plus the server-side decision histogram's mean.

    python bench/route_api.py                      # 1,000 requests
    python bench/route_api.py --requests 5000 --contacts 5000
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "daemon"))

import requests
from daemon_harness import API_KEY, ENV, DaemonProcess, free_port, go_live_now, write_config

from adapters.sandbox.generate import iter_seed
from adapters.sandbox.inbound import InboundStream
from adapters.sandbox.runner import SandboxServer
from adapters.slack.standin import SlackStandIn
from connector.logs import configure

_FIELDS = {"email": "email", "firstname": "first_name", "lastname": "last_name", "company": "company",
           "jobtitle": "title", "country": "country", "phone": "phone"}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="Leads to route.")
    parser.add_argument("--contacts", type=int, default=2000, help="Contacts in the seeded portal.")
    args = parser.parse_args()
    configure(level="WARNING")
    os.environ.update(ENV)
    with tempfile.TemporaryDirectory() as tmp, SlackStandIn() as slack:
        sandbox = SandboxServer(limits="off", seed=iter_seed(contacts=args.contacts, seed=7)).start()
        port = free_port()
        unlimited = "    requests_per_second: 1000000\n    burst: 1000000\n"  # measure latency, not the rate limit
        loaded = write_config(
            Path(tmp), sandbox, slack.base_url, port=port, poll_s=3600, webhooks=False, extra=unlimited
        )
        go_live_now(loaded)
        assert loaded.path is not None
        daemon = DaemonProcess(loaded.path, port, Path(tmp) / "daemon.log")
        try:
            daemon.wait_ready(120)
            stream = InboundStream(sandbox.context.store, seed=11)
            leads = [as_api_lead(sandbox.call(stream.next).properties) for _ in range(args.requests)]
            latencies, statuses = measure(daemon.url, leads)
            server = requests.get(f"{daemon.url}/metrics", timeout=5).text
            daemon.stop()
        except Exception:
            print(daemon.logs()[-4000:])
            raise
        finally:
            daemon.kill()
            sandbox.stop()
    report(latencies, statuses, server)


def as_api_lead(properties: dict[str, Any]) -> dict[str, Any]:
    """An inbound form fill (HubSpot or Salesforce property names) as the API's lead JSON."""
    renamed = {"Email": "email", "FirstName": "first_name", "LastName": "last_name", "Company": "company",
               "Title": "title", "Country": "country", "Phone": "phone", **_FIELDS}  # fmt: skip
    lead = {api: str(properties[name]) for name, api in renamed.items() if properties.get(name)}
    if not (lead.get("email") or lead.get("company")):
        lead["company"] = "Unknown Company"
    return lead


def measure(url: str, leads: list[dict[str, Any]]) -> tuple[list[float], dict[int, int]]:
    """Client-side seconds per request and the count of each status."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {API_KEY}"
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    for lead in leads:
        started = time.perf_counter()
        answer = session.post(f"{url}/v1/route", json=lead, timeout=10)
        latencies.append(time.perf_counter() - started)
        statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
    return latencies, statuses


def report(latencies: list[float], statuses: dict[int, int], metrics_text: str) -> None:
    """p50/p95/p99 in milliseconds and the server's mean decision time."""
    latencies.sort()

    def pct(p: float) -> float:
        return 1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))]

    print(
        f"POST /v1/route, n={len(latencies)} (statuses {statuses}): p50 {pct(0.50):.1f} ms, p95 {pct(0.95):.1f} ms, "
        f"p99 {pct(0.99):.1f} ms, mean {1000 * statistics.mean(latencies):.1f} ms"
    )
    values = {}
    for line in metrics_text.splitlines():
        if line.startswith('leadrelay_decision_seconds_sum{path="api"}'):
            values["sum"] = float(line.split()[-1])
        if line.startswith('leadrelay_decision_seconds_count{path="api"}'):
            values["count"] = float(line.split()[-1])
    if values.get("count"):
        mean = 1000 * values["sum"] / values["count"]
        print(f"server-side decision time (prepare, score, route, record): mean {mean:.1f} ms")


if __name__ == "__main__":
    main()
