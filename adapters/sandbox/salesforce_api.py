"""The sandbox's Salesforce REST API: routes under ``/services/``, close enough for the unmodified simple-salesforce.

``salesforce_routes(ctx)`` is what the app mounts. The app's gate applies the daily API budget, the
``Sforce-Limit-Info`` header and injected faults before these routes run; the routes check the bearer token,
answer, and turn every refusal into Salesforce's error list ``[{"message","errorCode","fields"}]``.

Resources (any API version ``vXX.X``): ``query/``, ``queryAll/`` and their ``nextRecordsUrl`` pages;
``sobjects/`` (global describe), ``sobjects/{T}/`` (info, create), ``sobjects/{T}/describe/``,
``sobjects/{T}/updated/``, ``sobjects/{T}/deleted/``, ``sobjects/{T}/{id}`` (GET/PATCH/DELETE),
``sobjects/{T}/{ExtField}/{value}`` (GET/upsert); ``composite/sobjects`` (POST/PATCH/DELETE, GET by type);
``limits/``; plus ``GET /services/data/`` (versions) and ``POST /services/oauth2/token``.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from adapters.sandbox import salesforce_composite as composite
from adapters.sandbox import salesforce_sobjects as sobjects
from adapters.sandbox.context import SandboxContext
from adapters.sandbox.salesforce_query import batch_size, more_results, run_query
from adapters.sandbox.salesforce_records import SalesforceApiError
from adapters.sandbox.shapes import json_response, salesforce_error
from adapters.sandbox.soql import SoqlError
from connector.logs import get_logger

log = get_logger("sandbox.salesforce")

Handler = Callable[[SandboxContext, Request], Awaitable[Response]]
_VERSION = re.compile(r"^\d{2,3}\.\d$")
# Versions the sandbox lists; it answers any vXX.X path the same way.
VERSIONS = (("Spring '23", "57.0"), ("Summer '23", "58.0"), ("Winter '24", "59.0"), ("Spring '24", "60.0"))
DATA = "/services/data/v{version}"


def salesforce_routes(ctx: SandboxContext) -> list[BaseRoute]:
    """Every Salesforce route, bound to ``ctx``; more specific paths come first."""
    table: list[tuple[str, Handler, list[str], bool]] = [
        ("/services/data/", versions, ["GET"], False),
        ("/services/oauth2/token", oauth_token, ["POST"], False),
        (f"{DATA}/", resources, ["GET"], True),
        (f"{DATA}/limits/", limits, ["GET"], True),
        (f"{DATA}/query/", query, ["GET"], True),
        (f"{DATA}/queryAll/", query_all, ["GET"], True),
        (f"{DATA}/query/{{locator}}", query_more, ["GET"], True),
        (f"{DATA}/queryAll/{{locator}}", query_more, ["GET"], True),
        (f"{DATA}/sobjects/", sobjects.describe_global, ["GET"], True),
        (f"{DATA}/composite/sobjects", _composite, ["POST", "PATCH", "DELETE"], True),
        (f"{DATA}/composite/sobjects/{{sobject}}", composite.read_collection, ["GET"], True),
        (f"{DATA}/sobjects/{{sobject}}/describe/", sobjects.describe_sobject, ["GET"], True),
        (f"{DATA}/sobjects/{{sobject}}/updated/", sobjects.updated_ids, ["GET"], True),
        (f"{DATA}/sobjects/{{sobject}}/deleted/", sobjects.deleted_records, ["GET"], True),
        (f"{DATA}/sobjects/{{sobject}}/", _sobject_root, ["GET", "POST"], True),
        (f"{DATA}/sobjects/{{sobject}}/{{record_id}}", _record, ["GET", "PATCH", "DELETE"], True),
        (f"{DATA}/sobjects/{{sobject}}/{{field}}/{{value:path}}", _external, ["GET", "PATCH"], True),
    ]
    routes: list[BaseRoute] = []
    for path, handler, methods, authed in table:
        endpoint = _endpoint(ctx, handler, authed=authed)
        routes.append(Route(path, endpoint, methods=methods))
        if path.endswith("/") and path.count("/") > 2:  # simple-salesforce asks for some without the slash
            routes.append(Route(path.rstrip("/"), endpoint, methods=methods))
    # Anything else under /services/ answers like Salesforce (a JSON NOT_FOUND), not with a plain-text 404.
    routes.append(Route("/services/{rest:path}", _endpoint(ctx, _not_found, authed=True), methods=_ALL_METHODS))
    return routes


_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]


def _endpoint(ctx: SandboxContext, handler: Handler, *, authed: bool) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler: check the bearer token and the API version, map refusals to Salesforce's error list.

    Endpoints are ``async`` on purpose: the store is used from the server's event-loop thread only.
    """

    async def endpoint(request: Request) -> Response:
        try:
            if authed:
                _check_session(request)
            version = request.path_params.get("version")
            if version is not None and not _VERSION.match(version):
                raise SalesforceApiError(404, "The requested resource does not exist", "NOT_FOUND")
            return await handler(ctx, request)
        except SoqlError as exc:
            return salesforce_error(400, exc.message, exc.error_code)
        except SalesforceApiError as exc:
            return json_response(exc.body(), exc.status or 400)

    return endpoint


def _check_session(request: Request) -> None:
    """Any non-empty ``Bearer``/``OAuth`` token is a valid session in the sandbox."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() not in ("bearer", "oauth") or not token.strip():
        raise SalesforceApiError(401, "Session expired or invalid", "INVALID_SESSION_ID")


async def _not_found(_ctx: SandboxContext, _request: Request) -> Response:
    raise SalesforceApiError(404, "The requested resource does not exist", "NOT_FOUND")


# -- dispatch by method -------------------------------------------------------------------------------------
async def _composite(ctx: SandboxContext, request: Request) -> Response:
    handlers = {
        "POST": composite.create_collection,
        "PATCH": composite.update_collection,
        "DELETE": composite.delete_collection,
    }
    return await handlers[request.method](ctx, request)


async def _sobject_root(ctx: SandboxContext, request: Request) -> Response:
    if request.method == "POST":
        return await sobjects.create_record(ctx, request)
    return await sobjects.sobject_info(ctx, request)


async def _record(ctx: SandboxContext, request: Request) -> Response:
    handlers = {"GET": sobjects.get_record, "PATCH": sobjects.update_record, "DELETE": sobjects.delete_record}
    return await handlers[request.method](ctx, request)


async def _external(ctx: SandboxContext, request: Request) -> Response:
    if request.method == "PATCH":
        return await sobjects.upsert_record(ctx, request)
    return await sobjects.get_by_external_id(ctx, request)


# -- query ----------------------------------------------------------------------------------------------------
async def query(ctx: SandboxContext, request: Request) -> Response:
    """``GET query/?q=SOQL``: live records only."""
    return _run(ctx, request, include_deleted=False)


async def query_all(ctx: SandboxContext, request: Request) -> Response:
    """``GET queryAll/?q=SOQL``: deleted records too, with ``IsDeleted`` true."""
    return _run(ctx, request, include_deleted=True)


def _run(ctx: SandboxContext, request: Request, *, include_deleted: bool) -> Response:
    soql = request.query_params.get("q")
    if not soql:
        raise SalesforceApiError(400, "A query string has to be specified", "MALFORMED_QUERY")
    batch = batch_size(request.headers.get("sforce-query-options"))
    version = request.path_params["version"]
    return json_response(run_query(ctx, soql, include_deleted=include_deleted, batch=batch, version=version))


async def query_more(ctx: SandboxContext, request: Request) -> Response:
    """``GET query/01g...-2000``: the next page of a query."""
    return json_response(more_results(ctx, request.path_params["locator"], request.path_params["version"]))


# -- org-level resources --------------------------------------------------------------------------------------
async def versions(_ctx: SandboxContext, _request: Request) -> Response:
    """``GET /services/data/``: the API versions listed (any vXX.X is answered)."""
    return json_response([{"label": label, "url": f"/services/data/v{v}", "version": v} for label, v in VERSIONS])


async def resources(_ctx: SandboxContext, request: Request) -> Response:
    """``GET /services/data/vXX.X/``: the resources this version offers."""
    base = f"/services/data/v{request.path_params['version']}"
    names = ("sobjects", "query", "queryAll", "limits", "composite")
    return json_response({name: f"{base}/{name}" for name in names})


async def limits(ctx: SandboxContext, _request: Request) -> Response:
    """``GET limits/``: the daily API budget from the sandbox's limits; other limits are static, plausible values."""
    daily = ctx.limits.settings.salesforce_daily
    used = ctx.limits.salesforce_daily_used
    body: dict[str, Any] = {
        "DailyApiRequests": {"Max": daily, "Remaining": max(0, daily - used)},
        "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
        "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
        "DataStorageMB": {"Max": 1024, "Remaining": 1024},
        "SingleEmail": {"Max": 5000, "Remaining": 5000},
    }
    return json_response(body)


async def oauth_token(ctx: SandboxContext, request: Request) -> Response:
    """``POST /services/oauth2/token`` (password or client_credentials grant): any credentials get a token."""
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    grant = form.get("grant_type", "")
    if grant not in ("password", "client_credentials", "refresh_token"):
        return json_response({"error": "unsupported_grant_type", "error_description": "grant type not supported"}, 400)
    if not form.get("client_id") and grant != "client_credentials":
        return json_response({"error": "invalid_client_id", "error_description": "client identifier invalid"}, 400)
    token = "00D000000000001!" + secrets.token_urlsafe(24)
    issued = str(ctx.clock.now_ms())
    signature = base64.b64encode(hashlib.sha256((token + issued).encode()).digest()).decode()
    instance = f"{request.url.scheme}://{request.url.netloc}"
    log.info("salesforce_token_issued", grant=grant)  # never the token itself
    body = {
        "access_token": token,
        "instance_url": instance,
        "id": f"{instance}/id/00D000000000001AAA/005000000000001AAA",
        "token_type": "Bearer",
        "issued_at": issued,
        "signature": signature,
    }
    return json_response(body)
