"""Turning a cached person into a ``RoutingInput``: match the account, fill gaps, score and qualify.

The ``Preparer`` keeps the account index in memory and follows the cache's account changes incrementally, so
preparing a lead never scans the accounts table.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sqlite_utils

from connector import normalize
from connector.cache import queries
from connector.config.root import LeadrelayConfig
from connector.enrichment.enrich import Enricher, Enrichment
from connector.errors import InvalidRecordError
from connector.matching import AccountIndex, AccountMatch, PersonMatch, match_account
from connector.models import Account, Lead
from connector.routing.model import RoutingInput
from connector.scoring import Qualification, compiled
from connector.scoring.qualify import decide_with, score_with


@dataclass(frozen=True)
class Prepared:
    """Everything learned about a lead before routing, kept for the task body and the decision's explanation."""

    lead: Lead  # enriched
    match: AccountMatch
    account: Account | None
    enrichment: Enrichment
    qualification: Qualification

    def routing_input(self) -> RoutingInput:
        """The input routing reads: lead, account, match and score, nothing else."""
        score = self.qualification.score
        return RoutingInput(
            lead=self.lead,
            account=self.account,
            match_method=self.match.method if self.match.matched else None,
            match_confidence=self.match.confidence,
            fit=score.grade[:1],  # "A" / "B" / "C": the letter rules write, as in "fit: [A]"
            activity=score.grade[1:],  # "1" / "2" / "3"
            grade=score.grade,
            score_breakdown=tuple(item.render().strip() for item in score.breakdown),
            outcome=self.qualification.hint or self.qualification.outcome,
        )


class Preparer:
    """Matches, enriches and qualifies leads against the cache's accounts and people."""

    def __init__(self, db: sqlite_utils.Database, config: LeadrelayConfig, enricher: Enricher) -> None:
        self.db = db
        self.config = config
        self.enricher = enricher
        self._rules = compiled(config.scoring)
        self._account_seq = _max_account_seq(db)
        self.index = AccountIndex.build(queries.iter_accounts(db))

    def refresh_accounts(self) -> int:
        """Apply account changes the cache saw since the last call to the index; returns how many."""
        rows = self.db.conn.execute(
            "SELECT id, change_seq, deleted FROM cache_accounts WHERE change_seq > ? ORDER BY change_seq",
            (self._account_seq,),
        ).fetchall()
        for account_id, seq, deleted in rows:
            self.index.remove(account_id)
            account = None if deleted else queries.account_by_id(self.db, account_id)
            if account is not None:
                self.index.add(account)
            self._account_seq = max(self._account_seq, int(seq))
        return len(rows)

    def person_lookup(self, lead: Lead) -> PersonMatch | None:
        """The other person with the lead's email, preferring the system of record: account continuity."""
        if not lead.email or not others_with_email(self.db, lead):
            return None
        prefer = self.config.crms.system_of_record
        others = [p for p in queries.people_by_email(self.db, lead.email) if p.id != lead.id]
        if not others:
            return None
        best = min(others, key=lambda p: (p.crm != prefer, p.account_id is None, p.owner_key is None))
        return PersonMatch(person_id=best.id, account_id=best.account_id, owner_key=best.owner_key)

    def prepare(self, lead: Lead, now_ms: int) -> Prepared:
        """Match, enrich and qualify one lead (pure apart from cache reads and the enrichment provider)."""
        match = match_account(lead, self.index, lambda _email: self.person_lookup(lead), self.config.matching)
        account = queries.account_by_id(self.db, match.account_id) if match.account_id else None
        if account is not None and account.owner_key in self.config.pipeline.intake_owners:
            # An integration user or intake queue is a placeholder, not an owner to keep continuity with.
            account = replace(account, owner_key=None)
        enrichment = self.enricher.enrich(lead, account)
        enriched = enrichment.lead
        qualification = decide_with(score_with(enriched, account, self._rules, now_ms), self._rules)
        return Prepared(enriched, match, account, enrichment, qualification)


def others_with_email(db: sqlite_utils.Database, lead: Lead) -> bool:
    """Whether another live person shares the lead's email: one indexed probe, so the usual new lead (nobody
    else has the address) does not pay for loading people (``queries.people_by_email``)."""
    if not lead.email:
        return False
    try:
        email = normalize.email(lead.email)
    except InvalidRecordError:
        return False
    row = db.conn.execute(
        "SELECT 1 FROM cache_people WHERE email = ? AND id != ? AND deleted = 0 LIMIT 1", (email, lead.id)
    ).fetchone()
    return row is not None


def _max_account_seq(db: sqlite_utils.Database) -> int:
    row = db.conn.execute("SELECT COALESCE(MAX(change_seq), 0) FROM cache_accounts").fetchone()
    return int(row[0])
