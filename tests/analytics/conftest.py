"""Fixtures for analytics tests: an empty database with every table analytics reads, and a history builder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlite_utils

from analytics.history import DAY, HOUR, MON, QUEUE, History
from connector.analytics import store
from connector.cache.schema import migrate_cache
from connector.config.routing import RoutingConfig
from connector.db import connect
from connector.pipeline import intake
from connector.routing.store import ensure_schema


@pytest.fixture
def db(tmp_path) -> Iterator[sqlite_utils.Database]:
    """An empty database with every table analytics reads."""
    database = connect(tmp_path / "analytics.sqlite")
    for install in (migrate_cache, intake.install, ensure_schema, store.install):
        install(database)
    yield database
    database.conn.close()


@pytest.fixture
def history(db) -> History:
    """A history builder on ``db``."""
    return History(db)


@pytest.fixture
def routing() -> RoutingConfig:
    """Three reps in one pool: a (weight 2, 40 h), b (weight 1, 40 h), c (weight 1, 20 h); capacity 80:40:20."""
    return RoutingConfig.model_validate(
        {
            "final_fallback": {"owner": QUEUE, "name": "Queue"},
            "reps": [
                {"email": "a@x.io", "weight": 2, "working_hours": "09:00-17:00"},
                {"email": "b@x.io", "working_hours": "09:00-17:00"},
                {"email": "c@x.io", "working_hours": "09:00-13:00"},
            ],
            "pools": [{"name": "p", "reps": ["a@x.io", "b@x.io", "c@x.io"]}],
            "stages": [{"name": "sdr", "steps": [{"kind": "pool", "pool": "p"}]}],
        }
    )


@pytest.fixture
def six_leads(history: History) -> None:
    """The six-lead history described in test_metrics (plus one lead before the period)."""
    h = history
    h.account("salesforce:Account:A1", has_open_opportunity=1)
    h.account("salesforce:Account:A2", is_customer=1)
    leads = [
        # lead id, created, c→a s, a→t s, owner, rule, pool, source, match, properties
        ("hubspot:contacts:1", MON + 10 * HOUR, 60, 600, "a@x.io", "r1", "p", "web", "domain",
         {"lifecyclestage": "lead"}),
        ("hubspot:contacts:2", MON + 11 * HOUR, 120, 1200, "a@x.io", "r1", "p", "web", "domain",
         {"lifecyclestage": "salesqualifiedlead"}),
        ("salesforce:Lead:3", MON + 12 * HOUR, 30, None, "b@x.io", "r2", "p", "ads", None,
         {"Status": "Open - Not Contacted"}),
        ("salesforce:Lead:4", MON + DAY + 10 * HOUR, 300, 3600, "c@x.io", "r2", "p", "ads", "domain",
         {"IsConverted": True, "ConvertedAccountId": "A1"}),
        ("hubspot:contacts:5", MON + DAY + 11 * HOUR, 10, None, QUEUE, None, None, "web", None, {}),
        ("salesforce:Lead:6", MON + DAY + 12 * HOUR, 90, 7200, "a@x.io", "r1", "p", "event", "fuzzy_name",
         {"IsConverted": "true", "ConvertedAccountId": "A2"}),
    ]  # fmt: skip
    for lead_id, created, to_assign, to_touch, owner, rule, pool, source, match, props in leads:
        h.person(lead_id, created_ms=created, source=source, properties=props)
        assigned = created + to_assign * 1000
        decision = h.routed(
            lead_id, at_ms=assigned, owner=owner, rule=rule, pool=pool, fallback=owner == QUEUE, match=match,
            created_ms=created,
        )  # fmt: skip
        if to_touch is not None:
            h.touched(lead_id, decision, owner=owner, assigned_ms=assigned, at_ms=assigned + to_touch * 1000)
    h.routed("salesforce:Lead:3", at_ms=MON + 14 * HOUR, owner="a@x.io", rule="r2", pool="p")  # SLA re-route
    h.person("hubspot:contacts:0", created_ms=MON - 5 * DAY, source="web")
    h.routed("hubspot:contacts:0", at_ms=MON - 5 * DAY, owner="b@x.io", pool="p")  # before the period
