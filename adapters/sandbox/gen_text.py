"""Text helpers for the generator: ASCII folding for email local parts, slugs for domains, formatted
digits for phones and postcodes, CRM date formats, and the small ways people make values dirty.
"""

from __future__ import annotations

import random
import string
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import TypeVar

T = TypeVar("T")

# Letters NFKD cannot take apart; German umlauts fold the way Germans write them in addresses.
_FOLD = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "ı": "i",
        "ü": "ue",
        "ö": "oe",
        "ä": "ae",
        "Ü": "Ue",
        "Ö": "Oe",
        "Ä": "Ae",
    }
)
_DIGITS = string.digits
_LETTERS = string.ascii_uppercase


@lru_cache(maxsize=8192)
def fold_ascii(text: str) -> str:
    """``text`` with accents removed and umlauts spelled out (``Müller`` → ``Mueller``, ``José`` → ``Jose``)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return decomposed.encode("ascii", "ignore").decode("ascii")


@lru_cache(maxsize=8192)
def local_token(name: str) -> str:
    """A name as it appears in an email local part: folded, lower case, letters only (``O'Brien`` → ``obrien``)."""
    return "".join(ch for ch in fold_ascii(name).lower() if ch.isalnum())


def slug(text: str, *, sep: str = "", keep_unicode: bool = False) -> str:
    """A domain label from words: lower case, words joined by ``sep``; unicode letters kept only when asked."""
    source = text.lower() if keep_unicode else fold_ascii(text).lower()
    words = ["".join(ch for ch in word if ch.isalnum()) for word in source.replace("&", " ").split()]
    return sep.join(word for word in words if word)


@lru_cache(maxsize=1024)
def _digit_slots(pattern: str) -> tuple[tuple[str, ...], int] | None:
    if "A" in pattern:
        return None
    pieces = tuple(pattern.split("#"))
    return pieces, len(pieces) - 1


def fill(rng: random.Random, pattern: str) -> str:
    """``pattern`` with each ``#`` replaced by a random digit and each ``A`` by a random capital letter."""
    slots = _digit_slots(pattern)
    if slots is not None:  # digits only (every phone format): one draw for all of them
        pieces, count = slots
        digits = f"{int(rng.random() * 10**count):0{count}d}" if count else ""
        out = [pieces[0]]
        for i in range(count):
            out.append(digits[i])
            out.append(pieces[i + 1])
        return "".join(out)
    out = []
    for ch in pattern:
        if ch == "#":
            out.append(_DIGITS[int(rng.random() * 10)])
        elif ch == "A":
            out.append(_LETTERS[int(rng.random() * 26)])
        else:
            out.append(ch)
    return "".join(out)


def postcode(rng: random.Random, fmt: str, prefix: str) -> str:
    """A postcode in ``fmt`` that starts with the city's ``prefix`` when the format allows it."""
    if prefix and fmt[: len(prefix)] == "#" * len(prefix):
        return prefix + fill(rng, fmt[len(prefix) :])
    return fill(rng, fmt)


@lru_cache(maxsize=256)
def region_name(country: str, region: str) -> str:
    """The full name of a state or region (``US``, ``NY`` → ``New York``), or the code when unknown."""
    import pycountry

    found = pycountry.subdivisions.get(code=f"{country}-{region}")
    return found.name if found is not None else region


_DAY_MS = 86_400_000


@lru_cache(maxsize=4096)
def _day(day: int) -> str:
    return datetime.fromtimestamp(day * 86_400, tz=UTC).strftime("%Y-%m-%d")


def _clock(epoch_ms: int) -> str:
    # strftime per value dominated the generator's profile: the date is cached per day, the time is arithmetic
    day, ms = divmod(epoch_ms, _DAY_MS)
    seconds, millis = divmod(ms, 1000)
    hours, rest = divmod(seconds, 3600)
    return f"{_day(day)}T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}.{millis:03d}"


def iso_ms(epoch_ms: int) -> str:
    """HubSpot's datetime format: ``2026-10-01T00:00:00.000Z``."""
    return _clock(epoch_ms) + "Z"


def sf_datetime(epoch_ms: int) -> str:
    """Salesforce's datetime format: ``2026-10-01T00:00:00.000+0000``."""
    return _clock(epoch_ms) + "+0000"


def iso_date(epoch_ms: int) -> str:
    """A calendar date (``2026-10-01``), as Salesforce date fields and HubSpot date properties hold it."""
    return _day(epoch_ms // _DAY_MS)


def pick(rng: random.Random, items: Sequence[T]) -> T:
    """One item of ``items`` uniformly: ``rng.choice`` without its overhead (the generator's hottest call)."""
    return items[int(rng.random() * len(items))]


def messy_case(rng: random.Random, text: str) -> str:
    """``text`` in the wrong case: SHOUTED, lower-cased or Title-Cased, as hand-typed and imported data is."""
    roll = rng.random()
    if roll < 0.4:
        return text.upper()
    if roll < 0.7:
        return text.lower()
    return text.title()


def padded(rng: random.Random, text: str) -> str:
    """``text`` with the stray spaces, tabs or newlines that copy-paste leaves around it."""
    return rng.choice((" ", "  ", "", "\t")) + text + rng.choice((" ", "", "\n", "  "))
