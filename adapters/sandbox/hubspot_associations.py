"""HubSpot associations v4: single and default creates, reads per record, and the batch read/create/archive.

Every association is stored twice, once per direction with that direction's type id (task→contact 204,
contact→task 203), so reads from either side are one indexed lookup.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from adapters.sandbox.context import SandboxContext
from adapters.sandbox.hubspot_common import HubSpotError, batch_inputs, json_body, now_iso, path_type
from adapters.sandbox.hubspot_model import (
    ASSOCIATION_TYPES,
    OBJECT_TYPE_IDS,
    association_label,
    default_type,
    inverse_type,
    kind_of,
)
from adapters.sandbox.shapes import json_response
from adapters.sandbox.store import Association


def _numeric(value: str) -> int | str:
    return int(value) if value.isdigit() else value


class AssociationRoutes:
    """Routes of ``/crm/v4/objects/...`` and ``/crm/v4/associations/...``."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.store = ctx.store

    def routes(self) -> list[BaseRoute]:
        one = "/crm/v4/objects/{from_type}/{from_id}/associations"
        batch = "/crm/v4/associations/{from_type}/{to_type}/batch"
        return [
            Route(one + "/default/{to_type}/{to_id}", self._wrap(self.create_default), methods=["PUT"]),
            Route(one + "/{to_type}/{to_id}", self._wrap(self.create_labelled), methods=["PUT"]),
            Route(one + "/{to_type}/{to_id}", self._wrap(self.archive_one), methods=["DELETE"]),
            Route(one + "/{to_type}", self._wrap(self.list_for_record), methods=["GET"]),
            Route(batch + "/read", self._wrap(self.batch_read), methods=["POST"]),
            Route(batch + "/create", self._wrap(self.batch_create), methods=["POST"]),
            Route(batch + "/associate/default", self._wrap(self.batch_default), methods=["POST"]),
            Route(batch + "/archive", self._wrap(self.batch_archive), methods=["POST"]),
        ]

    @staticmethod
    def _wrap(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                response: Response = await handler(request)
            except HubSpotError as exc:
                return exc.response()
            return response

        return endpoint

    # -- helpers ----------------------------------------------------------------------------------
    def _require(self, type_name: str, oid: str) -> None:
        if self.store.get(kind_of(type_name), oid) is None:
            raise HubSpotError(404, f"{type_name} {oid} not found", "OBJECT_NOT_FOUND", context={"id": [oid]})

    def _store_pair(self, from_type: str, from_id: str, to_type: str, to_id: str, types: list[tuple[int, str]]) -> None:
        rows = []
        for type_id, category in types:
            rows.append(Association(kind_of(from_type), from_id, kind_of(to_type), to_id, type_id, category))
            back = inverse_type(type_id) if category == "HUBSPOT_DEFINED" else type_id
            rows.append(Association(kind_of(to_type), to_id, kind_of(from_type), from_id, back, category))
        self.store.associate(rows)

    def _types_from_specs(self, from_type: str, to_type: str, specs: Any) -> list[tuple[int, str]]:
        if not isinstance(specs, list) or not specs:
            raise HubSpotError(400, "Expected a list of association specs")
        types = []
        for spec in specs:
            type_id = int(spec.get("associationTypeId", 0))
            category = str(spec.get("associationCategory", "HUBSPOT_DEFINED"))
            entry = ASSOCIATION_TYPES.get(type_id)
            if category == "HUBSPOT_DEFINED" and (entry is None or entry[:2] != (from_type, to_type)):
                raise HubSpotError(400, f"association type {type_id} is not valid from {from_type} to {to_type}")
            types.append((type_id, category))
        return types

    def _default(self, from_type: str, to_type: str) -> int:
        type_id = default_type(from_type, to_type)
        if type_id is None:
            raise HubSpotError(400, f"No default association between {from_type} and {to_type}")
        return type_id

    def _labels_pair(self, from_type: str, from_id: str, to_type: str, to_id: str) -> dict[str, Any]:
        links = self.store.associations_of(kind_of(from_type), [from_id], kind_of(to_type)).get(from_id, [])
        labels = [association_label(a.type_id) or a.label for a in links if a.to_id == to_id]
        return {
            "fromObjectTypeId": OBJECT_TYPE_IDS[from_type],
            "fromObjectId": _numeric(from_id),
            "toObjectTypeId": OBJECT_TYPE_IDS[to_type],
            "toObjectId": _numeric(to_id),
            "labels": [label for label in labels if label],
        }

    def _batch_body(self, results: list[Any], errors: list[Any], started: int) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": now_iso(started),
            "completedAt": now_iso(self.ctx.clock.now_ms()),
        }
        if errors:
            body["errors"] = errors
            body["numErrors"] = len(errors)
        return body

    # -- single record ----------------------------------------------------------------------------
    async def create_default(self, request: Request) -> Response:
        from_type, to_type = path_type(request, "from_type"), path_type(request, "to_type")
        from_id, to_id = request.path_params["from_id"], request.path_params["to_id"]
        self._require(from_type, from_id)
        self._require(to_type, to_id)
        type_id = self._default(from_type, to_type)
        self._store_pair(from_type, from_id, to_type, to_id, [(type_id, "HUBSPOT_DEFINED")])
        started = self.ctx.clock.now_ms()
        result = {
            "from": {"id": from_id},
            "to": {"id": to_id},
            "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id},
        }
        return json_response(self._batch_body([result], [], started))

    async def create_labelled(self, request: Request) -> Response:
        from_type, to_type = path_type(request, "from_type"), path_type(request, "to_type")
        from_id, to_id = request.path_params["from_id"], request.path_params["to_id"]
        self._require(from_type, from_id)
        self._require(to_type, to_id)
        raw = await request.body()
        specs = _json_list(raw)
        self._store_pair(from_type, from_id, to_type, to_id, self._types_from_specs(from_type, to_type, specs))
        return json_response(self._labels_pair(from_type, from_id, to_type, to_id), 201)

    async def archive_one(self, request: Request) -> Response:
        from_type, to_type = path_type(request, "from_type"), path_type(request, "to_type")
        from_id, to_id = request.path_params["from_id"], request.path_params["to_id"]
        self.store.dissociate(kind_of(from_type), from_id, kind_of(to_type), to_id)
        self.store.dissociate(kind_of(to_type), to_id, kind_of(from_type), from_id)
        return Response(status_code=204)

    async def list_for_record(self, request: Request) -> Response:
        from_type, to_type = path_type(request, "from_type"), path_type(request, "to_type")
        from_id = request.path_params["from_id"]
        links = self.store.associations_of(kind_of(from_type), [from_id], kind_of(to_type)).get(from_id, [])
        return json_response({"results": _grouped(links)})

    # -- batch ------------------------------------------------------------------------------------
    async def batch_read(self, request: Request) -> Response:
        from_type, to_type = path_type(request, "from_type"), path_type(request, "to_type")
        inputs = batch_inputs(await json_body(request))
        started = self.ctx.clock.now_ms()
        ids = [str(item.get("id", "")) for item in inputs]
        found = self.store.associations_of(kind_of(from_type), ids, kind_of(to_type))
        results = [{"from": {"id": oid}, "to": _grouped(found[oid])} for oid in ids if oid in found]
        missing = [oid for oid in ids if oid not in found]
        errors = []
        if missing:
            errors.append(
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                    "message": f"No {to_type} is associated with {from_type} {', '.join(missing)}.",
                    "context": {"fromObjectId": missing},
                }
            )
        return json_response(self._batch_body(results, errors, started), 207 if errors else 200)

    async def batch_create(self, request: Request) -> Response:
        from_type, to_type = path_type(request, "from_type"), path_type(request, "to_type")
        inputs = batch_inputs(await json_body(request))
        started = self.ctx.clock.now_ms()
        results, errors = [], []
        for item in inputs:
            from_id = str((item.get("from") or {}).get("id", ""))
            to_id = str((item.get("to") or {}).get("id", ""))
            try:
                self._require(from_type, from_id)
                self._require(to_type, to_id)
                types = self._types_from_specs(from_type, to_type, item.get("types"))
            except HubSpotError as exc:
                errors.append({"status": "error", "category": exc.category, "message": exc.message, "context": {}})
                continue
            self._store_pair(from_type, from_id, to_type, to_id, types)
            results.append(self._labels_pair(from_type, from_id, to_type, to_id))
        return json_response(self._batch_body(results, errors, started), 207 if errors else 201)

    async def batch_default(self, request: Request) -> Response:
        from_type, to_type = path_type(request, "from_type"), path_type(request, "to_type")
        inputs = batch_inputs(await json_body(request))
        started = self.ctx.clock.now_ms()
        type_id = self._default(from_type, to_type)
        results = []
        for item in inputs:
            from_id = str((item.get("from") or {}).get("id", ""))
            to_id = str((item.get("to") or {}).get("id", ""))
            self._require(from_type, from_id)
            self._require(to_type, to_id)
            self._store_pair(from_type, from_id, to_type, to_id, [(type_id, "HUBSPOT_DEFINED")])
            spec = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}
            results.append({"from": {"id": from_id}, "to": {"id": to_id}, "associationSpec": spec})
        return json_response(self._batch_body(results, [], started))

    async def batch_archive(self, request: Request) -> Response:
        from_type, to_type = path_type(request, "from_type"), path_type(request, "to_type")
        for item in batch_inputs(await json_body(request)):
            from_id = str((item.get("from") or {}).get("id", ""))
            for target in item.get("to") or []:
                to_id = str(target.get("id", ""))
                self.store.dissociate(kind_of(from_type), from_id, kind_of(to_type), to_id)
                self.store.dissociate(kind_of(to_type), to_id, kind_of(from_type), from_id)
        return Response(status_code=204)


def _grouped(links: list[Association]) -> list[dict[str, Any]]:
    """Associations grouped by target, in v4's ``{"toObjectId", "associationTypes": [...]}`` shape."""
    by_target: dict[str, list[dict[str, Any]]] = {}
    for link in links:
        label = association_label(link.type_id) if link.category == "HUBSPOT_DEFINED" else link.label
        by_target.setdefault(link.to_id, []).append({"category": link.category, "typeId": link.type_id, "label": label})
    return [{"toObjectId": _numeric(to_id), "associationTypes": types} for to_id, types in by_target.items()]


def _json_list(raw: bytes) -> list[Any]:
    import json

    try:
        body = json.loads(raw) if raw else []
    except json.JSONDecodeError:
        raise HubSpotError(400, "Invalid input JSON") from None
    if not isinstance(body, list):
        raise HubSpotError(400, "Expected a JSON list of association specs")
    return body


def association_routes(ctx: SandboxContext) -> list[BaseRoute]:
    """The v4 association routes over ``ctx``."""
    return AssociationRoutes(ctx).routes()
