"""HubSpot record writes: lookups by id or unique property, creates with associations, updates, batch variants.

HubSpot's rules kept here: a contact email is unique (a duplicate create is a 409 naming the existing id), a record
can be addressed by ``idProperty=email`` (contacts) or ``domain`` (companies), and batch operations report the
inputs that failed in ``errors`` while applying the rest (the caller answers 207).
"""

from __future__ import annotations

from typing import Any

from adapters.sandbox.context import SandboxContext
from adapters.sandbox.hubspot_common import HubSpotError, clean_properties
from adapters.sandbox.hubspot_model import ASSOCIATION_TYPES, inverse_type, kind_of, public_object
from adapters.sandbox.store import Association, StoredObject

UNIQUE_PROPERTIES = {"contacts": "email", "companies": "domain"}  # idProperty values HubSpot accepts by type


class HubSpotWriter:
    """Lookups and writes against the store with HubSpot's semantics."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.store = ctx.store

    # -- lookups ----------------------------------------------------------------------------------
    def lookup(
        self, type_name: str, key: str, id_property: str | None, *, archived: bool = False
    ) -> StoredObject | None:
        """The record with id ``key`` (or with ``id_property`` = key); archived ones only when ``archived``."""
        kind = kind_of(type_name)
        if id_property in (None, "", "hs_object_id"):
            obj = self.store.get(kind, key, include_archived=archived)
            return obj if obj is None or obj.archived == archived else None
        if id_property != UNIQUE_PROPERTIES.get(type_name):
            raise HubSpotError(400, f"Property {id_property} is not a unique identifier for {type_name}")
        return self.by_unique(type_name, id_property, key, archived=archived)

    def by_unique(self, type_name: str, prop: str, value: str, *, archived: bool = False) -> StoredObject | None:
        """The record whose unique property equals ``value`` case-insensitively (uses the lower() index)."""
        rows = self.store.select(
            kind_of(type_name),
            where=f"lower(json_extract(props, '$.\"{prop}\"')) = ?",
            params=(value.strip().lower(),),
            limit=1,
            archived=archived,
        )
        return rows[0] if rows else None

    def _conflict(self, type_name: str, props: dict[str, Any], own_id: str | None = None) -> StoredObject | None:
        if type_name != "contacts" or not props.get("email"):
            return None
        existing = self.by_unique("contacts", "email", str(props["email"]))
        return existing if existing is not None and existing.id != own_id else None

    # -- single writes ----------------------------------------------------------------------------
    def create(self, type_name: str, props: dict[str, Any], associations: list[Any]) -> StoredObject:
        """Create a record (409 on a duplicate contact email) and the associations given with it."""
        existing = self._conflict(type_name, props)
        if existing is not None:
            raise HubSpotError(409, f"Contact already exists. Existing ID: {existing.id}", "CONFLICT")
        links = self._parse_associations(type_name, associations)
        obj = self.store.create(kind_of(type_name), {k: v for k, v in props.items() if v is not None})
        self._link(obj, links)
        return obj

    def update(self, type_name: str, obj: StoredObject, props: dict[str, Any]) -> StoredObject:
        """Merge property changes into a live record (409 when a contact's new email is taken)."""
        existing = self._conflict(type_name, props, own_id=obj.id)
        if existing is not None:
            raise HubSpotError(409, f"A contact with the email already exists. Existing ID: {existing.id}", "CONFLICT")
        return self.store.update(obj.kind, obj.id, props)

    def _parse_associations(self, type_name: str, raw: list[Any]) -> list[tuple[str, str, int, str]]:
        """(to kind, to id, type id, category) for each association of a create body; 400 on unknown types."""
        links = []
        for item in raw:
            to_id = str(((item or {}).get("to") or {}).get("id", ""))
            for spec in (item or {}).get("types") or []:
                type_id = int(spec.get("associationTypeId", 0))
                category = spec.get("associationCategory", "HUBSPOT_DEFINED")
                entry = ASSOCIATION_TYPES.get(type_id)
                if entry is None or entry[0] != type_name:
                    raise HubSpotError(400, f"association type {type_id} is not valid from {type_name}")
                to_kind = kind_of(entry[1])
                if self.store.get(to_kind, to_id) is None:
                    raise HubSpotError(400, f"association target {entry[1]} {to_id} does not exist")
                links.append((to_kind, to_id, type_id, category))
        return links

    def _link(self, obj: StoredObject, links: list[tuple[str, str, int, str]]) -> None:
        rows = []
        for to_kind, to_id, type_id, category in links:
            rows.append(Association(obj.kind, obj.id, to_kind, to_id, type_id, category))
            rows.append(Association(to_kind, to_id, obj.kind, obj.id, inverse_type(type_id), category))
        if rows:
            self.store.associate(rows)

    # -- batch writes -----------------------------------------------------------------------------
    def batch_create(
        self, type_name: str, inputs: list[dict[str, Any]], read_only: set[str]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Create each input; failures are reported per input, the others still happen."""
        results, errors = [], []
        for index, item in enumerate(inputs):
            try:
                props = clean_properties(item.get("properties"), read_only)
                obj = self.create(type_name, props, item.get("associations") or [])
            except HubSpotError as exc:
                errors.append(_batch_error(exc, {"index": [str(index)]}))
                continue
            results.append(public_object(type_name, obj, None))
        return results, errors

    def batch_update(
        self, type_name: str, inputs: list[dict[str, Any]], read_only: set[str]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Update each input by id (or ``idProperty``); missing records are reported, the rest updated."""
        results, errors = [], []
        for item in inputs:
            key = str(item.get("id", ""))
            try:
                obj = self.lookup(type_name, key, item.get("idProperty"))
                if obj is None:
                    raise HubSpotError(404, f"Object {key} not found", "OBJECT_NOT_FOUND")
                updated = self.update(type_name, obj, clean_properties(item.get("properties"), read_only))
            except HubSpotError as exc:
                errors.append(_batch_error(exc, {"ids": [key]}))
                continue
            results.append(public_object(type_name, updated, None))
        return results, errors

    def batch_upsert(
        self, type_name: str, inputs: list[dict[str, Any]], read_only: set[str]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Create or update each input keyed by ``idProperty`` (e.g. email); results carry ``new``."""
        results, errors = [], []
        for item in inputs:
            key = str(item.get("id", ""))
            id_property = item.get("idProperty") or UNIQUE_PROPERTIES.get(type_name)
            try:
                props = clean_properties(item.get("properties"), read_only)
                obj = self.lookup(type_name, key, id_property)
                if obj is None:
                    if id_property and id_property != "hs_object_id":
                        props.setdefault(id_property, key)
                    obj, new = self.create(type_name, props, []), True
                else:
                    obj, new = self.update(type_name, obj, props), False
            except HubSpotError as exc:
                errors.append(_batch_error(exc, {"ids": [key]}))
                continue
            results.append({**public_object(type_name, obj, None), "new": new})
        return results, errors


def _batch_error(exc: HubSpotError, context: dict[str, list[str]]) -> dict[str, Any]:
    return {"status": "error", "category": exc.category, "message": exc.message, "context": context}
