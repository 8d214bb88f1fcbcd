"""Budget use with real limits on: the share of HubSpot's allowed request rate the sync actually uses, and 429s.

A HubSpot portal on a plan (professional: 190 calls per rolling 10 s, search 5/s) is seeded with contacts; a
backfill (list calls) and then an incremental pass over changed contacts (search calls) run with leadrelay's
own pacing on. The allowance over a run of T seconds is what a perfect client could use: the window's limit at
once plus the limit per window after that (``limit * (1 + T / window)``). Goals: >= 90% used, no 429.

    python bench/sync_budget.py --contacts 60000 --changed 6000 --plan professional
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from adapters.hubspot import HubSpotReader  # noqa: E402
from adapters.sandbox.runner import SandboxServer  # noqa: E402
from connector.cache import open_cache  # noqa: E402
from connector.config.crm import HUBSPOT_PLAN_LIMITS, HubSpotConfig  # noqa: E402
from connector.logs import configure  # noqa: E402
from connector.sync.engine import SyncEngine  # noqa: E402


def _contacts(n: int) -> object:
    for i in range(n):
        yield {"kind": "hubspot.contacts", "properties": {"email": f"person{i}@company{i % 5000}.com"}}


def _share(calls: int, seconds: float, limit: int, window_s: float) -> float:
    return calls / (limit * (1 + seconds / window_s))


def _refused(sandbox: SandboxServer) -> dict[str, int]:
    return dict(sandbox.admin.get_limits()["counters"]["refused"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=60_000)
    parser.add_argument("--changed", type=int, default=6_000, help="contacts changed before the incremental pass")
    parser.add_argument("--plan", choices=sorted(HUBSPOT_PLAN_LIMITS), default="professional")
    args = parser.parse_args()
    configure(json=True, level="WARNING")
    burst, _daily = HUBSPOT_PLAN_LIMITS[args.plan]

    with (
        tempfile.TemporaryDirectory(prefix="leadrelay-budget-") as tmp,
        SandboxServer(
            limits=args.plan, seed=_contacts(args.contacts), db_path=str(Path(tmp) / "sandbox.sqlite")
        ) as sandbox,
    ):
        config = HubSpotConfig(
            enabled=True, access_token="sandbox-token", base_url=sandbox.hubspot_url, plan=args.plan, overlap_s=0
        )
        reader = HubSpotReader(config)
        engine = SyncEngine(open_cache(Path(tmp) / "cache.sqlite"), [reader])
        sandbox.admin.set_limits(args.plan)  # fresh counters: seeding does not count

        started = time.monotonic()
        engine.run_pass()
        backfill_s = time.monotonic() - started
        list_calls = reader.limiter.stats.calls.get("default", 0)
        search_before = reader.limiter.stats.calls.get("search", 0)
        refused_backfill = _refused(sandbox)

        store = sandbox.context.store
        ids = [o.id for o in sandbox.call(lambda: store.select("hubspot.contacts", limit=args.changed))]
        sandbox.call(lambda: [store.update("hubspot.contacts", i, {"jobtitle": "Changed"}) for i in ids])
        time.sleep(0.01)
        started = time.monotonic()
        engine.run_pass()
        incremental_s = time.monotonic() - started
        searches = reader.limiter.stats.calls.get("search", 0) - search_before
        refused = _refused(sandbox)

    print(f"plan={args.plan} contacts={args.contacts:,} changed={args.changed:,}")
    print(
        f"backfill:    {list_calls:>6,} list calls in {backfill_s:6.1f} s = {list_calls / backfill_s:6.1f}/s "
        f"of {burst / 10:.1f}/s allowed; share of allowance used {_share(list_calls, backfill_s, burst, 10):.1%}"
    )
    print(
        f"incremental: {searches:>6,} searches   in {incremental_s:6.1f} s = {searches / incremental_s:6.1f}/s "
        f"of 5.0/s allowed; share of allowance used {_share(searches, incremental_s, 5, 1):.1%}"
    )
    print(f"429s during backfill: {sum(refused_backfill.values())}; in all: {sum(refused.values())} {refused or ''}")


if __name__ == "__main__":
    main()
