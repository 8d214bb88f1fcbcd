"""Every Prometheus instrument of leadrelay, in one registry, in one place (``/metrics`` serves ``REGISTRY``).

Counters and histograms are updated where things happen; gauges that describe stored state (outbox depth, sync lag)
are refreshed from the database by ``refresh_state`` just before each scrape, so they are never stale.
"""

from __future__ import annotations

import time

import sqlite_utils
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

LEADS_ROUTED = Counter(
    "leadrelay_leads_routed",
    "Leads routed, by deciding rule (or step) and owner.",
    ["rule", "owner"],
    registry=REGISTRY,
)
DECISION_SECONDS = Histogram(
    "leadrelay_decision_seconds",
    "Time to decide a batch of leads (prepare, score, route, enqueue effects).",
    ["path"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
OUTBOX_DEPTH = Gauge("leadrelay_outbox_depth", "Outbox items not yet delivered.", registry=REGISTRY)
OUTBOX_OLDEST_AGE = Gauge(
    "leadrelay_outbox_oldest_due_age_seconds", "Age of the oldest outbox item that is due now.", registry=REGISTRY
)
SYNC_LAG = Gauge(
    "leadrelay_sync_lag_seconds", "Seconds since each CRM's last successful sync pass.", ["crm"], registry=REGISTRY
)
API_BUDGET_USED = Gauge(
    "leadrelay_crm_api_budget_used_ratio",
    "Share of each CRM's daily API budget used today.",
    ["crm"],
    registry=REGISTRY,
)
CRM_CALLS = Counter("leadrelay_crm_calls", "CRM API calls (reads and writes), per CRM.", ["crm"], registry=REGISTRY)
API_REQUESTS = Counter(
    "leadrelay_crm_api_requests", "CRM API requests made by sync passes.", ["crm"], registry=REGISTRY
)
CRM_FAILURES = Counter("leadrelay_crm_sync_failures", "Sync passes that failed, per CRM.", ["crm"], registry=REGISTRY)
WEBHOOKS = Counter(
    "leadrelay_webhook_requests",
    "Webhook deliveries, by outcome (accepted or the rejection reason).",
    ["outcome"],
    registry=REGISTRY,
)
WEBHOOK_EVENTS = Counter(
    "leadrelay_webhook_events",
    "Webhook events received, stored new or recognised as duplicates.",
    ["result"],
    registry=REGISTRY,
)
ROUTE_API = Counter(
    "leadrelay_route_api_requests", "POST /v1/route answers by status code.", ["status"], registry=REGISTRY
)
RATE_LIMITED = Counter(
    "leadrelay_rate_limited",
    "Requests refused for rate (429), by who: the route API or a CRM.",
    ["source"],
    registry=REGISTRY,
)
CONFIG_RELOADS = Counter("leadrelay_config_reloads", "Config reloads, by result.", ["result"], registry=REGISTRY)
LOOP_TURNS = Counter("leadrelay_loop_turns", "Turns of the daemon loop.", registry=REGISTRY)


def refresh_state(db: sqlite_utils.Database, *, now: float | None = None) -> None:
    """Set the gauges that mirror stored state (outbox depth and oldest due age, sync lag) from ``db``."""
    from connector.daemon.heartbeat import crm_status

    at = time.time() if now is None else now
    depth, oldest = outbox_backlog(db, now=at)
    OUTBOX_DEPTH.set(depth)
    OUTBOX_OLDEST_AGE.set(oldest)
    for crm, status in crm_status(db).items():
        if status.last_ok_at is not None:
            SYNC_LAG.labels(crm=crm).set(max(0.0, at - status.last_ok_at))


def outbox_backlog(db: sqlite_utils.Database, *, now: float | None = None) -> tuple[int, float]:
    """(items pending, seconds the oldest item due now has waited; 0 when none is due)."""
    at = time.time() if now is None else now
    depth, oldest = db.conn.execute(
        "SELECT COUNT(*), MIN(CASE WHEN next_at <= ? THEN next_at END) FROM outbox_items WHERE state = 'pending'",
        (at,),
    ).fetchone()
    return int(depth or 0), 0.0 if oldest is None else max(0.0, at - float(oldest))


def exposition() -> bytes:
    """The registry in Prometheus text format."""
    return generate_latest(REGISTRY)
