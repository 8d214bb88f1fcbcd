"""Run the sandbox inside the current process, on a background thread, for tests, the demo and benchmarks.

    with SandboxServer(limits="off", faults="hubspot:5xx=0.1", seed="world.jsonl") as sandbox:
        client = sandbox.hubspot_client()          # the real hubspot-api-client, pointed at the sandbox
        sf = sandbox.salesforce()                  # the real simple-salesforce, over TLS with the test CA
        sandbox.admin.touch("hubspot", contact_id) # steer the simulated world

The server binds ephemeral ports on 127.0.0.1 before the thread starts, so the URLs are known at once.
Everything touching the store runs on the server's loop thread; ``call`` runs a function there for tests
that want to look at the store directly.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from adapters.sandbox.admin import SandboxAdmin
from adapters.sandbox.app import create_app
from adapters.sandbox.context import SandboxContext, build_context
from adapters.sandbox.limits import LimitSettings
from adapters.sandbox.seed import SeedRecord, load_seed
from adapters.sandbox.server import DualServer, Listeners, bind_socket
from adapters.sandbox.tls import make_tls_files
from adapters.sandbox.webhooks import WebhookSender
from connector.errors import TransportError
from connector.logs import get_logger

log = get_logger("sandbox.runner")

T = TypeVar("T")
STARTUP_TIMEOUT_S = 15.0
SANDBOX_TOKEN = "sandbox-token"  # noqa: S105 - the sandbox accepts any bearer token; this one reads well in logs


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class SandboxServer:
    """The CRM sandbox on a background thread: HubSpot + admin over HTTP, everything also over HTTPS."""

    def __init__(
        self,
        *,
        limits: str | LimitSettings | None = "professional",
        faults: str | None = None,
        fault_seed: int = 0,
        seed: Iterable[SeedRecord] | str | Path | None = None,
        db_path: str | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        webhook_properties: Iterable[str] | None = None,
        host: str = "127.0.0.1",
        http_port: int = 0,
        https_port: int = 0,
        tls_dir: str | Path | None = None,
    ) -> None:
        self.context: SandboxContext = build_context(
            db_path=db_path, limits=limits, faults=faults, fault_seed=fault_seed
        )
        self._seed = seed
        self._host = host
        self._ports = (http_port, https_port)
        self._tls_dir = tls_dir
        if webhook_url:
            self.context.webhooks = WebhookSender(self.context)
            self.context.webhooks.configure(webhook_url, webhook_secret or "", webhook_properties, initial=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: DualServer | None = None
        self._failure: BaseException | None = None
        self._admin: SandboxAdmin | None = None
        self.seeded: dict[str, int] = {}

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> SandboxServer:
        """Seed, bind, and serve on a daemon thread; returns once both listeners accept connections."""
        if self._thread is not None:
            return self
        if self._seed is not None:
            self.seeded = load_seed(self.context.store, self._seed)
        tls = make_tls_files(self._tls_dir)
        listeners = Listeners(bind_socket(self._host, self._ports[0]), bind_socket(self._host, self._ports[1]), tls)
        self._server = DualServer(create_app(self.context), listeners)
        self._loop = _new_loop()
        self._thread = threading.Thread(target=self._run, name="leadrelay-sandbox", daemon=True)
        self._thread.start()
        self._wait_started()
        if self.context.webhooks is not None:
            self.context.webhooks.start()
        log.info("sandbox_started", hubspot_url=self.hubspot_url, salesforce_url=self.salesforce_url)
        return self

    def _run(self) -> None:
        assert self._loop is not None and self._server is not None
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._server.serve())
        except BaseException as exc:  # reported to the starting thread, which re-raises it
            self._failure = exc
        finally:
            self._loop.close()

    def _wait_started(self) -> None:
        assert self._server is not None and self._thread is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._server.started:
            if self._failure is not None or not self._thread.is_alive():
                raise TransportError(f"sandbox failed to start: {self._failure!r}")
            if time.monotonic() > deadline:
                raise TransportError("sandbox did not start within the timeout")
            time.sleep(0.005)

    def stop(self) -> None:
        """Stop serving, stop the webhook sender, and close the listeners."""
        if self.context.webhooks is not None:
            self.context.webhooks.stop()
        if self._thread is None or self._loop is None or self._server is None:
            return
        server = self._server
        with contextlib.suppress(RuntimeError):  # the loop may already be gone after a failure
            self._loop.call_soon_threadsafe(server.request_stop)
        self._thread.join(timeout=10)
        if self._admin is not None:
            self._admin.session.close()
            self._admin = None
        for sock in (server.listeners.http, server.listeners.https):
            if sock is not None:
                sock.close()
        self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- addresses --------------------------------------------------------------------------------
    @property
    def _listeners(self) -> Listeners:
        if self._server is None:
            raise RuntimeError("the sandbox is not started")
        return self._server.listeners

    @property
    def hubspot_url(self) -> str:
        """Base URL of the HubSpot API (plain HTTP), e.g. ``http://127.0.0.1:54321``."""
        return f"http://{self._host}:{self._listeners.http_port}"

    @property
    def admin_url(self) -> str:
        """Base URL of the admin surface (same listener as HubSpot)."""
        return self.hubspot_url

    @property
    def salesforce_instance(self) -> str:
        """``host:port`` of the HTTPS listener, as simple-salesforce's ``instance`` wants it."""
        return f"{self._host}:{self._listeners.https_port}"

    @property
    def salesforce_url(self) -> str:
        """Base URL of the Salesforce API (HTTPS with the test CA)."""
        return f"https://{self.salesforce_instance}"

    @property
    def ca_path(self) -> str:
        """PEM file of the test CA that signed the HTTPS certificate."""
        tls = self._listeners.tls
        assert tls is not None
        return str(tls.ca_path)

    @property
    def admin(self) -> SandboxAdmin:
        """A requests-based client for the admin surface (one per server: it keeps its connection alive)."""
        if self._admin is None:
            self._admin = SandboxAdmin(self.admin_url)
        return self._admin

    # -- helpers ----------------------------------------------------------------------------------
    def call(self, fn: Callable[..., T], *args: Any, timeout: float = 30.0) -> T:
        """Run ``fn(*args)`` on the server's loop thread (where the store lives) and return its result."""
        if self._loop is None or self._thread is None:
            return fn(*args)  # not serving: nothing else touches the store

        async def invoke() -> T:
            return fn(*args)

        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(invoke(), self._loop)
        return future.result(timeout)

    def hubspot_client(self, **kwargs: Any) -> Any:
        """A real ``hubspot.Client`` talking to this sandbox (keywords go to ``Client.create``)."""
        import hubspot

        options = {"access_token": SANDBOX_TOKEN, "host": self.hubspot_url, **kwargs}
        return hubspot.Client.create(**options)

    def salesforce_session(self) -> Any:
        """A ``requests.Session`` that trusts the sandbox's test CA."""
        import requests

        session = requests.Session()
        session.verify = self.ca_path
        # requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE in the environment override session.verify.
        session.trust_env = False
        return session

    def salesforce(self, **kwargs: Any) -> Any:
        """A real ``simple_salesforce.Salesforce`` talking to this sandbox over TLS."""
        from simple_salesforce import Salesforce

        options = {
            "instance_url": self.salesforce_url,
            "session_id": SANDBOX_TOKEN,
            "session": self.salesforce_session(),
            **kwargs,
        }
        return Salesforce(**options)

    @contextlib.contextmanager
    def faults(self, spec: str, *, seed: int | None = None) -> Iterator[SandboxServer]:
        """Inject ``spec`` for the duration of a ``with`` block, then restore the previous faults."""
        before = self.admin.get_faults()
        self.admin.set_faults(spec, seed=seed)
        try:
            yield self
        finally:
            self.admin.set_faults(before["spec"], seed=before["seed"])

    @contextlib.contextmanager
    def limits(self, profile: str, **overrides: Any) -> Iterator[SandboxServer]:
        """Use a limits profile (with overrides) for a ``with`` block, with fresh counters, then restore."""
        before = self.admin.get_limits()["settings"]
        self.admin.set_limits(profile, **overrides)
        try:
            yield self
        finally:
            self.admin.set_limits(before.pop("name"), **before)


@contextlib.contextmanager
def running_sandbox(**kwargs: Any) -> Iterator[SandboxServer]:
    """Start a ``SandboxServer(**kwargs)`` for a ``with`` block (e.g. a dedicated faulty sandbox in a test)."""
    with SandboxServer(**kwargs) as sandbox:
        yield sandbox
