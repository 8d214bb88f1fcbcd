"""The report as data: one JSON document, or CSV with one row per (dimension, group).

JSON keeps every figure (speeds in seconds, rates as fractions 0..1, funnel counts by stage name); CSV flattens
the grouped metrics for a spreadsheet, with the overall row first (dimension ``all``).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from connector.analytics.facts import FUNNEL
from connector.analytics.metrics import GroupMetrics, Metrics

CSV_COLUMNS = (
    "dimension",
    "group",
    "leads",
    "touched",
    "touch_rate",
    "reassignment_rate",
    "fallback_rate",
    "unmatched_rate",
    "meeting_rate",
    "meetings",
    "assign_median_s",
    "assign_p90_s",
    "touch_median_s",
    "touch_p90_s",
    "created_to_touch_median_s",
    "created_to_touch_p90_s",
    *(f"funnel_{name.lower().replace(' ', '_')}" for name in FUNNEL),
)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")


def group_dict(group: GroupMetrics) -> dict[str, Any]:
    """One group's figures as plain JSON values."""
    return {
        "group": group.key,
        "leads": group.leads,
        "touched": group.touched,
        "reassigned": group.reassigned,
        "fallback": group.fallback,
        "unmatched": group.unmatched,
        **group.rates,
        "meetings": {
            "leads_known": group.meeting_leads,
            "leads_with_meeting": group.met,
            "booked": group.meetings,
            "per_lead": group.meetings_per_lead,
        },
        "funnel": dict(zip(FUNNEL, group.funnel, strict=True)),
        "funnel_conversion": conversion(group.funnel),
        "speed_to_lead": {
            "created_to_assigned": asdict(group.created_to_assigned),
            "assigned_to_first_touch": asdict(group.assigned_to_touch),
            "created_to_first_touch": asdict(group.created_to_touch),
        },
    }


def conversion(funnel: tuple[int, ...]) -> dict[str, float | None]:
    """Each funnel step as a share of the step before it (``"MQL → SQL": 0.5``), None after an empty step."""
    return {
        f"{FUNNEL[i]} → {FUNNEL[i + 1]}": funnel[i + 1] / funnel[i] if funnel[i] else None
        for i in range(len(FUNNEL) - 1)
    }


def to_dict(metrics: Metrics) -> dict[str, Any]:
    """The whole report as a JSON-ready dict."""
    return {
        "period": {"start": _iso(metrics.start_ms), "end": _iso(metrics.end_ms)},
        "overall": group_dict(metrics.overall),
        "groups": {name: [group_dict(g) for g in groups] for name, groups in metrics.groups.items()},
        "fairness": {
            "jain_index": metrics.fairness.index,
            "reps": [asdict(r) for r in metrics.fairness.reps],
        },
        "trend": [asdict(p) for p in metrics.trend],
        "speed_to_first_touch_histogram": dict(metrics.touch_histogram),
        "notes": list(metrics.notes),
    }


def to_json(metrics: Metrics) -> str:
    """The report as indented JSON."""
    return json.dumps(to_dict(metrics), indent=2, ensure_ascii=False) + "\n"


def csv_row(dimension: str, group: GroupMetrics) -> list[Any]:
    """One CSV row of ``CSV_COLUMNS`` (empty cells for missing values)."""
    rates = group.rates
    speeds = (group.created_to_assigned, group.assigned_to_touch, group.created_to_touch)
    values: list[Any] = [dimension, group.key, group.leads, group.touched]
    values += [rates[k] for k in ("touch_rate", "reassignment_rate", "fallback_rate", "unmatched_rate")]
    values += [rates["meeting_rate"], group.meetings if group.meeting_leads else None]
    values += [v for s in speeds for v in (s.median_s, s.p90_s)]
    values += list(group.funnel)
    return [_cell(v) for v in values]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value  # a CRM value must not run as a spreadsheet formula
    return value


def to_csv(metrics: Metrics) -> str:
    """The overall and grouped metrics as CSV, one row per group."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerow(csv_row("all", metrics.overall))
    for name, groups in metrics.groups.items():
        for group in groups:
            writer.writerow(csv_row(name, group))
    return out.getvalue()
