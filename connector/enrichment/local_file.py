"""The local firmographics file: a CSV keyed by company domain, indexed once and re-read when it changes.

Teams export firmographics from a data warehouse or a vendor's bulk file; looking a domain up here costs a dict
access. The file is stat-ed on each lookup (cheap) and re-read when its modification time or size changed, so a
nightly export is picked up without a restart. A re-read that fails keeps the previous index.
"""

from __future__ import annotations

import csv
import threading
from pathlib import Path

from connector.enrichment.provider import Firmographics
from connector.errors import ConfigError
from connector.logs import get_logger

log = get_logger("leadrelay.enrichment")

# Column names as exports spell them -> our field names.
_COLUMNS = {
    "domain": "domain",
    "website": "domain",
    "company": "company",
    "company_name": "company",
    "name": "company",
    "country": "country",
    "country_code": "country",
    "employees": "employees",
    "employee_count": "employees",
    "headcount": "employees",
    "industry": "industry",
}


def normalize_domain(domain: str) -> str:
    """Lowercase, without scheme, ``www.``, path or trailing dot: the key both the file and lookups use."""
    text = domain.strip().lower()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0].rstrip(".")
    return text.removeprefix("www.")


class FirmographicsFile:
    """Firmographics by domain from a CSV file (columns: domain, company, country, employees, industry)."""

    def __init__(self, path: str | Path) -> None:
        """Load ``path`` now; raises ConfigError when it cannot be read or has no domain column."""
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp = self._current_stamp()
        if self._stamp is None:
            raise ConfigError("firmographics file does not exist", path=str(self.path))
        self._index = self._read()

    def lookup(self, domain: str) -> Firmographics | None:
        """What the file says about ``domain`` (re-reading the file first if it changed), or None."""
        self._reload_if_changed()
        return self._index.get(normalize_domain(domain))

    def __len__(self) -> int:
        return len(self._index)

    def _current_stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def _reload_if_changed(self) -> None:
        stamp = self._current_stamp()
        if stamp is None or stamp == self._stamp:
            return  # a file being replaced may vanish for a moment: keep serving the old index
        with self._lock:
            if stamp == self._stamp:
                return
            try:
                self._index = self._read()
            except (OSError, ConfigError, csv.Error, UnicodeDecodeError) as exc:
                log.warning("firmographics_file_reload_failed", path=str(self.path), error=str(exc))
            self._stamp = stamp  # also on failure: retry when the file changes again, not on every lookup

    def _read(self) -> dict[str, Firmographics]:
        with self.path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = {name: _COLUMNS.get(name.strip().lower()) for name in reader.fieldnames or ()}
            if "domain" not in columns.values():
                raise ConfigError("firmographics file needs a 'domain' column", path=str(self.path))
            index: dict[str, Firmographics] = {}
            for row in reader:
                raw = {ours: row[theirs] for theirs, ours in columns.items() if ours and row.get(theirs)}
                domain = normalize_domain(raw.pop("domain", "") or "")
                if domain and domain not in index:  # first row wins: exports list the primary record first
                    index[domain] = Firmographics.from_raw(raw)
        log.info("firmographics_file_loaded", path=str(self.path), domains=len(index))
        return index
