"""The demo sales team (``data/team.json``) and the CRM records that make it exist in both sandboxes.

Every rep is a HubSpot owner and a Salesforce User with the same email; staff (marketing ops, the
integration user) follow the reps; queues are Salesforce Groups. Ids follow the store's rule, so the
i-th person of ``Team.people`` has owner id ``store_id_factory("hubspot.owners", i)`` and user id
``store_id_factory("salesforce.User", i)``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from adapters.sandbox.gen_vocab import DATA_DIR
from adapters.sandbox.ids import store_id_factory

OWNER_KIND = "hubspot.owners"
USER_KIND = "salesforce.User"
GROUP_KIND = "salesforce.Group"

_ROLE_TITLES = {
    "SDR": "Sales Development Representative",
    "AE": "Account Executive",
    "CSM": "Customer Success Manager",
}
_LOCALES = {"de": "de", "fr": "fr", "es": "es", "pt": "pt_BR", "it": "it", "nl": "nl_NL", "ja": "ja", "zh": "zh_CN"}
_TEAM_ID_BASE = 7001  # HubSpot team ids are plain numbers


@dataclass(frozen=True)
class Member:
    """A person with a login in both CRMs: a rep (``role`` SDR/AE/CSM) or staff (``role`` is their title)."""

    seq: int  # 1-based position among owners and users: the store sequence number of both records
    first_name: str
    last_name: str
    email: str
    role: str
    team: str
    timezone: str
    active: bool
    languages: tuple[str, ...] = ("en",)
    territories: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    segment: str = ""
    weight: float = 1.0
    department: str = "Sales"
    title: str = ""

    @cached_property
    def owner_id(self) -> str:
        """This person's HubSpot owner id."""
        return store_id_factory(OWNER_KIND, self.seq)

    @cached_property
    def user_id(self) -> str:
        """This person's Salesforce User id."""
        return store_id_factory(USER_KIND, self.seq)


@dataclass(frozen=True)
class Queue:
    """A Salesforce lead queue (a Group with Type 'Queue')."""

    seq: int
    name: str
    developer_name: str
    purpose: str
    email: str

    @cached_property
    def group_id(self) -> str:
        """This queue's Salesforce Group id."""
        return store_id_factory(GROUP_KIND, self.seq)


@dataclass(frozen=True)
class Team:
    """Reps, staff and queues, with the territory lookups company and lead owners are drawn from."""

    reps: tuple[Member, ...]
    staff: tuple[Member, ...]
    queues: tuple[Queue, ...]

    @property
    def people(self) -> tuple[Member, ...]:
        """Everyone with a CRM login, in seed order (reps, then staff)."""
        return self.reps + self.staff

    def queue(self, purpose: str) -> Queue:
        """The queue with this purpose (``fallback`` or ``nurture``)."""
        return next(queue for queue in self.queues if queue.purpose == purpose)

    @property
    def integration_user(self) -> Member:
        """The API user that owns records nobody else does (Salesforce requires an owner)."""
        return next(member for member in self.staff if member.department == "IT")

    @cached_property
    def _by_territory(self) -> dict[tuple[str, str], tuple[Member, ...]]:
        index: dict[tuple[str, str], list[Member]] = {}
        for rep in self.reps:
            for territory in rep.territories:
                index.setdefault((territory, rep.role), []).append(rep)
        return {key: tuple(members) for key, members in index.items()}

    def covering(self, country: str, state: str | None, role: str) -> tuple[Member, ...]:
        """Reps of ``role`` whose territories include the US state (``US-NY``) or else the country (``DE``)."""
        if country == "US" and state:
            return self._by_territory.get((f"US-{state}", role), ())
        return self._by_territory.get((country, role), ())


def _member(seq: int, raw: dict[str, Any]) -> Member:
    role = raw.get("role", raw.get("title", ""))
    return Member(
        seq=seq,
        first_name=raw["first_name"],
        last_name=raw["last_name"],
        email=raw["email"],
        role=role,
        team=raw.get("team", raw.get("department", "")),
        timezone=raw["timezone"],
        active=raw["active"],
        languages=tuple(raw.get("languages", ("en",))),
        territories=tuple(raw.get("territories", ())),
        products=tuple(raw.get("products", ())),
        segment=raw.get("segment", ""),
        weight=float(raw.get("weight", 1.0)),
        department=raw.get("department", "Sales"),
        title=raw.get("title") or _ROLE_TITLES.get(role, role),
    )


def load_team(path: Path | None = None) -> Team:
    """The team from ``team.json`` (the packaged demo team unless ``path`` is given)."""
    raw = json.loads((path or DATA_DIR / "team.json").read_text(encoding="utf-8"))
    reps = tuple(_member(i, rep) for i, rep in enumerate(raw["reps"], start=1))
    staff = tuple(_member(len(reps) + i, person) for i, person in enumerate(raw.get("staff", []), start=1))
    queues = tuple(
        Queue(i, q["name"], q["developer_name"], q["purpose"], q.get("email", ""))
        for i, q in enumerate(raw["queues"], 1)
    )
    return Team(reps, staff, queues)


def _team_ids(team: Team) -> dict[str, str]:
    names = sorted({member.team for member in team.people} | {"Customer Success"})
    return {name: str(_TEAM_ID_BASE + i) for i, name in enumerate(names)}


def owner_record(member: Member, team_ids: dict[str, str], created_ms: int) -> dict[str, Any]:
    """The HubSpot owner seed record; an inactive rep is archived, as HubSpot does with deactivated users."""
    teams = [{"id": team_ids[member.team], "name": member.team, "primary": True}]
    if member.role == "CSM":
        teams.append({"id": team_ids["Customer Success"], "name": "Customer Success", "primary": False})
    record: dict[str, Any] = {
        "kind": OWNER_KIND,
        "properties": {
            "email": member.email,
            "firstName": member.first_name,
            "lastName": member.last_name,
            "userId": 9_100_000 + member.seq,
            "teams": teams,
        },
        "created_ms": created_ms,
    }
    if not member.active:
        record["archived"] = True
    return record


def user_record(member: Member, created_ms: int) -> dict[str, Any]:
    """The Salesforce User seed record (IsActive false for the inactive rep)."""
    language = member.languages[0] if member.languages else "en"
    locale = "en_GB" if member.timezone == "Europe/London" else _LOCALES.get(language, "en_US")
    department = f"Sales - {member.team}" if member.department == "Sales" else member.department
    return {
        "kind": USER_KIND,
        "properties": {
            "Username": member.email,
            "Email": member.email,
            "FirstName": member.first_name,
            "LastName": member.last_name,
            "Alias": (member.first_name[:1] + member.last_name.replace(" ", "")[:4]).lower(),
            "IsActive": member.active,
            "TimeZoneSidKey": member.timezone,
            "LanguageLocaleKey": locale,
            "Department": department,
            "Title": member.title,
            "UserType": "Standard",
        },
        "created_ms": created_ms,
    }


def group_record(queue: Queue, created_ms: int) -> dict[str, Any]:
    """The Salesforce Group (queue) seed record."""
    return {
        "kind": GROUP_KIND,
        "properties": {
            "Name": queue.name,
            "DeveloperName": queue.developer_name,
            "Type": "Queue",
            "Email": queue.email,
        },
        "created_ms": created_ms,
    }


def team_records(team: Team, created_ms: int) -> Iterator[dict[str, Any]]:
    """Owners, then Users, then queues: the first records of a seed, in the order their ids assume."""
    team_ids = _team_ids(team)
    for member in team.people:
        yield owner_record(member, team_ids, created_ms)
    for member in team.people:
        yield user_record(member, created_ms)
    for queue in team.queues:
        yield group_record(queue, created_ms)
