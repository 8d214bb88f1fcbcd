"""A generated world, seeded into the running sandbox, read back through the real HubSpot and Salesforce clients."""

from __future__ import annotations

from typing import Any

import pytest
from hubspot.crm.contacts import Filter, FilterGroup, PublicObjectSearchRequest
from simple_salesforce import format_soql

from adapters.sandbox.generate import iter_seed
from adapters.sandbox.runner import SandboxServer

PEOPLE = 1500


@pytest.fixture
def seeded(sandbox: SandboxServer) -> list[dict[str, Any]]:
    """The sandbox holding a generated world; returns the world's records."""
    records = list(iter_seed(contacts=PEOPLE, seed=99))
    sandbox.admin.seed(records)
    return records


def test_reps_are_hubspot_owners_and_the_inactive_one_is_archived(
    seeded: list[dict[str, Any]], hubspot_client: Any
) -> None:
    owners = hubspot_client.crm.owners.owners_api.get_page(email="katharina.mueller@northwind-demo.com")
    assert [o.last_name for o in owners.results] == ["Müller"]
    assert owners.results[0].teams[0].name == "DACH"
    live = hubspot_client.crm.owners.owners_api.get_page(limit=100).results
    archived = hubspot_client.crm.owners.owners_api.get_page(limit=100, archived=True).results
    assert "marcus.johnson@northwind-demo.com" not in {o.email for o in live}
    assert {o.email for o in archived} == {"marcus.johnson@northwind-demo.com"}


def test_a_generated_contact_is_found_by_email_with_its_company(
    seeded: list[dict[str, Any]], hubspot_client: Any
) -> None:
    contact = next(
        r["properties"] for r in seeded if r["kind"] == "hubspot.contacts" and "associatedcompanyid" in r["properties"]
    )
    request = PublicObjectSearchRequest(
        filter_groups=[FilterGroup(filters=[Filter(property_name="email", operator="EQ", value=contact["email"])])],
        properties=["email", "associatedcompanyid", "hubspot_owner_id"],
    )
    found = hubspot_client.crm.contacts.search_api.do_search(public_object_search_request=request)
    assert found.total == 1
    company_id = found.results[0].properties["associatedcompanyid"]
    company = hubspot_client.crm.companies.basic_api.get_by_id(company_id, properties=["domain", "name"])
    assert company.properties["domain"] in contact["email"] or contact["email"].endswith(".com")


def test_salesforce_accounts_are_owned_by_the_team_and_one_user_is_inactive(
    seeded: list[dict[str, Any]], sf: Any
) -> None:
    accounts = sf.query("SELECT Id, Name, Owner.Email FROM Account ORDER BY Name LIMIT 20")["records"]
    assert accounts
    assert all(a["Owner"]["Email"].endswith("@northwind-demo.com") for a in accounts)
    inactive = sf.query("SELECT Email FROM User WHERE IsActive = false")["records"]
    assert [u["Email"] for u in inactive] == ["marcus.johnson@northwind-demo.com"]
    queues = sf.query("SELECT Name FROM Group WHERE Type = 'Queue' ORDER BY Name")["records"]
    assert [q["Name"] for q in queues] == ["Nurture", "Unassigned Leads"]


def test_leads_with_any_company_text_can_be_queried_back_exactly(seeded: list[dict[str, Any]], sf: Any) -> None:
    companies = [r["properties"]["Company"] for r in seeded if r["kind"] == "salesforce.Lead"]
    awkward = [c for c in companies if any(ch in c for ch in "'\"<&\\")] or companies[:3]
    for company in awkward[:5]:
        result = sf.query(format_soql("SELECT Id, Company FROM Lead WHERE Company = {}", company))
        # SOQL's = ignores case, as Salesforce's does: "ACME" and "Acme" both match
        assert result["totalSize"] == sum(c.lower() == company.lower() for c in companies)
        assert all(r["Company"].lower() == company.lower() for r in result["records"])
