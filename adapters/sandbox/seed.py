"""Load seed records (JSON Lines, or any iterable of dicts) into the store, streaming in constant memory.

One record per line: ``{"kind": "hubspot.contacts", "properties": {...}, "created_ms": 1700000000000,
"associations": [{"to_kind": "hubspot.companies", "to_id": "200000001", "type_id": 1}], "archived": false}``.
Records carry no ids: the n-th record of a kind seeded into an empty store gets ``store.id_for(kind, n)``, which
is how the generator writes references ahead. Consecutive records of one kind go to ``bulk_create`` together.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from adapters.sandbox.hubspot_model import inverse_type
from adapters.sandbox.store import Association, ObjectStore

SeedRecord = dict[str, Any]
BATCH = 5000  # records per transaction: large enough for speed, small enough to keep memory flat


def iter_jsonl(path: str | Path) -> Iterator[SeedRecord]:
    """Records of a JSON Lines file (``.gz`` is decompressed); blank lines are skipped."""
    path = Path(path)
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8") as packed:
            yield from iter_jsonl_lines(packed)
    else:
        with path.open(encoding="utf-8") as plain:
            yield from iter_jsonl_lines(plain)


def iter_jsonl_lines(lines: Iterable[str] | io.TextIOBase) -> Iterator[SeedRecord]:
    """Records from JSON Lines text; raises ValueError naming the bad line."""
    for number, line in enumerate(lines, 1):
        if line.strip():
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"seed line {number}: invalid JSON ({exc.msg})") from None


def load_seed(
    store: ObjectStore, source: Iterable[SeedRecord] | str | Path, *, batch_size: int = BATCH
) -> dict[str, int]:
    """Insert every record of ``source`` (records, or a JSONL path) with its associations; returns counts per kind.

    At most ``batch_size`` records are held at a time, so memory stays flat however large the source.
    """
    records = iter_jsonl(source) if isinstance(source, str | Path) else iter(source)
    counts: dict[str, int] = {}
    batch: list[SeedRecord] = []
    for record in records:
        if batch and (record["kind"] != batch[0]["kind"] or len(batch) >= batch_size):
            _flush(store, batch, counts)
        batch.append(record)
    _flush(store, batch, counts)
    return counts


def _flush(store: ObjectStore, batch: list[SeedRecord], counts: dict[str, int]) -> None:
    if not batch:
        return
    kind = batch[0]["kind"]
    first = store.last_seq(kind) + 1
    store.bulk_create(kind, ((r.get("properties") or {}, r.get("created_ms")) for r in batch), batch=len(batch))
    links: list[Association] = []
    for offset, record in enumerate(batch):
        oid = store.id_for(kind, first + offset)
        links.extend(_associations(kind, oid, record.get("associations") or ()))
        if record.get("archived"):
            store.conn.execute(
                "UPDATE objects SET archived = 1, archived_ms = updated_ms WHERE kind = ? AND id = ?", (kind, oid)
            )
    if links:
        store.associate(links)
    counts[kind] = counts.get(kind, 0) + len(batch)
    batch.clear()


def _associations(kind: str, oid: str, specs: Iterable[dict[str, Any]]) -> Iterator[Association]:
    for spec in specs:
        to_kind, to_id = spec["to_kind"], str(spec["to_id"])
        type_id = int(spec.get("type_id", 1))
        category = spec.get("category", "HUBSPOT_DEFINED")
        label = spec.get("label")
        yield Association(kind, oid, to_kind, to_id, type_id, category, label)
        yield Association(to_kind, to_id, kind, oid, inverse_type(type_id), category, label)
