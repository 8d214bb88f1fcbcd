"""Fixtures for sync tests: readers of both CRMs on the shared sandbox, a cache file, and an engine over them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from adapters.hubspot import HubSpotReader
from adapters.salesforce import SalesforceReader
from adapters.sandbox.runner import SandboxServer
from connector.cache import open_cache
from connector.crm import CrmReader
from connector.sync.engine import SyncEngine

from .world import hubspot_config, salesforce_config


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[sqlite_utils.Database]:
    """A fresh cache database file."""
    db = open_cache(tmp_path / "cache.sqlite")
    yield db
    db.conn.close()


@pytest.fixture
def readers(sandbox: SandboxServer) -> list[CrmReader]:
    """Readers for both CRMs on the sandbox (small pages so paging is exercised)."""
    return [
        HubSpotReader(hubspot_config(sandbox, page_size=50, search_page_size=60)),
        SalesforceReader(salesforce_config(sandbox)),
    ]


@pytest.fixture
def engine(cache: sqlite_utils.Database, readers: list[CrmReader]) -> SyncEngine:
    """An engine over both CRMs writing into ``cache``."""
    return SyncEngine(cache, readers)
