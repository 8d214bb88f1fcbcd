"""``/healthz`` (the process answers), ``/readyz`` (it can do its job) and ``/metrics`` (Prometheus).

Ready means: every enabled CRM has synced at least once and successfully within ``readiness.crm_silence_s``, and the
oldest outbox item that is due has waited less than ``readiness.outbox_stuck_s``. Each check is in the answer.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from connector import metrics
from connector.daemon import heartbeat

if TYPE_CHECKING:
    import sqlite_utils

    from connector.config.root import LeadrelayConfig


async def healthz(request: Request) -> JSONResponse:
    """200 while the process serves HTTP (the container's HEALTHCHECK)."""
    return JSONResponse({"status": "ok"})


def readiness(db: sqlite_utils.Database, config: LeadrelayConfig, *, now: float | None = None) -> dict[str, Any]:
    """Each readiness check with its verdict and detail, and ``ready`` when all pass."""
    at = time.time() if now is None else now
    settings = config.daemon.readiness
    statuses = heartbeat.crm_status(db)
    checks: dict[str, Any] = {}
    for crm in config.crms.enabled:
        status = statuses.get(crm)
        last_ok = status.last_ok_at if status else None
        fresh = last_ok is not None and at - last_ok <= settings.crm_silence_s
        checks[f"crm:{crm}"] = {
            "ok": fresh,
            "last_ok_age_s": None if last_ok is None else round(at - last_ok, 1),
            "last_error": status.last_error if status else None,
        }
    depth, oldest = metrics.outbox_backlog(db, now=at)
    checks["outbox"] = {"ok": oldest < settings.outbox_stuck_s, "pending": depth, "oldest_due_age_s": round(oldest, 1)}
    return {"ready": all(c["ok"] for c in checks.values()), "checks": checks}


async def readyz(request: Request) -> JSONResponse:
    """200 with the checks when ready, 503 with the failing ones otherwise."""
    answer = readiness(request.app.state.db, request.app.state.daemon.loaded.config)
    return JSONResponse(answer, status_code=200 if answer["ready"] else 503)


async def metrics_endpoint(request: Request) -> Response:
    """The Prometheus exposition, with stored-state gauges refreshed first."""
    metrics.refresh_state(request.app.state.db)
    return Response(metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8")
