"""Budget use with real limits on: the share of HubSpot's allowed request rate the sync actually uses, and 429s.

The sandbox runs in its own process with a plan's real limits (professional: 190 calls per rolling 10 s, search
5/s) and is seeded with contacts. A backfill (list calls), then an incremental pass over new contacts (search
calls), run with leadrelay's own pacing on. The allowance over a run of T seconds is what a perfect client could
use: the window's limit at once and again at each rollover (``limit * (floor(T / window) + 1)``).
Goals: >= 90% of it used, and no 429.

    python bench/sync_budget.py --contacts 60000 --changed 6000 --plan professional
"""

from __future__ import annotations

import argparse
import contextlib
import math
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

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


def _share(calls: int, seconds: float, limit: int, window_s: float) -> float:
    """Calls made over the most a perfect client could make in ``seconds``: a full window now and at each rollover."""
    return calls / (limit * (math.floor(seconds / window_s) + 1))


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


def _seed(admin: SandboxAdmin, records: list[dict[str, object]]) -> None:
    for start in range(0, len(records), 20_000):
        admin.seed(records[start : start + 20_000])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=60_000)
    parser.add_argument("--changed", type=int, default=6_000, help="contacts created before the incremental pass")
    parser.add_argument("--plan", choices=sorted(HUBSPOT_PLAN_LIMITS), default="professional")
    args = parser.parse_args()
    configure(json=True, level="WARNING")
    burst, _daily = HUBSPOT_PLAN_LIMITS[args.plan]

    with tempfile.TemporaryDirectory(prefix="leadrelay-budget-") as tmp, _sandbox_process(args.plan, Path(tmp)) as url:
        admin = SandboxAdmin(url)
        _seed(admin, _contacts(args.contacts))
        config = HubSpotConfig(enabled=True, access_token="sandbox-token", base_url=url, plan=args.plan, overlap_s=0)
        reader = HubSpotReader(config)
        engine = SyncEngine(open_cache(Path(tmp) / "cache.sqlite"), [reader])
        admin.set_limits(args.plan)  # fresh counters: seeding does not count

        started = time.monotonic()
        engine.run_pass()
        backfill_s = time.monotonic() - started
        list_calls = reader.limiter.stats.calls.get("default", 0)
        search_before = reader.limiter.stats.calls.get("search", 0)
        refused_backfill = _refused(admin)

        _seed(admin, _contacts(args.changed, prefix="new"))  # changes for the incremental pass to find
        time.sleep(0.01)
        started = time.monotonic()
        engine.run_pass()
        incremental_s = time.monotonic() - started
        searches = reader.limiter.stats.calls.get("search", 0) - search_before
        refused = _refused(admin)

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
