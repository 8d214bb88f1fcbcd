"""Salesforce sessions from an OAuth refresh token: no password stored, sessions obtained and renewed with the token.

Against the sandbox's token endpoint over TLS; a refused refresh (Salesforce's ``invalid_grant`` when the token was
revoked or expired) is a fatal ``AuthError`` that names the reason and never the token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
import responses
import sqlite_utils
from pydantic import SecretStr, ValidationError

from adapters.salesforce import SalesforceReader
from adapters.salesforce.client import log_in
from adapters.salesforce.errors import HeaderRecordingSession
from adapters.sandbox.runner import SandboxServer
from adapters.sandbox.salesforce_sessions import expire_sessions
from connector.config import load_config
from connector.config.crm import SalesforceConfig
from connector.errors import AuthError
from connector.sync.engine import SyncEngine

from .world import cached_salesforce_leads, salesforce_config, seed_salesforce_leads, store_records

REFRESH_TOKEN = "5Aep861TSESvWeug_refresh-token-value"
REFRESH_LOGIN: dict[str, Any] = {
    "access_token": None,
    "refresh_token": SecretStr(REFRESH_TOKEN),
    "consumer_key": "leadrelay-connected-app",
    "consumer_secret": SecretStr("app-secret"),
}


class _FormRecordingSession(HeaderRecordingSession):
    """The reader's session (trusting the sandbox CA) that remembers the forms it posted to the token endpoint."""

    def __init__(self, ca_path: str) -> None:
        super().__init__()
        self.verify, self.trust_env = ca_path, False
        self.forms: list[dict[str, str]] = []

    def post(self, url: str | bytes, data: Any = None, json: Any = None, **kwargs: Any) -> requests.Response:
        self.forms.append(dict(data or {}))
        return super().post(url, data=data, json=json, **kwargs)


def test_a_refresh_token_logs_in_syncs_and_renews_an_expired_session(
    sandbox: SandboxServer, cache: sqlite_utils.Database
) -> None:
    seed_salesforce_leads(sandbox, 0, 25)
    session = _FormRecordingSession(str(sandbox.ca_path))
    engine = SyncEngine(cache, [SalesforceReader(salesforce_config(sandbox, **REFRESH_LOGIN), session=session)])
    assert engine.run_pass().ok
    expire_sessions(sandbox.admin)
    seed_salesforce_leads(sandbox, 25, 15)

    report = engine.run_pass()

    assert report.ok, report.failed
    assert cached_salesforce_leads(cache) == set(store_records(sandbox, "salesforce.Lead"))
    assert session.forms == 2 * [
        {
            "grant_type": "refresh_token",
            "client_id": "leadrelay-connected-app",
            "refresh_token": REFRESH_TOKEN,
            "client_secret": "app-secret",
        }
    ]  # the first login, then one renewal; never a password


def test_the_client_secret_is_left_out_when_the_connected_app_does_not_need_it(sandbox: SandboxServer) -> None:
    session = _FormRecordingSession(str(sandbox.ca_path))
    config = salesforce_config(sandbox, **{**REFRESH_LOGIN, "consumer_secret": None})

    session_id, instance_url = log_in(config, session)

    assert session_id and instance_url == sandbox.salesforce_url
    assert "client_secret" not in session.forms[0]


@responses.activate
def test_a_revoked_refresh_token_is_refused_with_the_reason_and_without_the_token() -> None:
    config = SalesforceConfig(instance_url="https://acme.my.salesforce.com", **REFRESH_LOGIN)
    responses.post(
        "https://acme.my.salesforce.com/services/oauth2/token",
        json={"error": "invalid_grant", "error_description": "expired access/refresh token"},
        status=400,
    )

    with pytest.raises(AuthError) as refused:
        log_in(config, requests.Session())

    assert "invalid_grant: expired access/refresh token" in refused.value.message
    assert REFRESH_TOKEN not in str(refused.value) and "app-secret" not in str(refused.value)


@pytest.mark.parametrize(
    ("fields", "accepted"),
    [
        ({"refresh_token": "tok", "consumer_key": "app"}, True),
        ({"refresh_token": "tok", "consumer_key": "app", "consumer_secret": "s"}, True),
        ({"refresh_token": "tok"}, False),  # a refresh token belongs to a connected app
        ({"consumer_key": "app", "consumer_secret": "s"}, False),  # an app alone is no credential
    ],
)
def test_a_refresh_token_with_its_connected_app_is_enough_to_enable_salesforce(
    fields: dict[str, str], accepted: bool
) -> None:
    values = {"enabled": True, "instance_url": "https://acme.my.salesforce.com", **fields}

    if accepted:
        SalesforceConfig(**values)  # type: ignore[arg-type]
    else:
        with pytest.raises(ValidationError, match=r"consumer_key|refresh_token"):
            SalesforceConfig(**values)  # type: ignore[arg-type]


def test_the_refresh_token_comes_from_a_secret_file_and_stays_secret(tmp_path: Path) -> None:
    (tmp_path / "sf_refresh").write_text(REFRESH_TOKEN + "\n")
    config_file = tmp_path / "leadrelay.yaml"
    config_file.write_text(
        "crms:\n"
        "  salesforce:\n"
        "    enabled: true\n"
        "    instance_url: https://acme.my.salesforce.com\n"
        "    consumer_key: ${SF_CONSUMER_KEY}\n"
        "    consumer_secret: ${SF_CONSUMER_SECRET}\n"
        f"    refresh_token: ${{file:{tmp_path / 'sf_refresh'}}}\n"
    )

    loaded = load_config(config_file, environ={"SF_CONSUMER_KEY": "app", "SF_CONSUMER_SECRET": "s3cret"}).config
    salesforce = loaded.crms.salesforce

    assert salesforce.refresh_token is not None
    assert salesforce.refresh_token.get_secret_value() == REFRESH_TOKEN
    assert REFRESH_TOKEN not in repr(loaded)
