"""Fixtures: the Slack stand-in (the local SMTP server, ``smtp``, comes from tests/conftest.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.slack.standin import SlackStandIn

# The assignment factory is shared with the outbox tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "outbox"))

SLACK_TOKEN = "xoxb-test-token"


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(token=SLACK_TOKEN) as standin:
        yield standin
