"""``leadrelay scoring``: try the scoring rules on a lead from the command line and read the breakdown.

    leadrelay scoring explain lead.json --config leadrelay.yaml [--account account.json] [--json]

The lead (and account) files hold the fields of ``Lead`` (``Account``) as JSON; ids may be left out. An
``activity`` object holds the ``Activity`` counters and epoch-millisecond times.
"""

from __future__ import annotations

import json
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

import click

from connector.config import load_config
from connector.config.scoring import ScoringConfig
from connector.models import Account, Activity, Lead
from connector.scoring.qualify import qualify

_LEAD_DEFAULTS = {"id": "cli:lead:1", "crm": "cli", "native_id": "1", "object": "api"}
_ACCOUNT_DEFAULTS = {"id": "cli:account:1", "crm": "cli", "native_id": "1", "name": "(account)"}


@click.group()
def scoring() -> None:
    """Fit + Activity scoring: try the rules on a lead."""


@scoring.command()
@click.argument("lead_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="leadrelay config file; the default rules when omitted.",
)
@click.option(
    "--account",
    "account_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="JSON of the matched account.",
)
@click.option("--now-ms", type=int, default=None, help="Score as of this epoch-ms time (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print the qualification as JSON instead of text.")
def explain(
    lead_file: Path, config_path: Path | None, account_file: Path | None, now_ms: int | None, as_json: bool
) -> None:
    """Score LEAD_FILE, say route or nurture, and show every point with its reason."""
    rules = load_config(config_path).config.scoring if config_path else ScoringConfig()
    lead = _build(Lead, _LEAD_DEFAULTS, _read(lead_file))
    account = _build(Account, _ACCOUNT_DEFAULTS, _read(account_file)) if account_file else None
    result = qualify(lead, account, rules, now_ms if now_ms is not None else int(time.time() * 1000))
    if not as_json:
        click.echo(result.render())
        return
    score = result.score
    click.echo(
        json.dumps(
            {
                "outcome": result.outcome,
                "hint": result.hint,
                "reason": result.reason,
                "grade": score.grade,
                "fit": score.fit,
                "activity": score.activity,
                "breakdown": [item._asdict() for item in score.breakdown],
            },
            indent=2,
            ensure_ascii=False,
        )
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.BadParameter(f"{path}: not readable JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise click.BadParameter(f"{path}: expected a JSON object")
    return data


def _build(cls: type[Any], defaults: dict[str, str], data: dict[str, Any]) -> Any:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise click.BadParameter(f"unknown {cls.__name__} fields: {', '.join(unknown)}")
    values = {**defaults, **data}
    if "activity" in values:
        values["activity"] = _build(Activity, {}, values["activity"])
    for name in ("products", "extra_domains", "teams"):
        if isinstance(values.get(name), list):
            values[name] = tuple(values[name])
    return cls(**values)
