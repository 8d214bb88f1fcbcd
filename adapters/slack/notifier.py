"""Slack nudges through slack_sdk's WebClient: a Block Kit message to the rep's DM (or a configured channel).

Exactly-once: each message carries Slack message metadata ``{"event_type": "leadrelay_assignment",
"event_payload": {"decision_id": ...}}``. Before re-sending after an attempt that may have gone through, the
notifier reads the channel's recent history with ``include_all_metadata`` and looks for the decision id.
"""

from __future__ import annotations

import urllib.error
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from adapters.slack.blocks import blocks_for, fallback_text
from connector.config.actions import SlackConfig
from connector.errors import (
    AuthError,
    InvalidRecordError,
    LeadrelayError,
    RateLimitedError,
    RequestError,
    ServerError,
    TransportError,
)
from connector.notify import Notification

EVENT_TYPE = "leadrelay_assignment"
HISTORY_PAGES = 5  # 5 x 200 messages back: a rep's DM from the bot never holds more since a decision
_AUTH_ERRORS = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "missing_scope"}
_RECIPIENT_ERRORS = {"users_not_found", "user_not_found", "channel_not_found", "is_archived", "user_disabled"}
_RETRIABLE_ERRORS = {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}


def build_client(config: SlackConfig) -> WebClient:
    """A WebClient for ``config``; slack_sdk's own retries are off (ours check before re-sending)."""
    token = config.token.get_secret_value() if config.token else None
    return WebClient(token=token, base_url=config.base_url, timeout=int(config.timeout_s), retry_handlers=[])


class SlackNotifier:
    """Sends notifications to Slack (``channel = "slack"`` for the outbox)."""

    channel = "slack"

    def __init__(self, config: SlackConfig, client: WebClient | None = None) -> None:
        self.config = config
        self.client = client or build_client(config)
        self._dm_channels: dict[str, str] = {}  # user id -> DM channel id (stable for a bot and a user)
        self._users: dict[str, str] = {}  # email -> user id

    def send(self, note: Notification) -> str:
        """Post the Block Kit message; returns ``channel/ts``."""
        channel = self.destination(note)
        response = _call(
            lambda: self.client.chat_postMessage(
                channel=channel,
                text=fallback_text(note),
                blocks=blocks_for(note),
                metadata={"event_type": EVENT_TYPE, "event_payload": {"decision_id": note.decision_id}},
                unfurl_links=False,
                unfurl_media=False,
            )
        )
        return f"{channel}/{response.get('ts')}"

    def find_sent(self, note: Notification) -> str | None:
        """``channel/ts`` of a message already posted for this decision, or None."""
        channel = self.destination(note)
        oldest = f"{max(0, note.decided_ms - 60_000) / 1000:.6f}" if note.decided_ms else None
        cursor = None
        for _page in range(HISTORY_PAGES):
            page = _call(
                lambda c=cursor: self.client.conversations_history(  # type: ignore[misc]
                    channel=channel, oldest=oldest, include_all_metadata=True, limit=200, cursor=c
                )
            )
            for message in page.get("messages") or []:
                if _decision_of(message) == note.decision_id:
                    return f"{channel}/{message.get('ts')}"
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None

    def destination(self, note: Notification) -> str:
        """Where to post: the message's own channel, the configured one, or the rep's DM (looked up once)."""
        if note.channel:
            return note.channel
        if self.config.channel:
            return self.config.channel
        user = note.slack_user_id or self._user_by_email(note)
        if user not in self._dm_channels:
            opened = _call(lambda: self.client.conversations_open(users=user))
            self._dm_channels[user] = str(opened["channel"]["id"])
        return self._dm_channels[user]

    def _user_by_email(self, note: Notification) -> str:
        email = note.slack_email
        if not email:
            raise InvalidRecordError("the rep has no Slack user id or email", reason="no_slack_identity")
        if email.lower() not in self._users:
            found = _call(lambda: self.client.users_lookupByEmail(email=email))
            self._users[email.lower()] = str(found["user"]["id"])
        return self._users[email.lower()]


def _decision_of(message: dict[str, Any]) -> str | None:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != EVENT_TYPE:
        return None
    value = (metadata.get("event_payload") or {}).get("decision_id")
    return None if value is None else str(value)


def _call(fn: Callable[[], Any]) -> Any:
    """Run one Web API call, mapping Slack's failures onto leadrelay's error hierarchy."""
    try:
        return fn()
    except SlackApiError as error:
        raise map_slack_error(error) from error
    except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
        raise TransportError(f"slack unreachable: {error}") from error
    except SlackClientError as error:
        raise RequestError(f"slack client error: {error}") from error


def map_slack_error(error: SlackApiError) -> LeadrelayError:
    """The leadrelay error a Slack API failure means (429 and 5xx retry; auth and recipients do not)."""
    response = error.response
    status = getattr(response, "status_code", None)
    code = str(response.get("error") or "") if response is not None else ""
    if status == 429 or code == "ratelimited":
        retry_after = (getattr(response, "headers", None) or {}).get("Retry-After") or (
            getattr(response, "headers", None) or {}
        ).get("retry-after")
        return RateLimitedError("slack rate limit", status=429, retry_after=float(retry_after or 1))
    if (status or 0) >= 500 or code in _RETRIABLE_ERRORS:
        return ServerError(f"slack {status}: {code}", status=status)
    if code in _AUTH_ERRORS:
        return AuthError(f"slack refused the token: {code}", status=status)
    if code in _RECIPIENT_ERRORS:
        return InvalidRecordError(f"slack cannot reach the rep: {code}", reason=code)
    return RequestError(f"slack error: {code or status}", status=status)
