"""``leadrelay report`` and ``leadrelay audit continuity``: routing analytics and the ownership audit.

leadrelay report [--since 30d] [--format html|json|csv] [--out FILE]    metrics for leads routed in the period
leadrelay audit continuity [--format html|json|csv] [--out FILE]         ownership findings and suggested owners
leadrelay audit continuity --fix [--yes]                                 dry run, or enqueue owner writes (--yes)
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import sqlite_utils

from connector.analytics import report_data
from connector.analytics.metrics import compute
from connector.analytics.report_html import render_html
from connector.audit import fix, render
from connector.audit.continuity import KINDS, Finding, audit
from connector.cache import open_cache
from connector.cli_options import config_option
from connector.config import load_config
from connector.config.loader import LoadedConfig
from connector.errors import ConfigError

_SPAN = re.compile(r"^(\d+)\s*([hdw])$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}
_config_option = config_option()
_format_option = click.option(
    "--format", "fmt", type=click.Choice(["html", "json", "csv"]), default="html", show_default=True
)
_out_option = click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write here instead of stdout."
)


def parse_since(text: str, now: datetime) -> datetime:
    """``30d`` / ``12h`` / ``2w`` before ``now``, or an ISO date or datetime (UTC when no zone is given)."""
    found = _SPAN.match(text.strip().lower())
    if found:
        return now - timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise click.BadParameter(f"{text!r}: expected 30d, 12h, 2w or an ISO date") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _load(config_path: Path) -> LoadedConfig:
    try:
        return load_config(config_path)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        click.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    click.echo(f"wrote {out}", err=True)


@click.command("report")
@_config_option
@click.option("--since", default="30d", show_default=True, help="Period start: 30d, 12h, 2w or an ISO date.")
@click.option("--until", "until", default=None, help="Period end (ISO date); default now.")
@_format_option
@_out_option
def report_command(config_path: Path, since: str, until: str | None, fmt: str, out: Path | None) -> None:
    """Speed-to-lead, funnel, fairness and reassignment/fallback/unmatched rates for leads routed in the period."""
    loaded = _load(config_path)
    now = datetime.now(UTC)
    end = parse_since(until, now) if until else now
    start = parse_since(since, end)
    db = open_cache(loaded.config.database)
    try:
        metrics = compute(db, loaded.config.routing, int(start.timestamp() * 1000), int(end.timestamp() * 1000))
    finally:
        db.conn.close()
    renderers = {"html": render_html, "json": report_data.to_json, "csv": report_data.to_csv}
    _emit(renderers[fmt](metrics), out)


@click.group("audit")
def audit_group() -> None:
    """Audits of the synced CRM data."""


@audit_group.command("continuity")
@_config_option
@_format_option
@_out_option
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS), help="Only these checks (repeatable).")
@click.option("--fix", "do_fix", is_flag=True, help="Apply suggested owners through the outbox (see --yes).")
@click.option("--dry-run/--yes", "dry_run", default=True, help="With --fix: show the plan (default) or apply it.")
def continuity_command(  # noqa: PLR0917 - one parameter per command-line option
    config_path: Path, fmt: str, out: Path | None, kinds: tuple[str, ...], do_fix: bool, dry_run: bool
) -> None:
    """Contacts vs account owners, inactive owners, split accounts, stuck leads and cross-CRM owner mismatches."""
    loaded = _load(config_path)
    db = open_cache(loaded.config.database)
    try:
        findings = list(audit(db, loaded.config, kinds=kinds or KINDS))
        renderers = {"html": render.to_html, "json": render.to_json, "csv": render.to_csv}
        _emit(renderers[fmt](findings), out)
        if do_fix:
            _fix(db, findings, dry_run)
    finally:
        db.conn.close()


def _fix(db: sqlite_utils.Database, findings: list[Finding], dry_run: bool) -> None:
    plan = fix.plan(db, findings)
    reasons = Counter(reason for _, reason in plan.skipped)
    for item in plan.fixes:
        click.echo(f"{'would set' if dry_run else 'set'} {item.target.record_id} → {item.owner.key}", err=True)
    for reason, count in reasons.most_common():
        click.echo(f"skipped {count}: {reason}", err=True)
    if dry_run:
        click.echo(f"dry run: {len(plan.fixes)} owner change(s) planned; run with --fix --yes to apply", err=True)
        return
    enqueued = fix.apply(db, plan.fixes)
    click.echo(f"enqueued {enqueued} owner change(s); the outbox delivers them (leadrelay outbox list)", err=True)


def register(cli: click.Group) -> None:
    """Attach ``report`` and ``audit`` to the top-level CLI."""
    cli.add_command(report_command)
    cli.add_command(audit_group)
