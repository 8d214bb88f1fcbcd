"""Fixtures: a migrated outbox database per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from connector.db import connect
from connector.outbox.store import install


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite_utils.Database]:
    database = connect(tmp_path / "outbox.sqlite")
    install(database)
    yield database
    database.conn.close()
