"""CRM API calls per routed lead, and how long a decision takes to reach the CRM, against the sandbox.

    python bench/outbox_calls.py --burst 1000 --trickle 50

Burst: ``--burst`` assignments (half HubSpot contacts, half Salesforce Leads) enqueued in one transaction, delivered
by one worker (owner write + task). Trickle: ``--trickle`` single assignments, each enqueued after the previous one
was delivered, the worker woken by the enqueuer as the pipeline does. Calls are the sandbox's own request counts;
latency is from the enqueue (the decision's commit) to the sandbox applying the owner change.
Sandbox limits: the "professional" profile (190 calls / 10 s for HubSpot).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.hubspot.writes import HubSpotOwnerWriter, HubSpotTaskWriter
from adapters.salesforce.writes import SalesforceOwnerWriter, SalesforceTaskWriter
from adapters.sandbox.runner import SandboxServer
from adapters.sandbox.store import Change
from connector.config.actions import ActionsConfig, OutboxConfig
from connector.db import connect, transaction
from connector.logs import configure
from connector.outbox import store
from connector.outbox.model import Assignee, Assignment, LeadCard, RecordRef
from connector.outbox.worker import OutboxWorker

OWNER_PROPS = {"hubspot.contacts": "hubspot_owner_id", "salesforce.Lead": "OwnerId"}
ACTIONS = ActionsConfig()


class World:
    """The sandbox with leads to route and a clock of when each lead's owner changed."""

    def __init__(self, sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        self.written_at: dict[str, float] = {}
        self.users = sandbox.call(self._users)
        sandbox.call(lambda: sandbox.context.store.subscribe(self._on_change))

    def _users(self) -> list[str]:
        s = self.sandbox.context.store
        return [s.create("salesforce.User", {"LastName": f"R{i}", "Email": f"r{i}@x.io", "IsActive": True}).id
                for i in range(2)]  # fmt: skip

    def _on_change(self, change: Change) -> None:
        prop = OWNER_PROPS.get(change.after.kind)
        if change.action == "updated" and prop and prop in change.changed:
            self.written_at.setdefault(change.after.id, time.time())

    def leads(self, count: int, start: int) -> list[Assignment]:
        """``count`` new leads in the sandbox (alternating CRMs) and their assignments."""

        def create() -> list[RecordRef]:
            s = self.sandbox.context.store
            refs = []
            for n in range(start, start + count):
                if n % 2 == 0:
                    obj = s.create("hubspot.contacts", {"email": f"b{n}@x.io", "hubspot_owner_id": "1"})
                    refs.append(RecordRef("hubspot", "contacts", obj.id))
                else:
                    obj = s.create("salesforce.Lead", {"LastName": "L", "Company": "C", "OwnerId": self.users[0]})
                    refs.append(RecordRef("salesforce", "Lead", obj.id))
            return refs

        owner = Assignee(key="rep@x.io", name="Rep", crm_ids={"hubspot": "2", "salesforce": self.users[1]})
        return [
            Assignment(
                decision_id=f"bench-{start + i}",
                lead=ref,
                card=LeadCard(name="Lead", company="Acme"),
                owner=owner,
                due_ms=int(time.time() * 1000) + 3_600_000,
                why=("bench",),
                previous_owner_id="1" if ref.crm == "hubspot" else self.users[0],
            )
            for i, ref in enumerate(self.sandbox.call(create))
        ]

    def calls(self) -> int:
        """CRM requests the sandbox has answered so far."""
        return int(self.sandbox.admin.stats()["requests"]["total"])


def performers(sandbox: SandboxServer) -> list[Any]:
    """Owner and task performers for both CRMs, on the real clients."""
    hs, sf = sandbox.hubspot_client(), sandbox.salesforce()
    return [
        HubSpotOwnerWriter(hs),
        HubSpotTaskWriter(hs, ACTIONS),
        SalesforceOwnerWriter(sf),
        SalesforceTaskWriter(sf, ACTIONS),
    ]


def enqueue(db: Any, items: list[Assignment]) -> dict[str, float]:
    """Commit the assignments in one transaction; returns when each was committed, by lead id."""
    with transaction(db) as conn:
        for item in items:
            store.enqueue(conn, item, ACTIONS)
    at = time.time()
    return {item.lead.native_id: at for item in items}


def wait_done(db: Any, timeout_s: float = 300) -> None:
    """Block until nothing in the outbox is pending."""
    deadline = time.monotonic() + timeout_s
    while store.counts(db).get("pending", 0) and time.monotonic() < deadline:
        time.sleep(0.005)


def latencies(world: World, committed: dict[str, float]) -> tuple[float, float]:
    """p50 and p95 of commit → owner written, in milliseconds."""
    values = sorted((world.written_at[lead] - at) * 1000 for lead, at in committed.items() if lead in world.written_at)
    if not values:
        return (float("nan"), float("nan"))
    return statistics.median(values), values[min(len(values) - 1, int(len(values) * 0.95))]


def run(args: argparse.Namespace) -> None:
    """Burst, then trickle; prints one line per scenario."""
    configure(json=True, level="WARNING")
    with SandboxServer(limits="professional") as sandbox:
        world = World(sandbox)
        path = Path(args.workdir or tempfile.mkdtemp(prefix="leadrelay-calls-")) / "bench-outbox.sqlite"
        db = connect(path)  # the pipeline's connection; the worker has its own, as in the daemon
        store.install(db)
        worker = OutboxWorker(connect(path), performers(sandbox), OutboxConfig(poll_interval_s=1.0))
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()

        items = world.leads(args.burst, 0)
        before = world.calls()
        started = time.monotonic()
        committed = enqueue(db, items)
        worker.wake()
        wait_done(db)
        report("burst", args.burst, world.calls() - before, time.monotonic() - started, latencies(world, committed))

        before, committed, started = world.calls(), {}, time.monotonic()
        for n in range(args.trickle):
            committed |= enqueue(db, world.leads(1, args.burst + n))
            worker.wake()
            wait_done(db)
        report("trickle", args.trickle, world.calls() - before, time.monotonic() - started, latencies(world, committed))
        worker.stop()
        thread.join(timeout=10)


def report(name: str, leads: int, calls: int, seconds: float, latency: tuple[float, float]) -> None:
    """One scenario's figures."""
    print(
        f"{name:8s} leads={leads:5d} crm_calls={calls:5d} calls_per_lead={calls / max(1, leads):.3f} "
        f"wall={seconds:.2f}s owner_latency_p50={latency[0]:.0f}ms p95={latency[1]:.0f}ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--trickle", type=int, default=50)
    parser.add_argument("--workdir", default=None, help="Keep the outbox database here (default: a temp directory).")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
