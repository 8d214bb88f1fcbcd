"""Rich tables for the terminal: the fairness ledger of each pool, and a simulation's side-by-side report."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime

import sqlite_utils
from rich.table import Table
from rich.text import Text

from connector.config.routing import Rep, RoutingConfig
from connector.routing.availability import cap_skip, local_time, presence_skip
from connector.routing.simulate import SimulationReport
from connector.routing.store import LedgerRow, ledger_rows, load_ledger


def ledger_tables(db: sqlite_utils.Database, config: RoutingConfig, now: datetime) -> Iterator[Table]:
    """One table per pool (configured pools first, then pods and pools only the ledger remembers)."""
    rows: dict[str, list[LedgerRow]] = defaultdict(list)
    for row in ledger_rows(db):
        rows[row.pool].append(row)
    counts = load_ledger(db)
    names = [p.name for p in config.pools] + sorted(set(rows) - {p.name for p in config.pools})
    for name in names:
        members = config.pools_by_name[name].reps if name in config.pools_by_name else ()
        yield _pool_table(name, members=members, rows=rows.get(name, []), config=config, counts=counts.counts, now=now)


def _pool_table(
    name: str,
    *,
    members: tuple[str, ...],
    rows: list[LedgerRow],
    config: RoutingConfig,
    counts: dict[tuple[str, str], int],
    now: datetime,
) -> Table:
    by_rep = {row.rep: row for row in rows}
    reps = config.reps_by_key
    keys = list(members) + sorted(set(by_rep) - set(members))
    total_weight = sum(reps[k].weight for k in members if k in reps) or 1.0
    total_assigned = sum(row.assigned for row in rows) or 1
    table = Table(title=f"pool {name}", title_justify="left")
    for column in ("rep", "weight", "target share", "expected", "assigned", "actual share", "credit", "now"):
        table.add_column(column, justify="left" if column in {"rep", "now"} else "right")
    for key in keys:
        row, rep = by_rep.get(key), reps.get(key)
        weight = rep.weight if rep is not None else 0.0
        credit = row.credit if row else 0.0
        style = "green" if credit > 0.5 else "red" if credit < -0.5 else ""
        table.add_row(
            key,
            f"{weight:g}" if rep else "-",
            f"{weight / total_weight:.1%}" if key in members else "left pool",
            f"{row.expected:.1f}" if row else "0.0",
            str(row.assigned) if row else "0",
            f"{(row.assigned if row else 0) / total_assigned:.1%}",
            Text(f"{credit:+.2f}", style=style),
            _now(rep, counts, now),
        )
    table.caption = "credit = expected − actual leads: + the pool owes the rep leads, − the rep is ahead"
    return table


def _now(rep: Rep | None, counts: dict[tuple[str, str], int], now: datetime) -> str:
    if rep is None:
        return "not in the rule file"
    local = local_time(rep, now)
    skip = presence_skip(rep, local) or cap_skip(
        rep, counts.get((rep.email, local.day_period), 0), counts.get((rep.email, local.week_period), 0), 0
    )
    return "available" if skip is None else skip.reason


def report_tables(report: SimulationReport, *, max_changes: int = 20) -> Iterator[Table | Text]:
    """The simulation as tables: per-owner counts, changed leads, final-fallback leads, and skip pressure."""
    moved = [c for c in report.changes if c.route_changed]
    yield Text(
        f"{report.total} leads replayed; {len(report.changes)} change owner ({len(moved)} take a different route, "
        f"the rest only another rep's turn in the same pool); final fallback: {report.fallbacks_before} before, "
        f"{len(report.fallbacks)} with the candidate file"
    )
    owners = Table(title="leads per owner", title_justify="left")
    for column in ("owner", "before", "share", "after", "share", "change"):
        owners.add_column(column, justify="left" if column == "owner" else "right")
    for c in report.owners:
        owners.add_row(
            c.owner,
            str(c.before),
            f"{report.share(c.before):.1%}",
            str(c.after),
            f"{report.share(c.after):.1%}",
            f"{c.after - c.before:+d}",
        )
    yield owners
    if report.changes:
        changes = Table(title=f"leads that change owner (first {max_changes}, new routes first)", title_justify="left")
        for column in ("lead", "before", "after", "via", "why"):
            changes.add_column(column)
        for change in (moved + [c for c in report.changes if not c.route_changed])[:max_changes]:
            changes.add_row(change.lead_id, change.before, change.after, change.via, change.why)
        yield changes
    if report.fallbacks:
        fallbacks = Table(title="leads that would reach the final fallback", title_justify="left")
        fallbacks.add_column("lead")
        fallbacks.add_column("why")
        for lead_id, alert in report.fallbacks[:max_changes]:
            fallbacks.add_row(lead_id, alert)
        yield fallbacks
    if report.pressure:
        pressure = Table(title="availability and cap pressure (leads a rep was skipped for)", title_justify="left")
        for column in ("rep", "reason", "leads"):
            pressure.add_column(column, justify="right" if column == "leads" else "left")
        for rep, code, n in report.pressure[:max_changes]:
            pressure.add_row(rep, code, str(n))
        yield pressure
