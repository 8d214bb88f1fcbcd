"""The report as one self-contained HTML file: inline CSS and inline SVG charts, no script, no external resource.

Charts: leads per rep against their capacity share, speed to first touch, the funnel (with each step's
conversion) and leads per day; meeting rate and opportunity → won are headline cards and table columns. Every
value that came from a CRM or the rule file is escaped; the page works offline and prints cleanly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from connector.analytics.facts import FUNNEL
from connector.analytics.metrics import GroupMetrics, Metrics, Speed

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;color:#1f2933;
padding:0 1rem}
h1{font-size:1.6rem;margin:0 0 .2rem}h2{font-size:1.15rem;margin:2rem 0 .6rem;border-bottom:1px solid #d9e2ec}
.muted{color:#627d98}.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:.8rem}
.card{border:1px solid #d9e2ec;border-radius:8px;padding:.7rem .9rem}.card b{display:block;font-size:1.4rem}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:1.2rem}
figure{margin:0;border:1px solid #d9e2ec;border-radius:8px;padding:.6rem}figcaption{font-weight:600;margin-bottom:.3rem}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem}th,td{padding:.3rem .5rem;border-bottom:1px solid #eef2f7;
text-align:right}th:first-child,td:first-child{text-align:left}th{background:#f5f7fa}
svg text{font:11px system-ui,sans-serif;fill:#334e68}
"""
_BLUE, _GREY, _GREEN = "#2f80ed", "#bcccdc", "#27ae60"


def render_html(metrics: Metrics, *, title: str = "leadrelay routing report") -> str:
    """The whole report as one HTML document."""
    period = f"{_day(metrics.start_ms)} – {_day(metrics.end_ms)}"
    parts = [
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>",
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1><p class=muted>Leads first routed {escape(period)} (UTC)</p>",
        _cards(metrics),
        "<h2>Charts</h2><div class=charts>",
        _figure("Leads per rep vs capacity share (pool-distributed leads)", _rep_chart(metrics)),
        _figure("Speed to first touch (after assignment)", _bars(list(metrics.touch_histogram), _BLUE)),
        _figure("Funnel: MQL → SQL → opportunity → closed won", _bars(_funnel_items(metrics.overall.funnel), _GREEN)),
        _figure("Leads per day", _trend_chart(metrics)),
        "</div>",
        *(_table(name, groups) for name, groups in metrics.groups.items()),
        "<h2>Notes</h2><ul>",
        *(f"<li>{escape(note)}</li>" for note in metrics.notes),
        "</ul></body></html>\n",
    ]
    return "".join(parts)


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5_400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.1f} d"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _cards(metrics: Metrics) -> str:
    overall, rates = metrics.overall, metrics.overall.rates
    fairness = metrics.fairness.index
    cards = [
        ("Routed leads", str(overall.leads)),
        ("Median created → assigned", _duration(overall.created_to_assigned.median_s)),
        ("Median assigned → first touch", _duration(overall.assigned_to_touch.median_s)),
        ("p90 assigned → first touch", _duration(overall.assigned_to_touch.p90_s)),
        ("Touched", _pct(rates["touch_rate"])),
        ("Reassigned", _pct(rates["reassignment_rate"])),
        ("Final fallback", _pct(rates["fallback_rate"])),
        ("Unmatched", _pct(rates["unmatched_rate"])),
        ("Meeting rate", _pct(rates["meeting_rate"])),
        ("Opportunity → won", _pct(_step(overall.funnel, 2))),
        ("Fairness (Jain)", "–" if fairness is None else f"{fairness:.3f}"),
    ]
    inner = "".join(f"<div class=card><span class=muted>{escape(k)}</span><b>{escape(v)}</b></div>" for k, v in cards)
    return f"<div class=cards>{inner}</div>"


def _step(funnel: tuple[int, ...], index: int) -> float | None:
    """Leads at funnel step ``index + 1`` as a share of those at ``index`` (None when none reached it)."""
    return funnel[index + 1] / funnel[index] if funnel[index] else None


def _funnel_items(funnel: tuple[int, ...]) -> list[tuple[str, float]]:
    """Funnel bars labelled with the conversion from the step before (``SQL (50%)``)."""
    items = [(FUNNEL[0], float(funnel[0]))]
    for i in range(1, len(FUNNEL)):
        share = _step(funnel, i - 1)
        items.append((f"{FUNNEL[i]} ({_pct(share)})" if share is not None else FUNNEL[i], float(funnel[i])))
    return items


def _figure(caption: str, svg: str) -> str:
    return f"<figure><figcaption>{escape(caption)}</figcaption>{svg}</figure>"


def _bars(items: Sequence[tuple[str, float]], colour: str, *, width: int = 480) -> str:
    """Horizontal bars, one per (label, value), values printed at the bar's end."""
    if not items:
        return _empty(width)
    row, label_w = 24, 130
    top = max((v for _, v in items), default=0) or 1
    span = width - label_w - 60
    height = row * len(items) + 8
    rows = []
    for i, (label, value) in enumerate(items):
        y, w = 4 + i * row, span * value / top
        rows.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{escape(_short(label))}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="{colour}" rx="2"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + 15}">{_number(value)}</text>'
        )
    return _svg(width, height, "".join(rows))


def _rep_chart(metrics: Metrics, width: int = 480) -> str:
    """Per rep: actual share (blue) over expected share from weight × available hours (grey)."""
    reps = metrics.fairness.reps
    if not reps:
        return _bars([(g.key, g.leads) for g in metrics.groups.get("rep", ())], _BLUE)
    row, label_w = 30, 150
    top = max(max(r.share, r.expected_share) for r in reps) or 1
    span = width - label_w - 120  # room for "12 · 60% / 57%" after the longest bar
    rows = []
    for i, rep in enumerate(reps):
        y = 4 + i * row
        actual, expected = span * rep.share / top, span * rep.expected_share / top
        rows.append(
            # The mailbox name fits the label column; the full address is the hover title.
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end"><title>{escape(rep.rep)}</title>'
            f"{escape(_short(rep.rep.split('@')[0], 20))}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{expected:.1f}" height="10" fill="{_GREY}" rx="2"/>'
            f'<rect x="{label_w}" y="{y + 14}" width="{actual:.1f}" height="10" fill="{_BLUE}" rx="2"/>'
            f'<text x="{label_w + max(actual, expected) + 4:.1f}" y="{y + 18}">{rep.leads} · '
            f"{rep.share * 100:.0f}% / {rep.expected_share * 100:.0f}%</text>"
        )
    legend_y = 8 + len(reps) * row
    rows.append(
        f'<rect x="{label_w}" y="{legend_y}" width="10" height="10" fill="{_BLUE}"/>'
        f'<text x="{label_w + 14}" y="{legend_y + 9}">actual share</text>'
        f'<rect x="{label_w + 100}" y="{legend_y}" width="10" height="10" fill="{_GREY}"/>'
        f'<text x="{label_w + 114}" y="{legend_y + 9}">weight × available hours</text>'
    )
    return _svg(width, legend_y + 16, "".join(rows))


def _trend_chart(metrics: Metrics, width: int = 480, height: int = 200) -> str:
    """Leads per day as a line with points, the day labels at both ends."""
    points = metrics.trend
    if not points:
        return _empty(width)
    left, bottom, top_pad = 36, height - 24, 10
    top = max(p.leads for p in points) or 1
    step = (width - left - 16) / max(1, len(points) - 1)
    coords = [(left + i * step, bottom - (bottom - top_pad) * p.leads / top) for i, p in enumerate(points)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{_BLUE}"/>' for x, y in coords)
    axes = (
        f'<line x1="{left}" y1="{bottom}" x2="{width - 8}" y2="{bottom}" stroke="{_GREY}"/>'
        f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{bottom}" stroke="{_GREY}"/>'
        f'<text x="{left - 4}" y="{top_pad + 8}" text-anchor="end">{top}</text>'
        f'<text x="{left - 4}" y="{bottom}" text-anchor="end">0</text>'
        f'<text x="{left}" y="{height - 6}">{escape(points[0].day)}</text>'
        f'<text x="{width - 8}" y="{height - 6}" text-anchor="end">{escape(points[-1].day)}</text>'
    )
    path = f'<polyline points="{line}" fill="none" stroke="{_BLUE}" stroke-width="2"/>' if len(points) > 1 else ""
    return _svg(width, height, axes + path + dots)


def _table(name: str, groups: Sequence[GroupMetrics]) -> str:
    head = (
        f"<h2>By {escape(name)}</h2><table><tr><th>{escape(name)}</th><th>Leads</th><th>Median to assign</th>"
        "<th>Median to touch</th><th>p90 to touch</th><th>Touched</th><th>Reassigned</th><th>Fallback</th>"
        "<th>Unmatched</th><th>Meeting rate</th>" + "".join(f"<th>{escape(s)}</th>" for s in FUNNEL) + "</tr>"
    )
    rows = "".join(_table_row(g) for g in groups)
    return f"{head}{rows}</table>"


def _table_row(group: GroupMetrics) -> str:
    rates = group.rates
    cells = [
        escape(group.key),
        str(group.leads),
        _speed(group.created_to_assigned, median=True),
        _speed(group.assigned_to_touch, median=True),
        _speed(group.assigned_to_touch, median=False),
        *(_pct(rates[k]) for k in ("touch_rate", "reassignment_rate", "fallback_rate", "unmatched_rate")),
        _pct(rates["meeting_rate"]),
        *(str(n) for n in group.funnel),
    ]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _speed(speed: Speed, *, median: bool) -> str:
    return escape(_duration(speed.median_s if median else speed.p90_s))


def _svg(width: int, height: int, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img">{body}</svg>'
    )


def _empty(width: int) -> str:
    return _svg(width, 40, '<text x="8" y="24">no data in this period</text>')


def _short(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"
