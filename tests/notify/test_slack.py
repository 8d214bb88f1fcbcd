"""Slack nudges through the real slack_sdk WebClient against the local stand-in of Slack's Web API."""

from __future__ import annotations

import json

import pytest
from outbox_factories import HOSTILE, assignment
from pydantic import SecretStr

from adapters.slack.notifier import SlackNotifier
from adapters.slack.standin import SlackStandIn
from connector.config.actions import ActionsConfig, LinksConfig, SlackConfig
from connector.db import connect, transaction
from connector.errors import AuthError, InvalidRecordError
from connector.notify import NotificationPerformer, build_notification
from connector.outbox import store
from connector.outbox.model import EffectKind, ItemState
from connector.outbox.worker import OutboxWorker
from connector.retry import RetryPolicy

TOKEN = "xoxb-test-token"
LINKS = LinksConfig(hubspot_portal_id="62515001")
NO_WAIT = RetryPolicy(attempts=4, initial_s=0.01, max_s=0.02, jitter_s=0, max_retry_after_s=0.05)


def _actions(slack: SlackStandIn, **overrides: object) -> ActionsConfig:
    config = SlackConfig(enabled=True, token=SecretStr(TOKEN), base_url=slack.base_url, **overrides)  # type: ignore[arg-type]
    return ActionsConfig(slack=config, links=LINKS)


def test_a_rep_gets_one_dm_with_the_lead_the_record_link_and_booking_link(slack: SlackStandIn) -> None:
    slack.add_user("rep@example.com", "U0000REP")
    actions = _actions(slack)
    note = build_notification(assignment(1), actions)
    marker = SlackNotifier(actions.slack).send(note)
    (message,) = slack.messages
    assert marker == f"{message.channel}/{message.ts}" and message.channel == "D0000REP"
    assert message.decision_id == "dec-00001"
    text = json.dumps(message.blocks)
    assert "Ada Lovelace" in text and "Territory EMEA" in text
    buttons = [e["url"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["https://app.hubspot.com/contacts/62515001/record/0-1/1001", "https://cal.example.com/rita"]


def test_a_configured_channel_is_used_instead_of_the_dm(slack: SlackStandIn) -> None:
    actions = _actions(slack, channel="C0SALES")
    SlackNotifier(actions.slack).send(build_notification(assignment(1), actions))
    assert [m.channel for m in slack.messages] == ["C0SALES"]


@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_values_reach_slack_escaped_and_within_limits(slack: SlackStandIn, value: str) -> None:
    actions = _actions(slack)
    item = assignment(1, name=value, company=value, why=(value,))
    SlackNotifier(actions.slack).send(build_notification(item, actions))
    (message,) = slack.messages
    for block in message.blocks:
        for text in _texts(block):
            assert "<!" not in text and "<@" not in text and "<http" not in text and "<script" not in text
            assert len(text) <= 3000
            assert not any(ord(c) < 32 and c != "\n" for c in text)
    assert len(message.text) <= 3000 and "<!channel>" not in message.text


def _texts(block: dict[str, object]) -> list[str]:
    """The mrkdwn texts of a block (plain_text, used by the header, is never parsed for mentions or links)."""
    found = []
    text = block.get("text")
    if isinstance(text, dict) and text["type"] == "mrkdwn":
        found.append(str(text["text"]))
    for field in block.get("fields") or []:  # type: ignore[attr-defined]
        found.append(str(field["text"]))
    return found


def test_a_post_that_failed_after_sending_is_not_sent_twice(slack: SlackStandIn) -> None:
    actions = _actions(slack)
    slack.fail_next("chat.postMessage", "5xx_after")  # Slack posted, then answered 500
    performer = NotificationPerformer(SlackNotifier(actions.slack), actions, NO_WAIT)
    db = connect(":memory:")
    store.install(db)
    with transaction(db) as conn:
        slack_only = actions.model_copy(update={"write_owner": False, "create_task": False})
        store.enqueue(conn, assignment(1, previous_owner=None), slack_only)
    OutboxWorker(db, [performer]).run_until_empty(timeout_s=5)
    assert slack.per_decision() == {"dec-00001": 1}
    (item,) = store.list_items(db, states=[ItemState.DONE])
    assert item.kind is EffectKind.NOTIFY_SLACK and "already sent" in (item.result or "")


@pytest.mark.parametrize(
    ("failure", "error"),
    [("error:invalid_auth", AuthError), ("error:users_not_found", InvalidRecordError)],
)
def test_permanent_slack_failures_are_not_retried(slack: SlackStandIn, failure: str, error: type[Exception]) -> None:
    actions = _actions(slack)
    slack.fail_next("users.lookupByEmail", failure)
    with pytest.raises(error):
        SlackNotifier(actions.slack).send(build_notification(assignment(1), actions))
    assert slack.calls["users.lookupByEmail"] == 1


def test_rate_limits_and_resets_are_retried_to_one_message(slack: SlackStandIn) -> None:
    actions = _actions(slack)
    slack.fail_next("chat.postMessage", "429")
    slack.fail_next("chat.postMessage", "reset")
    performer = NotificationPerformer(SlackNotifier(actions.slack), actions, NO_WAIT)
    db = connect(":memory:")
    store.install(db)
    with transaction(db) as conn:
        store.enqueue(conn, assignment(1), actions.model_copy(update={"write_owner": False, "create_task": False}))
    OutboxWorker(db, [performer]).run_until_empty(timeout_s=5)
    assert slack.per_decision() == {"dec-00001": 1}
