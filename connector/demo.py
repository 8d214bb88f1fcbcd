"""``leadrelay demo``: the whole loop on the embedded default, with nothing to configure.

It starts the CRM sandbox (HubSpot + Salesforce APIs, real rate limits) seeded with a realistic portal and the
two-dozen-rep Northwind team, a stand-in of Slack's Web API, and leadrelay with the example rule file
(config/leadrelay.example.yaml). It backfills the cache, then sends inbound leads into both CRMs through their real
client libraries over a minute or so; the leadrelay daemon (the same one ``leadrelay run`` starts) receives HubSpot's
signed webhooks and polls Salesforce, then matches, qualifies, routes, writes the owner back, creates the task and
nudges the rep on Slack. It ends with who got what, why, and how fast. Everything it wrote stays in
``--workdir`` so ``leadrelay explain`` / ``leadrelay pools`` can be pointed at it afterwards.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import socket
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from connector.config.loader import LoadedConfig, load_config
from connector.logs import configure
from connector.relay import Relay
from connector.sync.progress import RichProgress

EXAMPLE_CONFIG = Path("config/leadrelay.example.yaml")


@dataclass
class DemoRun:
    """What the demo sent and saw, for the summary."""

    created_ms: dict[str, int] = field(default_factory=dict)  # "crm:native_id" -> when the demo created it


@click.command()
@click.option("--contacts", default=3000, show_default=True, help="Contacts in the seeded portal.")
@click.option("--leads", default=240, show_default=True, help="Inbound leads to send.")
@click.option("--seconds", default=40.0, show_default=True, help="Spread the inbound leads over this long.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=EXAMPLE_CONFIG, show_default=True)
@click.option("--workdir", type=click.Path(path_type=Path), default=Path(".demo"), show_default=True)
@click.option("--seed", default=7, show_default=True, help="Seed of the generated portal and inbound stream.")
def demo(  # noqa: PLR0917 - one parameter per command-line option
    contacts: int, leads: int, seconds: float, config_path: Path, workdir: Path, seed: int
) -> None:
    """Start the sandbox, seed it, route leads end to end and show the result."""
    from adapters.sandbox.generate import iter_seed
    from adapters.sandbox.runner import SandboxServer
    from adapters.slack.standin import SlackStandIn

    configure(level="WARNING")  # the demo shows tables; structured events stay for warnings and errors
    console = Console()
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    console.rule("[bold]leadrelay demo")
    started = time.perf_counter()
    with console.status(f"Starting the CRM sandbox and seeding a portal of {contacts:,} contacts..."):
        sandbox = SandboxServer(limits="professional", seed=iter_seed(contacts=contacts, seed=seed)).start()
        slack = SlackStandIn().start()
    counts = sandbox.admin.stats().get("store", {})
    console.print(
        f"Sandbox up in {time.perf_counter() - started:.1f}s: HubSpot at {sandbox.hubspot_url}, "
        f"Salesforce at {sandbox.salesforce_url} (TLS, test CA), Slack stand-in at {slack.base_url}"
    )
    console.print(_store_table(counts))
    try:
        loaded = write_demo_config(config_path, workdir, sandbox, slack.base_url)
        run = _run(console, loaded, sandbox, leads=leads, seconds=seconds, seed=seed)
        _summary(console, loaded, run, slack, workdir)
    finally:
        slack.stop()
        sandbox.stop()


def write_demo_config(path: Path, workdir: Path, sandbox: Any, slack_url: str) -> LoadedConfig:
    """The example rules plus CRM, Slack and database settings pointing at this demo's sandbox; saved in workdir."""
    text = path.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("database:")]
    overlay = f"""
database: {workdir.resolve() / "leadrelay.sqlite"}
crms:
  system_of_record: salesforce
  hubspot:
    enabled: true
    access_token: ${{HUBSPOT_TOKEN:-sandbox-token}}
    base_url: {sandbox.hubspot_url}
    plan: professional
    poll_interval_s: 2
    overlap_s: 2
  salesforce:
    enabled: true
    access_token: ${{SALESFORCE_TOKEN:-sandbox-token}}
    instance_url: {sandbox.salesforce_url}
    ca_bundle: {sandbox.ca_path}
    poll_interval_s: 2
    overlap_s: 2
actions:
  slack:
    enabled: true
    token: ${{SLACK_TOKEN:-xoxb-standin}}
    base_url: {slack_url}
"""
    demo_file = workdir / "leadrelay.yaml"
    demo_file.write_text("\n".join(lines) + "\n" + overlay, encoding="utf-8")
    environ = {"HUBSPOT_TOKEN": "sandbox-token", "SALESFORCE_TOKEN": "sandbox-token", "SLACK_TOKEN": "xoxb-standin"}
    return load_config(demo_file, environ=environ)


def _run(console: Console, loaded: LoadedConfig, sandbox: Any, *, leads: int, seconds: float, seed: int) -> DemoRun:
    from adapters.sandbox.inbound import InboundStream
    from connector.pipeline import intake

    progress = RichProgress()
    with progress:
        relay = Relay.open(loaded, progress=progress)
        backfill = relay.engine.run_pass()
    synced = sum(s.counts.created for s in backfill.streams)
    console.print(
        f"Backfilled {synced:,} records from both CRMs into the cache "
        f"({sum(backfill.requests.values()):,} API requests, within the plan's rate limits)."
    )
    # everything created from now on is a new inbound lead
    intake.set_state(relay.db.conn, "go_live_ms", str(int(time.time() * 1000) - 1))
    relay.close()
    stream = InboundStream(sandbox.context.store, seed=seed)
    clients = FormClients(loaded)
    run = DemoRun()
    turns = max(1, int(seconds))
    per_turn = [leads // turns + (1 if i < leads % turns else 0) for i in range(turns)]
    console.print(
        f"Sending {leads} inbound leads into HubSpot and Salesforce over ~{seconds:.0f}s; the leadrelay daemon gets "
        "HubSpot's signed webhooks and polls Salesforce every 2s, then routes and acts at once."
    )
    with _running_daemon(loaded, sandbox) as daemon, console.status("") as status:
        for turn, count in enumerate(per_turn, start=1):
            started = time.perf_counter()
            for _ in range(count):
                lead = stream.next()
                native = clients.create(lead.crm, lead.properties)
                run.created_ms[f"{lead.crm}:{native}"] = int(time.time() * 1000)
            status.update(f"second {turn}/{turns}: sent {len(run.created_ms)} leads, {_progress(daemon)}")
            time.sleep(max(0.0, 1.0 - (time.perf_counter() - started)))
        deadline = time.monotonic() + 15  # let the last leads through sync, routing and delivery
        while time.monotonic() < deadline and not _settled(daemon, len(run.created_ms)):
            status.update(f"finishing: {_progress(daemon)}")
            time.sleep(0.5)
    return run


@contextlib.contextmanager
def _running_daemon(loaded: LoadedConfig, sandbox: Any) -> Iterator[Any]:
    """The real daemon (loop thread, HTTP listener) with the sandbox's HubSpot webhooks pointed at it."""
    from pydantic import SecretStr

    from connector.config.daemon import DaemonConfig, WebhooksConfig
    from connector.daemon import Daemon
    from connector.web.app import create_app
    from connector.web.server import WebServer

    secret = secrets.token_urlsafe(24)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    hooks = WebhooksConfig(enabled=True, client_secret=SecretStr(secret))
    settings = DaemonConfig(host="127.0.0.1", port=port, idle_wait_s=0.5, watch_config=False, webhooks=hooks)
    config = loaded.config.model_copy(update={"daemon": settings})
    daemon = Daemon(LoadedConfig(config=config, path=None, version=loaded.version))
    server = WebServer(create_app(daemon), "127.0.0.1", port).start()
    loop = threading.Thread(target=daemon.run, name="leadrelay-demo-daemon", daemon=True)
    loop.start()
    sandbox.admin.set_webhooks(f"http://127.0.0.1:{port}/webhooks/hubspot", secret, ["email"])
    try:
        yield daemon
    finally:
        sandbox.admin.set_webhooks(None)
        daemon.request_stop()
        loop.join(30)
        server.stop()
        daemon.close()


def _progress(daemon: Any) -> str:
    db = daemon.route_db
    outcomes = dict(db.conn.execute("SELECT status, COUNT(*) FROM pipeline_leads GROUP BY status").fetchall())
    done = db.conn.execute("SELECT COUNT(*) FROM outbox_items WHERE state = 'done'").fetchone()[0]
    return f"routed {outcomes.get('routed', 0)}, nurtured {outcomes.get('nurture', 0)}, delivered {done} effects"


def _settled(daemon: Any, sent: int) -> bool:
    db = daemon.route_db
    handled = db.conn.execute("SELECT COUNT(*) FROM pipeline_leads").fetchone()[0]
    pending = db.conn.execute("SELECT COUNT(*) FROM outbox_items WHERE state = 'pending'").fetchone()[0]
    return bool(handled >= sent and pending == 0)


class FormClients:
    """The real client libraries, as a web form's backend would use them."""

    def __init__(self, loaded: LoadedConfig) -> None:
        from adapters.hubspot.client import build_client
        from adapters.salesforce.client import build_client as build_sf
        from adapters.salesforce.client import build_session

        crms = loaded.config.crms
        self.hubspot = build_client(crms.hubspot)
        self.sf = build_sf(crms.salesforce, build_session(crms.salesforce))

    def create(self, crm: str, properties: dict[str, Any]) -> str:
        """Create the lead; Salesforce's native assignment rule puts it in its intake queue, as in real orgs."""
        if crm == "hubspot":
            from hubspot.crm.contacts import SimplePublicObjectInputForCreate

            created = self.hubspot.crm.contacts.basic_api.create(
                SimplePublicObjectInputForCreate(properties=properties)
            )
            return str(created.id)
        return str(self.sf.Lead.create(properties)["id"])


def _store_table(counts: dict[str, int]) -> Table:
    table = Table(title="The seeded portal", show_lines=False)
    table.add_column("CRM object")
    table.add_column("records", justify="right")
    for kind, n in sorted(counts.items()):
        table.add_row(kind, f"{n:,}")
    return table


def _summary(console: Console, loaded: LoadedConfig, run: DemoRun, slack: Any, workdir: Path) -> None:
    from connector.db import connect

    db = connect(loaded.config.database)
    reps = {r.email: r for r in loaded.config.routing.reps}
    decisions = db.conn.execute(
        "SELECT lead_id, owner, step, rule, pool, final_fallback FROM routing_decisions"
    ).fetchall()
    by_owner = Counter(row[1] for row in decisions)
    outcomes = dict(db.conn.execute("SELECT status, COUNT(*) FROM pipeline_leads GROUP BY status").fetchall())
    console.rule("[bold]Result")
    console.print(
        f"Leads sent: {len(run.created_ms)}  routed: {outcomes.get('routed', 0)}  "
        f"nurture: {outcomes.get('nurture', 0)}  failed: {outcomes.get('failed', 0)}  "
        f"final fallback: {sum(1 for row in decisions if row[5])}"
    )
    console.print(_rep_table(by_owner, reps, len(decisions)))
    console.print(_rule_table(decisions))
    console.print(_effects_table(db, slack))
    _speed(console, db, run)
    sample = decisions[0][0] if decisions else "LEAD_ID"
    cfg = workdir / "leadrelay.yaml"
    console.rule("[bold]Where to look next")
    for command, what in (
        (f"leadrelay explain {sample} --config {cfg}", "why this lead went where it went"),
        (f"leadrelay pools --config {cfg}", "the fairness ledger of every pool"),
        (f"leadrelay outbox list --config {cfg}", "every effect and its state"),
        (f"leadrelay simulate --config NEW.yaml --db {loaded.config.database}", "backtest changed rules"),
    ):
        console.print(f"  [bold]{command}[/bold]\n      {what}")
    console.print("  docs/rules.md, docs/sandbox.md, docs/benchmarks.md")


def _rep_table(by_owner: Counter[str], reps: dict[str, Any], total: int) -> Table:
    table = Table(title="Leads per owner (share of routed leads vs. weight)")
    for column in ("owner", "role", "team", "leads", "share", "weight"):
        table.add_column(column, justify="right" if column in {"leads", "share", "weight"} else "left")
    for owner, n in by_owner.most_common():
        rep = reps.get(owner)
        share = f"{100 * n / total:.1f}%" if total else "-"
        table.add_row(
            rep.display_name if rep else owner,
            rep.role if rep else "queue",
            (rep.team or "") if rep else "",
            str(n),
            share,
            f"{rep.weight:g}" if rep else "-",
        )
    return table


def _rule_table(decisions: list[Any]) -> Table:
    table = Table(title="Which cascade step decided")
    table.add_column("step")
    table.add_column("rule / pool")
    table.add_column("leads", justify="right")
    for (step, target), n in Counter((row[2], row[3] or row[4] or "") for row in decisions).most_common():
        table.add_row(step, target, str(n))
    return table


def _effects_table(db: Any, slack: Any) -> Table:
    rows = db.conn.execute(
        "SELECT kind, state, COUNT(*) FROM outbox_items GROUP BY kind, state ORDER BY kind"
    ).fetchall()
    table = Table(title="Effects (outbox)")
    table.add_column("effect")
    table.add_column("state")
    table.add_column("count", justify="right")
    for kind, state, n in rows:
        table.add_row(kind, state, str(n))
    table.add_row("slack messages seen by the stand-in", "", str(sum(slack.per_decision().values())))
    return table


def _speed(console: Console, db: Any, run: DemoRun) -> None:
    rows = db.conn.execute(
        "SELECT a.payload, i.updated_at FROM outbox_items i JOIN outbox_assignments a USING (decision_id)"
        " WHERE i.kind = 'set_owner' AND i.state = 'done'"
    ).fetchall()
    waits = []
    for payload, done_at in rows:
        lead = json.loads(payload)["lead"]
        created = run.created_ms.get(f"{lead['crm']}:{lead['native_id']}")
        if created is not None:
            waits.append(done_at - created / 1000)
    if not waits:
        console.print("No owner write completed; see `leadrelay outbox list`.")
        return
    waits.sort()
    p95 = waits[min(len(waits) - 1, int(0.95 * len(waits)))]
    console.print(
        f"Speed to lead (lead created in the CRM → owner written back): median {statistics.median(waits):.1f}s, "
        f"p95 {p95:.1f}s, max {waits[-1]:.1f}s over {len(waits)} leads "
        "(HubSpot by webhook, Salesforce polled every 2s)."
    )
