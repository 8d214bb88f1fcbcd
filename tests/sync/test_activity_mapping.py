"""Mapping CRM activities and deals to cache records: what counts as done, what a Task is, when a deal is won, and
which people and account each is on."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.hubspot import mapping as hubspot
from adapters.salesforce import mapping as salesforce
from connector.crm import RawRecord
from connector.errors import InvalidRecordError


def _hs(object_type: str, props: dict[str, Any], **links: tuple[str, ...]) -> Any:
    raw = RawRecord("11", 5_000, {"hs_createdate": "2026-11-02T10:00:00Z", **props}, associations=links)
    return hubspot.MAPPERS[object_type](raw)


@pytest.mark.parametrize(
    ("object_type", "props", "completed"),
    [
        ("tasks", {"hs_task_status": "COMPLETED"}, True),
        ("tasks", {"hs_task_status": "NOT_STARTED"}, False),
        ("calls", {"hs_call_status": "NO_ANSWER"}, True),
        ("calls", {}, True),  # a call logged without a status was made
        ("calls", {"hs_call_status": "QUEUED"}, False),
        ("emails", {"hs_email_direction": "EMAIL"}, True),
        ("emails", {"hs_email_direction": "INCOMING_EMAIL"}, False),
        ("meetings", {"hs_meeting_outcome": "COMPLETED"}, True),
        ("meetings", {"hs_meeting_outcome": "NO_SHOW"}, False),
        ("meetings", {"hs_meeting_outcome": "SCHEDULED"}, None),
        ("meetings", {}, None),
    ],
)
def test_hubspot_engagement_completion(object_type: str, props: dict[str, Any], completed: bool | None) -> None:
    assert _hs(object_type, props).completed is completed


def test_hubspot_engagement_people_account_and_times() -> None:
    record = _hs(
        "meetings",
        {"hubspot_owner_id": "7", "hs_timestamp": "2026-11-02T11:00:00Z", "hs_meeting_start_time": "1790000000000"},
        contacts=("1", "2"),
        companies=("9", "8"),
    )
    assert record.kind == "meeting" and record.owner_native_id == "7"
    assert record.person_ids == ("hubspot:contacts:1", "hubspot:contacts:2")
    assert record.account_id == "hubspot:companies:9"
    assert record.occurred_ms == 1_790_000_000_000  # the meeting's start, not its hs_timestamp
    assert record.created_ms == 1_793_613_600_000


@pytest.mark.parametrize(
    ("props", "closed", "won"),
    [
        ({"dealstage": "closedwon"}, True, True),
        ({"dealstage": "closedlost"}, True, False),
        ({"dealstage": "contractsent"}, False, False),
        ({"dealstage": "custom-won-stage", "hs_is_closed": "true", "hs_is_closed_won": "true"}, True, True),
        ({"dealstage": "custom-lost-stage", "hs_is_closed": "true", "hs_is_closed_won": "false"}, True, False),
    ],
)
def test_hubspot_deal_closed_and_won(props: dict[str, Any], closed: bool, won: bool) -> None:
    deal = _hs("deals", {**props, "amount": "12.5", "closedate": "2026-11-20T00:00:00Z"})
    assert (deal.is_closed, deal.is_won, deal.amount) == (closed, won, 12.5)
    assert (deal.closed_ms is not None) is closed


def test_hubspot_list_and_batch_association_shapes() -> None:
    listed = hubspot.raw_record(
        {"id": "5", "properties": {"hs_lastmodifieddate": "2026-11-02T10:00:00Z"},
         "associations": {"contacts": {"results": [{"id": "1", "type": "task_to_contact"}, {"id": 2}]}}},
        "hs_lastmodifieddate",
    )  # fmt: skip
    assert listed.associations == {"contacts": ("1", "2")}
    body = {
        "results": [
            {"from": {"id": "5"}, "to": [
                {"toObjectId": 3, "associationTypes": [{"typeId": 341, "label": None}]},
                {"toObjectId": 4, "associationTypes": [{"typeId": 5, "label": "Primary"}]},
            ]},
        ]
    }  # fmt: skip
    assert hubspot.batch_associations(body) == {"5": ("4", "3")}  # the primary company first


@pytest.mark.parametrize(
    ("props", "kind", "completed", "people", "account"),
    [
        ({"TaskSubtype": "Call", "Status": "Completed", "WhoId": "00Q000000000001"}, "call", True,
         ("salesforce:Lead:00Q000000000001",), None),
        ({"TaskSubtype": "Email", "IsClosed": True, "WhoId": "003000000000001"}, "email", True,
         ("salesforce:Contact:003000000000001",), None),
        ({"TaskSubtype": "Task", "Status": "Not Started", "WhatId": "001000000000001"}, "task", False,
         (), "salesforce:Account:001000000000001"),
        ({"Status": "Completed", "WhatId": "006000000000001"}, "task", True, (), None),  # on an Opportunity
    ],
)  # fmt: skip
def test_salesforce_task(
    props: dict[str, Any], kind: str, completed: bool, people: tuple[str, ...], account: str | None
) -> None:
    raw = RawRecord("00T000000000001", 5_000, {"CreatedDate": "2026-11-02T10:00:00.000+0000", **props})
    task = salesforce.task(raw)
    assert (task.kind, task.completed, task.person_ids, task.account_id) == (kind, completed, people, account)
    assert task.occurred_ms == task.created_ms == 1_793_613_600_000  # logged then; ActivityDate has no time


def test_salesforce_event_and_opportunity() -> None:
    event = salesforce.event(
        RawRecord("00U1", 5_000, {"WhoId": "00Q1", "OwnerId": "0051", "StartDateTime": "2026-11-03T15:00:00.000+0000"})
    )
    assert (event.kind, event.completed, event.person_ids) == ("event", None, ("salesforce:Lead:00Q1",))
    won = salesforce.opportunity(RawRecord("0061", 5_000, {"StageName": "Closed Won", "AccountId": "0011"}))
    assert (won.is_closed, won.is_won, won.account_id) == (True, True, "salesforce:Account:0011")
    open_ = salesforce.opportunity(RawRecord("0062", 5_000, {"StageName": "Prospecting", "Amount": "oops"}))
    assert (open_.is_closed, open_.is_won, open_.amount) == (False, False, None)  # a bad amount is dropped


def test_an_engagement_without_a_usable_stamp_is_refused() -> None:
    with pytest.raises(InvalidRecordError):
        hubspot.MAPPERS["tasks"](RawRecord("1", -1, {}))
