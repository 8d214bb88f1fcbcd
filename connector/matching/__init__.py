"""Lead-to-account matching: existing person, then email domain, then company name; explainable and deterministic.

index = AccountIndex.build(accounts)            # once; then index.add(account) / index.remove(id)
match = match_account(lead, index, person_lookup, config.matching)
match.account_id, match.method, match.confidence, match.candidates, match.reasons
"""

from connector.matching.explain import describe_match
from connector.matching.freemail import FreeMailDomains, free_mail_domains
from connector.matching.index import AccountIndex
from connector.matching.matcher import match_account
from connector.matching.result import AccountMatch, MatchCandidate, MatchMethod, PersonLookup, PersonMatch

__all__ = [
    "AccountIndex",
    "AccountMatch",
    "FreeMailDomains",
    "MatchCandidate",
    "MatchMethod",
    "PersonLookup",
    "PersonMatch",
    "describe_match",
    "free_mail_domains",
    "match_account",
]
