"""uvicorn on a background thread, so the daemon's loop keeps the main thread (and its signal handlers)."""

from __future__ import annotations

import threading
import time

import uvicorn
from starlette.applications import Starlette

from connector.errors import TransportError
from connector.logs import get_logger

log = get_logger("leadrelay.web.server")
STARTUP_TIMEOUT_S = 10.0


class WebServer:
    """Serves ``app`` on ``host:port`` from a daemon thread; ``start`` returns once it listens."""

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.host, self.port = host, port
        self._thread: threading.Thread | None = None

    def start(self) -> WebServer:
        """Start serving; raises TransportError if the listener does not come up."""
        self._thread = threading.Thread(target=self.server.run, name="leadrelay-web", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise TransportError(f"the HTTP listener on {self.host}:{self.port} did not start")
            time.sleep(0.01)
        log.info("http_listening", host=self.host, port=self.port)
        return self

    def stop(self) -> None:
        """Stop accepting, finish in-flight requests (bounded), and join the thread."""
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
