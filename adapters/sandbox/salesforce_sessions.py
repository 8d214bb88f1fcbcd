"""An admin fault for the sandbox's Salesforce side: expire the sessions in use, as Salesforce does after a timeout.

Salesforce answers a call made with an expired session with 401 ``[{"errorCode": "INVALID_SESSION_ID"}]``; a
client must log in again (OAuth token endpoint or SOAP login) and retry. The rest of the sandbox accepts any
bearer token, so this middleware sits in front of the Salesforce routes and refuses the tokens it was told to:

POST /_sandbox/salesforce/sessions  {"action": "expire"}                  every token seen so far is refused from now
                                    {"action": "expire", "new_too": true}  ...and so is every later one, new logins too
                                    {"action": "restore"}                  every token works again
GET  /_sandbox/salesforce/sessions  {"expired": n, "new_too": bool}

Tokens are remembered as SHA-256 digests (the sandbox never needs them back). A sandbox reset forgets all of it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.sandbox.context import SandboxContext
from adapters.sandbox.shapes import json_response, salesforce_error

if TYPE_CHECKING:
    from adapters.sandbox.admin import SandboxAdmin

_ADMIN_PREFIX, _ADMIN_SUFFIX = "/_sandbox", "/salesforce/sessions"
ADMIN_PATH = _ADMIN_PREFIX + _ADMIN_SUFFIX
_STATE_KEY = "salesforce_sessions"
# The token endpoint and the versions list take no session; everything else under /services/ does.
_OPEN_PATHS = ("/services/oauth2/", "/services/data/", "/services/data")


@dataclass
class SessionState:
    """Which session tokens the sandbox refuses."""

    seen: set[str] = field(default_factory=set)
    expired: set[str] = field(default_factory=set)
    new_too: bool = False

    def refuses(self, digest: str) -> bool:
        """Whether a call with this token gets INVALID_SESSION_ID."""
        return self.new_too or digest in self.expired


class SessionExpiry:
    """ASGI middleware: answers the admin path above and refuses Salesforce calls made with expired sessions."""

    def __init__(self, app: ASGIApp, ctx: SandboxContext) -> None:
        self.app = app
        self.ctx = ctx

    @property
    def state(self) -> SessionState:
        """This sandbox's session state (kept in the context's scratch state, so a reset clears it)."""
        state = self.ctx.state.get(_STATE_KEY)
        if not isinstance(state, SessionState):
            state = self.ctx.state[_STATE_KEY] = SessionState()
        return state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path == ADMIN_PATH:
            await self._admin(scope, receive, send)
            return
        if path.startswith("/services/") and not _open(path):
            digest = _token_digest(scope)
            if digest is not None:
                self.state.seen.add(digest)
                if self.state.refuses(digest):
                    refusal = salesforce_error(401, "Session expired or invalid", "INVALID_SESSION_ID")
                    await refusal(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _admin(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        state = self.state
        if request.method == "POST":
            raw = await request.body()
            body = json.loads(raw) if raw.strip() else {}
            action = body.get("action") if isinstance(body, dict) else None
            if action == "expire":
                state.expired |= state.seen
                state.new_too = bool(body.get("new_too"))
            elif action == "restore":
                state.expired.clear()
                state.new_too = False
            else:
                await json_response({"error": "action must be expire or restore"}, 400)(scope, receive, send)
                return
        await json_response({"expired": len(state.expired), "new_too": state.new_too})(scope, receive, send)


def _open(path: str) -> bool:
    return path.startswith(_OPEN_PATHS[0]) or path in _OPEN_PATHS[1:]


def _token_digest(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            _scheme, _, token = value.decode("latin-1").partition(" ")
            return hashlib.sha256(token.strip().encode()).hexdigest() if token.strip() else None
    return None


def expire_sessions(admin: SandboxAdmin, *, new_too: bool = False) -> dict[str, Any]:
    """Expire every Salesforce session the sandbox has seen (and, with ``new_too``, every later one as well)."""
    return _post(admin, {"action": "expire", "new_too": new_too})


def restore_sessions(admin: SandboxAdmin) -> dict[str, Any]:
    """Accept every Salesforce session again."""
    return _post(admin, {"action": "restore"})


def _post(admin: SandboxAdmin, body: dict[str, Any]) -> dict[str, Any]:
    # SandboxAdmin.base_url already ends with the admin prefix.
    response = admin.session.post(admin.base_url + _ADMIN_SUFFIX, json=body, timeout=admin.timeout_s)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result
