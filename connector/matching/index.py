"""``AccountIndex``: every lookup matching needs, built once from the cached accounts and kept up to date.

It answers, without ever scanning all accounts: which accounts list a domain; which accounts are name candidates
for a typed company name (exact key, compact key, acronym, shared words, and words one typo away through a
SymSpell-style index of each known word minus one letter); how much a word weighs (IDF over account names); and an
account's parent chain. Adding, updating and removing one account touches only that account's entries, so the
cache can keep the index current.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace

from connector.logs import get_logger
from connector.matching.names import TYPO_MIN_LENGTH, NameKey, idf, name_key, prior_weight
from connector.models import Account
from connector.normalize import country_code, optional, registered_domain

log = get_logger(__name__)

MAX_TOKEN_POSTINGS = 2_000  # a word on more accounts than this ("group") cannot find a company by itself
COMMON_TOKEN_POSTINGS = 200  # a word this common only finds candidates when no rarer typed word did
MAX_TYPO_TOKENS = 50  # look-alike words per typed word; more means the typed word is too short to tell apart
MIN_ACRONYM = 3  # two-letter acronyms collide far too often to mean anything
_EXACT_HIT = 100.0  # candidate-ranking bonus so exact and acronym hits always get scored
_ACRONYM_HIT = 50.0
_TYPO_HIT = 0.5  # a block hit counts half a token hit
_MAX_PARENT_DEPTH = 32  # parent chains longer than this are treated as cycles in the data


class AccountIndex:
    """Accounts indexed by domain, name tokens, typo blocks and acronym; updatable one account at a time."""

    def __init__(self, accounts: Iterable[Account] = ()) -> None:
        self._accounts: dict[str, Account] = {}
        self._names: dict[str, NameKey] = {}
        self._by_domain: dict[str, set[str]] = {}
        self._by_key: dict[str, set[str]] = {}
        self._by_token: dict[str, set[str]] = {}
        self._typo_keys: dict[str, set[str]] = {}  # a word, or it minus one letter -> the words it came from
        self._by_acronym: dict[str, set[str]] = {}
        for account in accounts:
            self.add(account)

    @classmethod
    def build(cls, accounts: Iterable[Account]) -> AccountIndex:
        """Index ``accounts`` and log how long it took."""
        start = time.perf_counter()
        index = cls(accounts)
        log.info("account_index_built", accounts=len(index), seconds=round(time.perf_counter() - start, 3))
        return index

    # -- reading --------------------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._accounts)

    def __contains__(self, account_id: object) -> bool:
        return account_id in self._accounts

    def __iter__(self) -> Iterator[Account]:
        return iter(self._accounts.values())

    def get(self, account_id: str) -> Account | None:
        """The indexed account with this id, if any."""
        return self._accounts.get(account_id)

    def name_of(self, account_id: str) -> NameKey | None:
        """The comparable name key of an indexed account (None when its name has nothing usable)."""
        return self._names.get(account_id)

    def accounts_for_domain(self, domain: str) -> list[Account]:
        """Accounts whose website or extra domains have this registered domain, in id order."""
        return [self._accounts[i] for i in sorted(self._by_domain.get(domain, ()))]

    def knows_token(self, token: str) -> bool:
        """True when some indexed account name uses this word."""
        return token in self._by_token

    def token_weight(self, token: str) -> float:
        """How much a name token says about identity: IDF across account names times the generic-word prior."""
        return idf(len(self._by_token.get(token, ())), len(self._accounts)) * prior_weight(token)

    def name_candidates(self, lead: NameKey, limit: int) -> list[str]:
        """Up to ``limit`` account ids worth scoring against ``lead``, best blocking evidence first (never a scan)."""
        hits: dict[str, float] = {}
        for key in sorted({lead.key, lead.compact}):
            _add_hits(hits, self._by_key.get(key), _EXACT_HIT)
        if len(lead.tokens) == 1 and len(lead.compact) >= MIN_ACRONYM:
            _add_hits(hits, self._by_acronym.get(lead.compact), _ACRONYM_HIT)  # typed "IBM"
        for acronym in lead.acronyms:
            if len(acronym) >= MIN_ACRONYM:  # typed the long form of an account named by its acronym
                _add_hits(hits, self._by_key.get(acronym), _ACRONYM_HIT)
        # Words rarest first: a rare word finds its company among a few accounts, while a common one ("analytics")
        # is only used when nothing rarer found anything; it still counts when the candidates are scored.
        for count, token, factor, postings in self._word_sources(lead):
            if count > MAX_TOKEN_POSTINGS or (hits and count > COMMON_TOKEN_POSTINGS):
                break
            _add_hits(hits, postings, self.token_weight(token) * factor)
        if len(hits) <= limit:
            return sorted(hits, key=lambda account_id: (-hits[account_id], account_id))
        return heapq.nlargest(limit, hits, key=lambda account_id: (hits[account_id], account_id))

    def _word_sources(self, lead: NameKey) -> list[tuple[int, str, float, set[str]]]:
        """(accounts using it, word, hit factor, those accounts) for each typed word or look-alike, rarest first."""
        sources = []
        for token in set(lead.tokens):
            postings = self._by_token.get(token)
            if postings:
                sources.append((len(postings), token, 1.0, postings))
                continue
            for similar in self._look_alikes(token):  # an unknown word may be a typo of a known one
                similar_postings = self._by_token[similar]
                sources.append((len(similar_postings), similar, _TYPO_HIT, similar_postings))
        sources.sort(key=lambda source: (source[0], source[1], source[2]))
        return sources

    def _look_alikes(self, token: str) -> list[str]:
        """Known words one edit (insertion, deletion, substitution, swap) or so from ``token``, sorted."""
        found: set[str] = set()
        for key in _deletions(token):
            found.update(self._typo_keys.get(key, ()))
        found.discard(token)
        return sorted(found)[:MAX_TYPO_TOKENS] if len(found) <= MAX_TYPO_TOKENS * 4 else []

    def root_of(self, account_id: str) -> str:
        """The top-most indexed ancestor of an account (itself when it has no indexed parent)."""
        return self.ancestors(account_id)[-1]

    def ancestors(self, account_id: str) -> list[str]:
        """The account and its indexed parents, nearest first; stops at a missing parent or a cycle."""
        chain = [account_id]
        seen = {account_id}
        account = self._accounts.get(account_id)
        while account is not None and account.parent_id and len(chain) < _MAX_PARENT_DEPTH:
            parent = account.parent_id
            if parent in seen or parent not in self._accounts:
                break
            chain.append(parent)
            seen.add(parent)
            account = self._accounts[parent]
        return chain

    # -- writing --------------------------------------------------------------------------------------------------

    def add(self, account: Account) -> None:
        """Index ``account``, replacing any earlier version with the same id."""
        if account.id in self._accounts:
            self.remove(account.id)
        account = _normalized(account)
        self._accounts[account.id] = account
        for domain in _domains_of(account):
            self._by_domain.setdefault(domain, set()).add(account.id)
        key = name_key(account.name)
        if key is None:
            return
        self._names[account.id] = key
        for token in set(key.tokens):
            if token not in self._by_token:
                for deletion in _deletions(token):
                    self._typo_keys.setdefault(deletion, set()).add(token)
        for entry, postings in self._name_entries(key):
            postings.setdefault(entry, set()).add(account.id)

    update = add

    def remove(self, account_id: str) -> None:
        """Forget an account (no error when it is not indexed)."""
        account = self._accounts.pop(account_id, None)
        if account is None:
            return
        for domain in _domains_of(account):
            _discard(self._by_domain, domain, account_id)
        key = self._names.pop(account_id, None)
        if key is not None:
            for entry, postings in self._name_entries(key):
                _discard(postings, entry, account_id)
            for token in set(key.tokens):
                if token not in self._by_token:  # the last account using this word is gone
                    for deletion in _deletions(token):
                        _discard(self._typo_keys, deletion, token)

    def _name_entries(self, key: NameKey) -> Iterator[tuple[str, dict[str, set[str]]]]:
        yield key.key, self._by_key
        yield key.compact, self._by_key
        for acronym in key.acronyms:
            if len(acronym) >= MIN_ACRONYM:
                yield acronym, self._by_acronym
        for token in set(key.tokens):
            yield token, self._by_token


def _normalized(account: Account) -> Account:
    """The account with its domains as registered domains and its country as an ISO code, whatever the source sent."""
    domain = optional(registered_domain, account.domain)
    extra = tuple(dict.fromkeys(d for d in (optional(registered_domain, x) for x in account.extra_domains) if d))
    country = account.country if _is_iso_code(account.country) else optional(country_code, account.country)
    if (domain, extra, country) == (account.domain, account.extra_domains, account.country):
        return account
    return replace(account, domain=domain, extra_domains=extra, country=country)


def _is_iso_code(country: str | None) -> bool:
    """Already normalized (the cache stores ISO codes): skip the name lookup, which is most of a build's time."""
    return country is not None and len(country) == 2 and country.isupper() and country.isalpha()


def _domains_of(account: Account) -> set[str]:
    return {d for d in (account.domain, *account.extra_domains) if d}


def _deletions(token: str) -> tuple[str, ...]:
    """The token and every string one letter shorter (SymSpell): two words one typo apart share one of these."""
    if len(token) < TYPO_MIN_LENGTH:
        return ()
    return (token, *{token[:i] + token[i + 1 :] for i in range(len(token))})


def _capped(postings: set[str] | None, cap: int) -> set[str] | None:
    return postings if postings is not None and len(postings) <= cap else None


def _add_hits(hits: dict[str, float], postings: set[str] | None, weight: float) -> None:
    if postings:
        for account_id in postings:
            hits[account_id] = hits.get(account_id, 0.0) + weight


def _discard(postings: dict[str, set[str]], entry: str, account_id: str) -> None:
    ids = postings.get(entry)
    if ids is not None:
        ids.discard(account_id)
        if not ids:
            del postings[entry]
