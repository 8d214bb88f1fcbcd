"""``match_account``: the one account a lead belongs to, by existing person, then email domain, then company name.

The order is the order of evidence strength: the same person already in a CRM beats the employer's domain, which beats
what the person typed as a company. Each step either decides, or says in ``reasons`` why it could not, and the next
step runs. Below ``min_confidence`` the matcher abstains and hands the best candidates to a reviewer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from connector.config.matching import MatchingConfig
from connector.matching import explain
from connector.matching.freemail import free_mail_domains
from connector.matching.index import AccountIndex
from connector.matching.names import NameKey, is_leading_part, name_key, name_similarity
from connector.matching.result import AccountMatch, CandidateMethod, MatchCandidate, MatchMethod, PersonLookup
from connector.models import Account, Lead
from connector.normalize import optional, registered_domain

EMAIL_CONFIDENCE = 1.0
DOMAIN_CONFIDENCE = 0.95  # a domain names the employer, but shared and stale domains exist
DOMAIN_NAME_BONUS = 0.04  # among accounts sharing a domain, the one named like the typed company wins
DOMAIN_TIE_MARGIN = 0.01  # domain scores differ only by the name bonus: closer than this is the same company
ACRONYM_SCORE = 0.85  # "IBM" for "International Business Machines": strong, but acronyms do collide
# "Toyota" typed for "Toyota Motor Corporation": people type the short brand. Enough to match when it is the only
# such account; two accounts starting with the same brand tie and the matcher abstains.
LEADING_PART_SCORE = 0.85

_DEFAULT_CONFIG = MatchingConfig()


@dataclass(frozen=True)
class _Scored:
    account: Account
    score: float
    method: CandidateMethod
    note: str | None = None  # why a family is represented by this account (parent policy), if not obvious
    extends: bool = False  # the typed name is the start of this account's longer name ("Toyota" / "Toyota Motor")


@dataclass(frozen=True)
class _Decision:
    account: Account
    confidence: float
    reasons: tuple[str, ...]


def match_account(
    lead: Lead,
    index: AccountIndex,
    person_lookup: PersonLookup | None = None,
    config: MatchingConfig | None = None,
) -> AccountMatch:
    """Match ``lead`` to at most one indexed account; deterministic for the same lead, accounts and config."""
    config = config or _DEFAULT_CONFIG
    reasons: list[str] = []
    considered: list[_Scored] = []
    if lead.email and person_lookup is not None:
        by_person = _by_person(lead, index, person_lookup, config, reasons)
        if by_person is not None:
            return by_person
    domain_result = _by_domain(lead, index, config, reasons, considered)
    if domain_result is not None:
        return domain_result
    if config.name_matching:
        name_result = _by_name(lead, index, config, reasons, considered)
        if name_result is not None:
            return name_result
    return _unmatched(considered, config, reasons)


# -- 1. an existing person with the same email ----------------------------------------------------------------------


def _by_person(
    lead: Lead, index: AccountIndex, lookup: PersonLookup, config: MatchingConfig, reasons: list[str]
) -> AccountMatch | None:
    assert lead.email is not None
    person = lookup(lead.email)
    if person is None or person.person_id == lead.id:
        return None
    account = index.get(person.account_id) if person.account_id else None
    if account is None:
        reasons.append(explain.known_person_without_account(person.person_id))
        return None
    found = [*reasons, explain.known_person(person.person_id, account)]
    if config.parent_policy == "roll_up_to_parent" and (root := index.get(index.root_of(account.id))) != account:
        assert root is not None
        found.append(explain.rolled_up(account, root))
        account = root
    candidate = MatchCandidate(account.id, account.name, EMAIL_CONFIDENCE, "email")
    return AccountMatch(
        account_id=account.id,
        method="email",
        confidence=EMAIL_CONFIDENCE,
        candidates=(candidate,),
        reasons=tuple(found),
        owner_key=person.owner_key or account.owner_key,  # the person's own owner first: that is the continuity
    )


# -- 2. the email's registered domain ---------------------------------------------------------------------------------


def _by_domain(
    lead: Lead, index: AccountIndex, config: MatchingConfig, reasons: list[str], considered: list[_Scored]
) -> AccountMatch | None:
    domain = lead.email_domain or optional(registered_domain, lead.email)
    if domain is None:
        reasons.append(explain.no_domain())
        return None
    host = lead.email.rpartition("@")[2] if lead.email else domain
    free = free_mail_domains(config.free_mail_add, config.free_mail_remove)
    if free.is_free(host) or free.is_free(domain):
        reasons.append(explain.free_mail(domain))
        return None
    accounts = index.accounts_for_domain(domain)
    if not accounts:
        reasons.append(explain.domain_unlisted(domain))
        return None
    typed = name_key(lead.company)
    scored = [_Scored(a, _domain_score(typed, a, index), "domain") for a in accounts]
    considered.extend(scored)
    decision = _decide(scored, lead, index, config, "domain")
    if decision.confidence < config.min_confidence:
        return None
    first = explain.domain_match(domain, _evidence(scored, decision).account)
    return _matched(decision, "domain", (*reasons, first), scored, config)


def _domain_score(typed: NameKey | None, account: Account, index: AccountIndex) -> float:
    own = index.name_of(account.id)
    if typed is None or own is None:
        return DOMAIN_CONFIDENCE
    return DOMAIN_CONFIDENCE + DOMAIN_NAME_BONUS * name_similarity(typed, own, index.token_weight, index.knows_token)


# -- 3. the company name the lead typed -------------------------------------------------------------------------------


def _by_name(
    lead: Lead, index: AccountIndex, config: MatchingConfig, reasons: list[str], considered: list[_Scored]
) -> AccountMatch | None:
    typed = name_key(lead.company)
    if typed is None:
        reasons.append(explain.no_company())
        return None
    scored = _score_names(typed, index, config.max_name_candidates)
    if not scored:
        reasons.append(explain.no_name_candidates(lead.company or ""))
        return None
    considered.extend(scored)
    decision = _decide(_relevant(scored, config), lead, index, config, "name")
    if decision.confidence < config.min_confidence:
        return None
    shown = _evidence(scored, decision)
    first = (
        explain.acronym_match(lead.company or "", shown.account)
        if shown.method == "acronym"
        else explain.name_match(lead.company or "", shown.account, shown.score)
    )
    return _matched(decision, "name", (*reasons, first), scored, config)


def _relevant(scored: list[_Scored], config: MatchingConfig) -> list[_Scored]:
    """The candidates that can affect the decision: near the best, at or above the threshold, or a typed brand's."""
    floor = min(config.min_confidence, max(s.score for s in scored) - config.near_tie_margin)
    return [s for s in scored if s.score >= floor or s.extends]


def _evidence(scored: Sequence[_Scored], decision: _Decision) -> _Scored:
    """The scored candidate that justifies the decision: the chosen account itself, or its family's best."""
    for candidate in scored:
        if candidate.account.id == decision.account.id:
            return candidate
    return max(scored, key=lambda s: (s.score, s.account.id))


def _score_names(typed: NameKey, index: AccountIndex, limit: int) -> list[_Scored]:
    weights: dict[str, float] = {}

    def weight(token: str) -> float:  # the same words recur across candidates: weigh each once per lead
        value = weights.get(token)
        if value is None:
            value = weights[token] = index.token_weight(token)
        return value

    scored = []
    for account_id in index.name_candidates(typed, limit):
        account, own = index.get(account_id), index.name_of(account_id)
        if account is None or own is None:
            continue
        similarity = name_similarity(typed, own, weight, index.knows_token)
        extends = is_leading_part(typed, own, weight)
        if _is_acronym_of(typed, own) and similarity < ACRONYM_SCORE:
            scored.append(_Scored(account, ACRONYM_SCORE, "acronym"))
        elif extends:
            scored.append(_Scored(account, max(similarity, LEADING_PART_SCORE), "name", extends=True))
        elif similarity > 0:
            scored.append(_Scored(account, similarity, "name"))
    return scored


def _is_acronym_of(a: NameKey, b: NameKey) -> bool:
    """True when one name is typed as the acronym of the other ("IBM" / "International Business Machines")."""
    return bool(
        (len(a.tokens) == 1 and len(a.compact) >= 3 and a.compact in b.acronyms)
        or (len(b.tokens) == 1 and len(b.compact) >= 3 and b.compact in a.acronyms)
    )


# -- choosing among qualifying accounts -------------------------------------------------------------------------------


def _decide(
    scored: Sequence[_Scored], lead: Lead, index: AccountIndex, config: MatchingConfig, method: MatchMethod
) -> _Decision:
    """One account from scored candidates: family policy, then near ties (country), then tie-breakers."""
    reasons: list[str] = []
    families = _by_family(scored, index)
    representatives = [_represent(members, lead, index, config) for members in families]
    representatives.sort(key=lambda s: (-s.score, s.account.id))
    best = representatives[0]
    margin = DOMAIN_TIE_MARGIN if method == "domain" else config.near_tie_margin
    contenders = [s for s in representatives if s.score >= best.score - margin]
    if best.extends:
        # "Xanrais" typed, accounts "Xanrais Partners" and "Xanrais Games": whatever the generic-word weights say,
        # every account whose name starts with the typed brand is equally plausible.
        contenders += [s for s in representatives if s.extends and s not in contenders]
    if len(contenders) > 1 and lead.country:
        local = [s for s in contenders if s.account.country == lead.country]
        if 0 < len(local) < len(contenders):
            contenders = local
            if len(local) == 1:
                reasons.append(explain.country_tie(lead.country, local[0].account))
    confidence = best.score
    if method == "name" and len({_name_of(s, index) for s in contenders}) > 1:
        # Differently named companies, equally likely: the pick is a coin toss, so the confidence is the best
        # score's share of all the tied scores (two tied companies give about half) and the matcher abstains.
        confidence = best.score * best.score / sum(s.score for s in contenders)
        reasons.append(explain.ambiguous([s.account for s in contenders], confidence))
    chosen = _break_ties(contenders, config, reasons)
    if chosen.note:
        reasons.insert(0, chosen.note)
    return _Decision(chosen.account, max(0.0, round(confidence, 4)), tuple(reasons))


def _name_of(scored: _Scored, index: AccountIndex) -> str:
    key = index.name_of(scored.account.id)
    return key.key if key else scored.account.id


def _by_family(scored: Sequence[_Scored], index: AccountIndex) -> list[list[_Scored]]:
    families: dict[str, list[_Scored]] = {}
    for candidate in scored:
        families.setdefault(index.root_of(candidate.account.id), []).append(candidate)
    return [families[root] for root in sorted(families)]


def _represent(members: list[_Scored], lead: Lead, index: AccountIndex, config: MatchingConfig) -> _Scored:
    """The one account a family of related candidates stands for, carrying the family's best score."""
    top = max(s.score for s in members)
    ranked = sorted(members, key=lambda s: (-s.score, len(index.ancestors(s.account.id)), s.account.id))
    if config.parent_policy == "roll_up_to_parent":
        root = index.get(index.root_of(ranked[0].account.id))
        assert root is not None
        note = explain.rolled_up(ranked[0].account, root) if root.id != ranked[0].account.id else None
        return _Scored(root, top, ranked[0].method, note, ranked[0].extends)
    chosen = ranked[0]
    if lead.country and chosen.account.country != lead.country:
        local = [s for s in ranked if s.account.country == lead.country and s.score >= config.min_confidence]
        if local:
            note = explain.child_by_country(lead.country, local[0].account, chosen.account)
            return _Scored(local[0].account, top, local[0].method, note, chosen.extends)
    return _Scored(chosen.account, top, chosen.method, extends=chosen.extends)


def _break_ties(contenders: list[_Scored], config: MatchingConfig, reasons: list[str]) -> _Scored:
    if len(contenders) == 1:
        return contenders[0]
    ranked = sorted(contenders, key=lambda s: (_tie_key(s.account, config), s.account.id))
    first, second = ranked[0], ranked[1]
    breaker = next(
        (b for b in config.tie_breakers if _tie_value(first.account, b) != _tie_value(second.account, b)),
        "stable id order",
    )
    reasons.append(explain.tie_broken(first.account, second.account, breaker))
    return first


def _tie_key(account: Account, config: MatchingConfig) -> tuple[int, ...]:
    return tuple(_tie_value(account, breaker) for breaker in config.tie_breakers)


def _tie_value(account: Account, breaker: str) -> int:
    """Smaller sorts first: customers, open opportunities, recent activity, more contacts."""
    if breaker == "customer":
        return 0 if account.is_customer else 1
    if breaker == "open_opportunity":
        return 0 if account.has_open_opportunity else 1
    if breaker == "recent_activity":
        return -(account.last_activity_ms or 0)
    return -account.contact_count


# -- results ----------------------------------------------------------------------------------------------------------


def _matched(
    decision: _Decision,
    method: MatchMethod,
    reasons: tuple[str, ...],
    scored: Sequence[_Scored],
    config: MatchingConfig,
) -> AccountMatch:
    return AccountMatch(
        account_id=decision.account.id,
        method=method,
        confidence=decision.confidence,
        candidates=_top_candidates(scored, config.review_candidates),
        reasons=(*reasons, *decision.reasons),
        owner_key=decision.account.owner_key,
    )


def _unmatched(considered: Sequence[_Scored], config: MatchingConfig, reasons: list[str]) -> AccountMatch:
    candidates = _top_candidates(considered, config.review_candidates)
    if considered:
        best = _top_candidates(considered, 1)[0]
        account = next(s.account for s in considered if s.account.id == best.account_id)
        reasons.append(explain.below_threshold(account, best.score, config.min_confidence))
    else:
        reasons.append(explain.nothing_found())
    return AccountMatch(account_id=None, method="none", confidence=0.0, candidates=candidates, reasons=tuple(reasons))


def _top_candidates(scored: Sequence[_Scored], limit: int) -> tuple[MatchCandidate, ...]:
    best: dict[str, _Scored] = {}
    for s in scored:
        if s.account.id not in best or s.score > best[s.account.id].score:
            best[s.account.id] = s
    ranked = sorted(best.values(), key=lambda s: (-s.score, s.account.id))[:limit]
    return tuple(MatchCandidate(s.account.id, s.account.name, round(s.score, 4), s.method) for s in ranked)
