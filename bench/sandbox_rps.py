"""How many HubSpot requests per second the sandbox sustains, so it is never the bottleneck of another benchmark.

Scenarios, each run for --seconds with limits off over keep-alive connections from --workers client processes:
  get     GET  /crm/v3/objects/contacts/{id}            (random ids)
  list    GET  /crm/v3/objects/contacts?limit=100&after= (random pages)
  search  POST /crm/v3/objects/contacts/search           (lastmodifieddate >= X, sorted, 100 a page)

    python bench/sandbox_rps.py --contacts 10000 100000 --seconds 10 --workers 3

Clients use http.client (not the hubspot client) so the figure measures the server, not client-side parsing.
Besides wall-clock throughput it prints the server's CPU time per request (and the throughput that implies for one
free core), which stays meaningful when the clients and other processes share the machine's cores.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import random
import time
from collections.abc import Iterator
from typing import Any

SCENARIOS = ("get", "list", "search")


def synthetic_contacts(n: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Plain contact seed records (used when the realistic generator is not installed)."""
    rng = random.Random(seed)
    countries = ["US", "DE", "GB", "FR", "BR", "SG", "AU"]
    for i in range(n):
        yield {
            "kind": "hubspot.contacts",
            "properties": {
                "email": f"person{i}@company{i % 5000}.com",
                "firstname": f"First{i}",
                "lastname": f"Last{i}",
                "country": rng.choice(countries),
                "lifecyclestage": "lead",
                "hs_analytics_num_page_views": str(rng.randint(0, 200)),
            },
            "created_ms": 1_700_000_000_000 + i * 1000,
        }


def seed_records(contacts: int, *, synthetic: bool = False) -> Iterator[dict[str, Any]]:
    """The realistic generated world when available (HubSpot gets its share of ``contacts``), else synthetic."""
    if synthetic:
        return synthetic_contacts(contacts)
    try:
        from adapters.sandbox.generate import iter_seed
    except ImportError:
        return synthetic_contacts(contacts)
    records: Iterator[dict[str, Any]] = iter_seed(contacts=contacts, seed=42)
    return records


def _request(scenario: str, rng: random.Random, ids: list[str], pages: int, since_ms: int) -> tuple[str, str, bytes]:
    if scenario == "get":
        return "GET", f"/crm/v3/objects/contacts/{rng.choice(ids)}?properties=email,firstname", b""
    if scenario == "list":
        after = rng.randrange(pages) * 100
        return "GET", f"/crm/v3/objects/contacts?limit=100&after={after}&properties=email", b""
    body = {
        "filterGroups": [
            {"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(since_ms)}]}
        ],
        "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
        "properties": ["email"],
        "limit": 100,
        "after": str(rng.randrange(0, 9900, 100)),
    }
    return "POST", "/crm/v3/objects/contacts/search", json.dumps(body).encode()


def worker(port: int, scenario: str, ids: list[str], pages: int, since_ms: int, seconds: float, out: Any) -> None:
    """One client process: requests back to back on a single keep-alive connection; reports count and errors."""
    rng = random.Random()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": "Bearer bench", "Content-Type": "application/json"}
    done = errors = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        method, path, body = _request(scenario, rng, ids, pages, since_ms)
        conn.request(method, path, body=body or None, headers=headers)
        response = conn.getresponse()
        response.read()
        done += 1
        errors += response.status >= 400
    conn.close()
    out.put((done, errors))


def run_scenario(port: int, scenario: str, ids: list[str], pages: int, since_ms: int, args: argparse.Namespace) -> None:
    ctx = mp.get_context("spawn")  # the server thread and uvloop live in this process: never fork it
    queue = ctx.Queue()
    cpu_started = time.process_time()  # this process is the server (its main thread only waits)
    procs = [
        ctx.Process(target=worker, args=(port, scenario, ids, pages, since_ms, args.seconds, queue))
        for _ in range(args.workers)
    ]
    for proc in procs:
        proc.start()
    results = [queue.get() for _ in procs]
    for proc in procs:
        proc.join()
    cpu = time.process_time() - cpu_started
    done = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    # Server CPU per request gives a figure that does not depend on how busy the machine was.
    per_core = done / cpu if cpu else float("nan")
    print(
        f"  {scenario:<7} {done / args.seconds:>9,.0f} req/s   server CPU {cpu * 1000 / max(done, 1):.2f} ms/req"
        f" = {per_core:,.0f} req/s per free core   ({done:,} requests, {errors} errors, {args.workers} clients)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=3, help="client processes (each one keep-alive connection)")
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--synthetic", action="store_true", help="plain contacts instead of the generated world")
    args = parser.parse_args()

    from adapters.sandbox.runner import SandboxServer

    for contacts in args.contacts:
        started = time.perf_counter()
        with SandboxServer(limits="off", seed=seed_records(contacts, synthetic=args.synthetic)) as sandbox:
            seeded = time.perf_counter() - started
            store = sandbox.context.store
            count = sandbox.call(lambda: store.count("hubspot.contacts"))  # noqa: B023 - called at once
            ids = [store.id_for("hubspot.contacts", seq) for seq in range(1, count + 1)]
            since_ms = sandbox.call(lambda: store.select("hubspot.contacts", limit=1)[0].updated_ms)  # noqa: B023
            port = int(sandbox.hubspot_url.rsplit(":", 1)[1])
            print(f"{count:,} contacts (seeded in {seeded:.1f} s), {args.seconds:.0f} s per scenario")
            for scenario in args.scenarios:
                run_scenario(port, scenario, ids, max(1, count // 100), since_ms, args)


if __name__ == "__main__":
    main()
