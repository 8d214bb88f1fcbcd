"""The words a rep reads: a task subject and body, and the facts every nudge shows, made safe for each medium.

Every value here came from outside (form fills, enrichment, CRM users), so it is cleaned once (control characters
removed, length capped) and then escaped for the medium that shows it: plain text for Salesforce and email, HTML
for HubSpot's rich-text task body and the email's HTML part. Slack escaping lives with the Slack adapter.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from connector.config.actions import LinksConfig, TemplatesConfig
from connector.outbox.model import Assignment, RecordRef

FIELD_LIMIT = 300  # a name, company or title longer than this is noise or an attack; the CRM keeps the original
TEXT_LIMIT = 1500  # score and activity summaries: a paragraph, not a dump
WHY_LINES = 10
MESSAGE_LINES = 40  # an audit summary: counts, a few examples per kind, how to get the rest
SUBJECT_LIMIT = 255  # Salesforce Task.Subject is 255 characters; HubSpot shows about as much
BODY_LIMIT = 30_000  # under Salesforce Description (32k) and HubSpot hs_task_body (65k) with room for markup

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_ACTION_WORDS = {"call": "Call", "email": "Email", "research": "Research"}


def clean(value: object, limit: int = FIELD_LIMIT, *, single_line: bool = True) -> str:
    """``value`` as safe text: control and bidi characters removed, whitespace tidied, at most ``limit`` characters."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    text = re.sub(r"\s+", " ", text) if single_line else re.sub(r"[ \t]+", " ", text)
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def record_url(ref: RecordRef, links: LinksConfig) -> str | None:
    """A link to the record in its CRM's UI, or None when the config does not say where the CRM lives."""
    if ref.crm == "hubspot" and links.hubspot_portal_id:
        object_type = {"contacts": "0-1", "companies": "0-2"}.get(ref.object, ref.object)
        base = links.hubspot_app_url.rstrip("/")
        return f"{base}/contacts/{links.hubspot_portal_id}/record/{object_type}/{ref.native_id}"
    if ref.crm == "salesforce" and links.salesforce_instance_url:
        return f"{links.salesforce_instance_url.rstrip('/')}/lightning/r/{ref.object}/{ref.native_id}/view"
    return None


def _fill(template: str, assignment: Assignment) -> str:
    values = {
        "action": _ACTION_WORDS.get(assignment.next_action, "Follow up"),
        "lead_name": clean(assignment.card.name, 80) or "new lead",
        "company": clean(assignment.card.company, 80) or "no company",
        "owner_name": clean(assignment.owner.name, 80),
    }
    return template.format_map(_Blank(values))


class _Blank(dict[str, str]):
    """format_map mapping where an unknown placeholder renders empty instead of raising."""

    def __missing__(self, key: str) -> str:
        return ""


def task_subject(assignment: Assignment, templates: TemplatesConfig) -> str:
    """The task subject: the next action and who, from the configured template."""
    return clean(_fill(templates.task_subject, assignment), SUBJECT_LIMIT)


def notification_title(assignment: Assignment, templates: TemplatesConfig) -> str:
    """The headline of a Slack or email nudge: the message's own title, else the configured new-lead template."""
    if assignment.message is not None:
        return clean(assignment.message.title, SUBJECT_LIMIT)
    return clean(_fill(templates.notification_title, assignment), SUBJECT_LIMIT)


@dataclass(frozen=True)
class Section:
    """A titled group of facts: (label, text) rows or free lines."""

    title: str
    rows: tuple[tuple[str, str], ...] = ()
    lines: tuple[str, ...] = ()


def sections(assignment: Assignment) -> tuple[Section, ...]:
    """The facts a rep acts on, cleaned, in reading order: the message (if any), who, why, activity, score, account.

    An audit summary is about no lead: it shows its message alone.
    """
    message = assignment.message
    if message is None:
        return _lead_sections(assignment)
    rows = _rows(*message.rows)
    lines = tuple(clean(line, TEXT_LIMIT) for line in message.lines[:MESSAGE_LINES] if clean(line))
    own = []
    if rows:
        own.append(Section(clean(message.heading, FIELD_LIMIT) or "Details", rows=rows))
    if lines:
        own.append(Section(clean(message.lines_heading, FIELD_LIMIT) or "Note", lines=lines))
    return tuple(own) if message.kind == "audit_summary" else (*own, *_lead_sections(assignment))


def _lead_sections(assignment: Assignment) -> tuple[Section, ...]:
    card = assignment.card
    person = _rows(
        ("Name", card.name),
        ("Role", card.title),
        ("Company", card.company),
        ("Size", card.company_size),
        ("Country", card.country),
        ("Email", card.email),
        ("Source", card.source),
        ("Due", _due_text(assignment.due_ms)),
    )
    found = [Section("Lead", rows=person)]
    why = tuple(clean(line, FIELD_LIMIT) for line in assignment.why[:WHY_LINES] if clean(line))
    if why:
        found.append(Section("Why you", lines=why))
    if card.activity_text:
        found.append(Section("Recent activity", lines=(clean(card.activity_text, TEXT_LIMIT),)))
    if card.score_text:
        found.append(Section("Score", lines=(clean(card.score_text, TEXT_LIMIT),)))
    if assignment.account is not None:
        found.append(Section("Account", rows=_account_rows(assignment)))
    return tuple(found)


def _rows(*pairs: tuple[str, str | None]) -> tuple[tuple[str, str], ...]:
    return tuple((label, clean(value)) for label, value in pairs if clean(value))


def _account_rows(assignment: Assignment) -> tuple[tuple[str, str], ...]:
    account = assignment.account
    assert account is not None
    status = "customer" if account.is_customer else "prospect"
    if account.has_open_opportunity:
        status += ", open opportunity"
    engaged = None if account.engaged_contacts is None else f"{account.engaged_contacts} other engaged contacts"
    return _rows(("Account", account.name), ("Status", status), ("Owner", account.owner_name), ("Engaged", engaged))


def _due_text(due_ms: int) -> str | None:
    if due_ms <= 0:
        return None
    return datetime.fromtimestamp(due_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def plain_body(assignment: Assignment, links: LinksConfig) -> str:
    """The body as plain text (Salesforce Task.Description, the email's text part)."""
    out: list[str] = []
    for section in sections(assignment):
        out.append(f"{section.title}:")
        out.extend(f"  {label}: {text}" for label, text in section.rows)
        out.extend(f"  - {line}" for line in section.lines)
        out.append("")
    out.extend(_link_lines(assignment, links))
    return _cap("\n".join(out).strip())


def html_body(assignment: Assignment, links: LinksConfig) -> str:
    """The body as escaped HTML (HubSpot hs_task_body, the email's HTML part)."""
    out: list[str] = []
    for section in sections(assignment):
        out.append(f"<p><strong>{html.escape(section.title)}</strong></p>")
        if section.rows:
            items = "".join(f"<li>{html.escape(label)}: {html.escape(text)}</li>" for label, text in section.rows)
            out.append(f"<ul>{items}</ul>")
        if section.lines:
            out.append("<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in section.lines) + "</ul>")
    for label, url in _links(assignment, links):
        out.append(f'<p><a href="{html.escape(url, quote=True)}">{html.escape(label)}</a></p>')
    return _cap("".join(out))


def _links(assignment: Assignment, links: LinksConfig) -> list[tuple[str, str]]:
    found = []
    url = record_url(assignment.target, links)
    if url:
        found.append(("Open the record", url))
    booking = safe_url(assignment.owner.booking_link)
    if booking:
        found.append(("Your booking link", booking))
    return found


def _link_lines(assignment: Assignment, links: LinksConfig) -> list[str]:
    return [f"{label}: {url}" for label, url in _links(assignment, links)]


def safe_url(value: str | None) -> str | None:
    """``value`` if it is a plain http(s) URL without spaces or markup, else None (never a javascript: link)."""
    text = clean(value, 2000)
    if not re.fullmatch(r"https?://[^\s<>\"'|]+", text):
        return None
    return text


def _cap(text: str) -> str:
    return text if len(text) <= BODY_LIMIT else text[: BODY_LIMIT - 1] + "…"


def decision_marker(decision_id: str) -> str:
    """The token that ties a CRM task to its decision (searchable, and shown to nobody who minds)."""
    return f"leadrelay-decision-{decision_id}"
