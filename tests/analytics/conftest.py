"""Fixtures for analytics tests: an empty database with every table analytics reads, and a history builder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlite_utils

from analytics.history import QUEUE, History
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
