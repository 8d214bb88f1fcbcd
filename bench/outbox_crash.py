"""Crash test of the outbox: SIGKILL the delivery process at random points while it delivers to a faulty CRM sandbox.

    python bench/outbox_crash.py --leads 1000 --kills 20

Seeds the sandbox (half HubSpot contacts, half Salesforce Leads), enqueues one assignment per lead (owner write,
task, Slack DM), turns on faults ("5xx=0.1,429=0.05,reset=0.02" on the CRMs, some on the Slack stand-in, including
"posted, then answered 500"), then starts a worker process, SIGKILLs it a random moment after it starts delivering,
and repeats; a last worker runs to the end. Then it counts, per lead: owner changes (must be exactly one, to the
right owner), tasks carrying the decision id (exactly one), Slack messages carrying the decision id (exactly one).
Prints a summary and a JSON line; exits 1 if any lead got anything other than exactly one of each.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.sandbox.runner import SANDBOX_TOKEN, SandboxServer
from adapters.sandbox.store import Change
from adapters.slack.standin import SlackStandIn
from connector.config.actions import ActionsConfig, OutboxConfig, SlackConfig
from connector.db import connect, transaction
from connector.outbox import store
from connector.outbox.model import AccountCard, Assignee, Assignment, LeadCard, RecordRef

SLACK_TOKEN = "xoxb-crash-test"
REPS = 10
OWNER_PROPS = {"hubspot.contacts": "hubspot_owner_id", "salesforce.Lead": "OwnerId"}


# -- the child: one delivery worker ---------------------------------------------------------------------------
def run_worker(args: argparse.Namespace, ready: Any = None) -> None:
    """Deliver until nothing is pending (or until killed); sets ``ready`` (or prints "ready") once it starts."""
    import hubspot
    import requests
    import urllib3
    from simple_salesforce import Salesforce

    from adapters.hubspot.writes import HubSpotOwnerWriter, HubSpotTaskWriter
    from adapters.salesforce.writes import SalesforceOwnerWriter, SalesforceTaskWriter
    from adapters.slack.notifier import SlackNotifier
    from connector.logs import configure
    from connector.notify import NotificationPerformer
    from connector.outbox.worker import OutboxWorker
    from connector.retry import RetryPolicy

    configure(json=True, level="WARNING")
    retry = RetryPolicy(attempts=6, initial_s=0.05, max_s=0.5, jitter_s=0.05, max_retry_after_s=0.2)
    no_retries = urllib3.Retry(total=0, connect=0, read=0, redirect=0, status=0, other=0, raise_on_status=False)
    hs = hubspot.Client.create(access_token=SANDBOX_TOKEN, host=args.hubspot_url, retry=no_retries)
    session = requests.Session()
    session.verify = args.ca
    session.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would override verify (requests #3829)
    sf = Salesforce(instance_url=args.salesforce_url, session_id=SANDBOX_TOKEN, session=session)
    actions = actions_config(args.slack_url)
    performers = [
        HubSpotOwnerWriter(hs, retry=retry),
        HubSpotTaskWriter(hs, actions, retry=retry),
        SalesforceOwnerWriter(sf, retry=retry),
        SalesforceTaskWriter(sf, actions, retry=retry),
        NotificationPerformer(SlackNotifier(actions.slack), actions, retry),
    ]
    worker = OutboxWorker(connect(args.db), performers, policy())
    if ready is not None:
        ready.set()
    else:
        print("ready", flush=True)
    worker.run_until_empty(timeout_s=300)


def actions_config(slack_url: str) -> ActionsConfig:
    """Owner, task and a Slack DM for every lead."""
    from pydantic import SecretStr

    return ActionsConfig(slack=SlackConfig(enabled=True, token=SecretStr(SLACK_TOKEN), base_url=slack_url))


def policy() -> OutboxConfig:
    """Short leases so a killed worker's items come back at once; faults never exhaust the retries."""
    return OutboxConfig(lease_s=0.5, backoff_s=0.05, backoff_max_s=0.5, max_attempts=60, poll_interval_s=0.05)


# -- the parent: world, kills, verdict ------------------------------------------------------------------------
def seed(sandbox: SandboxServer, leads: int) -> tuple[list[RecordRef], str, list[str]]:
    """Leads split over both CRMs, all owned by one previous owner; the reps as Salesforce Users."""

    def create() -> tuple[list[RecordRef], str, list[str]]:
        s = sandbox.context.store
        users = [
            s.create("salesforce.User", {"LastName": f"Rep{i}", "Email": f"rep{i}@example.com", "IsActive": True}).id
            for i in range(REPS + 1)
        ]
        refs = []
        for n in range(leads):
            if n % 2 == 0:
                obj = s.create("hubspot.contacts", {"email": f"l{n}@example.org", "hubspot_owner_id": "9000"})
                refs.append(RecordRef("hubspot", "contacts", obj.id))
            else:
                obj = s.create("salesforce.Lead", {"LastName": f"L{n}", "Company": "Acme", "OwnerId": users[0]})
                refs.append(RecordRef("salesforce", "Lead", obj.id))
        return refs, users[0], users[1:]

    return sandbox.call(create)


def assignments(refs: list[RecordRef], sf_previous: str, sf_users: list[str]) -> list[Assignment]:
    """One assignment per lead, round-robin over the reps."""
    now_ms = int(time.time() * 1000)
    found = []
    for n, ref in enumerate(refs):
        rep = n % REPS
        owner = Assignee(
            key=f"rep{rep}@example.com",
            name=f"Rep {rep}",
            crm_ids={"hubspot": str(4000 + rep), "salesforce": sf_users[rep]},
            email=f"rep{rep}@example.com",
            booking_link=f"https://cal.example.com/rep{rep}",
        )
        found.append(
            Assignment(
                decision_id=f"crash-{n:05d}",
                lead=ref,
                card=LeadCard(name=f"Lead {n}", company="Acme", title="CTO", source="Demo request"),
                owner=owner,
                due_ms=now_ms + 3_600_000,
                why=("Territory", "Round robin"),
                account=AccountCard(name="Acme"),
                previous_owner_id="9000" if ref.crm == "hubspot" else sf_previous,
                decided_ms=now_ms,
            )
        )
    return found


def count_owner_changes(sandbox: SandboxServer) -> Counter[str]:
    """A live count of owner changes per record (only changes of value count: a same-value write is no write)."""
    changes: Counter[str] = Counter()

    def listener(change: Change) -> None:
        prop = OWNER_PROPS.get(change.after.kind)
        if change.action == "updated" and prop and prop in change.changed:
            changes[change.after.id] += 1

    sandbox.call(lambda: sandbox.context.store.subscribe(listener))
    return changes


PRELOAD = [
    "hubspot",
    "simple_salesforce",
    "slack_sdk",
    "adapters.hubspot.writes",
    "adapters.salesforce.writes",
    "adapters.slack.notifier",
    "connector.notify",
    "connector.outbox.worker",
]


def worker_context() -> Any:
    """Workers fork from a forkserver that imported the client libraries once: a restart costs milliseconds, not
    the seconds of a cold interpreter, so twenty kills fit in the time budget."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def start_worker(context: Any, args: argparse.Namespace, db: Path, sandbox: SandboxServer, slack: SlackStandIn) -> Any:
    """A worker process, returned once it says it is ready to deliver."""
    child_args = argparse.Namespace(
        db=str(db),
        hubspot_url=sandbox.hubspot_url,
        salesforce_url=sandbox.salesforce_url,
        ca=sandbox.ca_path,
        slack_url=slack.base_url,
    )
    ready = context.Event()
    child = context.Process(target=run_worker, args=(child_args, ready), daemon=True)
    child.start()
    ready.wait(timeout=60)
    return child


def timing(db: Path) -> dict[str, float]:
    """Seconds from enqueue to the last item of each kind being filed."""
    conn = connect(db)
    try:
        rows = conn.conn.execute(
            "SELECT kind || '/' || target, MAX(updated_at) - MIN(created_at) FROM outbox_items GROUP BY 1"
        ).fetchall()
        return {name: round(seconds, 1) for name, seconds in rows}
    finally:
        conn.conn.close()


def pending(db: Path) -> int:
    """Items not yet final."""
    conn = connect(db)
    try:
        return store.counts(conn).get("pending", 0)
    finally:
        conn.conn.close()


def kill_loop(context: Any, args: argparse.Namespace, db: Path, sandbox: SandboxServer, slack: SlackStandIn) -> int:
    """Start and SIGKILL workers at random moments until ``kills`` kills landed while work remained."""
    rng = random.Random(args.seed)
    kills = 0
    while kills < args.kills and pending(db):
        child = start_worker(context, args, db, sandbox, slack)
        time.sleep(rng.uniform(0.0, args.window))
        if child.is_alive():
            os.kill(child.pid, signal.SIGKILL)
            kills += 1
        child.join()
    return kills


def verdict(
    sandbox: SandboxServer, slack: SlackStandIn, items: list[Assignment], owners: Counter[str]
) -> dict[str, Any]:
    """Per lead: owner changes, final owner, tasks, Slack messages; and how many leads were off."""

    def read() -> tuple[dict[str, Any], Counter[str]]:
        s = sandbox.context.store
        final = {}
        for kind, prop in OWNER_PROPS.items():
            for obj in s.iter_all(kind):
                final[obj.id] = obj.properties.get(prop)
        tasks: Counter[str] = Counter()
        for obj in s.iter_all("hubspot.tasks"):
            tasks[str(obj.properties.get("leadrelay_decision_id"))] += 1
        for obj in s.iter_all("salesforce.Task"):
            tasks[str(obj.properties.get("LeadRelay_Decision_Id__c"))] += 1
        return final, tasks

    final, tasks = sandbox.call(read)
    messages = slack.per_decision()
    bad = Counter[str]()
    for a in items:
        native = a.lead.native_id
        bad["owner_changes"] += owners[native] != 1
        bad["final_owner"] += final.get(native) != a.owner.crm_ids[a.lead.crm]
        bad["tasks"] += tasks[a.decision_id] != 1
        bad["slack"] += messages.get(a.decision_id, 0) != 1
    return {"leads": len(items), "wrong": dict(bad), "ok": not any(bad.values()), "messages": sum(messages.values())}


def run(args: argparse.Namespace) -> int:
    """The whole crash test; returns the exit status."""
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="leadrelay-crash-"))
    db_path = workdir / "outbox.sqlite"
    slack_faults = {"5xx": 0.03, "429": 0.01, "reset": 0.01, "5xx_after": 0.03}
    with (
        SandboxServer(limits="off") as sandbox,
        SlackStandIn(token=SLACK_TOKEN, faults=slack_faults, seed=args.seed) as slack,
    ):
        refs, sf_previous, sf_users = seed(sandbox, args.leads)
        items = assignments(refs, sf_previous, sf_users)
        owners = count_owner_changes(sandbox)
        db = connect(db_path)
        store.install(db)
        actions = actions_config(slack.base_url)
        with transaction(db) as conn:
            for item in items:
                store.enqueue(conn, item, actions)
        db.conn.close()
        sandbox.admin.set_faults(args.faults, seed=args.seed)
        context = worker_context()
        kills = kill_loop(context, args, db_path, sandbox, slack)
        final = start_worker(context, args, db_path, sandbox, slack)
        final.join(timeout=300)
        result_timing = timing(db_path)
        injected = sandbox.admin.get_faults().get("injected")
        sandbox.admin.set_faults("")
        result = verdict(sandbox, slack, items, owners)
        result |= {"kills": kills, "seconds": round(time.monotonic() - started, 1), "faults": args.faults}
        result["injected"] = injected
        result["finished_after_s"] = result_timing
    outcome = "every lead got exactly one owner write, task and Slack message" if result["ok"] else result["wrong"]
    print(f"{result['leads']} leads, {kills} SIGKILLs, {result['seconds']} s: {outcome}")
    print(json.dumps(result))
    return 0 if result["ok"] else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("role", nargs="?", default="parent", choices=["parent", "worker"])
    parser.add_argument("--leads", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--window", type=float, default=1.0, help="Kill within this many seconds of a worker's start.")
    parser.add_argument("--faults", default="5xx=0.1,429=0.05,reset=0.02")
    parser.add_argument("--seed", type=int, default=1)
    for name in ("--db", "--hubspot-url", "--salesforce-url", "--ca", "--slack-url"):
        parser.add_argument(name)
    args = parser.parse_args()
    if args.role == "worker":
        run_worker(args)
    else:
        sys.exit(run(args))


if __name__ == "__main__":
    main()
