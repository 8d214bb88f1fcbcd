"""Normalizing firmographic values from files and vendors into what a ``Lead`` holds.

Vendors disagree on shapes: "United States" vs "US" vs "usa", ``1200`` vs ``"1,200"`` vs ``"201-500"``.
Everything entering a Lead goes through these functions so scoring sees one shape.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import pycountry

_RANGE = re.compile(r"^\s*(\d[\d,.]*)\s*(?:-|–|to)\s*(\d[\d,.]*)\s*$")
_PLUS = re.compile(r"^\s*(\d[\d,.]*)\s*\+\s*$")
_COUNTRY_ALIASES = {"USA": "US", "UK": "GB", "U.S.": "US", "U.S.A.": "US", "ENGLAND": "GB", "UAE": "AE"}


@lru_cache(maxsize=4096)
def country_code(value: str | None) -> str | None:
    """ISO 3166-1 alpha-2 code for a code, alpha-3 code or country name; None when unrecognised."""
    if not value or not value.strip():
        return None
    text = value.strip()
    alias = _COUNTRY_ALIASES.get(text.upper())
    if alias:
        return alias
    if len(text) == 2 and text.isalpha():
        return text.upper() if pycountry.countries.get(alpha_2=text.upper()) else None
    try:
        country = pycountry.countries.lookup(text)
    except LookupError:
        return None
    return str(country.alpha_2)


def employee_count(value: Any) -> int | None:
    """A head count from an int, "1,200", "1200.0", a range "201-500" (its lower bound) or "10000+"."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if value >= 0 else None
    text = str(value).strip()
    match = _RANGE.match(text) or _PLUS.match(text)
    if match:
        # Lower bound of a range: never overstate a company's size (bands reward bigger companies).
        text = match.group(1)
    try:
        count = int(float(text.replace(",", "")))
    except ValueError:
        return None
    return count if count >= 0 else None


def clean_text(value: Any) -> str | None:
    """A stripped, non-empty string, or None."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def normalize_field(field: str, value: Any) -> Any:
    """The Lead-ready value of enrichable ``field`` (company, country, employees, industry), or None."""
    if field == "employees":
        return employee_count(value)
    if field == "country":
        return country_code(clean_text(value))
    return clean_text(value)
