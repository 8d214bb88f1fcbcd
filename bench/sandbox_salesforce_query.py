"""How fast the sandbox answers the Salesforce queries the connector makes, through the real simple-salesforce.

    python bench/sandbox_salesforce_query.py --leads 200000

Seeds N leads, then measures: a full incremental pass (``SystemModstamp > X ORDER BY SystemModstamp, Id`` paged
through nextRecordsUrl), a small delta after 100 updates, a lookup by email, and a COUNT().
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from simple_salesforce import format_soql

from adapters.sandbox.runner import SandboxServer

INCREMENTAL = (
    "SELECT Id, Email, Company, OwnerId, SystemModstamp FROM Lead WHERE SystemModstamp > {} ORDER BY SystemModstamp, Id"
)


def _seed(sandbox: SandboxServer, count: int) -> float:
    store = sandbox.context.store
    rows = (
        ({"LastName": f"Lead{i}", "Company": f"Company {i % 5000}", "Email": f"lead{i}@example{i % 900}.test"}, None)
        for i in range(count)
    )
    started = time.perf_counter()
    sandbox.call(lambda: store.bulk_create("salesforce.Lead", rows), timeout=1800)
    return time.perf_counter() - started


def _timed(fn: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def _full_pass(sf: Any, soql: str) -> tuple[int, list[str], str]:
    """Page through every record without keeping them (a sync stores each page and moves on)."""
    count, first_ids, last = 0, [], ""
    for record in sf.query_all_iter(soql):
        count += 1
        if len(first_ids) < 100:
            first_ids.append(record["Id"])
        last = record["SystemModstamp"]
    return count, first_ids, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=200_000)
    parser.add_argument("--lookups", type=int, default=50)
    args = parser.parse_args()
    with SandboxServer(limits="off") as sandbox:
        sf = sandbox.salesforce()
        seed_s = _seed(sandbox, args.leads)
        print(f"seeded {args.leads} leads in {seed_s:.1f} s")

        soql = INCREMENTAL.format("2000-01-01T00:00:00Z")
        first, first_s = _timed(lambda: sf.query(soql))
        print(f"first page (lists all {first['totalSize']} matches): {first_s * 1000:.0f} ms")
        (count, first_ids, cursor), full_s = _timed(lambda: _full_pass(sf, soql))
        assert count == args.leads
        pages = -(-args.leads // 2000)
        print(
            f"full incremental pass: {count} records, {pages} pages in {full_s:.2f} s "
            f"({count / full_s:,.0f} records/s, {full_s / pages * 1000:.0f} ms/page)"
        )

        sandbox.context.clock.advance(1000)
        for record_id in first_ids:
            sf.Lead.update(record_id, {"Title": "Changed"}, headers={"Sforce-Auto-Assign": "FALSE"})
        delta_soql = INCREMENTAL.format(cursor)
        delta, delta_s = _timed(lambda: list(sf.query_all_iter(delta_soql)))
        print(f"delta after 100 updates: {len(delta)} records in {delta_s * 1000:.0f} ms")

        lookups = []
        for i in range(args.lookups):
            email = f"LEAD{i * 37 % args.leads}@EXAMPLE{i * 37 % args.leads % 900}.test"
            found, took = _timed(lambda e=email: sf.query(format_soql("SELECT Id FROM Lead WHERE Email = {}", e)))
            assert found["totalSize"] == 1
            lookups.append(took)
        print(
            f"lookup by email (case-insensitive): median {statistics.median(lookups) * 1000:.1f} ms, "
            f"max {max(lookups) * 1000:.1f} ms over {len(lookups)}"
        )

        count, count_s = _timed(lambda: sf.query("SELECT COUNT() FROM Lead WHERE Company LIKE 'Company 1%'"))
        print(f"COUNT() with LIKE: {count['totalSize']} in {count_s * 1000:.0f} ms")


if __name__ == "__main__":
    main()
