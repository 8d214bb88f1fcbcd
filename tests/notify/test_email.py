"""Email nudges over a real local SMTP server (aiosmtpd in the test process)."""

from __future__ import annotations

from typing import Any

import pytest
from outbox_factories import HOSTILE, assignment

from adapters.email.notifier import EmailNotifier, message_id
from connector.config.actions import ActionsConfig, EmailConfig, LinksConfig
from connector.errors import InvalidRecordError, TransportError
from connector.notify import build_notification

LINKS = LinksConfig(salesforce_instance_url="https://acme.my.salesforce.com")


def _actions(port: int) -> ActionsConfig:
    email = EmailConfig(
        enabled=True, host="127.0.0.1", port=port, starttls=False, sender="leadrelay <robot@acme.example>"
    )
    return ActionsConfig(email=email, links=LINKS)


def test_a_rep_gets_plain_text_and_html_with_a_stable_message_id(smtp: tuple[Any, int]) -> None:
    inbox, port = smtp
    actions = _actions(port)
    note = build_notification(assignment(1, crm="salesforce"), actions)
    sent_id = EmailNotifier(actions.email).send(note)
    (message,) = inbox.messages
    assert message["Message-ID"] == sent_id == message_id("dec-00001", "acme.example")
    assert message["To"] == "Rita Rep <rep@example.com>"
    plain = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Ada Lovelace" in plain and "https://acme.my.salesforce.com/lightning/r/Lead/1001/view" in plain
    assert "<li>Company: Analytical Engines</li>" in html and "https://cal.example.com/rita" in html


@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_values_reach_email_escaped(smtp: tuple[Any, int], value: str) -> None:
    inbox, port = smtp
    actions = _actions(port)
    EmailNotifier(actions.email).send(build_notification(assignment(1, name=value, company=value), actions))
    (message,) = inbox.messages
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html and "<b>bold</b>" not in html
    assert "\n" not in str(message["Subject"]) and len(str(message["Subject"])) <= 200
    assert len(html) < 40_000
    assert inbox.envelopes[0][1] == ["rep@example.com"]


def test_a_header_injection_in_the_name_stays_inside_the_header(smtp: tuple[Any, int]) -> None:
    inbox, port = smtp
    actions = _actions(port)
    item = assignment(1, name="Eve\r\nBcc: victim@example.com")
    EmailNotifier(actions.email).send(build_notification(item, actions))
    (message,) = inbox.messages
    assert message["Bcc"] is None
    assert inbox.envelopes[0][1] == ["rep@example.com"]


def test_a_bad_rep_address_is_a_fatal_error() -> None:
    actions = _actions(1)
    note = build_notification(assignment(1, email="not an address"), actions)
    with pytest.raises(InvalidRecordError):
        EmailNotifier(actions.email).send(note)


def test_an_unreachable_server_is_retriable() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    actions = _actions(port)
    with pytest.raises(TransportError):
        EmailNotifier(actions.email).send(build_notification(assignment(1), actions))
