"""The monthly audit's summary reaches its Slack channel through the outbox, once a month, even across a crash.

Delivered with the real slack_sdk client against the Slack stand-in; the world is conftest's (10 findings:
contact_account_owner 2, inactive_owner 3, split_account 1, stuck_lead 2, crm_owner_mismatch 2).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from structlog.testing import capture_logs

from adapters.slack.notifier import SlackNotifier
from adapters.slack.standin import SlackStandIn
from audit.conftest import NOW
from connector.audit.continuity import KINDS, Finding
from connector.audit.schedule import run_monthly
from connector.audit.summary import FULL_REPORT, Tally
from connector.config.root import LeadrelayConfig
from connector.notify import NotificationPerformer
from connector.outbox.worker import OutboxWorker
from connector.retry import RetryPolicy

TOKEN = "xoxb-audit-test"
CHANNEL = "C0REVOPS"
NO_WAIT = RetryPolicy(attempts=4, initial_s=0.01, max_s=0.02, jitter_s=0, max_retry_after_s=0.05)
MOMENT = datetime.fromtimestamp(NOW / 1000, UTC)
COUNTS = {"contact_account_owner": 2, "inactive_owner": 3, "split_account": 1, "stuck_lead": 2,
          "crm_owner_mismatch": 2}  # fmt: skip


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(token=TOKEN) as standin:
        yield standin


def _config(slack: SlackStandIn | None, channel: str | None = CHANNEL, *, enabled: bool = True) -> LeadrelayConfig:
    actions: dict[str, Any] = {}
    if slack is not None:
        actions["slack"] = {"enabled": enabled, "token": TOKEN, "base_url": slack.base_url}
    return LeadrelayConfig.model_validate({"analytics": {"audit": {"channel": channel}}, "actions": actions})


def _deliver(db, config: LeadrelayConfig) -> int:
    performer = NotificationPerformer(SlackNotifier(config.actions.slack), config.actions, retry=NO_WAIT)
    return OutboxWorker(db, [performer], config.actions.outbox).run_until_empty(timeout_s=10)


def _mrkdwn(message) -> str:
    texts = [t["text"] for b in message.blocks for t in (b.get("text"), *(b.get("fields") or ())) if t]
    return "\n".join(texts)


def test_the_summary_is_posted_to_the_channel_with_counts_examples_and_the_full_report_command(world, db, slack):
    config = _config(slack)
    assert run_monthly(db, config, now=MOMENT) == COUNTS
    _deliver(db, config)
    (message,) = slack.messages
    assert message.channel == CHANNEL and message.decision_id == f"audit-summary-{MOMENT:%Y-%m}"
    assert message.blocks[0]["text"]["text"] == f"Ownership-continuity audit, {MOMENT:%B %Y}: 10 findings"
    body = _mrkdwn(message)
    for kind, count in COUNTS.items():
        assert f"{kind}\n{count}" in body
    assert FULL_REPORT in body
    assert "contact_account_owner: P P2 (hubspot:contacts:P2): owned by bob@x.io" in body  # an example, with fix
    assert "→ alice@x.io" in body


def test_one_summary_a_month_even_when_the_audit_runs_again(world, db, slack):
    config = _config(slack)
    run_monthly(db, config, now=MOMENT)
    assert run_monthly(db, config, now=MOMENT + timedelta(minutes=1)) == {}  # the daily check: done this month
    db.conn.execute("DELETE FROM audit_runs")  # an operator forces a re-run: the month's summary is not re-sent
    assert run_monthly(db, config, now=MOMENT + timedelta(minutes=2)) == COUNTS
    _deliver(db, config)
    assert len(slack.messages) == 1
    nxt = MOMENT.replace(day=1) + timedelta(days=32)
    run_monthly(db, config, now=nxt)
    _deliver(db, config)
    assert [m.decision_id for m in slack.messages] == [f"audit-summary-{MOMENT:%Y-%m}", f"audit-summary-{nxt:%Y-%m}"]


def test_a_crash_before_the_commit_leaves_the_month_due_and_sends_once_later(world, db, slack):
    config = _config(slack)
    run_monthly(db, config, now=MOMENT - timedelta(days=40))  # an earlier month, so the tables exist
    db.conn.execute("CREATE TRIGGER outbox_down BEFORE INSERT ON outbox_items BEGIN SELECT RAISE(ABORT, 'io'); END")
    with pytest.raises(Exception, match="io"):
        run_monthly(db, config, now=MOMENT)
    assert db.conn.execute("SELECT COUNT(*) FROM audit_runs").fetchone() == (1,)  # the run rolled back with it
    db.conn.execute("DROP TRIGGER outbox_down")
    assert run_monthly(db, config, now=MOMENT + timedelta(minutes=2)) == COUNTS  # the next check runs it
    _deliver(db, config)
    assert [m.decision_id for m in slack.messages].count(f"audit-summary-{MOMENT:%Y-%m}") == 1


def test_slack_failing_after_the_post_does_not_post_twice(world, db, slack):
    config = _config(slack)
    run_monthly(db, config, now=MOMENT)
    slack.fail_next("chat.postMessage", "5xx_after")
    _deliver(db, config)
    assert len(slack.messages) == 1


@pytest.mark.parametrize(
    ("channel", "enabled", "reason"),
    [
        (None, True, "no analytics.audit.channel configured: summary logged only"),
        (CHANNEL, False, "actions.slack is disabled: summary logged only"),
    ],
)
def test_without_a_channel_the_summary_is_only_logged_and_the_log_says_so(world, db, slack, channel, enabled, reason):
    config = _config(slack, channel, enabled=enabled)
    with capture_logs() as logs:
        assert run_monthly(db, config, now=MOMENT) == COUNTS
    (event,) = [e for e in logs if e["event"] == "continuity_audit"]
    assert event["unsent_reason"] == reason and event["summary_enqueued"] is False
    assert event["stuck_lead"] == 2
    assert db.conn.execute("SELECT COUNT(*) FROM outbox_items").fetchone() == (0,)


def test_hostile_record_names_reach_the_channel_escaped(world, db, slack):
    db.conn.execute("UPDATE cache_people SET first_name = '<!channel>', last_name = '<@U1|x>' WHERE id LIKE '%P2'")
    config = _config(slack)
    run_monthly(db, config, now=MOMENT)
    _deliver(db, config)
    (message,) = slack.messages
    assert "<!channel>" not in _mrkdwn(message) and "&lt;!channel&gt;" in json.dumps(message.blocks)


_findings = st.lists(
    st.builds(Finding, st.sampled_from(KINDS), st.text(max_size=5), st.just("n"), st.none(), st.none(), st.just("w"))
)


@given(_findings, st.integers(min_value=0, max_value=4))
def test_the_tally_counts_everything_and_keeps_the_first_examples(findings, per_kind):
    tally = Tally(examples_per_kind=per_kind).add_all(findings)
    assert tally.total == len(findings)
    for kind in KINDS:
        of_kind = [f for f in findings if f.kind == kind]
        assert tally.counts[kind] == len(of_kind)
        assert tally.examples[kind] == of_kind[:per_kind]
