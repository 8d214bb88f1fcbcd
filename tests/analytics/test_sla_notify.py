"""SLA reminders and escalations reach people through the outbox: the Slack stand-in and a real local SMTP server.

The owner of an untouched lead gets one reminder before the deadline (Slack DM, or email when that is what their
notification settings use), never two, even when Slack answers 500 after posting or the database fails in the
middle of the sweep; an escalation tells the manager (and hands the lead over when they can own it) and the
configured channel.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.email.notifier import EmailNotifier, message_id
from adapters.slack.notifier import SlackNotifier
from adapters.slack.standin import SlackStandIn
from analytics.history import HOUR, MON
from connector.analytics.sla import SlaSweeper
from connector.config.loader import LoadedConfig
from connector.config.root import LeadrelayConfig
from connector.db import transaction
from connector.notify import NotificationPerformer
from connector.outbox import store as outbox_store
from connector.outbox.model import Assignee, Assignment, EffectKind, LeadCard, RecordRef
from connector.outbox.worker import OutboxWorker
from connector.pipeline import LeadPipeline
from connector.retry import RetryPolicy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "outbox"))
from outbox_factories import FakeCrm, RecordingPerformer  # the CRM side, shared with the outbox tests

TOKEN = "xoxb-sla-test"
NO_WAIT = RetryPolicy(attempts=4, initial_s=0.01, max_s=0.02, jitter_s=0, max_retry_after_s=0.05)
LEAD = "hubspot:contacts:1"
REMIND_AT = datetime(2026, 11, 2, 10, 50, tzinfo=UTC)  # routed Monday 10:00, 60 working minutes: 10 min left
LATE = datetime(2026, 11, 3, 12, tzinfo=UTC)


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(token=TOKEN) as standin:
        yield standin


def _config(routing, *, slack=None, smtp_port=None, **sla) -> LeadrelayConfig:
    actions: dict[str, Any] = {}
    if slack is not None:
        actions["slack"] = {"enabled": True, "token": TOKEN, "base_url": slack.base_url}
    if smtp_port is not None:
        actions["email"] = {"enabled": True, "host": "127.0.0.1", "port": smtp_port, "starttls": False,
                            "sender": "leadrelay <robot@acme.example>"}  # fmt: skip
    sla = {"minutes": 60, "remind_before_minutes": 15, **sla}
    return LeadrelayConfig.model_validate(
        {"routing": routing.model_dump(mode="json"), "analytics": {"sla": sla}, "actions": actions}
    )


def _sweeper(db, config: LeadrelayConfig) -> SlaSweeper:
    return SlaSweeper(LeadPipeline(db, LoadedConfig(config, None, "v1")))


def _deliver(db, config: LeadrelayConfig) -> int:
    actions = config.actions
    crm = FakeCrm()  # the CRM side of an escalation (owner write, task): not what these tests are about
    performers: list[Any] = [
        RecordingPerformer(kind, "hubspot", crm) for kind in (EffectKind.SET_OWNER, EffectKind.CREATE_TASK)
    ]
    if actions.slack.enabled:
        performers.append(NotificationPerformer(SlackNotifier(actions.slack), actions, retry=NO_WAIT))
    if actions.email.enabled:
        performers.append(NotificationPerformer(EmailNotifier(actions.email), actions, retry=NO_WAIT))
    return OutboxWorker(db, performers, actions.outbox).run_until_empty(timeout_s=10)


def _routed(history, owner: str = "a@x.io", **person: Any) -> str:
    history.owner("hubspot", "1", "a@x.io")
    history.person(LEAD, created_ms=MON + 10 * HOUR, first_name="Ada", last_name="Lovelace", **person)
    return history.routed(LEAD, at_ms=MON + 10 * HOUR, owner=owner, pool="p")


def _texts(message) -> str:
    return json.dumps(message.blocks, ensure_ascii=False)


def test_the_owner_gets_one_slack_reminder_before_the_deadline(db, history, routing, slack):
    decision = _routed(history)
    config = _config(routing, slack=slack)
    sweeper = _sweeper(db, config)
    assert sweeper.sweep(datetime(2026, 11, 2, 10, 40, tzinfo=UTC)).reminded == []  # 20 min left: not yet
    assert sweeper.sweep(REMIND_AT).reminded == [LEAD]
    assert sweeper.sweep(datetime(2026, 11, 2, 10, 55, tzinfo=UTC)).reminded == []
    _deliver(db, config)
    (message,) = slack.messages
    assert message.decision_id == f"remind-{decision}"
    assert message.channel.startswith("D")  # the owner's DM, found by their email like a routing nudge
    assert message.blocks[0]["text"]["text"] == "Reminder: first touch on Ada Lovelace due in 10 min"
    assert "2026-11-02 11:00 UTC" in _texts(message)  # the deadline
    assert _deliver(db, config) == 0 and len(slack.messages) == 1


def test_a_reminder_reuses_the_routing_nudges_recipient_and_card(db, history, routing, slack):
    decision = _routed(history)
    original = Assignment(
        decision_id=decision,
        lead=RecordRef("hubspot", "contacts", "1"),
        card=LeadCard(name="Ada Lovelace", company="Analytical Engines"),
        owner=Assignee(key="a@x.io", name="Alice", crm_ids={"hubspot": "1"}, email="a@x.io", slack_user_id="U0ALICE"),
        due_ms=MON + 11 * HOUR,
        decided_ms=MON + 10 * HOUR,
    )
    outbox_store.install(db)
    with transaction(db) as conn:
        outbox_store.enqueue(conn, original)  # nudges were off then: only the owner write and the task
    config = _config(routing, slack=slack)
    _sweeper(db, config).sweep(REMIND_AT)
    _deliver(db, config)
    (message,) = slack.messages
    assert message.channel == "D0ALICE" and "Analytical Engines" in _texts(message)
    kinds = db.conn.execute("SELECT kind FROM outbox_items WHERE decision_id = ?", (f"remind-{decision}",))
    assert [k for (k,) in kinds] == ["notify_slack"]  # a reminder never writes an owner or a task


def test_an_owner_reached_by_email_gets_the_reminder_by_email(db, history, routing, smtp):
    inbox, port = smtp
    decision = _routed(history)
    config = _config(routing, smtp_port=port)
    _sweeper(db, config).sweep(REMIND_AT)
    _deliver(db, config)
    (mail,) = inbox.messages
    assert mail["To"].addresses[0].addr_spec == "a@x.io"
    assert mail["Subject"] == "Reminder: first touch on Ada Lovelace due in 10 min"
    assert mail["Message-ID"] == message_id(f"remind-{decision}", "acme.example")
    assert "2026-11-02 11:00 UTC" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_slack_failing_after_the_post_does_not_send_a_second_reminder(db, history, routing, slack):
    _routed(history)
    config = _config(routing, slack=slack)
    _sweeper(db, config).sweep(REMIND_AT)
    slack.fail_next("chat.postMessage", "5xx_after")  # posted, then answered 500: a blind retry would post twice
    _deliver(db, config)
    assert len(slack.messages) == 1


def test_a_database_failure_mid_sweep_loses_no_reminder_and_doubles_none(db, history, routing, slack):
    _routed(history)
    config = _config(routing, slack=slack)
    sweeper = _sweeper(db, config)
    db.conn.execute(
        "CREATE TRIGGER outbox_full BEFORE INSERT ON outbox_items BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    assert sweeper.sweep(REMIND_AT).reminded == []  # the enqueue failed: reminded_ms rolled back with it
    assert db.conn.execute("SELECT reminded_ms FROM analytics_sla").fetchone() == (None,)
    db.conn.execute("DROP TRIGGER outbox_full")
    assert sweeper.sweep(REMIND_AT).reminded == [LEAD]
    assert sweeper.sweep(REMIND_AT).reminded == []
    _deliver(db, config)
    assert len(slack.messages) == 1


def test_no_reminder_for_a_queue_or_when_reminders_are_off(db, history, routing, slack):
    _routed(history)
    config = _config(routing, slack=slack, remind_before_minutes=0)
    assert _sweeper(db, config).sweep(REMIND_AT).reminded == []
    assert db.conn.execute("SELECT COUNT(*) FROM outbox_items").fetchone() == (0,)


def test_a_hostile_lead_name_reaches_the_reminder_escaped(db, history, routing, slack):
    _routed(history)
    db.conn.execute("UPDATE cache_people SET first_name = '<!channel>', last_name = '<@U123>'")
    config = _config(routing, slack=slack)
    _sweeper(db, config).sweep(REMIND_AT)
    _deliver(db, config)
    (message,) = slack.messages
    mrkdwn = [t["text"] for b in message.blocks for t in (b.get("text"), *(b.get("fields") or ())) if t and
              t["type"] == "mrkdwn"]  # fmt: skip
    assert mrkdwn and not any("<!" in t or "<@" in t for t in (*mrkdwn, message.text))  # plain_text header is inert


def _escalation_history(history, db) -> str:
    decision = _routed(history)
    for n in range(2):  # two re-routes already: the cap
        db.conn.execute(
            "INSERT INTO analytics_reassignments (lead_id, from_owner, to_owner, from_decision_id, to_decision_id,"
            " at_ms, reason) VALUES (?, 'x', 'a@x.io', ?, ?, 0, 'sla')",
            (LEAD, f"old{n}", decision),
        )
    return decision


@pytest.mark.parametrize(
    ("manager_crm_user", "kinds", "title"),
    [
        (True, ["create_task", "notify_slack", "set_owner"], "Escalated to you: Ada Lovelace was not touched"),
        (False, ["notify_slack"], "Escalation: Ada Lovelace was not touched"),  # no HubSpot user: told, not given
    ],
)
def test_an_escalation_tells_the_manager_and_the_channel(
    db, history, routing, slack, manager_crm_user, kinds, title
):  # fmt: skip
    decision = _escalation_history(history, db)
    if manager_crm_user:
        history.owner("hubspot", "50", "boss@x.io")
    config = _config(routing, slack=slack, max_reassignments=2, escalate_to="boss@x.io", escalate_channel="C0ESC")
    assert _sweeper(db, config).sweep(LATE).escalated == [LEAD]
    found = db.conn.execute("SELECT kind FROM outbox_items WHERE decision_id = ?", (f"sla-{decision}",))
    assert sorted(k for (k,) in found) == kinds
    slack.add_user("boss@x.io", "U0BOSS")
    _deliver(db, config)
    by_channel = {m.channel: m for m in slack.messages}
    assert set(by_channel) == {"D0BOSS", "C0ESC"}
    assert by_channel["D0BOSS"].blocks[0]["text"]["text"].startswith(title)
    assert "a@x.io" in _texts(by_channel["C0ESC"])  # the channel sees who let it go stale
    moved = db.conn.execute("SELECT COUNT(*) FROM analytics_reassignments WHERE reason = 'escalated'").fetchone()
    assert moved == (int(manager_crm_user),)
    assert _sweeper(db, config).sweep(LATE).escalated == [] and _deliver(db, config) == 0


def test_without_a_manager_the_escalation_goes_to_the_channel_alone_and_the_lead_stays(db, history, routing, slack):
    decision = _escalation_history(history, db)
    config = _config(routing, slack=slack, max_reassignments=2, escalate_channel="C0ESC")
    assert _sweeper(db, config).sweep(LATE).escalated == [LEAD]
    found = db.conn.execute("SELECT decision_id, kind FROM outbox_items").fetchall()
    assert found == [(f"sla-{decision}-channel", "notify_slack")]
    _deliver(db, config)
    (message,) = slack.messages
    assert message.channel == "C0ESC" and message.blocks[0]["text"]["text"].startswith("Escalation: Ada Lovelace")
    assert db.conn.execute("SELECT COUNT(*) FROM analytics_reassignments WHERE reason = 'escalated'").fetchone() == (0,)
