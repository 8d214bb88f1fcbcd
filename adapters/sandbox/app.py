"""The sandbox's ASGI application: HubSpot, Salesforce and admin routes behind one gate.

The gate (``SandboxGate``, a plain ASGI middleware: cheaper than Starlette's BaseHTTPMiddleware) decides for every
CRM call, in this order: injected latency, injected connection reset, the CRM's rate limits, injected error
answers; then it lets the route answer, adds the limit headers, and records the request. Admin paths
(``/_sandbox/``) are never limited, faulted or logged, so tests can always inspect and steer the sandbox.
"""

from __future__ import annotations

import asyncio
import importlib
import re
import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.sandbox.context import SandboxContext
from adapters.sandbox.faults import Fault
from adapters.sandbox.limits import LimitDecision
from adapters.sandbox.shapes import hubspot_error, hubspot_rate_limited, salesforce_error
from adapters.sandbox.traffic import ServedRequest
from connector.logs import get_logger

log = get_logger("sandbox.app")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ABORT_EXTENSION = "leadrelay.abort"  # set by server.SandboxHttpProtocol: drops the TCP connection
_ID_SEGMENT = re.compile(r"/(?!v\d+\.\d+(?:/|$))[^/]*\d[^/]*")


def side_of(path: str) -> str | None:
    """Which CRM a path belongs to: ``hubspot``, ``salesforce``, or None (admin and anything else)."""
    if path.startswith("/crm/"):
        return "hubspot"
    if path.startswith("/services/"):
        return "salesforce"
    return None


def endpoint_label(method: str, path: str) -> str:
    """A stable label for stats when no route matched: id-like segments become ``{id}``."""
    return f"{method} {_ID_SEGMENT.sub('/{id}', path)}"


class SandboxGate:
    """Applies faults and rate limits to CRM calls and records every answered request."""

    def __init__(self, app: ASGIApp, ctx: SandboxContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        side = side_of(scope["path"]) if scope["type"] == "http" else None
        if side is None:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = scope["method"]
        fault = self.ctx.faults.draw(side, write=method in WRITE_METHODS)
        if fault.delay_s:
            await asyncio.sleep(fault.delay_s)
        if fault.kind == "reset" and await _abort(scope):
            self._record(scope, side, 0, started, "reset")
            return
        status = await self._answer(scope, receive, send, side, fault)
        self._record(scope, side, status, started, fault.kind)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, side: str, fault: Fault) -> int:
        if side == "hubspot" and not _has_credentials(scope):
            return await _send(
                hubspot_error(401, "Authentication credentials not found.", "INVALID_AUTHENTICATION"),
                scope,
                receive,
                send,
            )
        decision = self._check_limits(scope, side)
        refusal = _limit_refusal(side, decision) if not decision.allowed else _fault_answer(side, fault, scope)
        if refusal is not None:
            return await _send(refusal, scope, receive, send)
        return await self._forward(scope, receive, send, decision)

    def _check_limits(self, scope: Scope, side: str) -> LimitDecision:
        if side == "hubspot":
            return self.ctx.limits.check_hubspot(search=scope["path"].endswith("/search"))
        return self.ctx.limits.check_salesforce()

    async def _forward(self, scope: Scope, receive: Receive, send: Send, decision: LimitDecision) -> int:
        status = 500
        extra = [(name.lower().encode(), value.encode()) for name, value in decision.headers]

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if extra:
                    message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
        return status

    def _record(self, scope: Scope, side: str, status: int, started: float, fault: str | None) -> None:
        route = scope.get("route")
        path = scope["path"]
        method = scope["method"]
        label = (
            f"{method} {route.path}" if route is not None and hasattr(route, "path") else endpoint_label(method, path)
        )
        elapsed = (time.perf_counter() - started) * 1000
        self.ctx.traffic.record(
            ServedRequest(self.ctx.clock.now_ms(), side, method, path, label, status, round(elapsed, 3), fault)
        )


def _has_credentials(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"authorization" and len(value) > 7:
            return True
    return b"hapikey=" in scope.get("query_string", b"")


async def _send(response: Response, scope: Scope, receive: Receive, send: Send) -> int:
    await response(scope, receive, send)
    return response.status_code


async def _abort(scope: Scope) -> bool:
    """Drop the client's connection without an answer; False when the server cannot (then a 502 stands in)."""
    abort: Callable[[], None] | None = scope.get("extensions", {}).get(ABORT_EXTENSION)
    if abort is None:
        return False
    abort()
    await asyncio.sleep(0)  # let the transport report the loss so uvicorn does not try to answer
    return True


def _limit_refusal(side: str, decision: LimitDecision) -> Response:
    if side == "hubspot":
        return hubspot_rate_limited(decision.policy or "TEN_SECONDLY_ROLLING", decision.retry_after_s, decision.headers)
    return salesforce_error(403, "TotalRequests Limit exceeded.", "REQUEST_LIMIT_EXCEEDED", headers=decision.headers)


def _fault_answer(side: str, fault: Fault, scope: Scope) -> Response | None:
    if fault.kind in ("5xx", "reset"):  # a reset the server could not perform degrades to a 502
        return _server_error(side, fault.status or 502)
    if fault.kind == "429":
        return _injected_rate_limit(side, scope)
    if fault.kind == "lock":
        return salesforce_error(400, "unable to obtain exclusive access to this record", "UNABLE_TO_LOCK_ROW")
    return None


def _server_error(side: str, status: int) -> Response:
    if side == "hubspot":
        return hubspot_error(status, "An internal error occurred (injected fault).", "INTERNAL_ERROR")
    return salesforce_error(status, "Service temporarily unavailable (injected fault).", "SERVER_UNAVAILABLE")


def _injected_rate_limit(side: str, scope: Scope) -> Response:
    if side == "hubspot":
        search = scope["path"].endswith("/search")
        return hubspot_rate_limited("SECONDLY" if search else "TEN_SECONDLY_ROLLING", 1)
    return salesforce_error(
        429, "Too many requests (injected fault).", "REQUEST_LIMIT_EXCEEDED", headers=[("Retry-After", "1")]
    )


def _optional_routes(module: str, factory: str, ctx: SandboxContext) -> list[BaseRoute]:
    """Routes from a module that may not exist yet (the Salesforce side is written separately)."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        log.warning("sandbox_routes_missing", module=module)
        return []
    routes: list[BaseRoute] = getattr(mod, factory)(ctx)
    return routes


def create_app(ctx: SandboxContext) -> Starlette:
    """The whole sandbox as one ASGI app (the same app serves the HTTP and the HTTPS listener)."""
    from adapters.sandbox.admin import admin_routes
    from adapters.sandbox.hubspot_api import hubspot_routes
    from adapters.sandbox.salesforce_sessions import SessionExpiry

    # Starlette tries routes in order: the hot HubSpot paths first, the admin surface last.
    routes: list[Any] = [
        *hubspot_routes(ctx),
        *_optional_routes("adapters.sandbox.salesforce_api", "salesforce_routes", ctx),
        *admin_routes(ctx),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(SessionExpiry, ctx=ctx)  # inside the gate: refusals are limited, faulted and logged like calls
    app.add_middleware(SandboxGate, ctx=ctx)
    app.state.ctx = ctx
    return app
