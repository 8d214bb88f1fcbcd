"""Continuity findings as JSON, CSV or one self-contained HTML page (inline CSS, no script)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Sequence
from html import escape
from typing import Any

from connector.audit.continuity import KINDS, WHY, Finding

COLUMNS = ("kind", "record_id", "name", "current_owner", "suggested_owner", "what", "why")


def finding_dict(finding: Finding) -> dict[str, Any]:
    """One finding as plain JSON values."""
    return {column: getattr(finding, column) for column in COLUMNS}


def to_json(findings: Sequence[Finding]) -> str:
    """Counts per kind and every finding, as indented JSON."""
    counts = Counter(f.kind for f in findings)
    body = {"counts": {k: counts[k] for k in KINDS}, "findings": [finding_dict(f) for f in findings]}
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def to_csv(findings: Sequence[Finding]) -> str:
    """One row per finding; cells that a spreadsheet would run as formulas are quoted."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for finding in findings:
        writer.writerow([_cell(getattr(finding, c)) for c in COLUMNS])
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


_CSS = (
    "body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1f2933}"
    "table{border-collapse:collapse;width:100%}th,td{padding:.3rem .5rem;border-bottom:1px solid #eef2f7;"
    "text-align:left;vertical-align:top}th{background:#f5f7fa}.muted{color:#627d98}"
)


def to_html(findings: Sequence[Finding], *, limit_per_kind: int = 1000) -> str:
    """A page with one section per kind: why it matters, then up to ``limit_per_kind`` findings."""
    counts = Counter(f.kind for f in findings)
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Continuity audit</title>",
        f"<style>{_CSS}</style></head><body><h1>Continuity audit</h1><ul>",
        *(f"<li>{escape(k)}: {counts[k]}</li>" for k in KINDS),
        "</ul>",
    ]
    for kind in KINDS:
        rows = [f for f in findings if f.kind == kind][:limit_per_kind]
        if not rows:
            continue
        parts.append(f"<h2>{escape(kind)} ({counts[kind]})</h2><p class=muted>{escape(WHY[kind])}</p>")
        parts.append("<table><tr><th>Record</th><th>Owner</th><th>Suggested owner</th><th>What</th></tr>")
        parts.extend(
            f"<tr><td>{escape(f.name)}<br><span class=muted>{escape(f.record_id)}</span></td>"
            f"<td>{escape(f.current_owner or '–')}</td><td>{escape(f.suggested_owner or '–')}</td>"
            f"<td>{escape(f.what)}</td></tr>"
            for f in rows
        )
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "".join(parts)
