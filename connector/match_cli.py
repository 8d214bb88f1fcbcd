"""``leadrelay match``: match a CSV of leads to a CSV of accounts, offline, with the daemon's own matcher.

    leadrelay match --accounts accounts.csv --leads leads.csv --out matches.csv [--config leadrelay.yaml]

Output columns: ``lead_id,account_id,method,confidence`` (account_id empty when unmatched). Rows that cannot be
used are reported on stderr with their line number and reason; they never stop the run.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import click

from connector.config import load_config
from connector.config.matching import MatchingConfig
from connector.errors import ConfigError, InvalidRecordError
from connector.logs import get_logger
from connector.matching.csvio import RowProblem, read_accounts, read_leads
from connector.matching.index import AccountIndex
from connector.matching.matcher import match_account
from connector.models import Lead

OUTPUT_COLUMNS = ("lead_id", "account_id", "method", "confidence")

log = get_logger(__name__)


@click.command("match")
@click.option(
    "--accounts", "accounts_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--leads", "leads_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="a leadrelay YAML config; its matching section is used (defaults otherwise)",
)
def match_command(accounts_path: Path, leads_path: Path, out_path: Path, config_path: Path | None) -> None:
    """Match leads (id,email,company,country) to accounts (id,name,domain,extra_domains,country,parent_id)."""
    config = _matching_config(config_path)
    try:
        accounts, account_problems = read_accounts(accounts_path)
        leads, lead_problems = read_leads(leads_path)
    except InvalidRecordError as exc:
        raise click.ClickException(exc.message) from exc
    _report("accounts", accounts_path, account_problems)
    _report("leads", leads_path, lead_problems)
    start = time.perf_counter()
    index = AccountIndex.build(accounts)
    counts = _write_matches(out_path, leads, index, config)
    seconds = time.perf_counter() - start
    log.info("leads_matched", leads=len(leads), accounts=len(accounts), seconds=round(seconds, 3), **counts)
    summary = ", ".join(f"{n} by {m}" if m != "none" else f"{n} unmatched" for m, n in counts.items() if n)
    click.echo(f"{len(leads)} leads matched against {len(accounts)} accounts ({summary or 'none'}) -> {out_path}")


def _matching_config(path: Path | None) -> MatchingConfig:
    if path is None:
        return MatchingConfig()
    try:
        return load_config(path).config.matching
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _write_matches(out_path: Path, leads: list[Lead], index: AccountIndex, config: MatchingConfig) -> dict[str, int]:
    counts = {"email": 0, "domain": 0, "name": 0, "none": 0}
    with out_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(OUTPUT_COLUMNS)
        for lead in leads:
            match = match_account(lead, index, None, config)
            counts[match.method] += 1
            writer.writerow([lead.id, match.account_id or "", match.method, f"{match.confidence:.4f}"])
    return counts


def _report(kind: str, path: Path, problems: list[RowProblem]) -> None:
    for problem in problems:
        click.echo(f"{path}: {problem}", err=True)
    if problems:
        click.echo(f"{len(problems)} problem(s) in the {kind} file {path} (rows kept or skipped as noted)", err=True)
