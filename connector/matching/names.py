"""Company names reduced to comparable keys, and the similarity of two such keys.

``"The Müller & Söhne Maschinenbau GmbH & Co. KG"`` becomes the tokens ``("muller", "sohne", "maschinenbau")``:
accents and case folded, ``&``/``and`` dropped, legal forms removed (cleanco's term list), initials joined
(``S.A.P.`` -> ``sap``), light plural stemming. Token weights come from the index (rarer tokens count more), and
generic words (group, holdings, international...) and country names are weighted down further, because
"Acme Group" and "Acme" are the same company far more often than not.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import pycountry
from cleanco import prepare_default_terms
from rapidfuzz.distance import OSA, Indel

from connector.normalize import clean_text, fold_text, is_placeholder

# Legal-form terms that are also ordinary words at the end of a company name ("Acme UK" is a subsidiary, not a
# legal form), so they are kept as tokens.
_KEEP_TERMS = frozenset({"uk", "eu", "private", "at", "et", "ok", "da", "ent", "ss", "ca", "ps"})
_CONNECTORS = frozenset({"and", "und", "the"})
_ACRONYM_SKIP = frozenset({"of", "the", "and", "for", "de", "du", "des", "la", "le", "von", "van", "y", "et"})
_INITIALS = re.compile(r"\b(?:\w\.){2,}(?:\w\b)?")  # "s.a.p." / "a.b.c"
_SEPARATORS = re.compile(r"[^\w]+")
_WEB_SUFFIX = re.compile(r"(?<=\w)\.(?:com|net|org|io|ai|co)\b")

# Words that say little about which company is meant; weighted by GENERIC_WEIGHT on top of the index's IDF
# (stemmed into GENERIC_WORDS below).
_GENERIC_PLAIN = (
    "group grupo gruppe groupe holding holdings international intl global worldwide solution solutions technology "
    "technologies tech service services system systems enterprise enterprises industry industries partner partners "
    "company co corporation corp incorporated limited the"
)
GENERIC_WEIGHT = 0.25
GEO_WEIGHT = 0.35  # "Acme Germany" is usually Acme's German arm: the country word matters little for identity

# Abbreviations people type, mapped to the (stemmed) word they stand for.
_ABBREVIATIONS = {
    "intl": "international",
    "int": "international",
    "tech": "technology",
    "techs": "technology",
    "svc": "service",
    "svcs": "service",
    "sys": "system",
    "mfg": "manufacturing",
    "natl": "national",
    "assoc": "associate",
    "mgmt": "management",
    "bros": "brother",
    "dept": "department",
    "univ": "university",
    "labs": "lab",
    "laboratory": "lab",
    "laboratorie": "lab",
    "ctr": "center",
    "centre": "center",
    "hldgs": "holding",
    "grp": "group",
}


@lru_cache(maxsize=1)
def _legal_terms() -> dict[int, frozenset[tuple[str, ...]]]:
    """cleanco's legal-form terms, tokenized the same way as names, grouped by token count (longest first)."""
    by_size: dict[int, set[tuple[str, ...]]] = {}
    for _size, parts in prepare_default_terms():
        words = _SEPARATORS.split(fold_text(" ".join(parts).replace("&", " and ")))
        tokens = tuple(_stem(t) for t in words if t and t not in _CONNECTORS)
        if tokens and not (len(tokens) == 1 and tokens[0] in _KEEP_TERMS):
            by_size.setdefault(len(tokens), set()).add(tokens)
    by_size.setdefault(1, set()).update({("pvt",), ("pty",), ("sdn",), ("bhd",), ("kk",), ("srl",)})
    return {size: frozenset(terms) for size, terms in sorted(by_size.items(), reverse=True)}


@dataclass(frozen=True)
class NameKey:
    """A company name reduced for comparison: tokens, their joined and compact forms, and an acronym."""

    tokens: tuple[str, ...]
    key: str  # tokens joined by spaces: equal keys mean "same name"
    compact: str  # tokens joined with nothing: "North Wind" == "Northwind"
    acronyms: tuple[str, ...]  # "International Business Machines Corp" -> ("ibm", "ibmc"); () for one-word names


@lru_cache(maxsize=131_072)
def name_key(raw: str | None) -> NameKey | None:
    """The comparable key of a company name, or None when nothing usable is left (blank, "N/A", only "GmbH")."""
    text = clean_text(raw, 200) if raw is not None else None
    if text is None or is_placeholder(text):
        return None
    words = _tokens(text)
    tokens = _strip_legal_forms(words)
    if not tokens:
        return None
    return NameKey(tokens=tokens, key=" ".join(tokens), compact="".join(tokens), acronyms=_acronyms(tokens, words))


def _tokens(text: str) -> list[str]:
    folded = fold_text(text).replace("&", " and ").replace("+", " and ")
    folded = _WEB_SUFFIX.sub("", folded)  # "Amazon.com, Inc." is Amazon
    folded = _INITIALS.sub(lambda m: m.group().replace(".", ""), folded)
    folded = folded.replace("'", "").replace("’", "")
    return [_stem(t) for t in _SEPARATORS.split(folded) if t and t != "_"]


def _stem(token: str) -> str:
    """Light, symmetric plural folding and abbreviation expansion: both sides go through it, so it need not be exact.

    A final "s" goes and a final "y" becomes "ie", so "technology" and "technologies" meet at "technologie" while a
    typo such as "Tecnologies" stays one letter from it (rewriting "-ies" to "-y" would not).
    """
    token = _ABBREVIATIONS.get(token, token)
    if len(token) > 4 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        token = token[:-1]
    if len(token) > 4 and token.endswith("y"):
        token = token[:-1] + "ie"
    return _ABBREVIATIONS.get(token, token)


GENERIC_WORDS = frozenset(_stem(word) for word in _GENERIC_PLAIN.split())


def _strip_legal_forms(tokens: list[str]) -> tuple[str, ...]:
    """Drop connectors ("the", "and") and trailing legal forms (repeatedly: "Co., Ltd."); keep at least one token."""
    kept = [t for t in tokens if t not in _CONNECTORS]
    original = list(kept or tokens)
    stripped = True
    while stripped and len(kept) > 1:
        stripped = False
        for size, terms in _legal_terms().items():
            if len(kept) > size and tuple(kept[-size:]) in terms:
                del kept[-size:]
                stripped = True
                break
    # A name that is nothing but legal form ("AG") or connectors keeps its words rather than vanishing.
    return tuple(kept or original)


def _acronyms(tokens: Sequence[str], words: Sequence[str]) -> tuple[str, ...]:
    """The name's acronym, and the acronym including the first legal word dropped ("United Data Corporation" -> udc)."""
    letters = [t[0] for t in tokens if t not in _ACRONYM_SKIP]
    out = ["".join(letters)] if len(letters) >= 2 else []
    kept = [w for w in words if w not in _CONNECTORS]
    if len(kept) > len(tokens) and len(kept[len(tokens)]) >= 4:  # a word such as "corporation", not "ltd"
        longer = "".join([*letters, kept[len(tokens)][0]])
        if len(longer) >= 2:
            out.append(longer)
    return tuple(dict.fromkeys(out))


# ---------------------------------------------------------------------------------------------------------------------
# Similarity
# ---------------------------------------------------------------------------------------------------------------------

TYPO_MIN_LENGTH = 6  # shorter words are too easily another word ("acmee" is as close to "acmeo" as to "acme")
TYPO_PENALTY = 0.08  # each typo (insertion, deletion, substitution, transposition) costs this much of a token
_REGION_WORDS = (
    "usa uk america american americas german deutschland french italia italian espana spanish british english "
    "canadian japanese chinese indian brasil brazilian mexican australian dutch swiss nordic scandinavia "
    "europe european emea apac asia asian pacific latam benelux dach iberia iberica africa african middle east"
)


def _country_words() -> frozenset[str]:
    """Folded one-word country names and region words: they locate a company more than they identify it."""
    words = set(_REGION_WORDS.split())
    for country in pycountry.countries:
        for name in (country.name, getattr(country, "common_name", None)):
            if name and " " not in name and "," not in name:
                words.add(_stem(fold_text(name)))
    return frozenset(words)


_COUNTRY_WORDS = _country_words()


def prior_weight(token: str) -> float:
    """How much a token can say about identity before looking at the data: generic and country words say little."""
    if token in GENERIC_WORDS:
        return GENERIC_WEIGHT
    if token in _COUNTRY_WORDS:
        return GEO_WEIGHT
    return 1.0


def idf(document_frequency: int, total: int) -> float:
    """Inverse document frequency, smoothed so a token on every account still weighs a little."""
    return math.log(1.0 + (total + 1) / (document_frequency + 1))


def token_similarity(a: str, b: str) -> float:
    """1.0 for equal tokens; for long tokens one typo apart (two from eleven letters) 1 - 0.08 per typo; else 0."""
    if a == b:
        return 1.0
    shortest = min(len(a), len(b))
    if shortest < TYPO_MIN_LENGTH:
        return 0.0
    allowed = 1 if shortest < 11 else 2  # "Northwind" and "Southwind" are two companies, not a typo
    # Stemming keeps a final "s" after "u"/"i" ("Dynamcis", "Partneus"): a typo there must not cost two edits.
    distance = min(OSA.distance(a, b, score_cutoff=allowed), OSA.distance(_no_s(a), _no_s(b), score_cutoff=allowed))
    return 1.0 - TYPO_PENALTY * distance if distance <= allowed else 0.0


def _no_s(token: str) -> str:
    return token[:-1] if token.endswith("s") else token


def _nothing_known(_token: str) -> bool:
    return False


def name_similarity(
    lead: NameKey,
    account: NameKey,
    weight: Callable[[str], float],
    known: Callable[[str], bool] = _nothing_known,
) -> float:
    """Similarity in [0, 1]: weighted token coverage both ways (F1), or the compact strings' similarity if higher.

    ``known(token)`` says whether a token is a word some account uses. Only the lead's unknown tokens may be read as
    typos: "Oriquent" is not a misspelt "Obrquent" when an account called Oriquent exists.
    """
    if lead.key == account.key or lead.compact == account.compact:
        return 1.0
    typos = _typo_pairs([t for t in lead.tokens if not known(t)], account.tokens)
    lead_cover = _coverage(lead.tokens, account.tokens, typos, weight)
    account_cover = _coverage(account.tokens, lead.tokens, _reverse(typos), weight)
    total = lead_cover + account_cover
    tokens_score = 0.0 if total == 0 else 2 * lead_cover * account_cover / total
    if len(lead.tokens) == len(account.tokens) or all(known(t) for t in lead.tokens):
        return tokens_score
    # Typos across word boundaries ("Northwnd" vs "North Wind") only show on the compact strings; scaled down
    # so that a long shared stem never beats a real token match.
    compact = Indel.normalized_similarity(lead.compact, account.compact)
    if compact >= 0.85 and min(len(lead.compact), len(account.compact)) >= 6:
        return max(tokens_score, compact * 0.95)
    return tokens_score


def _typo_pairs(tokens: Sequence[str], other: Sequence[str]) -> dict[str, tuple[str, float]]:
    """For each token, its best look-alike among ``other`` (token -> (other token, similarity)), if any."""
    pairs: dict[str, tuple[str, float]] = {}
    other_set = set(other)
    for token in tokens:
        if token in other_set:
            continue
        best = max(((o, token_similarity(token, o)) for o in other), key=lambda p: (p[1], p[0]), default=None)
        if best is not None and best[1] > 0:
            pairs[token] = best
    return pairs


def _reverse(pairs: dict[str, tuple[str, float]]) -> dict[str, tuple[str, float]]:
    out: dict[str, tuple[str, float]] = {}
    for token, (other, score) in sorted(pairs.items()):
        if other not in out or score > out[other][1]:
            out[other] = (token, score)
    return out


def _coverage(
    tokens: Sequence[str], other: Sequence[str], typos: dict[str, tuple[str, float]], weight: Callable[[str], float]
) -> float:
    """Weighted share of ``tokens`` found in ``other``, exactly or through an accepted typo pair.

    Words are matched as a multiset: "Johnson" covers one "johnson" of "Johnson & Johnson", not both.
    """
    unmatched = list(other)
    total = matched = 0.0
    for token in tokens:
        w = weight(token)
        total += w
        if token in unmatched:
            unmatched.remove(token)
            matched += w
        elif token in typos:
            matched += w * typos[token][1]
    return matched / total if total else 0.0


def is_leading_part(lead: NameKey, account: NameKey, weight: Callable[[str], float]) -> bool:
    """True when the typed name is the distinctive start of the account's name ("Toyota" / "Toyota Motor Corp")."""
    count = len(lead.tokens)
    return (
        count < len(account.tokens)
        and account.tokens[:count] == lead.tokens
        and len(lead.compact) >= 3
        and prior_weight(lead.tokens[0]) == 1.0
        and weight(lead.tokens[0]) > 0
    )
