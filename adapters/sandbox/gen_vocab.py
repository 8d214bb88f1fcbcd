"""The generator's vocabulary: countries, names and company words, read once from ``adapters/sandbox/data``.

The JSON files are small and hand-curated; this module turns them into frozen value objects and
weighted pickers so the hot generation loop only does list indexing and one ``random()`` per choice.
"""

from __future__ import annotations

import bisect
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from pathlib import Path
from typing import Any, Generic, TypeVar

DATA_DIR = Path(__file__).parent / "data"

T = TypeVar("T")


@dataclass(frozen=True)
class Weighted(Generic[T]):
    """Items with weights; ``pick`` is one ``random()`` and a bisect, much cheaper than ``rng.choices``."""

    items: tuple[T, ...]
    cumulative: tuple[float, ...]

    @classmethod
    def of(cls, pairs: Sequence[tuple[T, float]]) -> Weighted[T]:
        """Build from (item, weight) pairs; weights need not sum to one."""
        return cls(tuple(item for item, _ in pairs), tuple(accumulate(weight for _, weight in pairs)))

    def pick(self, rng: random.Random) -> T:
        """One item, drawn with probability proportional to its weight."""
        return self.items[bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])]


@dataclass(frozen=True)
class City:
    """A city companies and people live in: its region (state) code and the first digits of its postcodes."""

    name: str
    region: str
    zip_prefix: str


@dataclass(frozen=True)
class Country:
    """How one country looks in CRM data: spellings, name cultures, domains, legal forms, phone and postcode formats."""

    code: str
    names: tuple[str, ...]  # names[0] is the canonical spelling, the rest are variants people type
    weight: float
    cultures: Weighted[str]
    language: str
    tlds: tuple[str, ...]
    suffixes: tuple[str, ...]
    phones: tuple[str, ...]
    zip_format: str
    cities: tuple[City, ...]

    @property
    def name(self) -> str:
        """The canonical English name CRMs store."""
        return self.names[0]


@dataclass(frozen=True)
class NamePool:
    """Given and family names of one culture."""

    first: tuple[str, ...]
    last: tuple[str, ...]


@dataclass(frozen=True)
class Industry:
    """One industry as both CRMs spell it, with nouns (per language) that company names use."""

    hubspot: str
    salesforce: str
    weight: float
    nouns: Mapping[str, tuple[str, ...]]

    def noun(self, rng: random.Random, language: str) -> str:
        """A noun for a company name, in ``language`` when the vocabulary has one, else English."""
        return rng.choice(self.nouns.get(language) or self.nouns["en"])


@dataclass(frozen=True)
class Vocabulary:
    """Everything the generator draws words from."""

    countries: Mapping[str, Country]
    country_picker: Weighted[Country]
    names: Mapping[str, NamePool]
    industries: Weighted[Industry]
    stems: tuple[str, ...]
    syllables_head: tuple[str, ...]
    syllables_tail: tuple[str, ...]
    acronym_words: Mapping[str, tuple[str, ...]]
    regions: Mapping[str, tuple[str, ...]]
    titles: Mapping[str, Mapping[str, tuple[str, ...]]]  # seniority → language → job titles
    free_mail: Mapping[str, tuple[str, ...]]
    conversion_events: tuple[str, ...]
    hubspot_sources: tuple[str, ...]
    salesforce_sources: tuple[str, ...]
    placeholders: tuple[str, ...]
    company_placeholders: tuple[str, ...]
    hostile: tuple[str, ...]


def _read(name: str) -> dict[str, Any]:
    with (DATA_DIR / name).open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    data.pop("about", None)
    return data


def _country(code: str, raw: Mapping[str, Any]) -> Country:
    return Country(
        code=code,
        names=tuple(raw["names"]),
        weight=float(raw["weight"]),
        cultures=Weighted.of(list(raw["cultures"].items())),
        language=raw["language"],
        tlds=tuple(raw["tlds"]),
        suffixes=tuple(raw["suffixes"]),
        phones=tuple(raw["phones"]),
        zip_format=raw["zip"],
        cities=tuple(City(*city) for city in raw["cities"]),
    )


@lru_cache(maxsize=1)
def load_vocabulary() -> Vocabulary:
    """The vocabulary from the data files (read once per process)."""
    countries = {code: _country(code, raw) for code, raw in _read("countries.json").items()}
    names = {culture: NamePool(tuple(raw["first"]), tuple(raw["last"])) for culture, raw in _read("names.json").items()}
    words = _read("companies.json")
    industries = [
        Industry(raw["hubspot"], raw["salesforce"], raw["weight"], {k: tuple(v) for k, v in raw["nouns"].items()})
        for raw in words["industries"]
    ]
    return Vocabulary(
        countries=countries,
        country_picker=Weighted.of([(country, country.weight) for country in countries.values()]),
        names=names,
        industries=Weighted.of([(industry, industry.weight) for industry in industries]),
        stems=tuple(words["stems"]),
        syllables_head=tuple(words["syllables_head"]),
        syllables_tail=tuple(words["syllables_tail"]),
        acronym_words={k: tuple(v) for k, v in words["acronym_words"].items()},
        regions={k: tuple(v) for k, v in words["regions"].items()},
        titles={level: {lang: tuple(t) for lang, t in by_lang.items()} for level, by_lang in words["titles"].items()},
        free_mail={k: tuple(v) for k, v in words["free_mail"].items()},
        conversion_events=tuple(words["conversion_events"]),
        hubspot_sources=tuple(words["lead_sources"]["hubspot"]),
        salesforce_sources=tuple(words["lead_sources"]["salesforce"]),
        placeholders=tuple(words["placeholders"]),
        company_placeholders=tuple(words["company_placeholders"]),
        hostile=tuple(words["hostile"]),
    )
