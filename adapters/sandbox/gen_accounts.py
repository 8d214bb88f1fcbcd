"""Seed records for companies and deals: HubSpot companies and deals, Salesforce Accounts and Opportunities.

References follow the store's id rule: a company's ``hs_seq``/``sf_seq`` is its position among the
records of that kind, so ``store_id_factory(kind, seq)`` is the id it will get.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

from adapters.sandbox.gen_companies import Company
from adapters.sandbox.gen_places import currency, phone_number, spell_country, spell_state
from adapters.sandbox.gen_text import iso_date, iso_ms, pick
from adapters.sandbox.gen_vocab import Vocabulary
from adapters.sandbox.ids import store_id_factory

COMPANY_KIND = "hubspot.companies"
ACCOUNT_KIND = "salesforce.Account"
DEAL_KIND = "hubspot.deals"
OPPORTUNITY_KIND = "salesforce.Opportunity"
# HubSpot-defined association type ids.
CHILD_TO_PARENT_COMPANY = 14
DEAL_TO_COMPANY = 5


def company_id(company: Company) -> str:
    """The HubSpot id the company gets (it must be in HubSpot)."""
    return store_id_factory(COMPANY_KIND, company.hs_seq)


def account_id(company: Company) -> str:
    """The Salesforce Account id the company gets (it must be in Salesforce)."""
    return _account_id(company.sf_seq)


@lru_cache(maxsize=1 << 16)  # Salesforce ids take a checksum to compute; people refer to the same accounts often
def _account_id(seq: int) -> str:
    return store_id_factory(ACCOUNT_KIND, seq)


def _company_name(rng: random.Random, vocab: Vocabulary, name: str) -> str:
    roll = rng.random()
    if roll < 0.002:  # hostile names arrive through imports and forms; the pipeline must survive them
        return f"{name} {pick(rng, vocab.hostile)}"
    if roll < 0.012:
        return f" {name} "
    return name


def hubspot_company(
    rng: random.Random, vocab: Vocabulary, company: Company, companies: Sequence[Company]
) -> dict[str, Any]:
    """The ``hubspot.companies`` record (all property values are strings, as HubSpot's API returns them)."""
    domain = company.domain
    if not domain.isascii() and rng.random() < 0.25:
        domain = domain.encode("idna").decode("ascii")
    props: dict[str, Any] = {
        "name": _company_name(rng, vocab, company.name),
        "domain": domain,
        "website": company.website,
        "city": company.city,
        "lifecyclestage": company.stage,
        "hs_num_open_deals": str(company.open_deals),
    }
    _put(props, "country", spell_country(rng, company.country))
    _put(props, "state", spell_state(rng, company.country, company.state))
    _put(props, "zip", company.zip or None)
    if rng.random() > 0.08:
        props["industry"] = company.industry.hubspot
    if rng.random() > 0.1:
        props["numberofemployees"] = str(company.employees)
    if company.revenue is not None:
        props["annualrevenue"] = str(company.revenue)
    if company.listed_domains:
        props["hs_additional_domains"] = ";".join(company.listed_domains)
    if company.owner is not None:
        props["hubspot_owner_id"] = company.owner.owner_id
    if rng.random() < 0.6:
        props["phone"] = phone_number(rng, company.country)
    record: dict[str, Any] = {"kind": COMPANY_KIND, "properties": props, "created_ms": company.created_ms}
    if company.parent is not None:
        parent_id = company_id(companies[company.parent])
        props["hs_parent_company_id"] = parent_id
        record["associations"] = [{"to_kind": COMPANY_KIND, "to_id": parent_id, "type_id": CHILD_TO_PARENT_COMPANY}]
    return record


def _account_type(rng: random.Random, stage: str) -> str | None:
    roll = rng.random()
    if stage == "customer":
        return "Customer - Direct" if roll < 0.85 else "Customer - Channel"
    if stage == "opportunity" or roll < 0.75:
        return "Prospect"
    if roll < 0.85:
        return None
    return "Other" if roll < 0.92 else "Channel Partner / Reseller"


def salesforce_account(
    rng: random.Random, vocab: Vocabulary, company: Company, companies: Sequence[Company]
) -> dict[str, Any]:
    """The ``salesforce.Account`` record (typed values, as Salesforce's REST API returns them)."""
    props: dict[str, Any] = {
        "Name": _company_name(rng, vocab, company.sf_name),
        "Website": company.website,
        "BillingCity": company.city,
        "OwnerId": company.sf_owner.user_id,
    }
    _put(props, "BillingCountry", spell_country(rng, company.country))
    _put(props, "BillingState", spell_state(rng, company.country, company.state))
    _put(props, "BillingPostalCode", company.zip or None)
    _put(props, "Type", _account_type(rng, company.stage))
    if rng.random() > 0.08:
        props["Industry"] = company.industry.salesforce
    if rng.random() > 0.1:
        props["NumberOfEmployees"] = company.employees
    if company.revenue is not None:
        props["AnnualRevenue"] = company.revenue
    if company.listed_domains:
        props["Extra_Domains__c"] = ";".join(company.listed_domains)
    if rng.random() < 0.6:
        props["Phone"] = phone_number(rng, company.country)
    if company.parent is not None:
        props["ParentId"] = account_id(companies[company.parent])
    return {"kind": ACCOUNT_KIND, "properties": props, "created_ms": company.created_ms}


def hubspot_deals(company: Company) -> Iterator[dict[str, Any]]:
    """The company's ``hubspot.deals`` records, each associated with the company."""
    for deal in company.deals:
        props: dict[str, Any] = {
            "dealname": deal.title(company.name),
            "dealstage": deal.hubspot_stage,
            "pipeline": "default",
            "amount": str(deal.amount),
            "closedate": iso_ms(deal.close_ms),
            "deal_currency_code": currency(company.country),
            "product_interest": deal.product,
        }
        if company.owner is not None:
            props["hubspot_owner_id"] = company.owner.owner_id
        yield {
            "kind": DEAL_KIND,
            "properties": props,
            "created_ms": deal.created_ms,
            "associations": [{"to_kind": COMPANY_KIND, "to_id": company_id(company), "type_id": DEAL_TO_COMPANY}],
        }


def salesforce_opportunities(company: Company) -> Iterator[dict[str, Any]]:
    """The Account's ``salesforce.Opportunity`` records."""
    for deal in company.deals:
        yield {
            "kind": OPPORTUNITY_KIND,
            "properties": {
                "Name": deal.title(company.sf_name),
                "AccountId": account_id(company),
                "OwnerId": company.sf_owner.user_id,
                "StageName": deal.salesforce_stage,
                "IsClosed": not deal.is_open,
                "IsWon": deal.outcome == "won",
                "Amount": deal.amount,
                "CloseDate": iso_date(deal.close_ms),
                "Probability": deal.probability,
                "Type": "New Customer" if deal.kind == "New Business" else "Existing Customer - Upgrade",
                "Product_Interest__c": deal.product,
            },
            "created_ms": deal.created_ms,
        }


def company_records(rng: random.Random, vocab: Vocabulary, companies: Sequence[Company]) -> Iterator[dict[str, Any]]:
    """Companies, Accounts, deals, Opportunities: each kind contiguous, in the order the ids assume."""
    for company in companies:
        if company.hs_seq:
            yield hubspot_company(rng, vocab, company, companies)
    for company in companies:
        if company.sf_seq:
            yield salesforce_account(rng, vocab, company, companies)
    for company in companies:
        if company.hs_seq:
            yield from hubspot_deals(company)
    for company in companies:
        if company.sf_seq:
            yield from salesforce_opportunities(company)


def _put(props: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        props[key] = value
