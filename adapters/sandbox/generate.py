"""Deterministic generator of a realistic HubSpot + Salesforce portal for the sandbox (demo, tests, benchmarks).

``iter_seed(contacts=N, seed=S)`` streams seed records in the loader's JSON shape
(``{"kind", "properties", "created_ms", "associations"?, "archived"?}``), kinds in dependency order and each
kind contiguous:

    hubspot.owners, salesforce.User, salesforce.Group            the demo team (data/team.json) and queues
    hubspot.companies, salesforce.Account                        the world's companies (held in memory)
    hubspot.deals, salesforce.Opportunity                        deals of customers and opportunities
    hubspot.contacts                                             people, streamed
    salesforce.Contact, salesforce.Lead                          people, parked on disk until their turn
    hubspot.meetings, salesforce.Event                           demo meetings, parked likewise

Ids are not in the records: the n-th record of a kind gets ``store_id_factory(kind, n)`` and every
reference is written with that rule. ``contacts`` counts people of the world; each is a HubSpot contact,
a Salesforce Contact or Lead, or both (about 0.75·N HubSpot contacts and 0.4·N Salesforce people).
Same arguments, same bytes: every draw comes from ``random.Random`` streams derived from ``seed``,
and the clock is never read (the default "now" is a fixed date).
"""

from __future__ import annotations

import gzip
import io
import json
import random
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import click

from adapters.sandbox.gen_accounts import company_records
from adapters.sandbox.gen_companies import WorldBuilder
from adapters.sandbox.gen_contacts import PersonWriter
from adapters.sandbox.gen_people import PeopleGenerator
from adapters.sandbox.gen_team import load_team, team_records
from adapters.sandbox.gen_vocab import load_vocabulary
from connector.errors import ConfigError
from connector.logs import get_logger

log = get_logger(__name__)

DEFAULT_START_MS = 1_790_812_800_000  # 2026-10-01T00:00:00Z: a fixed "now", so output never depends on the clock
PEOPLE_PER_COMPANY = 20


class _Spool:
    """Records of one kind parked in a temporary file until their kind's turn: constant memory, any size."""

    def __init__(self) -> None:
        # closed by close(): the spool outlives any one with-block
        self._file: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n")  # noqa: SIM115

    def add(self, record: dict[str, Any] | None) -> None:
        if record is not None:
            self._file.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
            self._file.write("\n")

    def replay(self) -> Iterator[dict[str, Any]]:
        self._file.flush()
        self._file.seek(0)
        for line in self._file:
            yield json.loads(line)

    def close(self) -> None:
        self._file.close()


def _streams(seed: int) -> dict[str, random.Random]:
    """One random stream per part, so a change in one part leaves the others' output unchanged."""
    parts = ("world", "companies", "people", "writer")
    return {part: random.Random(f"leadrelay:{seed}:{part}") for part in parts}  # noqa: S311 - test data, not secrets


def iter_seed(
    *, contacts: int, seed: int = 42, companies: int | None = None, start_ms: int | None = None
) -> Iterator[dict[str, Any]]:
    """Seed records of a world with ``contacts`` people and ``companies`` companies (default contacts/20).

    ``start_ms`` is the world's "now": records are created in the two years before it (default 2026-10-01Z).
    """
    if contacts < 0 or (companies is not None and companies < 0):
        raise ConfigError("contacts and companies must not be negative", field="contacts")
    start = DEFAULT_START_MS if start_ms is None else start_ms
    company_count = companies if companies is not None else (max(10, contacts // PEOPLE_PER_COMPANY) if contacts else 0)
    rng = _streams(seed)
    vocab, team = load_vocabulary(), load_team()
    yield from team_records(team, start - 800 * 86_400_000)
    world = WorldBuilder(rng["world"], vocab, team, start).build(company_count)
    yield from company_records(rng["companies"], vocab, world)
    people = PeopleGenerator(rng["people"], vocab, team, world, start_ms=start, total=contacts)
    writer = PersonWriter(rng["writer"], vocab, start_ms=start)
    yield from _people_records(people, writer, contacts)


def _people_records(people: PeopleGenerator, writer: PersonWriter, count: int) -> Iterator[dict[str, Any]]:
    """HubSpot contacts as people are drawn; Salesforce people and meetings afterwards, from their spools."""
    spools = {name: _Spool() for name in ("contacts", "leads", "meetings", "events")}
    try:
        seqs = {"hubspot": 0, "Contact": 0, "Lead": 0}
        for index in range(count):
            person = people.person(index)
            if person.in_hubspot:
                seqs["hubspot"] += 1
                yield writer.hubspot_contact(person)
                spools["meetings"].add(writer.hubspot_meeting(person, seqs["hubspot"]))
            if person.in_salesforce:
                record = writer.salesforce_person(person)
                kind = "Contact" if record["kind"] == "salesforce.Contact" else "Lead"
                seqs[kind] += 1
                spools["contacts" if kind == "Contact" else "leads"].add(record)
                spools["events"].add(writer.salesforce_event(person, seqs[kind]))
        for name in ("contacts", "leads", "meetings", "events"):
            yield from spools[name].replay()
    finally:
        for spool in spools.values():
            spool.close()


def write_seed(
    path: str | Path, *, contacts: int, seed: int = 42, companies: int | None = None, start_ms: int | None = None
) -> dict[str, int]:
    """Write the world as JSON Lines (gzip when ``path`` ends in .gz); returns record counts per kind."""
    counts: dict[str, int] = {}
    target = Path(path)
    with target.open("wb") as raw:
        # mtime=0 and no file name in the gzip header: the same world compresses to the same bytes
        packed = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) if target.suffix == ".gz" else None
        with io.TextIOWrapper(packed or raw, encoding="utf-8", newline="\n") as out:
            for record in iter_seed(contacts=contacts, seed=seed, companies=companies, start_ms=start_ms):
                out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
                out.write("\n")
                counts[record["kind"]] = counts.get(record["kind"], 0) + 1
    return counts


@click.command("generate")
@click.option("--contacts", type=click.IntRange(min=0), default=10_000, show_default=True, help="People in the world.")
@click.option("--seed", type=int, default=42, show_default=True, help="Random seed: same seed, same bytes.")
@click.option("--companies", type=click.IntRange(min=0), default=None, help="Companies (default: contacts / 20).")
@click.option(
    "--start",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="The world's 'now' in UTC (default 2026-10-01); records date from the two years before it.",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="JSONL file (.gz: gzip).")
def generate_command(contacts: int, seed: int, companies: int | None, start: datetime | None, out: Path) -> None:
    """Generate a realistic HubSpot + Salesforce portal as sandbox seed records (JSON Lines)."""
    start_ms = int(start.replace(tzinfo=UTC).timestamp() * 1000) if start is not None else None
    began = time.perf_counter()
    counts = write_seed(out, contacts=contacts, seed=seed, companies=companies, start_ms=start_ms)
    seconds = time.perf_counter() - began
    total = sum(counts.values())
    log.info("seed_generated", path=str(out), records=total, contacts=contacts, seed=seed, seconds=round(seconds, 2))
    width = max(len(kind) for kind in counts) if counts else 10
    for kind, count in counts.items():
        click.echo(f"{kind:<{width}}  {count:>10,}")
    click.echo(f"{'total':<{width}}  {total:>10,}   ({seconds:.1f} s, {out})")
