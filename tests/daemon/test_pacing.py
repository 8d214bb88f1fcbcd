"""Under a rate budget the webhook path gathers leads into shared calls instead of stalling on a full window."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from adapters.hubspot.client import build_limiter
from connector.cache import open_cache
from connector.config.crm import HubSpotConfig
from connector.crm import PersonRecord
from connector.daemon.pacing import BUDGET_SHARE, CALLS_PER_CYCLE, cycle_seconds
from connector.daemon.people_by_id import PeopleRead
from connector.daemon.webhook_intake import WebhookIntake
from connector.models import Lead
from connector.ratelimit import unlimited
from connector.web import webhooks


@pytest.mark.parametrize(("plan", "per_second"), [("professional", 19.0), ("starter", 10.0)])
def test_the_cycle_keeps_reads_and_owner_writes_inside_the_plans_share(plan, per_second):
    limiter = build_limiter(HubSpotConfig(plan=plan))
    cycle = cycle_seconds([limiter])
    assert CALLS_PER_CYCLE / cycle == pytest.approx(BUDGET_SHARE * per_second)


def test_unpaced_crms_are_never_held_back():
    assert cycle_seconds([unlimited("hubspot")]) == 0.0
    assert cycle_seconds([]) == 0.0


class Clock:
    """Time that moves only when the intake waits."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class RecordingRead:
    """A CRM that knows every contact; records the ids of each call."""

    crm = "hubspot"
    object = "contacts"
    batch_limit = 100

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def read(self, native_ids: Sequence[str]) -> PeopleRead:
        self.calls.append(list(native_ids))
        return PeopleRead(tuple(_person(n) for n in native_ids))


def _person(native: str) -> PersonRecord:
    lead = Lead(id=f"hubspot:contacts:{native}", crm="hubspot", native_id=native, object="contacts")
    return PersonRecord(lead, None, 1)


CREATION = "contact.creation"


def _event(n: int) -> dict[str, object]:
    return {"subscriptionId": 1, "eventId": n, "occurredAt": 1, "objectId": 500 + n, "subscriptionType": CREATION}


def test_events_arriving_within_a_cycle_share_one_read(tmp_path: Path):
    db = open_cache(tmp_path / "cache.sqlite")
    webhooks.install(db)
    clock, crm = Clock(), RecordingRead()

    def wait(seconds: float) -> None:  # two more events arrive while the intake waits for its cycle
        clock.now += seconds
        webhooks.store(db, f"sig-{clock.now}", str(int(clock.now * 1000)), [_event(2), _event(3)])

    intake = WebhookIntake(db, by_id=crm, search=None, clock=clock, min_read_s=0.2, wait=wait)
    webhooks.store(db, "sig-a", "1", [_event(1)])
    assert intake.turn().done == 1 and crm.calls == [["501"]], "the first read after a quiet spell goes at once"
    clock.now += 0.05
    webhooks.store(db, "sig-b", "2", [_event(4)])
    report = intake.turn()
    assert len(crm.calls) == 2 and sorted(crm.calls[1]) == ["502", "503", "504"], "one read for all three"
    assert report.done == 3 and webhooks.waiting(db) == []
    assert clock.now == pytest.approx(1_000.2), "waited out the rest of the cycle, no longer"
