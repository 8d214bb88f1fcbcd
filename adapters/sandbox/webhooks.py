"""HubSpot-style webhook delivery: contact creations and subscribed property changes, batched and signed (v3).

The store's change listener (on the server's loop thread) turns writes into events and queues them; a sender
thread batches up to 100 events, flushing within ``FLUSH_S`` of the first one, signs each attempt with
``X-HubSpot-Signature-v3`` (base64 HMAC-SHA256 over method + URI + body + timestamp) and POSTs it. Like HubSpot
it retries on 5xx, 429 (honouring Retry-After) and connection failures with exponential backoff, bumping
``attemptNumber``, gives up after ``max_attempts``, and never retries a 4xx.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import queue
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests

from adapters.sandbox.store import Change
from connector.logs import get_logger

if TYPE_CHECKING:
    from adapters.sandbox.context import SandboxContext

log = get_logger("sandbox.webhooks")

BATCH_MAX = 100
FLUSH_S = 0.05
CONTACT_KIND = "hubspot.contacts"
CREATION_SUBSCRIPTION_ID = 1_000_001
PROPERTY_SUBSCRIPTION_BASE = 1_000_100


def sign_v3(secret: str, method: str, uri: str, body: bytes, timestamp_ms: int) -> str:
    """HubSpot's v3 signature of one request: base64(HMAC-SHA256(secret, method + uri + body + timestamp))."""
    message = method.encode() + uri.encode() + body + str(timestamp_ms).encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


@dataclass(frozen=True)
class RetryPolicy:
    """How deliveries are retried: attempts in all, first backoff, backoff cap, and the longest Retry-After honoured."""

    max_attempts: int = 5
    backoff_s: float = 0.1
    max_backoff_s: float = 5.0
    max_retry_after_s: float = 30.0

    def delay(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if retry_after:
            try:
                return min(float(retry_after), self.max_retry_after_s)
            except ValueError:
                pass  # an HTTP-date Retry-After: fall back to backoff
        return min(self.backoff_s * 2 ** (attempt - 1), self.max_backoff_s)


@dataclass
class WebhookTarget:
    """Where events go and which contact properties are subscribed (empty: every property)."""

    url: str
    secret: str
    properties: frozenset[str] = frozenset()


@dataclass
class DeliveryStats:
    """What the sender did, for the admin stats and tests."""

    events_queued: int = 0
    batches_delivered: int = 0
    events_delivered: int = 0
    attempts: int = 0
    retries: int = 0
    batches_dropped: int = 0
    last_status: int | None = None
    recent: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=50))


class WebhookSender:
    """Turns contact changes into HubSpot webhook events and delivers them from a background thread."""

    def __init__(self, ctx: SandboxContext, *, policy: RetryPolicy | None = None, timeout_s: float = 5.0) -> None:
        self.ctx = ctx
        self.policy = policy or RetryPolicy()
        self.timeout_s = timeout_s
        self.target: WebhookTarget | None = None
        self.initial_target: WebhookTarget | None = None  # what a reset returns to (the start-up target)
        self.stats = DeliveryStats()
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self._event_seq = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._session = requests.Session()
        ctx.store.subscribe(self.on_change)

    # -- configuration ----------------------------------------------------------------------------
    def configure(
        self, url: str | None, secret: str, properties: Iterable[str] | None = None, *, initial: bool = False
    ) -> None:
        """Send to ``url`` signed with ``secret`` (None url: stop sending); ``properties`` limits propertyChange.

        ``initial`` marks the start-up target, which a reset restores.
        """
        self.target = WebhookTarget(url, secret, frozenset(properties or ())) if url else None
        if initial:
            self.initial_target = self.target

    def describe(self) -> dict[str, Any]:
        """The target (secret withheld) and delivery counters."""
        target = self.target
        stats = self.stats
        return {
            "url": target.url if target else None,
            "properties": sorted(target.properties) if target else [],
            "events_queued": stats.events_queued,
            "batches_delivered": stats.batches_delivered,
            "events_delivered": stats.events_delivered,
            "attempts": stats.attempts,
            "retries": stats.retries,
            "batches_dropped": stats.batches_dropped,
            "last_status": stats.last_status,
            "recent": list(stats.recent),
        }

    def reset(self) -> None:
        """Drop queued events, zero the counters and return to the start-up target."""
        self.target = self.initial_target
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self.stats = DeliveryStats()

    # -- events -----------------------------------------------------------------------------------
    def on_change(self, change: Change) -> None:
        """Store listener: queue the events a contact write produces (nothing when no target is set)."""
        target = self.target
        if target is None or change.after.kind != CONTACT_KIND:
            return
        oid = int(change.after.id) if change.after.id.isdigit() else change.after.id
        if change.action == "created":
            self._enqueue({"subscriptionType": "contact.creation", "objectId": oid}, change, CREATION_SUBSCRIPTION_ID)
            return
        if change.action != "updated":
            return
        for name, value in change.changed.items():
            if target.properties and name not in target.properties:
                continue
            event = {
                "subscriptionType": "contact.propertyChange",
                "objectId": oid,
                "propertyName": name,
                "propertyValue": "" if value is None else str(value),
            }
            self._enqueue(event, change, PROPERTY_SUBSCRIPTION_BASE + sum(map(ord, name)) % 97)

    def _enqueue(self, event: dict[str, Any], change: Change, subscription_id: int) -> None:
        self._event_seq += 1
        settings = self.ctx.settings
        event.update(
            eventId=self._event_seq,
            subscriptionId=subscription_id,
            portalId=settings.hubspot_portal_id,
            appId=settings.hubspot_app_id,
            occurredAt=change.after.updated_ms,
            attemptNumber=0,
            changeSource=change.source,
        )
        self.stats.events_queued += 1
        self._queue.put(event)

    # -- delivery ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the sender thread (idempotent)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="leadrelay-sandbox-webhooks", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop after delivering what is queued (bounded by ``timeout_s``)."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout_s)
            self._thread = None
        self._session.close()

    def _run(self) -> None:
        while not (self._stop.is_set() and self._queue.empty()):
            batch = self._collect()
            if batch:
                self._deliver(batch)

    def _collect(self) -> list[dict[str, Any]]:
        try:
            first = self._queue.get(timeout=0.1)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + FLUSH_S
        while len(batch) < BATCH_MAX:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self._queue.get(timeout=remaining))
            except queue.Empty:
                break
        return batch

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        target = self.target
        if target is None:
            return
        for attempt in range(1, self.policy.max_attempts + 1):
            status, retry_after = self._post(target, batch, attempt - 1)
            self.stats.attempts += 1
            self.stats.last_status = status
            if 200 <= status < 300:
                self.stats.batches_delivered += 1
                self.stats.events_delivered += len(batch)
                return
            if 400 <= status < 500 and status != 429:
                break  # HubSpot never retries a 4xx other than 429
            if attempt < self.policy.max_attempts and not self._stop.is_set():
                self.stats.retries += 1
                time.sleep(self.policy.delay(attempt, retry_after))
        self.stats.batches_dropped += 1
        log.warning("webhook_batch_dropped", url=target.url, events=len(batch), last_status=self.stats.last_status)

    def _post(self, target: WebhookTarget, batch: list[dict[str, Any]], attempt_number: int) -> tuple[int, str | None]:
        body = json.dumps([{**event, "attemptNumber": attempt_number} for event in batch]).encode()
        timestamp = int(time.time() * 1000)  # wall time, not the sandbox clock: receivers reject stale stamps
        headers = {
            "Content-Type": "application/json",
            "X-HubSpot-Signature-v3": sign_v3(target.secret, "POST", target.url, body, timestamp),
            "X-HubSpot-Request-Timestamp": str(timestamp),
            "User-Agent": "HubSpot Connect 2.0 (http://dev.hubspot.com/) (leadrelay sandbox)",
        }
        try:
            response = self._session.post(target.url, data=body, headers=headers, timeout=self.timeout_s)
        except requests.RequestException as exc:
            log.info("webhook_post_failed", url=target.url, error=type(exc).__name__, attempt=attempt_number)
            self.stats.recent.append({"status": 0, "events": len(batch), "attemptNumber": attempt_number})
            return 0, None
        self.stats.recent.append(
            {"status": response.status_code, "events": len(batch), "attemptNumber": attempt_number}
        )
        return response.status_code, response.headers.get("Retry-After")
