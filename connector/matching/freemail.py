"""Free-mail and disposable email domains: an address there says nothing about the person's employer.

The shipped lists (MIT, see ``connector/data/free_email_domains/``) are unioned, then the config adds and removes
domains (a company's own webmail, a partner's shared domain). A host matches when it, or any parent domain of it,
is listed: ``eu.mail.yahoo.co.uk`` is free because ``yahoo.co.uk`` is.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

DATA_PACKAGE = "connector"
LIST_FILES = ("free-only.txt", "free-and-disposable.txt")


@lru_cache(maxsize=1)
def shipped_domains() -> frozenset[str]:
    """Every domain on the shipped free-mail and disposable lists (lowercase, ASCII as published)."""
    folder = resources.files(DATA_PACKAGE).joinpath("data", "free_email_domains")
    domains: set[str] = set()
    for name in LIST_FILES:
        text = folder.joinpath(name).read_text(encoding="utf-8")
        domains.update(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return frozenset(domains)


class FreeMailDomains:
    """The effective free-mail set: the shipped lists plus ``add`` minus ``remove``."""

    def __init__(self, add: Iterable[str] = (), remove: Iterable[str] = ()) -> None:
        removed = {d.strip().lower().rstrip(".") for d in remove}
        self._domains = (shipped_domains() | {d.strip().lower().rstrip(".") for d in add}) - removed

    def __len__(self) -> int:
        return len(self._domains)

    def __contains__(self, host: object) -> bool:
        return isinstance(host, str) and self.is_free(host)

    def is_free(self, host: str) -> bool:
        """True when ``host`` or any parent domain of it is on the effective list."""
        labels = host.lower().rstrip(".").split(".")
        # Parents first would not be faster: most lookups are a registered domain that is either listed or not.
        return any(".".join(labels[i:]) in self._domains for i in range(len(labels) - 1))


@lru_cache(maxsize=8)
def free_mail_domains(add: tuple[str, ...] = (), remove: tuple[str, ...] = ()) -> FreeMailDomains:
    """The (cached) effective set for a config's ``free_mail_add`` / ``free_mail_remove``."""
    return FreeMailDomains(add, remove)
