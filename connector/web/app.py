"""The daemon's starlette app: webhooks, the routing API, health, metrics and the OpenAPI document.

The app gets its own SQLite connection, used only on the server's event-loop thread (webhook storage, health
and metrics reads); routing goes through the daemon's routing connection under its lock, on a worker thread.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connector import metrics
from connector.db import connect
from connector.logs import get_logger
from connector.web import webhooks
from connector.web.health import healthz, metrics_endpoint, readyz
from connector.web.route_api import ApiError, KeyBuckets, read_capped, route_endpoint

if TYPE_CHECKING:
    from connector.daemon.loop import Daemon

log = get_logger("leadrelay.web")
# A source checkout has docs/openapi.yaml; the container image copies it under the venv's share/ directory.
OPENAPI_PATHS = (
    Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml",
    Path(sys.prefix) / "share" / "leadrelay" / "openapi.yaml",
)


def create_app(daemon: Daemon) -> Starlette:
    """The HTTP app serving ``daemon``: routes per the daemon config (disabled endpoints answer 404)."""
    settings = daemon.loaded.config.daemon
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
    if settings.webhooks.enabled:
        routes.append(Route("/webhooks/hubspot", hubspot_webhook, methods=["POST"]))
    if settings.route_api.enabled:
        routes.append(Route("/v1/route", route_endpoint, methods=["POST"]))
    app = Starlette(routes=routes)
    app.state.daemon = daemon
    app.state.db = connect(daemon.loaded.config.database)
    app.state.buckets = KeyBuckets()
    return app


async def hubspot_webhook(request: Request) -> Response:
    """POST /webhooks/hubspot: verify, store durably, wake the loop, then answer 200."""
    daemon: Daemon = request.app.state.daemon
    settings = daemon.loaded.config.daemon
    try:
        body = await read_capped(request, settings.webhooks.max_body_bytes)
    except ApiError as exc:
        metrics.WEBHOOKS.labels(outcome="too_large").inc()
        log.warning("webhook_rejected", reason="too_large", status=413)
        return JSONResponse(exc.body, status_code=413)
    signature = request.headers.get("x-hubspot-signature-v3")
    timestamp = request.headers.get("x-hubspot-request-timestamp")
    try:
        secret = settings.webhooks.client_secret
        if secret is None or not secret.get_secret_value():  # config validation forbids it; never verify with ""
            raise webhooks.WebhookRejected("no_secret", 401, "webhook verification is not configured")
        webhooks.verify(
            secret.get_secret_value(),
            method=request.method,
            uri=public_uri(request, settings.public_base_url),
            body=body,
            signature=signature,
            timestamp=timestamp,
            max_age_s=settings.webhooks.max_age_s,
        )
        events = webhooks.parse_events(body)
        assert signature is not None and timestamp is not None
        new = webhooks.store(request.app.state.db, signature, timestamp, events)
    except webhooks.WebhookRejected as exc:
        metrics.WEBHOOKS.labels(outcome=exc.reason).inc()
        log.warning("webhook_rejected", reason=exc.reason, status=exc.status, message=exc.message)
        return JSONResponse({"error": exc.reason, "message": exc.message}, status_code=exc.status or 400)
    metrics.WEBHOOKS.labels(outcome="accepted").inc()
    metrics.WEBHOOK_EVENTS.labels(result="new").inc(new)
    metrics.WEBHOOK_EVENTS.labels(result="duplicate").inc(len(events) - new)
    if new:
        daemon.wake()
    return JSONResponse({"accepted": len(events), "new": new})


def public_uri(request: Request, base_url: str | None) -> str:
    """The URI HubSpot signed: the configured public base URL plus path and query, else the request's own URL."""
    if base_url is None:
        return str(request.url)
    query = request.url.query
    return f"{base_url}{request.url.path}" + (f"?{query}" if query else "")


async def openapi(request: Request) -> Response:
    """docs/openapi.yaml as JSON."""
    for path in OPENAPI_PATHS:
        if path.is_file():
            spec = yaml.safe_load(path.read_text(encoding="utf-8"))
            return Response(json.dumps(spec), media_type="application/json")
    return JSONResponse({"error": "the OpenAPI document is not installed"}, status_code=404)
