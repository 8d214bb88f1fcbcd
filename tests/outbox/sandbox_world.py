"""Putting leads into the CRM sandbox and reading back what the outbox did to them."""

from __future__ import annotations

from typing import Any

from adapters.sandbox.runner import SandboxServer
from connector.outbox.model import AccountCard, RecordRef


def hubspot_contacts(sandbox: SandboxServer, count: int, owner_id: str = "100") -> list[str]:
    """Create ``count`` contacts owned by ``owner_id``; returns their ids."""

    def create() -> list[str]:
        store = sandbox.context.store
        return [
            store.create(
                "hubspot.contacts",
                {"email": f"lead{n}@example.org", "lastname": str(n), "hubspot_owner_id": owner_id},
            ).id
            for n in range(count)
        ]

    return sandbox.call(create)


def hubspot_company(sandbox: SandboxServer, name: str = "Analytical Engines Ltd") -> AccountCard:
    """A company in the sandbox, as the account card of an assignment."""
    company = sandbox.call(lambda: sandbox.context.store.create("hubspot.companies", {"name": name}))
    return AccountCard(name=name, record=RecordRef("hubspot", "companies", company.id), owner_name="Olga Owner")


def records(sandbox: SandboxServer, kind: str) -> list[Any]:
    """Every live record of ``kind`` in the sandbox."""
    return sandbox.call(lambda: list(sandbox.context.store.iter_all(kind)))


def owner_of(sandbox: SandboxServer, kind: str, record_id: str, prop: str = "hubspot_owner_id") -> Any:
    """The owner property of one record."""
    obj = sandbox.call(lambda: sandbox.context.store.get(kind, record_id))
    return obj.properties.get(prop)


def associations(sandbox: SandboxServer, from_kind: str, from_id: str, to_kind: str) -> list[int]:
    """Association type ids from one record to records of ``to_kind``."""
    found = sandbox.call(lambda: sandbox.context.store.associations_of(from_kind, [from_id], to_kind))
    return sorted(a.type_id for a in found.get(from_id, []))


def salesforce_users(sandbox: SandboxServer, count: int) -> list[str]:
    """Active Users; the sandbox's lead assignment rule assigns to the first one, so it is never ours in tests."""

    def create() -> list[str]:
        store = sandbox.context.store
        return [
            store.create(
                "salesforce.User",
                {"LastName": f"Rep{n}", "Email": f"rep{n}@example.com", "Username": f"rep{n}@x", "IsActive": True},
            ).id
            for n in range(count)
        ]

    return sandbox.call(create)


def salesforce_records(sandbox: SandboxServer, sobject: str, count: int, owner_id: str) -> list[str]:
    """``count`` Leads or Contacts owned by ``owner_id``."""

    def create() -> list[str]:
        store = sandbox.context.store
        props = {"LastName": "Lead", "Company": "Acme", "OwnerId": owner_id}
        return [store.create(f"salesforce.{sobject}", {**props, "Email": f"l{n}@example.org"}).id for n in range(count)]

    return sandbox.call(create)
