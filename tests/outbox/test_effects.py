"""What a decision implies: which effects, on which system, for which rep."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest
from outbox_factories import HOSTILE, assignment

from connector.config.actions import ActionsConfig, EmailConfig, SlackConfig
from connector.outbox.effects import effects_for
from connector.outbox.model import Assignee, EffectKind, RecordRef

SLACK = SlackConfig(enabled=True)
EMAIL = EmailConfig(enabled=True)


def _kinds(actions: ActionsConfig, **extra: object) -> list[tuple[str, str]]:
    return [(e.kind.value, e.target) for e in effects_for(assignment(1, **extra), actions)]


@pytest.mark.parametrize(
    ("actions", "expected"),
    [
        (ActionsConfig(), [("set_owner", "hubspot"), ("create_task", "hubspot")]),
        (ActionsConfig(create_task=False, slack=SLACK), [("set_owner", "hubspot"), ("notify_slack", "slack")]),
        (
            ActionsConfig(slack=SLACK, email=EMAIL),
            [
                ("set_owner", "hubspot"),
                ("create_task", "hubspot"),
                ("notify_slack", "slack"),
                ("notify_email", "email"),
            ],
        ),
        (
            ActionsConfig(write_owner=False, slack=SLACK, email=EmailConfig(enabled=True, only_without_slack=True)),
            [("create_task", "hubspot"), ("notify_slack", "slack")],
        ),
    ],
)
def test_the_config_decides_which_effects_a_decision_has(
    actions: ActionsConfig, expected: list[tuple[str, str]]
) -> None:
    assert _kinds(actions) == expected


def test_a_person_in_both_crms_is_written_only_in_the_system_of_record() -> None:
    twin = RecordRef("salesforce", "Lead", "00Q000000000001")
    owner = Assignee(key="rep@x.io", name="Rep", crm_ids={"hubspot": "200", "salesforce": "005000000000001"})
    item = assignment(1, also=(twin,), system_of_record="salesforce", owner=owner)
    assert item.target == twin
    assert [(e.kind, e.target) for e in effects_for(item, ActionsConfig())] == [
        (EffectKind.SET_OWNER, "salesforce"),
        (EffectKind.CREATE_TASK, "salesforce"),
    ]


def test_a_queue_gets_the_lead_but_no_task_and_no_nudge() -> None:
    queue = Assignee(key="queue:salesforce:00G1", name="EMEA queue", crm_ids={"salesforce": "00G1"}, is_queue=True)
    item = assignment(1, crm="salesforce", owner=queue)
    assert [e.kind for e in effects_for(item, ActionsConfig(slack=SLACK))] == [EffectKind.SET_OWNER]


def test_a_rep_without_an_id_in_the_crm_gets_no_crm_effects() -> None:
    assert _kinds(ActionsConfig(slack=SLACK), owner_id="") == [("notify_slack", "slack")]


def test_an_assignment_survives_the_outbox_table() -> None:
    item = assignment(7, also=(RecordRef("salesforce", "Lead", "00Q1"),), system_of_record="hubspot")
    assert type(item).from_json(item.to_json()) == item


@pytest.mark.parametrize("hostile", sorted(HOSTILE.values()))
def test_stored_assignments_keep_the_format_older_rows_were_written_in(hostile: str) -> None:
    item = assignment(3, name=hostile, company=hostile, also=(RecordRef("salesforce", "Lead", "00Q1"),))
    assert item.to_json() == json.dumps(asdict(item), ensure_ascii=False, separators=(",", ":"))
    assert type(item).from_json(item.to_json()) == item
