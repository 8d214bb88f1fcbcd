"""HubSpot CRM v3 routes: objects (basic and batch), owners and properties; search and v4 associations live in
their own modules and are mounted here.

Shapes follow HubSpot's (ids as strings, ``properties`` as strings, ISO timestamps with ms, ``paging.next.after``,
``{"status":"error",...}`` errors) closely enough that the unmodified hubspot-api-client deserializes them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from adapters.sandbox.context import SandboxContext
from adapters.sandbox.hubspot_common import (
    HubSpotError,
    batch_inputs,
    bool_param,
    clean_properties,
    int_param,
    json_body,
    multi_param,
    not_found,
    now_iso,
    path_type,
)
from adapters.sandbox.hubspot_model import (
    PROPERTY_DEFS,
    association_type_name,
    created_property,
    kind_of,
    modified_property,
    object_type,
    property_payload,
    public_object,
    stored_fields,
)
from adapters.sandbox.hubspot_writes import HubSpotWriter
from adapters.sandbox.shapes import hubspot_error, iso_ms, json_response
from adapters.sandbox.store import StoredObject

PAGE_MAX = 100
Handler = Callable[[Request], Awaitable[Response]]


def hubspot_errors(handler: Handler) -> Handler:
    """Render ``HubSpotError`` raised by a handler as HubSpot's error answer."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except HubSpotError as exc:
            return exc.response()

    return endpoint


def read_only_properties(type_name: str) -> set[str]:
    """Properties derived from the store's columns, which writes cannot set."""
    return {"hs_object_id", created_property(type_name), modified_property(type_name)}


class ObjectRoutes:
    """``/crm/v3/objects/{type}``: list, get, create, update, archive and the batch operations."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.writer = HubSpotWriter(ctx)

    def routes(self) -> list[BaseRoute]:
        base = "/crm/v3/objects/{object_type}"
        return [
            Route(base + "/{object_id}", hubspot_errors(self.get), methods=["GET"]),
            Route(base, hubspot_errors(self.list_page), methods=["GET"]),
            Route(base, hubspot_errors(self.create), methods=["POST"]),
            Route(base + "/batch/{op}", hubspot_errors(self.batch), methods=["POST"]),
            Route(base + "/{object_id}", hubspot_errors(self.update), methods=["PATCH"]),
            Route(base + "/{object_id}", hubspot_errors(self.archive), methods=["DELETE"]),
        ]

    # -- single records ---------------------------------------------------------------------------
    async def list_page(self, request: Request) -> Response:
        type_name = path_type(request)
        limit = max(1, min(int_param(request, "limit", 10), PAGE_MAX))  # HubSpot clamps to 100
        after = request.query_params.get("after") or "0"
        if not after.isdigit():
            raise HubSpotError(400, f"Invalid after cursor: {after!r}")
        archived = bool_param(request, "archived")
        properties = multi_param(request, "properties")
        rows = self.store.select(
            kind_of(type_name),
            where="seq > ?",
            params=(int(after),),
            limit=limit + 1,
            archived=archived,
            fields=stored_fields(type_name, properties or None),
        )
        assoc_types = multi_param(request, "associations")
        results = [self._view(type_name, obj, properties, assoc_types) for obj in rows[:limit]]
        body: dict[str, Any] = {"results": results}
        if len(rows) > limit:
            cursor = str(rows[limit - 1].seq)
            link = f"{request.base_url}crm/v3/objects/{type_name}?limit={limit}&after={cursor}"
            body["paging"] = {"next": {"after": cursor, "link": link}}
        return json_response(body)

    async def get(self, request: Request) -> Response:
        type_name = path_type(request)
        properties = multi_param(request, "properties")
        obj = self._find(type_name, request, archived=bool_param(request, "archived"))
        view = self._view(type_name, obj, properties, multi_param(request, "associations"))
        return json_response(view)

    async def create(self, request: Request) -> Response:
        type_name = path_type(request)
        body = await json_body(request)
        props = clean_properties(body.get("properties"), read_only_properties(type_name))
        obj = self.writer.create(type_name, props, body.get("associations") or [])
        return json_response(public_object(type_name, obj, None), 201)

    async def update(self, request: Request) -> Response:
        type_name = path_type(request)
        obj = self._find(type_name, request)
        body = await json_body(request)
        props = clean_properties(body.get("properties"), read_only_properties(type_name))
        updated = self.writer.update(type_name, obj, props)
        return json_response(public_object(type_name, updated, None))

    async def archive(self, request: Request) -> Response:
        type_name = path_type(request)
        obj = self._find(type_name, request)
        self.store.archive(obj.kind, obj.id)
        return Response(status_code=204)

    def _find(self, type_name: str, request: Request, *, archived: bool = False) -> StoredObject:
        oid = request.path_params["object_id"]
        id_property = request.query_params.get("idProperty")
        obj = self.writer.lookup(type_name, oid, id_property, archived=archived)
        if obj is None:
            raise not_found(type_name, oid)
        return obj

    def _view(self, type_name: str, obj: StoredObject, properties: list[str], assoc_types: list[str]) -> dict[str, Any]:
        view = public_object(type_name, obj, properties or None)
        if assoc_types:
            view["associations"] = self._associations(type_name, obj, assoc_types)
        return view

    def _associations(self, type_name: str, obj: StoredObject, assoc_types: list[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for raw in assoc_types:
            to_type = object_type(raw)
            if to_type is None:
                continue
            links = self.store.associations_of(obj.kind, [obj.id], kind_of(to_type)).get(obj.id, [])
            if links:
                results = [{"id": a.to_id, "type": association_type_name(a.type_id)} for a in links]
                found[to_type] = {"results": results}
        return found

    # -- batch ------------------------------------------------------------------------------------
    async def batch(self, request: Request) -> Response:
        type_name = path_type(request)
        op = request.path_params["op"]
        body = await json_body(request)
        inputs = batch_inputs(body)
        started = self.ctx.clock.now_ms()
        if op == "read":
            results, errors = self._batch_read(type_name, inputs, body)
            return self._batch_answer(results, errors, started, 200)
        if op == "create":
            results, errors = self.writer.batch_create(type_name, inputs, read_only_properties(type_name))
            return self._batch_answer(results, errors, started, 201)
        if op == "update":
            results, errors = self.writer.batch_update(type_name, inputs, read_only_properties(type_name))
            return self._batch_answer(results, errors, started, 200)
        if op == "upsert":
            results, errors = self.writer.batch_upsert(type_name, inputs, read_only_properties(type_name))
            return self._batch_answer(results, errors, started, 200)
        if op == "archive":
            for item in inputs:
                obj = self.writer.lookup(type_name, str(item.get("id", "")), None)
                if obj is not None:
                    self.store.archive(obj.kind, obj.id)
            return Response(status_code=204)
        raise HubSpotError(404, f"Unknown batch operation {op!r}", "OBJECT_NOT_FOUND")

    def _batch_read(
        self, type_name: str, inputs: list[dict[str, Any]], body: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        id_property = body.get("idProperty")
        properties = [p for p in body.get("properties") or [] if isinstance(p, str)]
        archived = bool(body.get("archived"))
        results, missing = [], []
        for item in inputs:
            key = str(item.get("id", ""))
            obj = self.writer.lookup(type_name, key, id_property, archived=archived)
            if obj is None:
                missing.append(key)
            else:
                results.append(public_object(type_name, obj, properties or None))
        errors = []
        if missing:
            errors.append(
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": f"Could not get some {type_name.upper()} objects, they may be deleted or not exist.",
                    "context": {"ids": missing},
                }
            )
        return results, errors

    def _batch_answer(
        self, results: list[dict[str, Any]], errors: list[dict[str, Any]], started: int, ok_status: int
    ) -> Response:
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": now_iso(started),
            "completedAt": now_iso(self.ctx.clock.now_ms()),
        }
        if errors:
            body["errors"] = errors
            body["numErrors"] = len(errors)
            return json_response(body, 207)
        return json_response(body, ok_status)


class OwnerRoutes:
    """``/crm/v3/owners``: read-only owners (kind ``hubspot.owners``), paged, filterable by email."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.store = ctx.store

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/crm/v3/owners", hubspot_errors(self.list_page), methods=["GET"]),
            Route("/crm/v3/owners/", hubspot_errors(self.list_page), methods=["GET"]),
            Route("/crm/v3/owners/{owner_id}", hubspot_errors(self.get), methods=["GET"]),
        ]

    async def list_page(self, request: Request) -> Response:
        limit = max(1, min(int_param(request, "limit", 100), 500))
        after = request.query_params.get("after") or "0"
        if not after.isdigit():
            raise HubSpotError(400, f"Invalid after cursor: {after!r}")
        where = "seq > ?"
        params: list[Any] = [int(after)]
        email = request.query_params.get("email")
        if email:
            where += " AND lower(json_extract(props, '$.\"email\"')) = ?"
            params.append(email.strip().lower())
        rows = self.store.select(
            "hubspot.owners", where=where, params=params, limit=limit + 1, archived=bool_param(request, "archived")
        )
        body: dict[str, Any] = {"results": [owner_view(o) for o in rows[:limit]]}
        if len(rows) > limit:
            cursor = str(rows[limit - 1].seq)
            body["paging"] = {"next": {"after": cursor, "link": f"{request.base_url}crm/v3/owners/?after={cursor}"}}
        return json_response(body)

    async def get(self, request: Request) -> Response:
        key = request.path_params["owner_id"]
        archived = bool_param(request, "archived")
        if request.query_params.get("idProperty") == "userId":
            rows = self.store.select(
                "hubspot.owners",
                where="CAST(json_extract(props, '$.\"userId\"') AS TEXT) = ?",
                params=(key,),
                limit=1,
                archived=archived,
            )
            owner = rows[0] if rows else None
        else:
            owner = self.store.get("hubspot.owners", key, include_archived=archived)
            if owner is not None and owner.archived != archived:
                owner = None
        if owner is None:
            raise HubSpotError(404, f"Owner {key} not found", "OBJECT_NOT_FOUND")
        return json_response(owner_view(owner))


def owner_view(owner: StoredObject) -> dict[str, Any]:
    """An owner in HubSpot's ``PublicOwner`` shape."""
    p = owner.properties
    user_id = p.get("userId")
    view: dict[str, Any] = {
        "id": owner.id,
        "email": p.get("email"),
        "type": p.get("type", "PERSON"),
        "firstName": p.get("firstName", ""),
        "lastName": p.get("lastName", ""),
        "userId": int(user_id) if user_id is not None else None,
        "userIdIncludingInactive": int(user_id) if user_id is not None else None,
        "createdAt": iso_ms(owner.created_ms),
        "updatedAt": iso_ms(owner.updated_ms),
        "archived": owner.archived,
        "teams": [
            {"id": str(t.get("id")), "name": t.get("name", ""), "primary": bool(t.get("primary", False))}
            for t in p.get("teams") or []
        ],
    }
    return view


def property_routes() -> list[BaseRoute]:
    """``/crm/v3/properties/{type}``: the property definitions the sandbox knows (read-only)."""

    async def list_all(request: Request) -> Response:
        type_name = path_type(request)
        return json_response({"results": [property_payload(type_name, p) for p in PROPERTY_DEFS.get(type_name, [])]})

    async def get_one(request: Request) -> Response:
        type_name = path_type(request)
        name = request.path_params["name"]
        for prop in PROPERTY_DEFS.get(type_name, []):
            if prop.name == name:
                return json_response(property_payload(type_name, prop))
        raise HubSpotError(404, f"Unable to find property {name} on {type_name}", "OBJECT_NOT_FOUND")

    return [
        Route("/crm/v3/properties/{object_type}", hubspot_errors(list_all), methods=["GET"]),
        Route("/crm/v3/properties/{object_type}/{name}", hubspot_errors(get_one), methods=["GET"]),
    ]


def hubspot_routes(ctx: SandboxContext) -> list[BaseRoute]:
    """Every HubSpot route of the sandbox."""
    from adapters.sandbox.hubspot_associations import association_routes
    from adapters.sandbox.hubspot_search import search_routes

    async def unknown(request: Request) -> Response:
        # Starlette would answer a plain-text 404/405; HubSpot clients expect its JSON error shape.
        return hubspot_error(404, f"No route for {request.method} {request.url.path}", "OBJECT_NOT_FOUND")

    return [
        *ObjectRoutes(ctx).routes(),
        *search_routes(ctx),
        *association_routes(ctx),
        *OwnerRoutes(ctx).routes(),
        *property_routes(),
        Route("/crm/{rest:path}", unknown, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
    ]
