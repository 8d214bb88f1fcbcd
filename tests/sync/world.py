"""The sandbox world sync tests run against: CRM configs for it, reading its records, random changes, and the
"cache equals the CRM" comparison every scenario ends with."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import sqlite_utils

from adapters.sandbox.runner import SandboxServer
from connector import normalize
from connector.config.crm import HubSpotConfig, RetryConfig, SalesforceConfig
from connector.errors import InvalidRecordError

# Retries in tests: plenty of attempts, tiny waits (a sandbox Retry-After of 1 s is capped to 20 ms).
FAST_RETRY = RetryConfig(attempts=12, initial_backoff_s=0.005, max_backoff_s=0.02, jitter_s=0.0, max_retry_after_s=0.02)
PERSON_OWNER = {"hubspot.contacts": "hubspot_owner_id", "salesforce.Lead": "OwnerId", "salesforce.Contact": "OwnerId"}
SYNCED_KINDS = (
    "hubspot.owners",
    "hubspot.companies",
    "hubspot.contacts",
    "salesforce.User",
    "salesforce.Group",
    "salesforce.Account",
    "salesforce.Lead",
    "salesforce.Contact",
)


def hubspot_config(sandbox: SandboxServer, **overrides: Any) -> HubSpotConfig:
    """HubSpot config for the sandbox: no overlap, no client-side limits, fast retries (override any of it)."""
    values: dict[str, Any] = {
        "enabled": True,
        "access_token": "sandbox-token",
        "base_url": sandbox.hubspot_url,
        "overlap_s": 0,
        "limits_enabled": False,
        "retry": FAST_RETRY,
        "request_timeout_s": 5,
    }
    return HubSpotConfig(**{**values, **overrides})


def salesforce_config(sandbox: SandboxServer, **overrides: Any) -> SalesforceConfig:
    """Salesforce config for the sandbox over TLS with its test CA."""
    values: dict[str, Any] = {
        "enabled": True,
        "access_token": "sandbox-token",
        "instance_url": sandbox.salesforce_url,
        "ca_bundle": sandbox.ca_path,
        "overlap_s": 0,
        "page_size": 200,
        "limits_enabled": False,
        "retry": FAST_RETRY,
        "request_timeout_s": 5,
    }
    return SalesforceConfig(**{**values, **overrides})


def store_records(sandbox: SandboxServer, kind: str, *, archived: bool | None = False) -> dict[str, dict[str, Any]]:
    """id -> properties of the sandbox's records of ``kind`` (read on the server's thread)."""
    store = sandbox.context.store
    where, params = ("json_extract(props, '$.Type') = ?", ("Queue",)) if kind == "salesforce.Group" else ("1", ())
    return sandbox.call(
        lambda: {o.id: o.properties for o in store.select(kind, where=where, params=params, archived=archived)}
    )


def seed_salesforce_leads(sandbox: SandboxServer, first: int, count: int) -> None:
    """Leads ``first`` .. ``first + count - 1`` created in the sandbox's Salesforce org."""
    sandbox.admin.seed(
        {"kind": "salesforce.Lead", "properties": {"LastName": f"Lead{i}", "Company": "Acme", "Email": f"l{i}@acme.io"}}
        for i in range(first, first + count)
    )


def cached_salesforce_leads(cache: sqlite_utils.Database) -> set[str]:
    """Native ids of the Salesforce Leads the cache holds (not deleted)."""
    rows = cache.conn.execute(
        "SELECT native_id FROM cache_people WHERE crm = 'salesforce' AND object = 'Lead' AND deleted = 0"
    )
    return {row[0] for row in rows}


def _email(value: Any) -> str | None:
    try:
        return normalize.email(value) if isinstance(value, str) else None
    except InvalidRecordError:
        return None


def assert_cache_matches(db: sqlite_utils.Database, sandbox: SandboxServer) -> None:
    """The cache's live records equal the sandbox's, kind by kind (ids), with emails and owners as the CRM says."""
    for kind in SYNCED_KINDS:
        crm, obj = kind.split(".")
        table = {"owners": "cache_owners", "User": "cache_owners", "Group": "cache_owners"}.get(obj)
        table = table or ("cache_accounts" if obj in ("companies", "Account") else "cache_people")
        expected = store_records(sandbox, kind, archived=None if kind == "hubspot.owners" else False)
        rows = db.conn.execute(
            f"SELECT native_id, {'email, owner_native_id' if table == 'cache_people' else 'NULL, NULL'} "
            f"FROM {table} WHERE crm = ? AND object = ? AND deleted = 0",
            (crm, obj),
        ).fetchall()
        cached = {row[0]: row[1:] for row in rows}
        assert set(cached) == set(expected), f"{kind}: cache and sandbox hold different records"
        if table == "cache_people":
            owner_field = PERSON_OWNER[kind]
            email_field = "email" if crm == "hubspot" else "Email"
            for native, props in expected.items():
                assert cached[native][0] == _email(props.get(email_field)), f"{kind} {native}: email"
                assert cached[native][1] == (props.get(owner_field) or None), f"{kind} {native}: owner"


MutateFn = Callable[[random.Random], dict[str, int]]


def mutate_world(sandbox: SandboxServer, rng: random.Random, *, changes: int = 40) -> dict[str, int]:
    """Random creates, updates, owner changes and deletes across both CRMs, applied in the sandbox."""
    store = sandbox.context.store
    hs_owners = list(store_records(sandbox, "hubspot.owners"))
    sf_users = list(store_records(sandbox, "salesforce.User"))
    people = {kind: list(store_records(sandbox, kind)) for kind in PERSON_OWNER}
    done = {"created": 0, "updated": 0, "owner_changed": 0, "deleted": 0}

    def one_change() -> None:
        kind = rng.choice(list(PERSON_OWNER))
        ids = people[kind]
        action = rng.choice(("created", "updated", "owner_changed", "deleted"))
        email_field = "email" if kind.startswith("hubspot") else "Email"
        owners = hs_owners if kind.startswith("hubspot") else sf_users
        if action == "created" or not ids:
            props = {email_field: f"new{rng.randrange(10**9)}@example-corp.io", "LastName": "New", "Company": "New Co"}
            ids.append(store.create(kind, props).id)
            done["created"] += 1
        elif action == "updated":
            store.update(kind, rng.choice(ids), {email_field: f"changed{rng.randrange(10**9)}@changed.io"})
            done["updated"] += 1
        elif action == "owner_changed":
            store.update(kind, rng.choice(ids), {PERSON_OWNER[kind]: rng.choice(owners)})
            done["owner_changed"] += 1
        else:
            store.archive(kind, ids.pop(rng.randrange(len(ids))))
            done["deleted"] += 1

    def apply() -> None:
        for _ in range(changes):
            one_change()

    sandbox.call(apply)
    return done
