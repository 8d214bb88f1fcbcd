"""Continuity audit speed: time and peak memory of the full audit over a large cache built directly with SQL.

The cache (HubSpot contacts + Salesforce Leads sharing emails, companies, owners and queues, with every kind of
problem sprinkled in) is generated inside SQLite; the audit then runs in a child process so its peak RSS is its own.
Goal: 1,000,000 people and 100,000 accounts in < 60 s and < 500 MB.

    python bench/audit_speed.py                                    # 1,000,000 people, 100,000 accounts
    python bench/audit_speed.py --people 100000 --accounts 10000   # smaller
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from connector.audit.continuity import KINDS, audit  # noqa: E402
from connector.cache import open_cache  # noqa: E402
from connector.config.root import LeadrelayConfig  # noqa: E402

OWNERS, INACTIVE_EVERY, NOW = 200, 20, 1_800_000_000_000

_OWNERS_SQL = f"""
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < {OWNERS})
INSERT INTO cache_owners (id, crm, object, native_id, key, email, name, active, is_queue, created_ms, modified_ms,
    content_hash, change_seq, created_seq, synced_ms)
SELECT c.crm || ':owners:' || c.prefix || i, c.crm, 'owners', c.prefix || i, 'rep' || i || '@bench.io',
    'rep' || i || '@bench.io', 'Rep ' || i, i % {INACTIVE_EVERY} != 0, 0, 0, 1, 'x', i, i, 1
FROM n, (SELECT 'hubspot' AS crm, '' AS prefix UNION ALL SELECT 'salesforce', '005') AS c;
INSERT INTO cache_owners (id, crm, object, native_id, key, email, name, active, is_queue, created_ms, modified_ms,
    content_hash, change_seq, created_seq, synced_ms)
VALUES ('hubspot:owners:q1', 'hubspot', 'owners', 'q1', 'queue:hubspot:q1', NULL, 'Inbound queue', 1, 1, 0, 1, 'x',
    0, 0, 1);
"""

_ACCOUNTS_SQL = """
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :accounts)
INSERT INTO cache_accounts (id, crm, object, native_id, name, domain, owner_native_id, created_ms, modified_ms,
    content_hash, change_seq, created_seq, synced_ms)
SELECT 'hubspot:companies:' || i, 'hubspot', 'companies', i, 'Company ' || i, 'c' || i || '.example',
    CAST((i * 7) % :owners AS TEXT), 0, 1, 'x', i, i, 1
FROM n;
"""

# 1 in 10 people is a Salesforce Lead sharing a HubSpot contact's email; 1 in 12 contacts has another owner than
# its account; 1 in 50 is unowned and old (stuck); 1 in 97 is owned by an unknown id.
_PEOPLE_SQL = """
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :people)
INSERT INTO cache_people (id, crm, object, native_id, email, email_domain, first_name, last_name, owner_native_id,
    account_id, properties, created_ms, modified_ms, content_hash, change_seq, created_seq, synced_ms)
SELECT
    CASE WHEN i % 10 = 9 THEN 'salesforce:Lead:' ELSE 'hubspot:contacts:' END || i,
    CASE WHEN i % 10 = 9 THEN 'salesforce' ELSE 'hubspot' END,
    CASE WHEN i % 10 = 9 THEN 'Lead' ELSE 'contacts' END,
    i,
    'p' || (CASE WHEN i % 10 = 9 THEN i - 1 ELSE i END) || '@c'
        || ((CASE WHEN i % 10 = 9 THEN i - 1 ELSE i END) % :accounts) || '.example',
    'c' || (i % :accounts) || '.example', 'First', 'Last' || i,
    CASE
        WHEN i % 50 = 7 THEN NULL
        WHEN i % 97 = 5 THEN 'gone' || i
        WHEN i % 10 = 9 THEN '005' || (((i % :accounts) * 7 + (i % 3)) % :owners)
        WHEN i % 12 = 3 THEN CAST(((i % :accounts) * 7 + 1) % :owners AS TEXT)
        ELSE CAST(((i % :accounts) * 7) % :owners AS TEXT)
    END,
    CASE WHEN i % 10 IN (8, 9) THEN NULL ELSE 'hubspot:companies:' || (i % :accounts) END,
    '{"lifecyclestage": "lead"}', :now - 100 * 3600000, 1, 'x', i, i, 1
FROM n;
"""


def build(path: Path, people: int, accounts: int) -> float:
    """Create the cache at ``path``; returns seconds spent."""
    started = time.perf_counter()
    db = open_cache(path)
    db.conn.execute("PRAGMA synchronous = OFF")
    db.conn.executescript(_OWNERS_SQL)  # executescript commits on its own
    db.conn.execute("BEGIN")
    params = {"accounts": accounts, "owners": OWNERS, "people": people, "now": NOW}
    db.conn.execute(_ACCOUNTS_SQL, {k: params[k] for k in ("accounts", "owners")})
    db.conn.execute(_PEOPLE_SQL, params)
    db.conn.execute("COMMIT")
    db.conn.execute("ANALYZE")
    db.conn.close()
    return time.perf_counter() - started


def run_audit(path: Path) -> None:
    """The child: stream the whole audit, print counts, seconds and this process's peak RSS as JSON."""
    db = open_cache(path)
    started, cpu = time.perf_counter(), time.process_time()
    counts = Counter(f.kind for f in audit(db, LeadrelayConfig(), now_ms=NOW))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {"seconds": seconds, "cpu_seconds": cpu, "peak_mb": peak_mb, "counts": {k: counts[k] for k in KINDS}}
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--db", type=Path, default=None, help="Reuse (or keep) this cache file.")
    parser.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        run_audit(args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "audit_bench.sqlite"
        if not path.exists():
            built = build(path, args.people, args.accounts)
            print(f"built {args.people:,} people, {args.accounts:,} accounts in {built:.1f} s ({path})")
        load_before = os.getloadavg()[0]  # wall time on a shared machine means little without the load
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(path)], capture_output=True, text=True, check=True
        )
        result = json.loads(child.stdout.strip().splitlines()[-1])
        print(
            f"audit: {result['seconds']:.1f} s wall, {result['cpu_seconds']:.1f} s CPU, "
            f"peak RSS {result['peak_mb']:.0f} MB (load average {load_before:.1f} before, "
            f"{os.getloadavg()[0]:.1f} after, {os.cpu_count()} CPUs)"
        )
        for kind, count in result["counts"].items():
            print(f"  {kind:<24} {count:>9,}")


if __name__ == "__main__":
    main()
