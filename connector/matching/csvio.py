"""Accounts and leads from CSV files (the ``leadrelay match`` command and the evaluation set).

Accounts: ``id,name,domain,extra_domains,country,parent_id`` (extra_domains ``;``-separated, empty cells allowed).
Leads: ``id,email,company,country``. A bad row never stops the file: it is skipped (no id, no name, a repeated id) or
kept without the bad cell (an unusable email, domain or country), and reported as a ``RowProblem`` with its line.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from connector.errors import InvalidRecordError
from connector.models import Account, Lead
from connector.normalize import clean_text, country_code, email, registered_domain

ACCOUNT_COLUMNS = ("id", "name", "domain", "extra_domains", "country", "parent_id")
LEAD_COLUMNS = ("id", "email", "company", "country")
CSV_CRM = "csv"
T = TypeVar("T")


@dataclass(frozen=True)
class RowProblem:
    """A row that was skipped or partly used: its line in the file (header is line 1) and why."""

    line: int
    record_id: str | None
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}" + (f" ({self.record_id})" if self.record_id else "") + f": {self.reason}"


def read_accounts(path: str | Path) -> tuple[list[Account], list[RowProblem]]:
    """Accounts from a CSV file, normalized, plus the problems found; raises InvalidRecordError on a bad header."""
    return _read(path, ACCOUNT_COLUMNS[:2], _account)


def read_leads(path: str | Path) -> tuple[list[Lead], list[RowProblem]]:
    """Leads from a CSV file, normalized, plus the problems found; raises InvalidRecordError on a bad header."""
    return _read(path, LEAD_COLUMNS[:1], _lead)


R = TypeVar("R", Account, Lead)


def _read(
    path: str | Path,
    required: tuple[str, ...],
    build: Callable[[int, dict[str, str], set[str], list[RowProblem]], R | None],
) -> tuple[list[R], list[RowProblem]]:
    """Every row ``build`` accepts, in file order; an id already read makes a later row a problem, not a record."""
    records: list[R] = []
    problems: list[RowProblem] = []
    seen: set[str] = set()
    for line, row in _rows(path, required):
        record = build(line, row, seen, problems)
        if record is not None:
            seen.add(record.id)
            records.append(record)
    return records, problems


def _rows(path: str | Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    with Path(path).open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip().lower() for h in reader.fieldnames or []]
        missing = [c for c in required if c not in header]
        if missing:
            raise InvalidRecordError(f"{path}: missing column(s) {', '.join(missing)}", reason="missing_columns")
        reader.fieldnames = header
        for row in reader:
            yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if k is not None and v is not None}


def _record_id(line: int, row: dict[str, str], seen: set[str], problems: list[RowProblem]) -> str | None:
    record_id = row.get("id", "")
    if not record_id:
        problems.append(RowProblem(line, None, "no id: row skipped"))
        return None
    if record_id in seen:
        problems.append(RowProblem(line, record_id, "id repeated from an earlier row: row skipped"))
        return None
    return record_id


def _account(line: int, row: dict[str, str], seen: set[str], problems: list[RowProblem]) -> Account | None:
    account_id = _record_id(line, row, seen, problems)
    if account_id is None:
        return None
    name = clean_text(row.get("name"))
    if name is None:
        problems.append(RowProblem(line, account_id, "no name: row skipped"))
        return None
    cells = _Row(line, account_id, problems)
    domain = cells.cell("domain", row.get("domain"), registered_domain)
    extra = [cells.cell("extra domain", d, registered_domain) for d in _split(row)]
    return Account(
        id=account_id,
        crm=CSV_CRM,
        native_id=account_id,
        name=name,
        domain=domain,
        extra_domains=tuple(dict.fromkeys(d for d in extra if d and d != domain)),
        country=cells.cell("country", row.get("country"), country_code),
        parent_id=row.get("parent_id") or None,
    )


def _split(row: dict[str, str]) -> list[str]:
    return [d.strip() for d in row.get("extra_domains", "").replace(",", ";").split(";") if d.strip()]


def _lead(line: int, row: dict[str, str], seen: set[str], problems: list[RowProblem]) -> Lead | None:
    lead_id = _record_id(line, row, seen, problems)
    if lead_id is None:
        return None
    cells = _Row(line, lead_id, problems)
    address = cells.cell("email", row.get("email"), email)
    return Lead(
        id=lead_id,
        crm=CSV_CRM,
        native_id=lead_id,
        object="csv",
        email=address,
        email_domain=cells.cell("email domain", address, registered_domain),
        company=clean_text(row.get("company")),
        country=cells.cell("country", row.get("country"), country_code),
    )


@dataclass(frozen=True)
class _Row:
    """One row being read: where it is, and where its problems go."""

    line: int
    record_id: str
    problems: list[RowProblem]

    def cell(self, what: str, value: str | None, parser: Callable[[str], T | None]) -> T | None:
        """``parser(value)``, or None with a RowProblem saying which cell was dropped and why."""
        try:
            return parser(value) if value else None
        except InvalidRecordError as exc:
            self.problems.append(RowProblem(self.line, self.record_id, f"{what} {value!r} dropped ({exc.reason})"))
            return None
