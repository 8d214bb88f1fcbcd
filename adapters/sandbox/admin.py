"""The sandbox's admin surface under ``/_sandbox/`` (plain JSON, never limited or faulted) and its Python client.

POST /_sandbox/reset            {"keep_limits": false, "keep_faults": false}
POST /_sandbox/seed             JSON Lines body                      -> {"counts": {kind: n}}
GET  /_sandbox/stats            requests per endpoint/status, limit counters, faults, store counts
GET  /_sandbox/requests?limit=N the last N requests (method, path, status, latency)
GET|PUT /_sandbox/faults        {"spec": "5xx=0.1,...", "seed": 0}
GET|PUT /_sandbox/limits        {"profile": "starter", ...overrides}
GET|POST /_sandbox/clock        {"action": "freeze"|"advance"|"unfreeze", "at_ms": ..., "ms": ...}
GET|PUT /_sandbox/webhooks      {"url": ..., "secret": ..., "properties": [...]}
POST /_sandbox/world/{action}   touch, change_owner, deactivate_user, create_lead (see world.py)
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import requests
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from adapters.sandbox import world
from adapters.sandbox.context import SandboxContext
from adapters.sandbox.limits import LimitSettings, resolve_profile
from adapters.sandbox.seed import iter_jsonl_lines, load_seed
from adapters.sandbox.shapes import json_response
from adapters.sandbox.webhooks import WebhookSender

PREFIX = "/_sandbox"
Handler = Callable[[Request], Awaitable[Response]]


class AdminError(Exception):
    """A bad admin request; answered as ``{"error": message}`` with ``status``."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _guarded(handler: Handler) -> Handler:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except (AdminError, world.WorldError) as exc:
            return json_response({"error": str(exc)}, exc.status)
        except (ValueError, TypeError, KeyError) as exc:
            return json_response({"error": f"{type(exc).__name__}: {exc}"}, 400)

    return endpoint


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    body = json.loads(raw)
    if not isinstance(body, dict):
        raise AdminError("expected a JSON object")
    return body


def admin_routes(ctx: SandboxContext) -> list[BaseRoute]:
    """Routes of the admin surface over ``ctx``."""

    async def health(_request: Request) -> Response:
        return json_response({"status": "ok"})

    async def reset(request: Request) -> Response:
        body = await _json(request)
        ctx.reset(keep_limits=bool(body.get("keep_limits")), keep_faults=bool(body.get("keep_faults")))
        return json_response({"status": "reset"})

    async def seed(request: Request) -> Response:
        text = (await request.body()).decode("utf-8")
        counts = load_seed(ctx.store, iter_jsonl_lines(text.splitlines()))
        return json_response({"counts": counts})

    async def stats(_request: Request) -> Response:
        webhooks = ctx.webhooks.describe() if ctx.webhooks is not None else None
        body = {
            "requests": ctx.traffic.snapshot(),
            "limits": ctx.limits.snapshot(),
            "faults": ctx.faults.snapshot(),
            "store": ctx.store.kinds(),
            "clock_ms": ctx.clock.now_ms(),
            "webhooks": webhooks,
        }
        return json_response(body)

    async def recent(request: Request) -> Response:
        limit = int(request.query_params.get("limit", "100"))
        return json_response({"requests": ctx.traffic.latest(limit)})

    async def faults(request: Request) -> Response:
        if request.method == "PUT":
            body = await _json(request)
            seed_value = body.get("seed")
            ctx.faults.configure(body.get("spec") or "", seed=int(seed_value) if seed_value is not None else None)
        return json_response(ctx.faults.snapshot())

    async def limits(request: Request) -> Response:
        if request.method == "PUT":
            ctx.limits.configure(_limit_settings(await _json(request)))
            ctx.limits.reset()  # a new profile starts with fresh counters, so tests see exact numbers
        return json_response({"settings": asdict(ctx.limits.settings), "counters": ctx.limits.snapshot()})

    async def clock(request: Request) -> Response:
        if request.method == "POST":
            _clock_action(ctx, await _json(request))
        return json_response({"now_ms": ctx.clock.now_ms()})

    async def webhooks(request: Request) -> Response:
        if request.method == "PUT":
            body = await _json(request)
            if ctx.webhooks is None:
                ctx.webhooks = WebhookSender(ctx)
            ctx.webhooks.configure(body.get("url"), body.get("secret") or "", body.get("properties"))
            ctx.webhooks.start()
        return json_response(ctx.webhooks.describe() if ctx.webhooks else {"url": None})

    async def world_action(request: Request) -> Response:
        action = request.path_params["action"]
        body = await _json(request)
        return json_response(_play(ctx, action, body))

    table: list[tuple[str, Handler, list[str]]] = [
        ("/health", health, ["GET"]),
        ("/reset", reset, ["POST"]),
        ("/seed", seed, ["POST"]),
        ("/stats", stats, ["GET"]),
        ("/requests", recent, ["GET"]),
        ("/faults", faults, ["GET", "PUT"]),
        ("/limits", limits, ["GET", "PUT"]),
        ("/clock", clock, ["GET", "POST"]),
        ("/webhooks", webhooks, ["GET", "PUT"]),
        ("/world/{action}", world_action, ["POST"]),
    ]
    return [Route(PREFIX + path, _guarded(handler), methods=methods) for path, handler, methods in table]


def _limit_settings(body: dict[str, Any]) -> LimitSettings:
    base = resolve_profile(body.get("profile"))
    known = {f.name for f in fields(LimitSettings)} - {"name"}
    overrides = {k: v for k, v in body.items() if k != "profile"}
    unknown = set(overrides) - known
    if unknown:
        raise AdminError(f"unknown limit settings: {', '.join(sorted(unknown))}")
    return base.with_overrides(**overrides)


def _clock_action(ctx: SandboxContext, body: dict[str, Any]) -> None:
    action = body.get("action")
    if action == "freeze":
        ctx.clock.freeze(body.get("at_ms"))
    elif action == "advance":
        ctx.clock.advance(int(body["ms"]))
    elif action == "unfreeze":
        ctx.clock.unfreeze()
    else:
        raise AdminError("clock action must be freeze, advance or unfreeze")


def _play(ctx: SandboxContext, action: str, body: dict[str, Any]) -> dict[str, Any]:
    crm = body.get("crm", "hubspot")
    if action == "touch":
        return world.touch(
            ctx, crm, str(body["id"]), owner_id=body.get("owner_id"), activity=body.get("activity", "task")
        )
    if action == "change_owner":
        object_type = body.get("object_type", "contacts")
        return world.change_owner(ctx, crm, str(body["id"]), str(body["owner_id"]), object_type=object_type)
    if action == "deactivate_user":
        return world.deactivate_user(ctx, crm, str(body["id"]))
    if action == "create_lead":
        return world.create_lead(ctx, crm, dict(body.get("properties") or {}))
    raise AdminError(f"unknown world action {action!r}", 404)


class SandboxAdmin:
    """Python client of the admin surface (requests-based, one keep-alive session)."""

    def __init__(self, base_url: str, *, timeout_s: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/") + PREFIX
        self.timeout_s = timeout_s
        self.session = requests.Session()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.session.request(method, self.base_url + path, timeout=self.timeout_s, **kwargs)
        if response.status_code >= 400:
            raise AdminError(f"{method} {path}: {response.status_code} {response.text}", response.status_code)
        return response.json()

    def health(self) -> dict[str, Any]:
        """``{"status": "ok"}`` when the sandbox answers."""
        return dict(self._call("GET", "/health"))

    def reset(self, *, keep_limits: bool = False, keep_faults: bool = False) -> None:
        """Empty the store and counters; limits and faults return to the start-up ones unless kept."""
        self._call("POST", "/reset", json={"keep_limits": keep_limits, "keep_faults": keep_faults})

    def seed(self, records: Iterable[dict[str, Any]] | str | Path) -> dict[str, int]:
        """Load seed records (dicts, or a JSONL file path); returns counts per kind."""
        if isinstance(records, str | Path):
            body = Path(records).read_bytes()
        else:
            body = "\n".join(json.dumps(record) for record in records).encode()
        return dict(self._call("POST", "/seed", data=body, headers={"Content-Type": "application/x-ndjson"})["counts"])

    def stats(self) -> dict[str, Any]:
        """Requests per endpoint and status, limit counters, faults injected, store counts."""
        return dict(self._call("GET", "/stats"))

    def requests(self, limit: int = 100) -> list[dict[str, Any]]:
        """The last ``limit`` CRM requests served."""
        return list(self._call("GET", "/requests", params={"limit": limit})["requests"])

    def get_faults(self) -> dict[str, Any]:
        """The fault spec, seed and injected counts."""
        return dict(self._call("GET", "/faults"))

    def set_faults(self, spec: str, *, seed: int | None = None) -> dict[str, Any]:
        """Install a fault spec (empty: none); reseeds when ``seed`` is given."""
        return dict(self._call("PUT", "/faults", json={"spec": spec, "seed": seed}))

    def get_limits(self) -> dict[str, Any]:
        """The limit settings and counters."""
        return dict(self._call("GET", "/limits"))

    def set_limits(self, profile: str, **overrides: Any) -> dict[str, Any]:
        """Switch to a limits profile (``off`` disables them) with optional overrides; counters restart."""
        return dict(self._call("PUT", "/limits", json={"profile": profile, **overrides}))

    def clock(self) -> int:
        """The sandbox's current time in epoch ms."""
        return int(self._call("GET", "/clock")["now_ms"])

    def freeze_clock(self, at_ms: int | None = None) -> int:
        """Stop the sandbox clock (at ``at_ms`` or now)."""
        return int(self._call("POST", "/clock", json={"action": "freeze", "at_ms": at_ms})["now_ms"])

    def advance_clock(self, ms: int) -> int:
        """Move the sandbox clock forward."""
        return int(self._call("POST", "/clock", json={"action": "advance", "ms": ms})["now_ms"])

    def unfreeze_clock(self) -> int:
        """Let the sandbox clock run again."""
        return int(self._call("POST", "/clock", json={"action": "unfreeze"})["now_ms"])

    def set_webhooks(
        self, url: str | None, secret: str = "", properties: Iterable[str] | None = None
    ) -> dict[str, Any]:
        """Send contact webhooks to ``url`` signed with ``secret`` (None: stop); ``properties`` limits changes sent."""
        body = {"url": url, "secret": secret, "properties": list(properties or [])}
        return dict(self._call("PUT", "/webhooks", json=body))

    def webhooks(self) -> dict[str, Any]:
        """The webhook target (without the secret) and delivery counters."""
        return dict(self._call("GET", "/webhooks"))

    def touch(self, crm: str, record_id: str, *, owner_id: str | None = None, activity: str = "task") -> dict[str, Any]:
        """A rep's first activity on a lead/contact; returns the task (or call) created."""
        body = {"crm": crm, "id": record_id, "owner_id": owner_id, "activity": activity}
        return dict(self._call("POST", "/world/touch", json=body))

    def change_owner(self, crm: str, record_id: str, owner_id: str, *, object_type: str = "contacts") -> dict[str, Any]:
        """A human reassigns the record in the CRM's UI; returns the updated record."""
        body = {"crm": crm, "id": record_id, "owner_id": owner_id, "object_type": object_type}
        return dict(self._call("POST", "/world/change_owner", json=body))

    def deactivate_user(self, crm: str, user_id: str) -> dict[str, Any]:
        """Archive a HubSpot owner / deactivate a Salesforce User; returns the record."""
        return dict(self._call("POST", "/world/deactivate_user", json={"crm": crm, "id": user_id}))

    def create_lead(self, crm: str, properties: dict[str, Any]) -> dict[str, Any]:
        """A new inbound contact/Lead as a form would create it; returns the record."""
        return dict(self._call("POST", "/world/create_lead", json={"crm": crm, "properties": properties}))
