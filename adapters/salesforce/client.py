"""Building simple-salesforce and the pacing for one org from ``SalesforceConfig``, and logging in again.

Every client is built from a session id: a configured ``access_token``, or one from logging in. Logging in uses the
OAuth refresh-token grant when a ``refresh_token`` (issued to the connected app whose consumer key and secret are
configured) is set: no password is stored at all. Otherwise it uses the configured username and password: the
OAuth password grant when the connected app's consumer key and secret are configured, else the SOAP login.
simple-salesforce then never logs in by itself; when a session expires (401 ``INVALID_SESSION_ID``) the reader
calls ``renew_session`` once and retries, so the policy lives in one place.
"""

from __future__ import annotations

from typing import Any

import requests

from adapters.salesforce.errors import HeaderRecordingSession
from connector.config.crm import SalesforceConfig
from connector.errors import AuthError, TransportError
from connector.logs import get_logger
from connector.ratelimit import CrmLimiter, DailyBudget, SlidingWindow, unlimited

log = get_logger("adapters.salesforce")
LOGIN_HOST = "https://login.salesforce.com"


def build_session(config: SalesforceConfig) -> HeaderRecordingSession:
    """A session that keeps answer headers and trusts ``ca_bundle`` when one is configured (the sandbox's CA)."""
    session = HeaderRecordingSession()
    if config.ca_bundle is not None:
        session.verify = str(config.ca_bundle)
        # requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override session.verify; an explicit bundle must win.
        session.trust_env = False
    return session


def build_client(config: SalesforceConfig, session: HeaderRecordingSession) -> Any:
    """A ``simple_salesforce.Salesforce`` on the configured session id, or on a fresh login with the credentials."""
    from adapters.salesforce.answers import OrjsonSalesforce

    if config.access_token is not None:
        session_id, instance_url = _secret(config.access_token) or "", config.instance_url
    else:
        session_id, instance_url = log_in(config, session)
    return OrjsonSalesforce(
        instance_url=instance_url, session_id=session_id, session=session, version=config.api_version
    )


def can_log_in(config: SalesforceConfig) -> bool:
    """Whether the config holds credentials to get a new session (a bare access token does not)."""
    return _has_refresh_token(config) or bool(config.username and config.password)


def _has_refresh_token(config: SalesforceConfig) -> bool:
    return bool(_secret(config.refresh_token)) and bool(config.consumer_key)


def log_in(config: SalesforceConfig, session: requests.Session) -> tuple[str, str]:
    """A new session id and the instance URL it belongs to, from the refresh token or the username and password.

    Raises ``AuthError`` when Salesforce refuses the credentials, ``TransportError`` when it cannot be reached.
    """
    if not can_log_in(config):
        raise AuthError("salesforce: no username/password or refresh token configured to log in with", crm="salesforce")
    try:
        if _has_refresh_token(config):
            return _oauth_refresh_grant(config, session)
        if config.consumer_key and config.consumer_secret:
            return _oauth_password_grant(config, session)
        return _soap_login(config, session)
    except requests.RequestException as exc:
        raise TransportError(f"salesforce login unreachable: {type(exc).__name__}", crm="salesforce") from exc


def renew_session(sf: Any, config: SalesforceConfig, session: requests.Session) -> None:
    """Log in again and put the new session on ``sf`` in place (writers sharing the client get it too)."""
    session_id, instance_url = log_in(config, session)
    sf.session_id = session_id
    sf.headers = {**sf.headers, "Authorization": "Bearer " + session_id}
    log.info("salesforce_session_renewed", instance_url=instance_url)  # never the session id itself


def token_url(config: SalesforceConfig) -> str:
    """The OAuth token endpoint: ``domain`` as a URL or a login host name, else the instance (My Domain), else login."""
    domain = (config.domain or "").strip()
    if "://" in domain:
        base = domain
    elif domain:
        base = f"https://{domain}.salesforce.com"
    else:
        base = config.instance_url or LOGIN_HOST
    return base.rstrip("/") + "/services/oauth2/token"


def _oauth_password_grant(config: SalesforceConfig, session: requests.Session) -> tuple[str, str]:
    form = {
        "grant_type": "password",
        "client_id": config.consumer_key or "",
        "client_secret": _secret(config.consumer_secret) or "",
        "username": config.username or "",
        "password": (_secret(config.password) or "") + (_secret(config.security_token) or ""),
    }
    return _token_request(config, session, form, what="login")


def _oauth_refresh_grant(config: SalesforceConfig, session: requests.Session) -> tuple[str, str]:
    # The connected app may not require its secret for the refresh-token flow: send it only when configured.
    form = {
        "grant_type": "refresh_token",
        "client_id": config.consumer_key or "",
        "refresh_token": _secret(config.refresh_token) or "",
    }
    if config.consumer_secret is not None:
        form["client_secret"] = _secret(config.consumer_secret) or ""
    return _token_request(config, session, form, what="refresh-token login")


def _token_request(
    config: SalesforceConfig, session: requests.Session, form: dict[str, str], *, what: str
) -> tuple[str, str]:
    """POST ``form`` to the token endpoint: (access token, instance URL), or ``AuthError`` with Salesforce's reason
    (``invalid_grant: expired access/refresh token`` and the like; never a credential)."""
    response = session.post(token_url(config), data=form, timeout=config.request_timeout_s)
    body = _json_or_empty(response)
    if response.status_code != 200 or not body.get("access_token"):
        reason = f"{body.get('error') or response.status_code}: {body.get('error_description') or 'no access token'}"
        raise AuthError(f"salesforce {what} refused ({reason})", crm="salesforce", status=response.status_code)
    return str(body["access_token"]), str(body.get("instance_url") or config.instance_url or "")


def _soap_login(config: SalesforceConfig, session: requests.Session) -> tuple[str, str]:
    from simple_salesforce import SalesforceLogin
    from simple_salesforce.exceptions import SalesforceAuthenticationFailed

    try:
        session_id, instance = SalesforceLogin(
            username=config.username,
            password=_secret(config.password),
            security_token=_secret(config.security_token) or "",
            domain=config.domain,
            session=session,
            sf_version=config.api_version,
        )
    except SalesforceAuthenticationFailed as exc:
        raise AuthError(f"salesforce login refused ({exc.code}: {exc.message})", crm="salesforce") from exc
    return str(session_id), f"https://{instance}"


def _json_or_empty(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def build_limiter(config: SalesforceConfig) -> CrmLimiter:
    """The org's daily budget (limit learned from ``Sforce-Limit-Info``) and optional per-second pacing."""
    if not config.limits_enabled:
        return unlimited("salesforce")
    budget = DailyBudget("salesforce", config.daily_limit, config.daily_read_share)
    windows = {}
    if config.requests_per_second:
        windows["default"] = SlidingWindow(max(1, round(config.requests_per_second)), 1.0)
    return CrmLimiter("salesforce", budget, windows)
