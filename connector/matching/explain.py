"""Plain-language reasons for a match decision, and a readable rendering of an ``AccountMatch``.

Every sentence is written for a sales-ops reviewer, not a developer: account names in quotes, ids in brackets,
scores with two decimals.
"""

from __future__ import annotations

from connector.matching.result import AccountMatch
from connector.models import Account


def label(account: Account) -> str:
    """``'Acme Corp' [hubspot:companies:1]``: how reasons refer to an account."""
    return f"'{account.name}' [{account.id}]"


def known_person(person_id: str, account: Account) -> str:
    """Email step: an existing record with the same email decides, for continuity."""
    return f"the same email already exists on {person_id}, which belongs to {label(account)}: kept for continuity"


def known_person_without_account(person_id: str) -> str:
    """Email step: the same email exists but gives no account."""
    return f"the same email already exists on {person_id}, but that record has no account we know"


def free_mail(domain: str) -> str:
    """Domain step skipped: a free-mail or disposable domain."""
    return f"{domain} is a free-mail or disposable domain, so it says nothing about the employer"


def no_domain() -> str:
    """Domain step skipped: no email domain."""
    return "the lead has no usable email domain"


def domain_unlisted(domain: str) -> str:
    """Domain step found nothing."""
    return f"no account lists the domain {domain}"


def domain_match(domain: str, account: Account) -> str:
    """Domain step decided."""
    return f"the email domain {domain} is listed on {label(account)}"


def name_match(typed: str, account: Account, score: float) -> str:
    """Name step decided by similarity."""
    return f"the company typed, '{typed}', matches the account name {label(account)} (score {score:.2f})"


def acronym_match(typed: str, account: Account) -> str:
    """Name step decided by an acronym."""
    return f"'{typed}' is the acronym of {label(account)}"


def no_company() -> str:
    """Name step skipped: nothing usable typed."""
    return "the lead typed no usable company name"


def no_name_candidates(typed: str) -> str:
    """Name step found no candidate at all."""
    return f"no account name resembles '{typed}'"


def country_tie(country: str, account: Account) -> str:
    """A near tie broken by the lead's country."""
    return f"near tie broken by the lead's country {country}: {label(account)} is in {country}"


def child_by_country(country: str, child: Account, parent: Account) -> str:
    """Parent policy route_to_matching_child picked a subsidiary."""
    return f"routed to the subsidiary {label(child)} in the lead's country {country} rather than {label(parent)}"


def rolled_up(child: Account, parent: Account) -> str:
    """Parent policy roll_up_to_parent replaced the match by its top parent."""
    return f"rolled up from {label(child)} to its top parent {label(parent)} (parent policy roll_up_to_parent)"


def ambiguous(accounts: list[Account], confidence: float) -> str:
    """Differently named companies tied: confidence split."""
    names = ", ".join(label(a) for a in accounts[:3])
    return f"differently named companies are equally likely ({names}): confidence split to {confidence:.2f}"


def tie_broken(chosen: Account, runner_up: Account, breaker: str) -> str:
    """A configured tie-breaker (or the id order) chose among equals."""
    return f"{label(chosen)} chosen over {label(runner_up)} by the tie-breaker '{breaker}'"


def below_threshold(best: Account, score: float, threshold: float) -> str:
    """The matcher abstained: best candidate below min_confidence."""
    return f"the best candidate {label(best)} scored {score:.2f}, below the {threshold:.2f} threshold: left for review"


def nothing_found() -> str:
    """No step produced a candidate."""
    return "no account matched by email, domain or name"


def describe_match(match: AccountMatch) -> str:
    """A multi-line, human-readable account of one match decision (for the CLI and logs)."""
    head = (
        f"matched {match.account_id} by {match.method} (confidence {match.confidence:.2f})"
        if match.matched
        else "unmatched"
    )
    lines = [head, *(f"  - {reason}" for reason in match.reasons)]
    if match.candidates:
        lines.append("  candidates:")
        lines.extend(f"    {c.score:.2f} {c.method:<7} {c.account_id} '{c.name}'" for c in match.candidates)
    return "\n".join(lines)
