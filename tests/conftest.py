"""Shared fixtures: one CRM sandbox per test session, reset before each test, and the real CRM clients on it.

The sandbox runs with limits off so tests are fast and deterministic; tests about limits or faults switch them on
for their own duration (``sandbox.limits(...)``, ``sandbox.faults(...)``) and the next reset restores them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from adapters.sandbox.runner import SandboxServer


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    """The session's sandbox process-in-a-thread (use ``sandbox`` in tests: it is reset first)."""
    with SandboxServer(limits="off") as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> SandboxServer:
    """The shared sandbox, emptied and with limits/faults/webhooks back to their start-up settings."""
    sandbox_server.admin.reset()
    return sandbox_server


@pytest.fixture
def hubspot_client(sandbox: SandboxServer) -> Any:
    """The real ``hubspot.Client`` pointed at the sandbox's HubSpot API."""
    return sandbox.hubspot_client()


@pytest.fixture
def sf(sandbox: SandboxServer) -> Any:
    """The real ``simple_salesforce.Salesforce`` on the sandbox, over TLS trusting its test CA."""
    return sandbox.salesforce()
