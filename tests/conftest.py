"""Shared fixtures: one CRM sandbox per test session, reset before each test, and the real CRM clients on it.

The sandbox runs with limits off so tests are fast and deterministic; tests about limits or faults switch them on
for their own duration (``sandbox.limits(...)``, ``sandbox.faults(...)``) and the next reset restores them.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from hypothesis import HealthCheck, settings

from adapters.sandbox.runner import SandboxServer

# CI must be reproducible: the same examples every run (a property that fails there fails for everyone, and a
# shared, loaded machine must not trip deadlines). Locally, hypothesis explores new examples each run.
settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
if os.environ.get("CI"):
    settings.load_profile("ci")


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


class Inbox:
    """An aiosmtpd handler keeping every message it accepts, and its envelope."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real local SMTP server (aiosmtpd) on a free port: its inbox and the port."""
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
