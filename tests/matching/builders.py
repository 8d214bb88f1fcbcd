"""Small builders for accounts and leads in matching tests (only the fields matching reads)."""

from __future__ import annotations

from typing import Any

from connector.matching.index import AccountIndex
from connector.models import Account, Lead
from connector.normalize import optional, registered_domain


def account(account_id: str, name: str, domain: str | None = None, **fields: Any) -> Account:
    return Account(id=account_id, crm="hubspot", native_id=account_id, name=name, domain=domain, **fields)


def lead(email: str | None = None, company: str | None = None, country: str | None = None, **fields: Any) -> Lead:
    fields.setdefault("id", "hubspot:contacts:lead")
    return Lead(
        crm="hubspot",
        native_id=fields["id"].rsplit(":", 1)[-1],
        object="contacts",
        email=email,
        email_domain=optional(registered_domain, email),
        company=company,
        country=country,
        **fields,
    )


def index_of(*accounts: Account) -> AccountIndex:
    return AccountIndex(accounts)
