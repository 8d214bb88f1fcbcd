"""``leadrelay sync``: one sync pass of the configured CRMs into the cache, then a table of what changed.

A first SIGTERM/SIGINT finishes the page in flight (its cursor is saved with it) and stops; a second exits at once.
Exit status: 0 when every CRM synced or was paused for its daily budget, 1 when a CRM failed, 2 for a bad config.
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
from rich.console import Console
from rich.table import Table

from connector.cache import open_cache
from connector.config import load_config
from connector.errors import ConfigError
from connector.sync.engine import SyncReport
from connector.sync.progress import LogProgress, RichProgress
from connector.sync.readers import build_engine

DEFAULT_CONFIG = "leadrelay.yaml"


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


@click.command("sync")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="LEADRELAY_CONFIG",
    default=DEFAULT_CONFIG,
    show_default=True,
    help="Config file (or $LEADRELAY_CONFIG).",
)
@click.option("--crm", type=click.Choice(["hubspot", "salesforce"]), default=None, help="Sync only this CRM.")
@click.option("--full", is_flag=True, help="Forget the cursors and re-read everything (deletes what is gone).")
def sync_command(config_path: Path, crm: str | None, full: bool) -> None:
    """Run one sync pass of the CRMs into the cache and print what changed."""
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
    with _graceful(flag), progress if isinstance(progress, RichProgress) else contextlib.nullcontext():
        report = engine.run_pass(full=full)
    print_report(report, Console())
    sys.exit(0 if report.ok else 1)


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
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(resume_at))
        console.print(f"[bold yellow]{crm} is paused: daily API budget spent; resumes at {when}[/]")
    for crm, error in report.failed.items():
        console.print(f"[bold red]{crm} failed: {error}[/]")
    if report.stopped:
        console.print("[yellow]stopped on request; cursors are saved, the next run resumes[/]")
