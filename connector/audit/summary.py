"""The monthly audit's summary for a Slack channel: counts per kind, a few examples, and how to get the rest.

The summary is built while the findings stream past (``Tally``), so the audit never holds a million findings in
memory to write three lines about them. It travels through the outbox as a channel message with the decision id
``audit-summary-YYYY-MM``: enqueued twice in one month, it is still posted once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from connector.audit.continuity import KINDS, Finding
from connector.outbox.model import Assignee, Assignment, LeadCard, Message, RecordRef

EXAMPLES_PER_KIND = 2  # enough to recognise the problem; the HTML report has the full list
EXAMPLE_CHARS = 160  # one line per example keeps the Slack section under its 3,000 characters
FULL_REPORT = "leadrelay audit continuity --format html --out continuity.html"
FIX_COMMAND = "leadrelay audit continuity --fix (dry run), then --fix --yes"


@dataclass
class Tally:
    """Counts per kind and the first few findings of each, fed one finding at a time."""

    examples_per_kind: int = EXAMPLES_PER_KIND
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    examples: dict[str, list[Finding]] = field(default_factory=lambda: {kind: [] for kind in KINDS})

    def add(self, finding: Finding) -> None:
        """Count ``finding`` and keep it as an example while its kind has room."""
        self.counts[finding.kind] = self.counts.get(finding.kind, 0) + 1
        kept = self.examples.setdefault(finding.kind, [])
        if len(kept) < self.examples_per_kind:
            kept.append(finding)

    def add_all(self, findings: Iterable[Finding]) -> Tally:
        """Count every finding; returns self."""
        for finding in findings:
            self.add(finding)
        return self

    @property
    def total(self) -> int:
        """Findings of every kind."""
        return sum(self.counts.values())


def summary_id(moment: datetime) -> str:
    """The decision id of ``moment``'s month's summary: one post per calendar month (UTC)."""
    return f"audit-summary-{moment.astimezone(UTC):%Y-%m}"


def summary_notice(tally: Tally, channel: str, moment: datetime) -> Assignment:
    """The channel message for one audit run (an outbox ``Assignment`` whose only effect is the Slack post)."""
    month = f"{moment.astimezone(UTC):%B %Y}"
    now_ms = int(moment.timestamp() * 1000)
    rows = (
        *((kind, f"{tally.counts.get(kind, 0):,}") for kind in KINDS),
        ("Full report", FULL_REPORT),
        ("Apply the suggestions", FIX_COMMAND),
    )
    message = Message(
        kind="audit_summary",
        title=f"Ownership-continuity audit, {month}: {tally.total:,} findings",
        heading="Findings per kind",
        rows=rows,
        lines_heading="Examples (the full report lists every finding)",
        lines=tuple(_example(f) for kind in KINDS for f in tally.examples.get(kind, ())),
        channel=channel,
    )
    return Assignment(
        decision_id=summary_id(moment),
        lead=RecordRef("leadrelay", "audit_runs", f"{moment.astimezone(UTC):%Y-%m}"),
        card=LeadCard(name=f"Continuity audit {month}"),
        owner=Assignee(key=channel, name=channel),
        due_ms=now_ms,
        next_action="research",
        decided_ms=now_ms,
        message=message,
    )


def _example(finding: Finding) -> str:
    suggestion = f" → {finding.suggested_owner}" if finding.suggested_owner else ""
    line = f"{finding.kind}: {finding.name} ({finding.record_id}): {finding.what}{suggestion}"
    return line if len(line) <= EXAMPLE_CHARS else line[: EXAMPLE_CHARS - 1] + "…"
