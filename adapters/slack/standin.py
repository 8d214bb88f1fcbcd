"""A local stand-in for the parts of Slack's Web API leadrelay uses, for tests and the demo.

``auth.test``, ``users.lookupByEmail``, ``conversations.open``, ``chat.postMessage`` and ``conversations.history``
answer as Slack does (``{"ok": true, ...}`` / ``{"ok": false, "error": ...}``, 429 with ``Retry-After``), on a tiny
threaded HTTP server. Every posted message is recorded with its metadata, so a test can count the messages sent per
decision. Failures are injectable: ``fail_next("chat.postMessage", "5xx_after")`` posts and then answers 500 (the
case that makes a naive retry send twice), and ``faults={"5xx": 0.1, "429": 0.05}`` fails calls at random.

    with SlackStandIn(token="xoxb-test") as slack:
        client = WebClient(token="xoxb-test", base_url=slack.base_url)
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

FAILURE_KINDS = ("429", "5xx", "5xx_after", "reset")


@dataclass
class PostedMessage:
    """A message as the stand-in stored it."""

    channel: str
    ts: str
    text: str
    blocks: list[Any] = field(default_factory=list)
    metadata: dict[str, Any] | None = None

    @property
    def decision_id(self) -> str | None:
        """The decision id leadrelay put in the message metadata, if any."""
        payload = (self.metadata or {}).get("event_payload") or {}
        value = payload.get("decision_id")
        return str(value) if value is not None else None


class SlackStandIn:
    """Slack's Web API, in process. Thread-safe; start with ``start()`` or a ``with`` block."""

    def __init__(
        self,
        *,
        token: str = "xoxb-standin",  # noqa: S107 - a stand-in token, not a secret
        faults: dict[str, float] | None = None,
        seed: int = 0,
        auto_users: bool = True,
    ) -> None:
        self.token = token
        self.faults = dict(faults or {})
        self.auto_users = auto_users
        self._rng = random.Random(seed)  # noqa: S311 - reproducible faults, not crypto
        self._lock = threading.Lock()
        self._scripted: dict[str, list[str]] = {}
        self.users: dict[str, str] = {}  # email (lower) -> user id
        self.messages: list[PostedMessage] = []
        self.calls: dict[str, int] = {}
        self._ims: dict[str, str] = {}  # user id -> DM channel id
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ts = 0.0

    # -- control ------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """What to pass as ``WebClient(base_url=...)``."""
        assert self._server is not None, "start() the stand-in first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/api/"

    def start(self) -> SlackStandIn:
        """Serve on an ephemeral port of 127.0.0.1 on a daemon thread."""
        handler = _handler_for(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        server = self._server
        self._thread = threading.Thread(  # a short poll so stop() returns at once
            target=lambda: server.serve_forever(poll_interval=0.05), name="slack-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def add_user(self, email: str, user_id: str) -> None:
        """Make ``email`` resolvable by users.lookupByEmail."""
        with self._lock:
            self.users[email.lower()] = user_id

    def fail_next(self, method: str, kind: str, times: int = 1) -> None:
        """Fail the next ``times`` calls of ``method`` with ``kind`` (429, 5xx, 5xx_after, reset, or error:<code>)."""
        if kind not in FAILURE_KINDS and not kind.startswith("error:"):
            raise ValueError(f"unknown failure kind {kind!r}")
        with self._lock:
            self._scripted.setdefault(method, []).extend([kind] * times)

    def messages_for(self, decision_id: str) -> list[PostedMessage]:
        """Messages whose metadata carries ``decision_id``."""
        with self._lock:
            return [m for m in self.messages if m.decision_id == decision_id]

    def per_decision(self) -> dict[str, int]:
        """How many messages were posted per decision id."""
        counts: dict[str, int] = {}
        with self._lock:
            for message in self.messages:
                if message.decision_id is not None:
                    counts[message.decision_id] = counts.get(message.decision_id, 0) + 1
        return counts

    # -- serving ------------------------------------------------------------------------------------
    def _failure_for(self, method: str) -> str | None:
        with self._lock:
            self.calls[method] = self.calls.get(method, 0) + 1
            scripted = self._scripted.get(method)
            if scripted:
                return scripted.pop(0)
            roll = self._rng.random()
            for kind in FAILURE_KINDS:
                p = self.faults.get(kind, 0.0)
                if roll < p:
                    return kind
                roll -= p
        return None

    def answer(  # noqa: PLR0911 - one return per way Slack answers
        self, method: str, args: dict[str, Any], authorization: str | None
    ) -> tuple[int, dict[str, Any]]:
        """The (status, body) Slack would give; raises ConnectionResetError for a reset."""
        failure = self._failure_for(method)
        if failure == "reset":
            raise ConnectionResetError
        if failure == "429":
            return 429, {"ok": False, "error": "ratelimited"}
        if failure == "5xx":
            return 500, {"ok": False, "error": "internal_error"}
        if failure and failure.startswith("error:"):
            return 200, {"ok": False, "error": failure.split(":", 1)[1]}
        if authorization != f"Bearer {self.token}":
            return 200, {"ok": False, "error": "invalid_auth"}
        route = _ROUTES.get(method)
        if route is None:
            return 200, {"ok": False, "error": "unknown_method"}
        status, body = route(self, args)
        if failure == "5xx_after":
            return 500, {"ok": False, "error": "internal_error"}
        return status, body

    def _auth_test(self, _args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 200, {"ok": True, "team": "leadrelay", "user": "leadrelay", "team_id": "T0001", "user_id": "UBOT"}

    def _lookup(self, args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        email = str(args.get("email") or "").lower()
        with self._lock:
            user_id = self.users.get(email)
            if user_id is None and self.auto_users and "@" in email:
                user_id = self.users[email] = f"U{len(self.users) + 1:08d}"
        if user_id is None:
            return 200, {"ok": False, "error": "users_not_found"}
        return 200, {"ok": True, "user": {"id": user_id, "profile": {"email": email}}}

    def _open(self, args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        user = str(args.get("users") or "").split(",")[0]
        if not user.startswith("U"):
            return 200, {"ok": False, "error": "user_not_found"}
        with self._lock:
            channel = self._ims.setdefault(user, f"D{user[1:]}")
        return 200, {"ok": True, "channel": {"id": channel}}

    def _post(self, args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        channel = str(args.get("channel") or "")
        if not channel:
            return 200, {"ok": False, "error": "channel_not_found"}
        blocks = args.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if len(blocks) > 50:
            return 200, {"ok": False, "error": "invalid_blocks"}
        metadata = args.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        with self._lock:
            self._ts = max(time.time(), self._ts + 0.000001)  # Slack ts: unique, time-ordered epoch seconds
            message = PostedMessage(channel, f"{self._ts:.6f}", str(args.get("text") or ""), blocks, metadata)
            self.messages.append(message)
        return 200, {"ok": True, "channel": channel, "ts": message.ts, "message": {"text": message.text}}

    def _history(self, args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        channel = str(args.get("channel") or "")
        oldest = float(args.get("oldest") or 0)
        limit = min(int(args.get("limit") or 100), 1000)
        start = int(args.get("cursor") or 0)
        with_metadata = str(args.get("include_all_metadata")).lower() in ("1", "true")
        with self._lock:
            found = [m for m in reversed(self.messages) if m.channel == channel and float(m.ts) > oldest]
        page = found[start : start + limit]
        body: dict[str, Any] = {
            "ok": True,
            "messages": [_as_history(m, with_metadata) for m in page],
            "has_more": start + limit < len(found),
        }
        if body["has_more"]:
            body["response_metadata"] = {"next_cursor": str(start + limit)}
        return 200, body


def _as_history(message: PostedMessage, with_metadata: bool) -> dict[str, Any]:
    shown: dict[str, Any] = {"type": "message", "ts": message.ts, "text": message.text, "blocks": message.blocks}
    if with_metadata and message.metadata:
        shown["metadata"] = message.metadata
    return shown


_ROUTES: dict[str, Callable[[SlackStandIn, dict[str, Any]], tuple[int, dict[str, Any]]]] = {
    "auth.test": SlackStandIn._auth_test,
    "users.lookupByEmail": SlackStandIn._lookup,
    "conversations.open": SlackStandIn._open,
    "chat.postMessage": SlackStandIn._post,
    "conversations.history": SlackStandIn._history,
}


def _handler_for(standin: SlackStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as separate writes; Nagle would stall each answer

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            url = urlsplit(self.path)
            method = url.path.rsplit("/", 1)[-1]
            args: dict[str, Any] = dict(parse_qsl(url.query))
            args.update(self._body())
            try:
                status, body = standin.answer(method, args, self.headers.get("Authorization"))
            except ConnectionResetError:
                self.close_connection = True
                self.connection.close()
                return
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            if status == 429:
                self.send_header("Retry-After", "1")
            self.end_headers()
            self.wfile.write(payload)

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not raw:
                return {}
            if (self.headers.get("Content-Type") or "").startswith("application/json"):
                parsed = json.loads(raw)
                return parsed if isinstance(parsed, dict) else {}
            return dict(parse_qsl(raw.decode("utf-8")))

        def log_message(self, format: str, *args: Any) -> None:
            """Stay quiet: tests read the recorded messages, not an access log."""

    return Handler


def wait_for(predicate: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    """Poll ``predicate`` until true or ``timeout_s`` passes (tests waiting on the server thread)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
