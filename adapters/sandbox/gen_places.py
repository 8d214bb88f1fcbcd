"""How people and CRMs spell places and phone numbers: canonical mostly, variants and gaps sometimes."""

from __future__ import annotations

import random

from adapters.sandbox.gen_text import fill, pick, region_name
from adapters.sandbox.gen_vocab import Country

EURO = frozenset(["DE", "AT", "FR", "BE", "LU", "NL", "ES", "PT", "IT", "FI", "IE"])


def spell_country(rng: random.Random, country: Country, *, missing: float = 0.03) -> str | None:
    """The country as typed: canonical name mostly, a variant (``USA``, ``Deutschland``) sometimes, or nothing."""
    roll = rng.random()
    if roll < missing:
        return None
    if roll < missing + 0.07 and len(country.names) > 1:
        return pick(rng, country.names[1:])
    return country.name


def spell_state(rng: random.Random, country: Country, region: str) -> str | None:
    """A state or region: US states as the code or the full name; elsewhere often left empty."""
    roll = rng.random()
    if country.code == "US":
        return region if roll < 0.7 else region_name("US", region)
    if roll < 0.35:
        return None
    return region if roll < 0.6 else region_name(country.code, region)


def phone_number(rng: random.Random, country: Country) -> str:
    """A phone number in one of the many national and international formats people use."""
    number = fill(rng, pick(rng, country.phones))
    if rng.random() < 0.03:
        number += pick(rng, (" ext. ", " x", " Ext ", "#")) + fill(rng, "###")
    return number


def currency(country: Country) -> str:
    """The currency deals with a company in ``country`` are written in."""
    if country.code in EURO:
        return "EUR"
    return {"GB": "GBP", "CH": "CHF", "JP": "JPY", "AU": "AUD", "CA": "CAD", "BR": "BRL", "IN": "INR"}.get(
        country.code, "USD"
    )
