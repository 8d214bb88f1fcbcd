"""Precision and recall of matching on a labelled set (tests/matching/data), by method and by case category.

Precision of a method: of the leads matched by it, the share matched to the labelled account. Recall of a method:
of the leads whose label says that method should find their account, the share matched to it (by any method).
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from connector.config.matching import MatchingConfig
from connector.matching.freemail import free_mail_domains
from connector.matching.index import AccountIndex
from connector.matching.matcher import match_account
from connector.matching.result import AccountMatch
from connector.models import Lead

METHODS = ("email", "domain", "name")


@dataclass(frozen=True)
class Label:
    """What a careful human decided for one lead."""

    lead_id: str
    account_id: str | None
    method: str  # the method that should find it: domain | name | none
    category: str


@dataclass(frozen=True)
class Miss:
    """A lead the matcher got wrong, for the report."""

    lead: Lead
    label: Label
    match: AccountMatch


@dataclass
class Evaluation:
    """Counts behind the precision/recall figures, plus every miss."""

    predicted: Counter[str] = field(default_factory=Counter)  # method -> leads matched by it
    correct: Counter[str] = field(default_factory=Counter)  # method -> of those, right account
    expected: Counter[str] = field(default_factory=Counter)  # labelled method -> leads
    found: Counter[str] = field(default_factory=Counter)  # labelled method -> right account found
    category_total: Counter[str] = field(default_factory=Counter)
    category_right: Counter[str] = field(default_factory=Counter)
    free_mail_domain_matches: int = 0
    misses: list[Miss] = field(default_factory=list)

    def precision(self, method: str) -> float:
        """Share of the method's matches that are right (1.0 when it matched nothing)."""
        return self.correct[method] / self.predicted[method] if self.predicted[method] else 1.0

    def recall(self, method: str) -> float:
        """Share of leads labelled for the method whose account was found (1.0 when none are labelled)."""
        return self.found[method] / self.expected[method] if self.expected[method] else 1.0

    @property
    def none_kept_unmatched(self) -> float:
        """Share of leads labelled "no account" that the matcher left unmatched."""
        total = self.expected["none"]
        return self.found["none"] / total if total else 1.0


def read_labels(path: str | Path) -> dict[str, Label]:
    """Labels by lead id from ``labels.csv`` (lead_id, account_id, method, category)."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        return {
            row["lead_id"]: Label(row["lead_id"], row["account_id"] or None, row["method"], row["category"])
            for row in csv.DictReader(handle)
        }


def evaluate(
    index: AccountIndex, leads: list[Lead], labels: dict[str, Label], config: MatchingConfig | None = None
) -> Evaluation:
    """Match every labelled lead and count right and wrong answers by method and category."""
    config = config or MatchingConfig()
    free = free_mail_domains(config.free_mail_add, config.free_mail_remove)
    result = Evaluation()
    for lead in leads:
        label = labels.get(lead.id)
        if label is None:
            continue
        match = match_account(lead, index, None, config)
        right = match.account_id == label.account_id
        result.predicted[match.method] += 1
        result.correct[match.method] += right
        result.expected[label.method] += 1
        result.found[label.method] += right
        result.category_total[label.category] += 1
        result.category_right[label.category] += right
        if match.method == "domain" and lead.email_domain and free.is_free(lead.email_domain):
            result.free_mail_domain_matches += 1
        if not right:
            result.misses.append(Miss(lead, label, match))
    return result
