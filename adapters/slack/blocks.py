"""A notification as Slack Block Kit, with every outside value escaped for mrkdwn and cut to Slack's limits.

Slack's own escaping rules: ``&``, ``<`` and ``>`` become entities, which is enough to neutralise ``<!channel>``,
``<@U123>`` mentions and ``<http://evil|link>`` links. Limits: 3,000 characters per section text, 150 per header,
10 fields per section, 50 blocks per message, 40,000 characters of fallback text (we stay far below).
"""

from __future__ import annotations

from typing import Any

from connector.notify import Notification

SECTION_LIMIT = 3000
HEADER_LIMIT = 150
FIELD_LIMIT = 2000
FALLBACK_LIMIT = 3000
MAX_FIELDS = 10


def escape(text: str) -> str:
    """``text`` safe for Slack mrkdwn: no mentions, channel pings or links can be smuggled in."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mrkdwn(text: str, limit: int = SECTION_LIMIT) -> dict[str, Any]:
    # Cut before escaping would let an entity push past the limit; cut the escaped text, then drop a broken entity.
    escaped = escape(text)
    if len(escaped) > limit:
        escaped = escaped[: limit - 1]
        amp = escaped.rfind("&")
        if amp != -1 and ";" not in escaped[amp:]:
            escaped = escaped[:amp]
        escaped += "…"
    return {"type": "mrkdwn", "text": escaped}


def blocks_for(note: Notification) -> list[dict[str, Any]]:
    """The message's blocks: header, one section per fact group, and link buttons."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(note.title, HEADER_LIMIT) or "New lead"}}
    ]
    for section in note.sections:
        if section.rows:
            fields = [_mrkdwn(f"{label}\n{text}", FIELD_LIMIT) for label, text in section.rows[:MAX_FIELDS]]
            blocks.append({"type": "section", "text": _mrkdwn(f"*{section.title}*"), "fields": fields})
        if section.lines:
            body = f"*{section.title}*\n" + "\n".join(f"• {line}" for line in section.lines)
            blocks.append({"type": "section", "text": _mrkdwn(body)})
    actions = _buttons(note)
    if actions:
        blocks.append({"type": "actions", "elements": actions})
    return blocks[:50]


def _buttons(note: Notification) -> list[dict[str, Any]]:
    buttons = []
    if note.record_url:
        buttons.append(_button("Open in CRM", note.record_url, "open_record", primary=True))
    if note.booking_link:
        buttons.append(_button("Booking link", note.booking_link, "booking_link"))
    return buttons


def _button(label: str, url: str, action_id: str, *, primary: bool = False) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "url": url[:3000],
        "action_id": action_id,
    }
    if primary:
        button["style"] = "primary"
    return button


def fallback_text(note: Notification) -> str:
    """The notification's plain ``text`` (shown in push notifications and by clients without blocks)."""
    return _cut(escape(f"{note.title}\n{note.plain}"), FALLBACK_LIMIT)
