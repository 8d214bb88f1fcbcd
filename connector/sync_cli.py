"""``leadrelay sync``: one sync pass of the configured CRMs into the cache, then a table of what changed.

A first SIGTERM/SIGINT finishes the page in flight (its cursor is saved with it) and stops; a second exits at once.
Exit status: 0 when every CRM synced or was paused for its daily budget, 1 when a CRM failed (or refused the
login), 2 for a bad config.

``leadrelay sync resume [--crm X]`` lifts a daily-budget pause by hand (say, after buying an API add-on), printing
what was paused, until when and why; the next pass, or the running daemon's next one, calls the CRM again.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import click
import sqlite_utils
from rich.console import Console
from rich.table import Table

from connector.cache import open_cache
from connector.cli_options import config_option
from connector.config import load_config
from connector.db import transaction
from connector.errors import ConfigError, LeadrelayError
from connector.sync import cursors
from connector.sync.engine import SyncReport
from connector.sync.progress import LogProgress, RichProgress
from connector.sync.readers import build_engine

CRMS = ("hubspot", "salesforce")


class _StopFlag:
    """Set by the first signal; the second one exits immediately."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self) -> bool:
        return self.requested

    def handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.requested:
            raise SystemExit(128 + signum)
        self.requested = True


@contextlib.contextmanager
def _graceful(flag: _StopFlag) -> Iterator[None]:
    previous = {sig: signal.signal(sig, flag.handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@click.group("sync", invoke_without_command=True)
@config_option()
@click.option("--crm", type=click.Choice(CRMS), default=None, help="Sync only this CRM.")
@click.option("--full", is_flag=True, help="Forget the cursors and re-read everything (deletes what is gone).")
@click.pass_context
def sync_command(ctx: click.Context, config_path: Path, crm: str | None, full: bool) -> None:
    """Run one sync pass of the CRMs into the cache and print what changed."""
    if ctx.invoked_subcommand is not None:  # `sync resume`: the subcommand does the work
        return
    try:
        loaded = load_config(config_path)
        db = open_cache(loaded.config.database)
        flag = _StopFlag()
        tty = sys.stderr.isatty()
        progress = RichProgress() if tty else LogProgress()
        engine = build_engine(db, loaded.config.crms, only=[crm] if crm else None, progress=progress, should_stop=flag)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except LeadrelayError as exc:  # e.g. Salesforce refused the configured login
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    with _graceful(flag), progress if isinstance(progress, RichProgress) else contextlib.nullcontext():
        report = engine.run_pass(full=full)
    print_report(report, Console())
    sys.exit(0 if report.ok else 1)


@sync_command.command("resume")
@config_option()
@click.option(
    "--crm", type=click.Choice(CRMS), default=None, help="Lift only this CRM's pause (default: every paused CRM)."
)
def resume_command(config_path: Path, crm: str | None) -> None:
    """Lift a daily-budget pause by hand: the next sync pass calls the CRM again before its budget resets."""
    try:
        db = open_cache(load_config(config_path).config.database)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    lifted = lift_pauses(db, [crm] if crm else list(CRMS))
    if not lifted:
        click.echo(f"{crm} is not paused; nothing to resume" if crm else "no CRM is paused; nothing to resume")
    for name, (resume_at, reason) in lifted.items():
        click.echo(f"{name} was paused until {_utc(resume_at)} ({reason}); resumed now")
        if "share of the daily budget" in reason:
            click.echo(f"warning: {name} reads hit crms.{name}.daily_read_share; raise it or the next pass pauses")


def lift_pauses(db: sqlite_utils.Database, crms: list[str]) -> dict[str, tuple[float, str]]:
    """Delete the budget pauses of ``crms`` that are in force; returns what each was (resume_at, reason)."""
    lifted: dict[str, tuple[float, str]] = {}
    with transaction(db) as tx:
        for name in crms:
            pause = cursors.paused_until(tx, name)
            if pause is not None:
                cursors.unpause(tx, name)
                lifted[name] = pause
    return lifted


def _utc(epoch_s: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch_s))


def print_report(report: SyncReport, console: Console) -> None:
    """The pass as a table: per stream created/updated/deleted/unchanged/skipped and requests, then CRM notes."""
    table = Table(title="leadrelay sync")
    for column in ("stream", "mode", "created", "updated", "deleted", "unchanged", "skipped", "requests"):
        table.add_column(column, justify="left" if column in ("stream", "mode") else "right")
    for s in report.streams:
        c = s.counts
        values = (c.created, c.updated, c.deleted, c.unchanged, s.skipped, s.requests)
        table.add_row(s.stream, s.mode, *(f"{v:,}" for v in values))
    console.print(table)
    for crm, used in report.requests.items():
        console.print(f"{crm}: {used:,} API requests")
    for crm, resume_at in report.paused.items():
        console.print(f"[bold yellow]{crm} is paused: daily API budget spent; resumes at {_utc(resume_at)}[/]")
    for crm, error in report.failed.items():
        console.print(f"[bold red]{crm} failed: {error}[/]")
    if report.stopped:
        console.print("[yellow]stopped on request; cursors are saved, the next run resumes[/]")
