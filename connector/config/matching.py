"""Config section: Lead-to-account matching: thresholds, free-mail overrides, tie-breakers, parent policy.

Defaults are the values measured on the labelled evaluation set (tests/matching/data, docs/matching.md): with them
domain matches are ≥ 0.99 precise and name-only matches ≥ 0.97 precise at ≥ 0.90 recall.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

TieBreaker = Literal["customer", "open_opportunity", "recent_activity", "most_contacts"]
ParentPolicy = Literal["route_to_matching_child", "roll_up_to_parent"]


class MatchingConfig(BaseModel):
    """Lead-to-account matching: thresholds, free-mail overrides, tie-breakers, parent policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_confidence: float = Field(
        default=0.80,
        ge=0.0,
        le=1.0,
        description=(
            "Below this the matcher abstains and returns the best candidates for review. 0.80 keeps name-only "
            "matches ≥ 0.97 precise on the evaluation set while typos and dropped suffixes still match."
        ),
    )
    name_matching: bool = Field(
        default=True,
        description="Match by the company name the lead typed when email and domain give nothing (on: most "
        "inbound leads from free-mail addresses can only be matched this way).",
    )
    near_tie_margin: float = Field(
        default=0.04,
        ge=0.0,
        le=0.5,
        description="Name candidates within this of the best score are tied: the lead's country, then the parent "
        "policy and tie-breakers, decide; differently named companies still tied split the confidence between "
        "them (so the matcher abstains). 0.04 is half the cost of one typo.",
    )
    review_candidates: int = Field(
        default=5,
        ge=0,
        le=50,
        description="How many scored candidates a result carries for a reviewer (5 fits on one screen).",
    )
    max_name_candidates: int = Field(
        default=40,
        ge=1,
        le=1000,
        description="Accounts fuzzily scored per lead after blocking; 40 keeps ≥ 2,000 matches/s on one core.",
    )
    free_mail_add: tuple[str, ...] = Field(
        default=(),
        description="Extra domains to treat as free mail (a company's own webmail, a partner's shared domain).",
    )
    free_mail_remove: tuple[str, ...] = Field(
        default=(),
        description="Domains to take off the shipped free-mail lists (one of them is really a customer's).",
    )
    tie_breakers: tuple[TieBreaker, ...] = Field(
        default=("customer", "open_opportunity", "recent_activity", "most_contacts"),
        description="Order used when several accounts qualify equally; a stable id order always comes last so "
        "results are deterministic. Customers first: continuity with paying accounts matters most.",
    )
    parent_policy: ParentPolicy = Field(
        default="route_to_matching_child",
        description="route_to_matching_child: a lead that matches a subsidiary (its country, its own domain) "
        "goes to it; roll_up_to_parent: every match is replaced by its top-most parent account.",
    )

    @field_validator("free_mail_add", "free_mail_remove")
    @classmethod
    def _lowercase_domains(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        domains = tuple(d.strip().lower().rstrip(".") for d in value)
        for domain in domains:
            if "." not in domain or " " in domain or "@" in domain:
                raise ValueError(f"{domain!r} is not a domain name like example.com")
        return domains

    @model_validator(mode="after")
    def _tie_breakers_unique(self) -> MatchingConfig:
        if len(set(self.tie_breakers)) != len(self.tie_breakers):
            raise ValueError("tie_breakers lists a tie-breaker twice")
        return self
