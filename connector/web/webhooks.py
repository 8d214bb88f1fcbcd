"""HubSpot webhooks: v3 signature checks, replay refusal, and a durable, deduplicating event store.

``POST /webhooks/hubspot`` answers 200 only after the events are committed to SQLite, so an accepted event is never
lost; HubSpot retries anything else. Checks, in order: body size (413), timestamp present and within 5 minutes
(401), signature over method + public URI + body + timestamp in constant time (401), a signature already seen (401:
a replay), a JSON array of events (400). HubSpot's ``eventId`` alone is not unique, so redeliveries are recognised
by subscriptionId + eventId + occurredAt + objectId.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from connector.db import Migration, migrate, transaction
from connector.errors import LeadrelayError

COMPONENT = "webhooks"
# HubSpot decodes exactly these escapes in the URI before signing (developers.hubspot.com, "Validating requests").
_DECODED = {
    "%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
    "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";",
}  # fmt: skip
_REQUIRED = ("subscriptionId", "eventId", "occurredAt", "objectId")
SEEN_SIGNATURE_TTL_S = 900  # longer than the 5-minute window: an older replay fails on its timestamp anyway

MIGRATIONS = (
    Migration(
        1,
        "webhook events and seen signatures",
        """
        CREATE TABLE webhook_events (
            dedup_key TEXT PRIMARY KEY,
            subscription_type TEXT NOT NULL,
            object_id TEXT NOT NULL,
            occurred_at INTEGER NOT NULL,
            received_at REAL NOT NULL,
            processed_at REAL,
            payload TEXT NOT NULL
        );
        CREATE INDEX webhook_events_waiting ON webhook_events (processed_at, received_at);
        CREATE TABLE webhook_signatures (
            signature TEXT PRIMARY KEY,
            timestamp_ms INTEGER NOT NULL,
            received_at REAL NOT NULL
        );
        """,
    ),
)


class WebhookRejected(LeadrelayError):
    """A delivery we refuse; ``reason`` is a short metric label, ``status`` the HTTP answer."""

    def __init__(self, reason: str, status: int, message: str) -> None:
        super().__init__(message, status=status)
        self.reason = reason


@dataclass(frozen=True)
class WebhookEvent:
    """One stored event: what it is about and when it arrived."""

    dedup_key: str
    subscription_type: str
    object_id: str
    occurred_at: int
    received_at: float


def install(db: sqlite_utils.Database) -> None:
    """Create or upgrade the webhook tables."""
    migrate(db, COMPONENT, MIGRATIONS)


# -- verification ------------------------------------------------------------------------------------------------------
def signed_uri(uri: str) -> str:
    """The URI as HubSpot signs it: the listed percent-escapes decoded (either case), nothing else."""
    out, i = [], 0
    while i < len(uri):
        escape = uri[i : i + 3].upper()
        if uri[i] == "%" and escape in _DECODED:
            out.append(_DECODED[escape])
            i += 3
        else:
            out.append(uri[i])
            i += 1
    return "".join(out)


def expected_signature(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """base64(HMAC-SHA256(secret, method + decoded URI + body + timestamp))."""
    message = method.encode() + signed_uri(uri).encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def verify(
    secret: str,
    *,
    method: str,
    uri: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    max_age_s: float,
    now: float | None = None,
) -> None:
    """Raise ``WebhookRejected`` unless the request carries a fresh, valid v3 signature."""
    if not signature or not timestamp:
        raise WebhookRejected("unsigned", 401, "missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp")
    try:
        stamp_ms = int(timestamp)
    except ValueError:
        raise WebhookRejected("bad_timestamp", 401, "the request timestamp is not epoch milliseconds") from None
    at = time.time() if now is None else now
    if abs(at * 1000 - stamp_ms) > max_age_s * 1000:
        raise WebhookRejected("stale", 401, "the request timestamp is outside the accepted window")
    wanted = expected_signature(secret, method, uri, body, timestamp)
    if not hmac.compare_digest(wanted.encode(), signature.encode()):
        raise WebhookRejected("bad_signature", 401, "the signature does not match")


def parse_events(body: bytes) -> list[dict[str, Any]]:
    """The body's events; raises ``WebhookRejected`` (400) unless it is a JSON array of well-formed events."""
    try:
        events = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WebhookRejected("malformed", 400, "the body is not JSON") from None
    if not isinstance(events, list):
        raise WebhookRejected("malformed", 400, "the body must be a JSON array of events")
    for event in events:
        if not isinstance(event, dict) or any(event.get(k) is None for k in _REQUIRED):
            raise WebhookRejected("malformed", 400, f"each event needs {', '.join(_REQUIRED)}")
        if not isinstance(event["occurredAt"], int):
            raise WebhookRejected("malformed", 400, "occurredAt must be epoch milliseconds")
    return events


def dedup_key(event: dict[str, Any]) -> str:
    """The identity of an event across redeliveries (eventId alone is not unique)."""
    return ":".join(str(event[k]) for k in _REQUIRED)


# -- the store --------------------------------------------------------------------------------------------------------
def store(db: sqlite_utils.Database, signature: str, timestamp: str, events: Sequence[dict[str, Any]]) -> int:
    """Commit the events (and the signature, against replays) in one transaction; returns how many were new.

    Raises ``WebhookRejected`` (401) when this signature was accepted before: the whole request is a replay.
    """
    now = time.time()
    with transaction(db) as conn:
        try:
            conn.execute(
                "INSERT INTO webhook_signatures (signature, timestamp_ms, received_at) VALUES (?, ?, ?)",
                (signature, int(timestamp), now),
            )
        except sqlite3.IntegrityError:
            raise WebhookRejected("replay", 401, "this signed request was already received") from None
        before = conn.total_changes
        conn.executemany(
            "INSERT OR IGNORE INTO webhook_events"
            " (dedup_key, subscription_type, object_id, occurred_at, received_at, payload) VALUES (?, ?, ?, ?, ?, ?)",
            [_row(event, now) for event in events],
        )
        return conn.total_changes - before


def _row(event: dict[str, Any], now: float) -> tuple[Any, ...]:
    return (
        dedup_key(event),
        str(event.get("subscriptionType") or ""),
        str(event["objectId"]),
        int(event["occurredAt"]),
        now,
        json.dumps(event, separators=(",", ":"), sort_keys=True),
    )


def waiting(db: sqlite_utils.Database, *, limit: int = 10_000) -> list[WebhookEvent]:
    """Events not yet turned into work, oldest first."""
    rows = db.conn.execute(
        "SELECT dedup_key, subscription_type, object_id, occurred_at, received_at FROM webhook_events"
        " WHERE processed_at IS NULL ORDER BY received_at LIMIT ?",
        (limit,),
    ).fetchall()
    return [WebhookEvent(str(k), str(t), str(o), int(at), float(r)) for k, t, o, at, r in rows]


def mark_processed(db: sqlite_utils.Database, keys: Sequence[str], *, now: float | None = None) -> None:
    """Record that these events' work is done (their records are synced and routed)."""
    with transaction(db) as conn:
        mark_processed_in(conn, keys, now=time.time() if now is None else now)


def prune(db: sqlite_utils.Database, *, keep_events_s: float = 7 * 86_400, now: float | None = None) -> None:
    """Forget old signatures (replays of them fail the timestamp check) and processed events after a week."""
    at = time.time() if now is None else now
    with transaction(db) as conn:
        conn.execute("DELETE FROM webhook_signatures WHERE received_at < ?", (at - SEEN_SIGNATURE_TTL_S,))
        conn.execute(
            "DELETE FROM webhook_events WHERE processed_at IS NOT NULL AND processed_at < ?", (at - keep_events_s,)
        )


def mark_processed_in(conn: sqlite3.Connection, keys: Sequence[str], *, now: float) -> None:
    """``mark_processed`` inside the caller's transaction (so the events and the records they named commit together)."""
    conn.executemany("UPDATE webhook_events SET processed_at = ? WHERE dedup_key = ?", [(now, k) for k in keys])
