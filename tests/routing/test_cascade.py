"""The cascade, situation by situation: who gets the lead, through which step, and what the trace says."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from connector.routing.explain import explain
from connector.routing.ledger import LedgerState
from connector.routing.model import RoutingInput, Snapshot

from .builders import MONDAY_3PM_UTC, QUEUE, account, decide, lead, owners, rep, routing

NY = {
    "timezone": "America/New_York",
    "working_hours": "09:00-17:00",
    "working_days": ["mon", "tue", "wed", "thu", "fri"],
}
SUNDAY_3AM_UTC = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
PTO_THIS_WEEK = [{"start": "2026-11-23", "end": "2026-11-25"}]
EVERYONE = ("owner@x.com", "pal@x.com", "abm@x.com", "de@x.com", "us1@x.com", "us2@x.com", "csm@x.com")


def team(**changes: dict[str, Any]) -> list[dict[str, Any]]:
    """The test team; ``changes`` maps a rep's local part to extra fields (e.g. pto, caps, active)."""
    reps = [
        rep("owner@x.com", role="AE", team="East", **NY),
        rep("pal@x.com", role="AE", team="East", **NY),
        rep("abm@x.com", role="AE", team="Strategic", **NY),
        rep(
            "de@x.com",
            role="SDR",
            team="DACH",
            timezone="Europe/Berlin",
            working_hours="08:30-17:00",
            territories=["DE", "AT"],
            languages=["de", "en"],
        ),
        rep("us1@x.com", role="SDR", team="NA", **NY, territories=["US-NY", "US-NJ"]),
        rep("us2@x.com", role="SDR", team="NA", **NY, territories=["US-NY", "US-CA"]),
        rep("csm@x.com", role="CSM", team="East", **NY),
    ]
    for r in reps:
        r.update(changes.get(r["email"].split("@")[0], {}))
    return reps


POOLS = [
    {"name": "na", "reps": ["us1@x.com", "us2@x.com"], "fallback": "global"},
    {"name": "dach", "reps": ["de@x.com"], "fallback": "na"},
    {"name": "global", "reps": ["us1@x.com", "us2@x.com", "de@x.com"]},
]
STEPS = [
    {"kind": "named_accounts"},
    {"kind": "account_owner", "min_confidence": 0.8},
    {
        "kind": "rules",
        "rules": [
            {"name": "dach", "when": {"country": ["DE", "AT", "CH"]}, "to": {"pool": "dach"}},
            {"name": "new-york", "when": {"state": ["US-NY"]}, "to": {"pool": "na"}},
            {"name": "us", "when": {"country": ["US"]}, "to": {"pool": "na"}},
            {"name": "big-fit-a", "when": {"employees": {"min": 1000}, "fit": ["A"]}, "to": {"rep": "abm@x.com"}},
        ],
    },
    {"kind": "pool", "pool": "global"},
]
NAMED = [{"name": "strategic", "domains": ["globex.example"], "to": {"rep": "abm@x.com"}}]


def config(pools: list[dict[str, Any]] | None = None, **changes: dict[str, Any]):
    return routing(team(**changes), pools or POOLS, STEPS, named_accounts=NAMED)


def with_account(owner: str | None, **lead_fields: Any) -> RoutingInput:
    domain = lead_fields.pop("domain", "acme.example")
    return RoutingInput(
        lead(**lead_fields), account(owner, domain=domain), match_method="domain", match_confidence=0.97
    )


# (situation, config changes, input, snapshot, clock, expected owner, expected step, text expected in the trace)
SITUATIONS = [
    (
        "account owner available",
        {},
        with_account("owner@x.com"),
        None,
        MONDAY_3PM_UTC,
        "owner@x.com",
        "account continuity",
        "owned by owner@x.com, who is available",
    ),
    (
        "account owner on PTO goes to the owner's pod",
        {"owner": {"pto": PTO_THIS_WEEK}},
        with_account("owner@x.com"),
        None,
        MONDAY_3PM_UTC,
        "pal@x.com",
        "account continuity",
        "on PTO until 2026-11-25",
    ),
    (
        "account owner over the open-lead cap goes to the pod",
        {"owner": {"caps": {"open_leads": 5}}},
        with_account("owner@x.com"),
        Snapshot(open_leads={"owner@x.com": 5}),
        MONDAY_3PM_UTC,
        "pal@x.com",
        "account continuity",
        "open-lead cap reached (5/5)",
    ),
    (
        "account owner deactivated in the CRM goes to the pod",
        {},
        with_account("owner@x.com"),
        owners(*EVERYONE[1:], inactive=("owner@x.com",)),
        MONDAY_3PM_UTC,
        "pal@x.com",
        "account continuity",
        "deactivated in the CRM",
    ),
    (
        "weak account match is not continuity",
        {},
        RoutingInput(lead(country="DE"), account("owner@x.com"), match_method="fuzzy_name", match_confidence=0.6),
        None,
        MONDAY_3PM_UTC,
        "de@x.com",
        "rules",
        "confidence 0.60 is below 0.80",
    ),
    (
        "named ABM account wins over the account owner",
        {},
        with_account("owner@x.com", domain="globex.example"),
        None,
        MONDAY_3PM_UTC,
        "abm@x.com",
        "named accounts",
        "named-account list strategic",
    ),
    (
        "ABM by the lead's email domain without an account",
        {},
        lead(email_domain="globex.example"),
        None,
        MONDAY_3PM_UTC,
        "abm@x.com",
        "named accounts",
        "email domain globex.example is listed",
    ),
    (
        "lead matching two territory rules takes the first",
        {},
        lead(country="US", state="NY"),
        None,
        MONDAY_3PM_UTC,
        "us1@x.com",
        "rules",
        "rule new-york matched",
    ),
    (
        "no rule matching goes to the default pool",
        {},
        lead(country="BR"),
        None,
        MONDAY_3PM_UTC,
        "de@x.com",
        "default pool",
        "country is BR, not one of [US]",
    ),
    (
        "pool unavailable waterfalls to its fallback pool",
        {"de": {"pto": PTO_THIS_WEEK}},
        lead(country="DE"),
        None,
        MONDAY_3PM_UTC,
        "us1@x.com",
        "rules",
        "pool dach: nobody available (1 on PTO); then pool na: picked",
    ),
    (
        "rep over the daily cap is skipped",
        {"us1": {"caps": {"per_day": 0}}},
        lead(country="US"),
        None,
        MONDAY_3PM_UTC,
        "us2@x.com",
        "rules",
        "daily cap reached (0/0)",
    ),
    (
        "rep deactivated in the CRM is never picked",
        {},
        lead(country="US"),
        owners(*[e for e in EVERYONE if e != "us1@x.com"], inactive=("us1@x.com",)),
        MONDAY_3PM_UTC,
        "us2@x.com",
        "rules",
        "us1@x.com skipped: deactivated in the CRM",
    ),
    (
        "rep missing from a known CRM owner list is skipped",
        {},
        lead(country="US"),
        owners(*[e for e in EVERYONE if e != "us1@x.com"]),
        MONDAY_3PM_UTC,
        "us2@x.com",
        "rules",
        "no CRM user with this email",
    ),
    (
        "rep inactive in the rule file is skipped",
        {"us1": {"active": False}},
        lead(country="US"),
        None,
        MONDAY_3PM_UTC,
        "us2@x.com",
        "rules",
        "marked inactive in the rule file",
    ),
    (
        "rule to a single rep who is unavailable falls through",
        {"abm": {"pto": PTO_THIS_WEEK}},
        RoutingInput(lead(country="BR", employees=5000), fit="A"),
        None,
        MONDAY_3PM_UTC,
        "de@x.com",
        "default pool",
        "abm@x.com is unavailable: on PTO",
    ),
    (
        "public holiday in the rep's calendar waterfalls",
        {"de": {"holidays": {"country": "DE"}}},
        lead(country="DE"),
        None,
        datetime(2026, 12, 25, 15, 0, tzinfo=UTC),
        "us1@x.com",
        "rules",
        "de@x.com skipped: public holiday (Christmas Day, DE)",
    ),
]


@pytest.mark.parametrize(
    ("situation", "changes", "inp", "snapshot", "now", "owner", "step", "text"),
    SITUATIONS,
    ids=[s[0] for s in SITUATIONS],
)
def test_situations(situation, changes, inp, snapshot, now, owner, step, text):
    decision = decide(config(**changes), inp, snapshot=snapshot, now=now)
    assert (decision.owner, decision.assignments[0].step) == (owner, step)
    assert decision.alert is None
    if text:
        assert text in "\n".join(explain(decision))


def test_every_rep_unavailable_reaches_the_final_fallback_with_an_alert():
    away = {name: {"pto": PTO_THIS_WEEK} for name in ("de", "us1", "us2")}
    decision = decide(config(**away), lead(country="DE"))
    assert decision.owner == QUEUE
    assert decision.final_fallback
    assert decision.alert is not None
    assert "pool dach: nobody available (1 on PTO); then pool na: nobody available (2 on PTO)" in decision.alert
    assert "pool global: nobody available (3 on PTO)" in decision.alert
    assert "Unassigned queue" in decision.alert


def test_lead_outside_everyone_s_hours_goes_to_the_fallback_and_says_why():
    decision = decide(config(), lead(country="US"), now=SUNDAY_3AM_UTC)
    assert decision.owner == QUEUE
    assert "outside working hours" in (decision.alert or "")


def test_outside_hours_assign_anyway_keeps_the_lead_with_a_rep():
    pools = [{**p, "outside_hours": "assign_anyway"} if p["name"] == "global" else p for p in POOLS]
    decision = decide(config(pools), lead(country="BR"), now=SUNDAY_3AM_UTC)
    assert decision.owner in {"us1@x.com", "us2@x.com", "de@x.com"}
    assert "nobody in working hours" in "\n".join(explain(decision))


def test_account_owned_by_someone_outside_the_rule_file_uses_the_crm_verdict():
    snapshot = owners(*EVERYONE, "ex@x.com")
    decision = decide(config(), with_account("ex@x.com"), snapshot=snapshot)
    assert decision.owner == "ex@x.com"
    snapshot = owners(*EVERYONE, inactive=("ex@x.com",))
    decision = decide(config(), with_account("ex@x.com", country="US"), snapshot=snapshot)
    assert decision.owner in {"us1@x.com", "us2@x.com"}


def test_pool_requirements_match_territory_and_language():
    pools = [{"name": "all", "reps": ["us1@x.com", "us2@x.com", "de@x.com"], "require": ["territory", "language"]}]
    steps = [{"kind": "pool", "pool": "all"}]
    cfg = routing(team(), pools, steps)
    assert decide(cfg, lead(country="US", state="CA")).owner == "us2@x.com"
    assert decide(cfg, lead(country="AT", language="de")).owner == "de@x.com"
    # A requirement the lead gives no value for is not held against anyone.
    assert decide(cfg, lead()).owner in {"us1@x.com", "us2@x.com", "de@x.com"}


def test_two_to_one_assigns_a_primary_and_a_distinct_secondary():
    stages = [
        {"name": "sdr", "steps": [{"kind": "pool", "pool": "sdrs"}], "secondary": "ae"},
        {"name": "ae", "steps": [{"kind": "account_owner", "roles": ["AE"]}, {"kind": "pool", "pool": "aes"}]},
    ]
    pools = [
        {"name": "sdrs", "reps": ["us1@x.com", "us2@x.com"]},
        {"name": "aes", "reps": ["owner@x.com", "pal@x.com"]},
    ]
    cfg = routing(team(), pools, stages=stages)
    decision = decide(cfg, with_account("owner@x.com"))
    assert [(a.role, a.stage, a.owner) for a in decision.assignments] == [
        ("primary", "sdr", "us1@x.com"),
        ("secondary", "ae", "owner@x.com"),
    ]
    assert decision.secondary_owner == "owner@x.com"


def test_stage_handoff_keeps_continuity_with_the_account_s_ae():
    stages = [
        {"name": "sdr", "steps": [{"kind": "pool", "pool": "sdrs"}]},
        {"name": "ae", "steps": [{"kind": "account_owner", "roles": ["AE"]}, {"kind": "pool", "pool": "aes"}]},
    ]
    pools = [{"name": "sdrs", "reps": ["us1@x.com"]}, {"name": "aes", "reps": ["pal@x.com"]}]
    cfg = routing(team(), pools, stages=stages)
    assert decide(cfg, with_account("owner@x.com"), stage="ae").owner == "owner@x.com"
    handoff = decide(cfg, with_account("us1@x.com"), stage="ae")  # the account is owned by an SDR
    assert handoff.owner == "pal@x.com"
    assert "us1@x.com is SDR, not AE" in "\n".join(explain(handoff))


def test_routing_does_not_touch_the_ledger_it_is_given():
    state = LedgerState()
    from connector.routing.cascade import route

    decision = route(RoutingInput(lead(country="US")), Snapshot(), config(), state, MONDAY_3PM_UTC)
    assert state.entries == {} and state.counts == {}
    assert decision.delta.credits and decision.delta.counts
