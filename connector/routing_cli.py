"""Routing commands: ``pools`` (the fairness ledger), ``explain`` (why a lead went where), ``simulate`` (backtest
a candidate rule file on logged leads), ``route --dry-run`` (what would happen to the waiting leads) and
``config check`` (validate a rule file and warn about dead rules)."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from connector.cli_options import config_option
from connector.errors import ConfigError

if TYPE_CHECKING:
    import sqlite_utils

    from connector.config import LoadedConfig
    from connector.routing.dry_run import DryDecision

_config_option = config_option("The config file with the rules (or $LEADRELAY_CONFIG).")
_db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite database; defaults to the config's `database`.",
)


def _fail(exc: ConfigError) -> click.ClickException:
    return click.ClickException(str(exc))


def _load(path: Path) -> LoadedConfig:
    from connector.config import load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        raise _fail(exc) from None


def _database(config_path: Path, db_path: Path | None) -> sqlite_utils.Database:
    from connector.db import connect
    from connector.routing.store import ensure_schema

    if db_path is None:
        db_path = _load(config_path).config.database
    db = connect(db_path)
    ensure_schema(db)
    return db


@click.command("pools")
@_config_option
@_db_option
def pools(config_path: Path, db_path: Path | None) -> None:
    """Show each pool's fairness ledger: expected vs. actual leads, credit or debt, and who is available now."""
    from rich.console import Console

    from connector.routing.report import ledger_tables

    loaded = _load(config_path)
    db = _database(config_path, db_path)
    console = Console()
    for table in ledger_tables(db, loaded.config.routing, datetime.now(UTC)):
        console.print(table)


@click.command("explain")
@click.argument("lead_id")
@_config_option
@_db_option
@click.option("--all", "show_all", is_flag=True, help="Every decision about the lead, not only the latest.")
def explain_command(lead_id: str, config_path: Path, db_path: Path | None, show_all: bool) -> None:
    """Say in plain language why LEAD_ID went to its owner (from the decision log)."""
    from connector.routing.explain import explain
    from connector.routing.store import decisions_for_lead

    found = decisions_for_lead(_database(config_path, db_path), lead_id)
    if not found:
        raise click.ClickException(f"no routing decision logged for lead {lead_id}")
    for stored in found if show_all else found[-1:]:
        click.echo(f"Decision #{stored.id}")
        click.echo("\n".join(explain(stored.decision)))
        click.echo("")


@click.command("simulate")
@click.option(
    "--config",
    "candidate_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="The candidate rule file to try.",
)
@click.option("--since", default="30d", show_default=True, help="How far back to replay: 30d, 12h, 2w.")
@_db_option
@click.option("--changes", "max_changes", default=20, show_default=True, help="How many changed leads to list.")
def simulate_command(candidate_path: Path, since: str, db_path: Path | None, max_changes: int) -> None:
    """Replay logged leads against a candidate rule file and compare with what happened."""
    from rich.console import Console

    from connector.routing.report import report_tables
    from connector.routing.simulate import simulate
    from connector.routing.store import history_since

    loaded = _load(candidate_path)
    db = _database(candidate_path, db_path)
    start = datetime.now(UTC) - parse_window(since)
    history = history_since(db, start)
    report = simulate(loaded.config.routing, history, config_version=loaded.version)
    console = Console()
    for renderable in report_tables(report, max_changes=max_changes):
        console.print(renderable)


@click.command("route")
@_config_option
@_db_option
@click.option("--dry-run", is_flag=True, help="Decide the waiting leads and print the decisions; write nothing.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many leads (the next ones).")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
def route_command(config_path: Path, db_path: Path | None, dry_run: bool, limit: int | None, output: str) -> None:
    """Show who the leads waiting in the pipeline would go to, and why (with --dry-run; the daemon routes for real)."""
    from connector.routing.dry_run import DryDecision
    from connector.routing.dry_run import dry_run as run_dry

    if not dry_run:
        raise click.UsageError("only --dry-run is supported here: `leadrelay run` routes for real")
    loaded = _load(config_path)
    path = db_path or loaded.config.database
    if not Path(path).exists():
        raise click.ClickException(f"no database at {path}: nothing is waiting")
    decisions = [DryDecision.of(d) for d in run_dry(Path(path), loaded, now=datetime.now(UTC), limit=limit)]
    if output == "json":
        click.echo(json.dumps([dataclasses.asdict(d) for d in decisions], indent=2))
        return
    _print_dry_table(decisions)


def _print_dry_table(decisions: list[DryDecision]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"dry run: {len(decisions)} lead(s) would be routed (nothing was written)", title_justify="left"
    )
    for column in ("lead", "owner", "via", "why"):
        table.add_column(column)
    for d in decisions:
        owner = d.owner + (f" + {d.secondary_owner}" if d.secondary_owner else "")
        table.add_row(d.lead_id, owner + (" (FINAL FALLBACK)" if d.final_fallback else ""), d.route, d.why)
    Console().print(table)


def parse_window(text: str) -> timedelta:
    """``30d`` / ``12h`` / ``2w`` / ``90m`` as a timedelta."""
    found = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", text)
    if not found:
        raise click.BadParameter(f"expected a number and a unit (m, h, d, w), e.g. 30d; got {text!r}")
    amount, unit = int(found.group(1)), found.group(2)
    return timedelta(**{{"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[unit]: amount})


@click.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Exit with status 1 when there are warnings.")
def check(file: Path, strict: bool) -> None:
    """Validate FILE and warn about rules that can never fire (shadowed, contradictory, empty pool)."""
    from connector.routing.lint import check_routing

    loaded = _load(file)
    warnings = check_routing(loaded.config.routing)
    routing = loaded.config.routing
    click.echo(
        f"{file}: valid (version {loaded.version}): {len(routing.reps)} reps, {len(routing.pools)} pools, "
        f"{len(routing.stages)} stages"
    )
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    if warnings:
        click.echo(f"{len(warnings)} warning(s)", err=True)
        if strict:
            raise SystemExit(1)


@click.group("config")
def config_group() -> None:
    """Work with the rule file."""


config_group.add_command(check)


def register(cli: click.Group) -> None:
    """Attach the routing commands to the top-level group (joining an existing ``config`` group if one exists)."""
    for command in (pools, explain_command, simulate_command, route_command):
        cli.add_command(command)
    existing = cli.commands.get("config")
    if isinstance(existing, click.Group):
        existing.add_command(check)
    else:
        cli.add_command(config_group)
