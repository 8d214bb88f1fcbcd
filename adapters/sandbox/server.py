"""uvicorn plumbing: one event loop serving the sandbox app on a plain-HTTP and an HTTPS listener.

Two ``uvicorn.Server`` instances share the loop and the app (HubSpot clients speak plain HTTP; simple-salesforce
insists on https). ``SandboxHttpProtocol`` extends uvicorn's httptools protocol with one ASGI scope extension,
``leadrelay.abort``, which drops the TCP connection without an answer: that is how the gate simulates a reset,
since ASGI itself gives an app no way to reach its transport.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from adapters.sandbox.app import ABORT_EXTENSION
from adapters.sandbox.tls import TlsFiles

GRACE_S = 0.5  # how long a stop waits for in-flight requests before dropping connections
KEEP_ALIVE_S = 75  # longer than any client pool keeps idle connections, so clients rarely meet a closed socket


class SandboxHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol plus a scope extension that aborts the connection."""

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        scope: dict[str, Any] = self.scope  # type: ignore[assignment]
        # The request's ASGI task starts on a later loop turn, so the scope can still be extended here.
        scope.setdefault("extensions", {})[ABORT_EXTENSION] = self.transport.abort


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: an ephemeral port, read it back with getsockname)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


@dataclass
class Listeners:
    """The bound sockets the sandbox serves on, and the TLS files for the HTTPS one."""

    http: socket.socket
    https: socket.socket | None
    tls: TlsFiles | None

    @property
    def http_port(self) -> int:
        return int(self.http.getsockname()[1])

    @property
    def https_port(self) -> int | None:
        return int(self.https.getsockname()[1]) if self.https is not None else None


def _config(app: ASGIApp, tls: TlsFiles | None) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        http=SandboxHttpProtocol,
        lifespan="off",
        access_log=False,
        log_config=None,  # leave the host process's logging alone (pytest, the daemon's structlog)
        log_level=logging.WARNING,
        timeout_keep_alive=KEEP_ALIVE_S,
        ssl_certfile=str(tls.cert_path) if tls else None,
        ssl_keyfile=str(tls.key_path) if tls else None,
    )


class DualServer:
    """Runs the app on both listeners in the current event loop until ``request_stop``."""

    def __init__(self, app: ASGIApp, listeners: Listeners) -> None:
        self.listeners = listeners
        self._servers: list[tuple[uvicorn.Server, Sequence[socket.socket]]] = [
            (uvicorn.Server(_config(app, None)), [listeners.http])
        ]
        if listeners.https is not None:
            self._servers.append((uvicorn.Server(_config(app, listeners.tls)), [listeners.https]))

    @property
    def started(self) -> bool:
        """True once every listener accepts connections."""
        return all(server.started for server, _ in self._servers)

    async def serve(self) -> None:
        """Serve until stopped (signal handlers are installed only when called on the main thread)."""
        await asyncio.gather(*(server.serve(sockets=list(socks)) for server, socks in self._servers))

    def request_stop(self, grace_s: float = GRACE_S) -> None:
        """Ask both servers to finish in-flight requests and stop; connections still open after ``grace_s`` are
        dropped. Call on the loop thread."""
        for server, _ in self._servers:
            server.should_exit = True
        asyncio.get_running_loop().call_later(grace_s, self._force_stop)

    def _force_stop(self) -> None:
        # An idle TLS keep-alive connection waits for the client's close_notify, which a pooled client that is
        # not reading never sends: without this, shutdown would hang until the SSL shutdown timeout.
        for server, _ in self._servers:
            server.force_exit = True
            for connection in list(server.server_state.connections):
                transport = getattr(connection, "transport", None)
                if transport is not None:
                    transport.abort()
