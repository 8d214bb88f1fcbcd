"""``build_performers``: the configured CRMs and channels, wired into one worker, deliver a decision end to end."""

from __future__ import annotations

from typing import Any

import sqlite_utils
from outbox_factories import assignment
from pydantic import SecretStr
from sandbox_world import hubspot_contacts, owner_of, records

from adapters.sandbox.runner import SandboxServer
from adapters.slack.standin import SlackStandIn
from connector.config import LeadrelayConfig
from connector.config.actions import ActionsConfig, OutboxConfig, SlackConfig
from connector.db import transaction
from connector.outbox import store
from connector.outbox.model import RecordRef
from connector.outbox.worker import OutboxWorker
from connector.outbox_cli import build_performers


def test_configured_performers_deliver_owner_task_and_slack(
    db: sqlite_utils.Database, sandbox: SandboxServer, hubspot_client: Any
) -> None:
    with SlackStandIn(token="xoxb-wired") as slack:
        slack_config = SlackConfig(enabled=True, token=SecretStr("xoxb-wired"), base_url=slack.base_url)
        actions = ActionsConfig(slack=slack_config, outbox=OutboxConfig(poll_interval_s=0.01))
        config = LeadrelayConfig(actions=actions)
        (contact,) = hubspot_contacts(sandbox, 1)
        with transaction(db) as conn:
            store.enqueue(conn, assignment(1, lead=RecordRef("hubspot", "contacts", contact)), actions)
        performers = build_performers(config, clients={"hubspot": hubspot_client})
        OutboxWorker(db, performers, actions.outbox).run_until_empty(timeout_s=20)
        assert store.counts(db) == {"done": 3}
        assert owner_of(sandbox, "hubspot.contacts", contact) == "200"
        assert len(records(sandbox, "hubspot.tasks")) == 1
        assert slack.per_decision() == {"dec-00001": 1}
