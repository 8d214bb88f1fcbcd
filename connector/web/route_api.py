"""``POST /v1/route``: route one lead through the same cascade as the loop and answer with owner and reasons.

Authenticated by an API key (``Authorization: Bearer KEY`` or ``X-Api-Key: KEY``, compared in constant time),
rate-limited per key (429 with Retry-After), body-capped (413), validated (422 with field errors). A lead that
names a CRM record (``crm`` + ``record_id``) is routed as that record and the decision is written back through the
outbox; a lead without one is decided and recorded only.
"""

from __future__ import annotations

import hmac
import math
import threading
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from connector import metrics, normalize
from connector.cache import queries
from connector.config.daemon import RouteApiConfig
from connector.logs import get_logger
from connector.models import Lead, record_id
from connector.normalize import optional
from connector.routing.explain import explain

if TYPE_CHECKING:
    from connector.daemon.loop import Daemon
    from connector.routing.model import Decision

log = get_logger("leadrelay.web.route_api")
_OBJECTS = {"hubspot": ("contacts",), "salesforce": ("Lead", "Contact")}


class LeadIn(BaseModel):
    """The lead as a form backend posts it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: str | None = Field(default=None, max_length=320)
    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    company: str | None = Field(default=None, max_length=300)
    title: str | None = Field(default=None, max_length=300)
    phone: str | None = Field(default=None, max_length=64)
    country: str | None = Field(default=None, max_length=100)
    state: str | None = Field(default=None, max_length=64)
    postal_code: str | None = Field(default=None, max_length=32)
    city: str | None = Field(default=None, max_length=128)
    website: str | None = Field(default=None, max_length=500)
    employees: int | None = Field(default=None, ge=0)
    industry: str | None = Field(default=None, max_length=128)
    source: str | None = Field(default=None, max_length=64)
    language: str | None = Field(default=None, max_length=16)
    products: list[str] = Field(default_factory=list, max_length=50)
    crm: Literal["hubspot", "salesforce"] | None = None
    object: str | None = Field(default=None, description="contacts (HubSpot), Lead or Contact (Salesforce).")
    record_id: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9]+$")

    @model_validator(mode="after")
    def _consistent(self) -> LeadIn:
        if not (self.email or self.company):
            raise ValueError("give at least an email or a company")
        if (self.crm is None) != (self.record_id is None):
            raise ValueError("crm and record_id go together")
        if self.crm and self.object and self.object not in _OBJECTS[self.crm]:
            raise ValueError(f"object for {self.crm} must be one of {', '.join(_OBJECTS[self.crm])}")
        return self


class KeyBuckets:
    """A token bucket per API key: ``burst`` at once, then ``rate`` per second."""

    def __init__(self) -> None:
        self._buckets: dict[int, tuple[float, float]] = {}  # key index -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: int, rate: float, burst: int, *, now: float | None = None) -> float:
        """0 when a request may proceed (a token is spent), else seconds until the next token."""
        at = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (float(burst), at))
            tokens = min(float(burst), tokens + (at - last) * rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, at)
                return 0.0
            self._buckets[key] = (tokens, at)
            return (1 - tokens) / rate


@dataclass(frozen=True)
class ApiError(Exception):
    """An answer other than 200, with its JSON body and headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] | None = None


def authenticate(request: Request, settings: RouteApiConfig) -> int:
    """The index of the configured key the request carries; raises ApiError 401 otherwise."""
    header = request.headers.get("authorization", "")
    presented = header[7:].strip() if header.lower().startswith("bearer ") else request.headers.get("x-api-key", "")
    found = -1
    for index, key in enumerate(settings.api_keys):  # compare with every key: timing says nothing about which
        if presented and hmac.compare_digest(presented.encode(), key.get_secret_value().encode()):
            found = index
    if found < 0:
        raise ApiError(401, {"error": "unauthorized", "message": "missing or unknown API key"})
    return found


async def read_capped(request: Request, limit: int) -> bytes:
    """The body, or ApiError 413 when it (or its declared length) exceeds ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, {"error": "too_large", "message": f"the body exceeds {limit} bytes"})
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, {"error": "too_large", "message": f"the body exceeds {limit} bytes"})
    return body


def parse_lead(body: bytes) -> LeadIn:
    """The validated lead; raises ApiError 422 listing each field error."""
    try:
        return LeadIn.model_validate_json(body)
    except ValidationError as exc:
        errors = [{"field": ".".join(str(p) for p in e["loc"]) or "(body)", "message": e["msg"]} for e in exc.errors()]
        raise ApiError(422, {"error": "invalid_lead", "errors": errors}) from None


def to_lead(data: LeadIn, cached: Lead | None) -> Lead:
    """The domain lead: the cached CRM record when there is one (what the CRM holds wins), else the posted fields."""
    if cached is not None:
        return cached
    crm: str
    if data.crm and data.record_id:
        obj = data.object or _OBJECTS[data.crm][0]
        crm, native = data.crm, data.record_id
    else:
        crm, obj, native = "api", "api", uuid.uuid4().hex
    # A value we cannot use is dropped and the lead routed on the rest, as a bad CRM field would be.
    email = optional(normalize.email, data.email)
    country = optional(normalize.country_code, data.country)
    return Lead(
        id=record_id(crm, obj, native),
        crm=crm,
        native_id=native,
        object=obj,
        email=email,
        email_domain=optional(normalize.registered_domain, email),
        first_name=optional(normalize.person_name, data.first_name),
        last_name=optional(normalize.person_name, data.last_name),
        company=optional(normalize.clean_text, data.company),
        title=optional(normalize.clean_text, data.title),
        phone=optional(lambda v: normalize.phone_e164(v, country), data.phone),
        country=country,
        state=data.state,
        postal_code=data.postal_code,
        city=data.city,
        employees=data.employees,
        industry=data.industry,
        source=data.source,
        language=data.language,
        products=tuple(data.products),
        created_ms=int(time.time() * 1000),
        properties={"website": data.website} if data.website else {},
    )


def route(daemon: Daemon, data: LeadIn) -> dict[str, Any]:
    """Route the lead under the daemon's routing lock and describe the outcome (runs on a worker thread)."""
    db = daemon.route_db
    with daemon.route_lock:
        cached = None
        if data.crm and data.record_id:
            obj = data.object or _OBJECTS[data.crm][0]
            cached = queries.person_by_id(db, record_id(data.crm, obj, data.record_id))
        lead = to_lead(data, cached)
        result = daemon.route_lead(lead, write_back=lead.crm != "api")
        if result.decisions:
            return describe(daemon, result.decisions[0], lead, status="routed")
        row = db.conn.execute(
            "SELECT status, reason, decision_id FROM pipeline_leads WHERE lead_id = ?", (lead.id,)
        ).fetchone()
    if row is None:
        return {"lead_id": lead.id, "status": "not_routed", "reasons": ["the lead does not wait for routing"]}
    return {"lead_id": lead.id, "status": "already_handled" if row[0] == "routed" else row[0], "reasons": [row[1]]}


def describe(daemon: Daemon, decision: Decision, lead: Lead, *, status: str) -> dict[str, Any]:
    """The decision as the API answers it: owner (with booking link), route, reasons, config version."""
    reps = {r.email: r for r in daemon.loaded.config.routing.reps}
    primary = decision.assignments[0]
    rep = reps.get(decision.owner)
    return {
        "lead_id": lead.id,
        "status": status,
        "owner": {
            "key": decision.owner,
            "name": rep.display_name if rep else decision.owner,
            "email": rep.email if rep else None,
            "booking_link": rep.booking_link if rep else None,
        },
        "secondary_owner": decision.secondary_owner,
        "step": primary.step,
        "rule": primary.rule,
        "pool": primary.pool,
        "route": decision.route,
        "final_fallback": decision.final_fallback,
        "config_version": decision.config_version,
        "write_back": lead.crm != "api",
        "reasons": [line for line in explain(decision) if line.strip()],
    }


async def route_endpoint(request: Request) -> JSONResponse:
    """POST /v1/route."""
    daemon: Daemon = request.app.state.daemon
    settings = daemon.loaded.config.daemon.route_api
    try:
        key = authenticate(request, settings)
        wait = request.app.state.buckets.take(key, settings.requests_per_second, settings.burst)
        if wait > 0:
            metrics.RATE_LIMITED.labels(source="route_api").inc()
            raise ApiError(429, {"error": "rate_limited"}, {"Retry-After": str(max(1, math.ceil(wait)))})
        data = parse_lead(await read_capped(request, settings.max_body_bytes))
        answer = await run_in_threadpool(route, daemon, data)
    except ApiError as exc:
        metrics.ROUTE_API.labels(status=str(exc.status)).inc()
        return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)
    except Exception as exc:  # answer, never drop the connection; the lead is not recorded as routed
        log.error("route_api_failed", error=type(exc).__name__, message=str(exc)[:500])
        metrics.ROUTE_API.labels(status="500").inc()
        return JSONResponse({"error": "internal", "message": "routing failed; see the daemon log"}, status_code=500)
    metrics.ROUTE_API.labels(status="200").inc()
    return JSONResponse(answer)
