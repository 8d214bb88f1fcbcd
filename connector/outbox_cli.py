"""``leadrelay outbox``: see what the outbox holds, re-drive dead effects, give up on some, or deliver.

leadrelay outbox list [--state dead] [--decision ID]   what is pending, done, conflicting or dead, and why
leadrelay outbox retry [ITEM_ID ...] [--all-dead]      put dead (or dropped) items back in the queue
leadrelay outbox drop ITEM_ID ...                      never deliver these (pending, dead or conflicting)
leadrelay outbox deliver [--burst]                     run the delivery worker with the configured CRMs
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

import click
import sqlite_utils
from rich.console import Console
from rich.table import Table

from connector.cli_options import config_option
from connector.config import LeadrelayConfig, load_config
from connector.db import connect
from connector.errors import ConfigError
from connector.outbox import store
from connector.outbox.model import ItemState
from connector.outbox.worker import OutboxWorker, Performer


def _open(config_path: Path, db_path: Path | None) -> tuple[LeadrelayConfig | None, sqlite_utils.Database]:
    config = None
    try:
        if db_path is None:
            config = load_config(config_path).config
            db_path = config.database
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    db = connect(db_path)
    store.install(db)
    return config, db


_config_option = config_option("Config file (or $LEADRELAY_CONFIG); names the database.")
_db_option = click.option(
    "--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Database file directly."
)


@click.group("outbox")
def outbox() -> None:
    """The effects of routing decisions: owner write-back, tasks, Slack and email."""


@outbox.command("list")
@_config_option
@_db_option
@click.option("--state", "states", multiple=True, type=click.Choice([s.value for s in ItemState]), help="Filter.")
@click.option("--decision", "decision_id", default=None, help="Only this decision's effects.")
@click.option("--limit", default=50, show_default=True)
def list_command(
    config_path: Path, db_path: Path | None, states: tuple[str, ...], decision_id: str | None, limit: int
) -> None:
    """Show items, newest first, with counts per state."""
    _config, db = _open(config_path, db_path)
    items = store.list_items(db, states=[ItemState(s) for s in states], decision_id=decision_id, limit=limit)
    table = Table(title="leadrelay outbox")
    for column in ("id", "decision", "effect", "target", "state", "tries", "updated", "detail"):
        table.add_column(column, overflow="fold")
    for item in items:
        detail = item.last_error if item.state in (ItemState.DEAD, ItemState.PENDING) else item.result
        updated = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(item.updated_at))
        row = (item.decision_id, item.kind.value, item.target, item.state.value, str(item.attempts), updated)
        table.add_row(str(item.id), *row, (detail or "")[:200])
    console = Console()
    console.print(table)
    counts = store.counts(db)
    console.print("  ".join(f"{state}: {n:,}" for state, n in sorted(counts.items())) or "the outbox is empty")


@outbox.command("retry")
@_config_option
@_db_option
@click.argument("item_ids", nargs=-1, type=int)
@click.option("--all-dead", is_flag=True, help="Every dead item.")
def retry_command(config_path: Path, db_path: Path | None, item_ids: tuple[int, ...], all_dead: bool) -> None:
    """Put dead (or dropped) items back in the queue with a fresh retry budget."""
    if not item_ids and not all_dead:
        raise click.UsageError("name item ids, or pass --all-dead")
    _config, db = _open(config_path, db_path)
    click.echo(f"{store.retry(db, item_ids)} item(s) queued again")


@outbox.command("drop")
@_config_option
@_db_option
@click.argument("item_ids", nargs=-1, type=int, required=True)
def drop_command(config_path: Path, db_path: Path | None, item_ids: tuple[int, ...]) -> None:
    """Never deliver these items (pending, dead or conflicting ones)."""
    _config, db = _open(config_path, db_path)
    click.echo(f"{store.drop(db, item_ids)} item(s) dropped")


@outbox.command("deliver")
@_config_option
@click.option("--burst", is_flag=True, help="Stop once nothing is due instead of waiting for more.")
def deliver_command(config_path: Path, burst: bool) -> None:
    """Run the delivery worker; a first SIGTERM finishes the batch in flight, a second exits at once."""
    config, db = _open(config_path, None)
    assert config is not None
    worker = OutboxWorker(db, build_performers(config), config.actions.outbox)

    def stop(signum: int, _frame: FrameType | None) -> None:
        if worker.stop_event.is_set():
            raise SystemExit(128 + signum)
        worker.stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
    filed = worker.run(burst=burst)
    click.echo(f"{filed} item(s) filed; {worker.pending()} pending")


def build_performers(config: LeadrelayConfig, *, clients: dict[str, Any] | None = None) -> list[Performer]:
    """The performers for every configured CRM and channel (``clients`` may supply ready CRM clients by name)."""
    from connector.relay import build_crm_parts

    return build_crm_parts(config, clients=clients).performers
