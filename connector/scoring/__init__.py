"""Qualification: Fit + Activity scores with their reasons, the route/nurture grid, and the nurture table.

Usage::

    score = score_lead(lead, account, config.scoring, now_ms)  # pure; Score keeps its breakdown
    result = qualify(lead, account, config.scoring, now_ms)  # Qualification: route (+hint) or nurture
    print(result.render())  # why, in plain language
"""

from connector.scoring.model import Qualification, Score, ScoreItem, grade_of
from connector.scoring.nurture import (
    NurtureEntry,
    ensure_schema,
    leads_to_rescore,
    nurture_count,
    nurture_entry,
    record_nurture,
    release_nurture,
    rescore,
    write_nurture,
)
from connector.scoring.qualify import decide, qualify, score_lead, score_with, tier_of
from connector.scoring.rules import compiled

__all__ = [
    "NurtureEntry",
    "Qualification",
    "Score",
    "ScoreItem",
    "compiled",
    "decide",
    "ensure_schema",
    "grade_of",
    "leads_to_rescore",
    "nurture_count",
    "nurture_entry",
    "qualify",
    "record_nurture",
    "release_nurture",
    "rescore",
    "score_lead",
    "score_with",
    "tier_of",
    "write_nurture",
]
