"""Per-lead facts for a period, read once from the decision log, the pipeline, first touches and the cache.

A lead belongs to the period in which it was first routed; its first decision says how it was routed (rule, pool,
owner, fallback, match) and later decisions are reassignments. Funnel stage comes from the synced record:
HubSpot ``lifecyclestage``; Salesforce Lead ``Status`` / ``IsConverted`` and the converted account's flags. When
the lead's CRM has its deals synced, opportunity and closed won come from the deals instead
(``engagement.DEAL_STAGE_SQL``: a deal on the lead or its account created since the assignment; won or not), and
the record says only whether the lead reached SQL. Meetings booked since the assignment are counted when the
CRM's meetings/Events are synced (None otherwise).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from connector.analytics import store
from connector.analytics.engagement import DEAL_STAGE_SQL, MEETINGS_BOOKED_SQL, activity_crms, deal_crms
from connector.cache.schema import migrate_cache
from connector.pipeline import intake
from connector.routing.store import ensure_schema

FUNNEL = ("MQL", "SQL", "Opportunity", "Closed won")
_HUBSPOT_STAGE = {"salesqualifiedlead": 2, "opportunity": 3, "customer": 4}
_SALESFORCE_SQL = {"qualified", "working - contacted", "closed - converted"}

# The payload holds the whole decision (trace included): SQLite's JSON functions pick the few fields needed in C,
# instead of Python parsing every decision of the period.
_FIRST_DECISIONS = f"""
SELECT d.lead_id, d.decided_at_ms, d.owner, d.rule, d.pool, d.stage, d.final_fallback,
    json_extract(d.payload, '$.input.match_method'),
    (SELECT COUNT(*) FROM routing_decisions x WHERE x.lead_id = d.lead_id) AS decisions,
    (SELECT MIN(first_touch_ms) FROM analytics_touches t WHERE t.lead_id = d.lead_id) AS touch,
    p.lead_created_ms,
    COALESCE(c.crm, json_extract(d.payload, '$.input.lead.crm')),
    COALESCE(c.source, json_extract(d.payload, '$.input.lead.source')),
    COALESCE(c.properties, json_extract(d.payload, '$.input.lead.properties')),
    COALESCE(NULLIF(c.created_ms, 0), json_extract(d.payload, '$.input.lead.created_ms')),
    {MEETINGS_BOOKED_SQL} AS meetings,
    {DEAL_STAGE_SQL} AS deal_stage
FROM routing_decisions d
LEFT JOIN pipeline_leads p ON p.lead_id = d.lead_id
LEFT JOIN cache_people c ON c.id = d.lead_id
WHERE d.decided_at_ms >= ? AND d.decided_at_ms < ?
  AND d.id = (SELECT id FROM routing_decisions f WHERE f.lead_id = d.lead_id ORDER BY decided_at_ms, id LIMIT 1)
ORDER BY d.decided_at_ms, d.id
"""


@dataclass(frozen=True)
class LeadFacts:
    """What analytics knows about one routed lead."""

    lead_id: str
    created_ms: int
    assigned_ms: int
    owner: str  # first owner
    rule: str | None
    pool: str | None
    stage: str
    source: str
    fallback: bool
    unmatched: bool
    decisions: int
    first_touch_ms: int | None
    funnel: int  # 1 MQL .. 4 closed won
    meetings: int | None = None  # meetings booked since the assignment; None when the CRM's are not synced

    @property
    def reassigned(self) -> bool:
        """Whether the lead was routed again after its first decision."""
        return self.decisions > 1

    @property
    def day(self) -> str:
        """The UTC day of the first assignment, YYYY-MM-DD."""
        return datetime.fromtimestamp(self.assigned_ms / 1000, UTC).date().isoformat()


def lead_facts(db: sqlite_utils.Database, start_ms: int, end_ms: int) -> Iterator[LeadFacts]:
    """Facts of every lead first routed in [start_ms, end_ms), oldest first."""
    for install in (store.install, migrate_cache, intake.install, ensure_schema):
        install(db)
    accounts = _account_flags(db)
    synced = Synced(frozenset(activity_crms(db.conn)), frozenset(deal_crms(db.conn)))
    for row in db.conn.execute(_FIRST_DECISIONS, (start_ms, end_ms)):
        yield _facts(row, accounts, synced)


@dataclass(frozen=True)
class Synced:
    """Which CRMs have their activities and their deals synced (so meetings and deal stages can be read)."""

    activities: frozenset[str] = frozenset()
    deals: frozenset[str] = frozenset()


def _facts(row: tuple[Any, ...], accounts: Mapping[str, tuple[bool, bool]], synced: Synced) -> LeadFacts:
    (lead_id, decided, owner, rule, pool, stage, fallback, match) = row[:8]
    (decisions, touch, created, crm, source, props, made, meetings, deal_stage) = row[8:]
    properties = json.loads(props) if props else {}
    funnel = funnel_stage(crm or "", properties, accounts)
    if crm in synced.deals:
        funnel = max(min(funnel, 2), int(deal_stage or 0))  # the deals say opportunity / won, not summary fields
    return LeadFacts(
        lead_id=lead_id,
        created_ms=int(created or made or decided),
        assigned_ms=int(decided),
        owner=owner,
        rule=rule,
        pool=pool,
        stage=stage,
        source=source or "(unknown)",
        fallback=bool(fallback),
        unmatched=match is None,
        decisions=int(decisions),
        first_touch_ms=None if touch is None else int(touch),
        funnel=funnel,
        meetings=int(meetings or 0) if crm in synced.activities else None,
    )


def funnel_stage(crm: str, properties: Mapping[str, Any], accounts: Mapping[str, tuple[bool, bool]]) -> int:
    """How far down MQL → SQL → opportunity → closed won the record is (1..4); every routed lead is an MQL."""
    if crm == "hubspot":
        return _HUBSPOT_STAGE.get(str(properties.get("lifecyclestage") or "").lower(), 1)
    converted = str(properties.get("IsConverted")).lower() == "true" or properties.get("IsConverted") is True
    if converted:
        customer, open_deal = accounts.get(f"salesforce:Account:{properties.get('ConvertedAccountId')}", (False, False))
        return 4 if customer else 3 if open_deal else 2
    return 2 if str(properties.get("Status") or "").lower() in _SALESFORCE_SQL else 1


def _account_flags(db: sqlite_utils.Database) -> dict[str, tuple[bool, bool]]:
    rows = db.conn.execute(
        "SELECT id, is_customer, has_open_opportunity FROM cache_accounts"
        " WHERE crm = 'salesforce' AND (is_customer = 1 OR has_open_opportunity = 1)"
    )
    return {str(i): (bool(c), bool(o)) for i, c, o in rows}
