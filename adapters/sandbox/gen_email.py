"""Names and email addresses of generated people, unique by construction and in constant memory.

HubSpot refuses two contacts with one email, and remembering every address of a million people is not
constant memory, so uniqueness comes from arithmetic instead of a set:

- At a company, the k-th employee of an email domain gets the identity at slot ``(a·k + b) mod M`` of the
  domain's name space: every (given name, family name) combination the country's cultures offer whose
  local part, under the company's pattern (``first.last``, ``flast``, ...), differs from all others.
  When the k passes M, a round number is appended (``john.smith2``), as mail admins do.
- At a free-mail provider, every address carries a number unique to that provider (``n·100 + yy``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from adapters.sandbox.gen_text import local_token, pick
from adapters.sandbox.gen_vocab import Country, Vocabulary

# pattern → (key of the given name, key of the family name, the dimension kept distinct across cultures)
PATTERN_KEYS = {
    "first.last": ("full", "full", "first"),
    "first_last": ("full", "full", "first"),
    "firstlast": ("full", "full", "first"),
    "last.first": ("full", "full", "first"),
    "flast": ("initial", "full", "last"),
    "f.last": ("initial", "full", "last"),
    "first": ("full", "none", "first"),
    "firstl": ("full", "initial", "first"),
}
_FREE_STYLES = ("first.last", "firstlast", "first_last", "flast", "first", "last.first", "f.last")
_STRIDES = (7919, 104_729, 1_299_709, 15_485_863, 179_424_673)  # primes: a stride coprime to the space size


def local_part(pattern: str, first: str, last: str) -> str:
    """The local part a mail pattern makes of a name (``flast``, ``John``, ``Smith`` → ``jsmith``)."""
    given, family = local_token(first) or "x", local_token(last) or "x"
    return {
        "first.last": f"{given}.{family}",
        "first_last": f"{given}_{family}",
        "firstlast": given + family,
        "last.first": f"{family}.{given}",
        "flast": given[0] + family,
        "f.last": f"{given[0]}.{family}",
        "first": given,
        "firstl": given + family[0],
    }[pattern]


def _key(kind: str, name: str) -> str:
    token = local_token(name) or "x"
    return {"full": token, "initial": token[0], "none": ""}[kind]


def _groups(names: tuple[str, ...], kind: str, taken: set[str] | None) -> list[tuple[str, ...]]:
    """Names grouped by key (in first-seen order), leaving out keys another culture already uses."""
    grouped: dict[str, list[str]] = {}
    for name in names:
        key = _key(kind, name)
        if taken is None or key not in taken:
            grouped.setdefault(key, []).append(name)
    if taken is not None:
        taken.update(grouped)
    return [tuple(group) for group in grouped.values()]


@dataclass(frozen=True)
class _Segment:
    culture: str
    firsts: tuple[tuple[str, ...], ...]  # groups of given names sharing a key
    lasts: tuple[tuple[str, ...], ...]

    @property
    def size(self) -> int:
        return len(self.firsts) * len(self.lasts)


@dataclass(frozen=True)
class NameSpace:
    """Every distinct identity one (country, mail pattern) offers, addressable by slot."""

    segments: tuple[_Segment, ...]
    ends: tuple[int, ...]  # cumulative segment sizes

    @property
    def size(self) -> int:
        """How many distinct local parts the space holds."""
        return self.ends[-1]

    def identity(self, rng: random.Random, slot: int) -> tuple[str, str, str]:
        """(culture, given name, family name) at ``slot``; names sharing a key are drawn at random."""
        start = 0
        for segment, end in zip(self.segments, self.ends, strict=True):
            if slot < end:
                first_group, last_group = divmod(slot - start, len(segment.lasts))
                return segment.culture, pick(rng, segment.firsts[first_group]), pick(rng, segment.lasts[last_group])
            start = end
        raise IndexError(slot)


def build_namespace(vocab: Vocabulary, country: Country, pattern: str) -> NameSpace:
    """The name space of ``country`` under ``pattern``: cultures in proportion to their weight, no shared keys."""
    first_kind, last_kind, distinct = PATTERN_KEYS[pattern]
    taken: set[str] = set()
    weights = dict(zip(country.cultures.items, _weights(country.cultures.cumulative), strict=True))
    segments: list[_Segment] = []
    for culture in sorted(weights, key=lambda c: -weights[c]):
        pool = vocab.names[culture]
        firsts = _groups(pool.first, first_kind, taken if distinct == "first" else None)
        lasts = _groups(pool.last, last_kind, taken if distinct == "last" else None)
        if not firsts or not lasts:
            continue
        if segments:  # minority cultures get a share of the space that matches their weight
            target = segments[0].size * weights[culture] / weights[segments[0].culture]
            scale = min(1.0, (target / (len(firsts) * len(lasts))) ** 0.5)
            firsts = firsts[: max(1, round(len(firsts) * scale))]
            lasts = lasts[: max(1, round(len(lasts) * scale))]
        segments.append(_Segment(culture, tuple(firsts), tuple(lasts)))
    ends, total = [], 0
    for segment in segments:
        total += segment.size
        ends.append(total)
    return NameSpace(tuple(segments), tuple(ends))


def _weights(cumulative: tuple[float, ...]) -> list[float]:
    return [high - low for low, high in zip((0.0, *cumulative[:-1]), cumulative, strict=True)]


class CompanyMail:
    """Hands out employees (culture, names, address) per email domain, never the same address twice."""

    def __init__(self, vocab: Vocabulary, domains: int) -> None:
        self.vocab = vocab
        self._issued = [0] * domains  # per mail namespace (a company index): addresses handed out so far
        self._spaces: dict[tuple[str, str], tuple[NameSpace, int]] = {}  # with the stride that walks it

    def employee(self, rng: random.Random, namespace: int, country: Country, pattern: str) -> tuple[str, str, str, str]:
        """The next employee of mail namespace ``namespace``: (culture, first, last, local part)."""
        cached = self._spaces.get((country.code, pattern))
        if cached is None:
            space = build_namespace(self.vocab, country, pattern)
            cached = self._spaces[(country.code, pattern)] = (space, next(p for p in _STRIDES if space.size % p))
        space, stride = cached
        k = self._issued[namespace]
        self._issued[namespace] = k + 1
        size = space.size
        round_, offset = divmod(k, size)
        slot = (stride * offset + namespace * 2_654_435_761) % size
        culture, first, last = space.identity(rng, slot)
        local = local_part(pattern, first, last)
        return culture, first, last, local + (str(round_ + 1) if round_ else "")


class FreeMail:
    """Addresses at free-mail providers: a style of the name plus a number no one else at that provider has."""

    def __init__(self) -> None:
        self._issued: dict[str, int] = {}

    def address(self, rng: random.Random, domain: str, first: str, last: str) -> str:
        """A free-mail address for this person, unique at ``domain``."""
        n = self._issued.get(domain, 0) + 1
        self._issued[domain] = n
        number = n * 100 + int(rng.random() * 100)
        return f"{local_part(pick(rng, _FREE_STYLES), first, last)}{number}@{domain}"
