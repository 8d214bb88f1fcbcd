"""Salesforce sessions expire: the reader logs in again once with the configured credentials, over the real socket.

The sandbox's ``salesforce/sessions`` admin fault expires every session in use (and, with ``new_too``, every later
one), answering 401 INVALID_SESSION_ID like Salesforce after a session timeout.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlite_utils
from pydantic import SecretStr

from adapters.salesforce import SalesforceReader
from adapters.salesforce.client import token_url
from adapters.sandbox.runner import SandboxServer
from adapters.sandbox.salesforce_sessions import expire_sessions
from connector.config.crm import SalesforceConfig
from connector.sync.engine import SyncEngine

from .world import cached_salesforce_leads, salesforce_config, seed_salesforce_leads, store_records

PASSWORD_LOGIN = {
    "access_token": None,
    "username": "sync@leadrelay.test",
    "password": SecretStr("correct horse"),
    "security_token": SecretStr("tok3n"),
    "consumer_key": "leadrelay-connected-app",
    "consumer_secret": SecretStr("app-secret"),
}


def _served(sandbox: SandboxServer) -> list[dict[str, Any]]:
    return [r for r in sandbox.admin.requests(limit=2000) if r["side"] == "salesforce"]


def _logins(sandbox: SandboxServer) -> int:
    return sum(1 for r in _served(sandbox) if r["path"] == "/services/oauth2/token" and r["status"] == 200)


def test_an_expired_session_is_renewed_once_and_the_sync_carries_on(
    sandbox: SandboxServer, cache: sqlite_utils.Database
) -> None:
    seed_salesforce_leads(sandbox, 0, 30)
    engine = SyncEngine(cache, [SalesforceReader(salesforce_config(sandbox, **PASSWORD_LOGIN))])
    assert engine.run_pass().ok
    expire_sessions(sandbox.admin)
    seed_salesforce_leads(sandbox, 30, 20)

    report = engine.run_pass()

    assert report.ok, report.failed
    assert cached_salesforce_leads(cache) == set(store_records(sandbox, "salesforce.Lead"))
    assert _logins(sandbox) == 2  # the first login, then one renewal for the whole pass
    assert sum(1 for r in _served(sandbox) if r["status"] == 401) == 1


def test_a_session_refused_again_after_logging_in_fails_the_crm_with_a_clear_error(
    sandbox: SandboxServer, cache: sqlite_utils.Database
) -> None:
    seed_salesforce_leads(sandbox, 0, 10)
    engine = SyncEngine(cache, [SalesforceReader(salesforce_config(sandbox, **PASSWORD_LOGIN))])
    assert engine.run_pass().ok
    expire_sessions(sandbox.admin, new_too=True)

    report = engine.run_pass()

    assert "refused the new session right after logging in again" in report.failed["salesforce"]
    assert _logins(sandbox) == 2  # one renewal, not a loop


def test_an_expired_access_token_without_credentials_fails_with_what_is_missing(
    sandbox: SandboxServer, cache: sqlite_utils.Database
) -> None:
    engine = SyncEngine(cache, [SalesforceReader(salesforce_config(sandbox))])  # a bare access token
    assert engine.run_pass().ok
    expire_sessions(sandbox.admin)

    report = engine.run_pass()

    assert "no username/password is configured" in report.failed["salesforce"]
    assert _logins(sandbox) == 0


@pytest.mark.parametrize(
    ("domain", "instance_url", "expected"),
    [
        (None, "https://acme.my.salesforce.com", "https://acme.my.salesforce.com/services/oauth2/token"),
        ("test", "https://acme.my.salesforce.com", "https://test.salesforce.com/services/oauth2/token"),
        ("https://127.0.0.1:8443/", None, "https://127.0.0.1:8443/services/oauth2/token"),
        (None, None, "https://login.salesforce.com/services/oauth2/token"),
    ],
)
def test_the_token_endpoint_follows_the_configured_domain_or_instance(
    domain: str | None, instance_url: str | None, expected: str
) -> None:
    config = SalesforceConfig(domain=domain, instance_url=instance_url)

    assert token_url(config) == expected
