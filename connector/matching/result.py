"""What matching takes from the cache (``PersonMatch``) and what it gives back (``AccountMatch``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

MatchMethod = Literal["email", "domain", "name", "none"]
CandidateMethod = Literal["email", "domain", "name", "acronym"]


@dataclass(frozen=True)
class PersonMatch:
    """An existing contact or lead (in either CRM) with the same normalized email as the lead being matched."""

    person_id: str  # cache-wide id, e.g. "salesforce:Contact:003..."
    account_id: str | None  # the account that person belongs to, if any
    owner_key: str | None = None  # that person's owner, for continuity


# What the cache implements: the most relevant existing person with this normalized email, or None. When several
# exist it should prefer one with an account, then the most recently active. The matcher ignores a person whose
# id is the lead's own id (the lead itself, already cached).
PersonLookup = Callable[[str], PersonMatch | None]


@dataclass(frozen=True)
class MatchCandidate:
    """One account considered for a lead, with its score and how it was found."""

    account_id: str
    name: str
    score: float
    method: CandidateMethod


@dataclass(frozen=True)
class AccountMatch:
    """The outcome for one lead: the account (or None), how, how sure, who else was considered, and why.

    ``confidence`` is in [0, 1]: 1.0 for an existing person's account, 0.95-0.99 for a domain match, the name score
    for a name match, and 0.0 when unmatched (``candidates`` then shows how close the best ones came).
    """

    account_id: str | None
    method: MatchMethod
    confidence: float
    candidates: tuple[MatchCandidate, ...] = ()
    reasons: tuple[str, ...] = ()
    owner_key: str | None = None  # the matched person's owner (email) or the matched account's owner

    @property
    def matched(self) -> bool:
        """True when the lead was matched to an account."""
        return self.account_id is not None
