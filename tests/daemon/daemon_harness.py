"""Helpers for daemon tests: a config written for a sandbox, the daemon as a real subprocess, and waiting."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from connector.config.loader import LoadedConfig, load_config
from connector.db import connect
from connector.demo import write_demo_config
from connector.models import Activity, Lead
from connector.pipeline import intake

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "leadrelay.example.yaml"
LEADRELAY = Path(sys.executable).parent / "leadrelay"
WEBHOOK_SECRET = "whsec-test-0123456789"
API_KEY = "lr-test-key-0123456789"
ENV = {
    "HUBSPOT_TOKEN": "sandbox-token",
    "SALESFORCE_TOKEN": "sandbox-token",
    "SLACK_TOKEN": "xoxb-standin",
    "LEADRELAY_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "LEADRELAY_API_KEY": API_KEY,
}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def daemon_section(port: int, *, webhooks: bool, api: bool = True, extra: str = "") -> str:
    """The ``daemon:`` YAML section for a test listener on ``port``."""
    return f"""
daemon:
  host: 127.0.0.1
  port: {port}
  idle_wait_s: 0.2
  webhooks:
    enabled: {"true" if webhooks else "false"}
    client_secret: ${{LEADRELAY_WEBHOOK_SECRET}}
  route_api:
    enabled: {"true" if api else "false"}
    api_keys: ["${{LEADRELAY_API_KEY}}"]
{extra}"""


def write_config(
    workdir: Path, sandbox: Any, slack_url: str, *, port: int, poll_s: float, webhooks: bool, extra: str = ""
) -> LoadedConfig:
    """The demo config (example rules, sandbox CRMs, Slack stand-in) with the given polling and daemon settings."""
    base = write_demo_config(EXAMPLE, workdir, sandbox, slack_url)
    assert base.path is not None
    text = base.path.read_text(encoding="utf-8").replace("poll_interval_s: 2", f"poll_interval_s: {poll_s}")
    base.path.write_text(text + daemon_section(port, webhooks=webhooks, extra=extra), encoding="utf-8")
    return load_config(base.path, environ=ENV)


def go_live_now(loaded: LoadedConfig) -> None:
    """Mark the database live from now: people seeded before are the existing portal, not new leads."""
    db = connect(loaded.config.database)
    intake.install(db)
    intake.set_state(db.conn, "go_live_ms", str(int(time.time() * 1000) - 1))
    db.conn.close()


class DaemonProcess:
    """``leadrelay run --config FILE`` in a subprocess, its stderr (JSON logs) captured to a file."""

    def __init__(self, config: Path, port: int, log_path: Path, *args: str) -> None:
        self.port = port
        self.log_path = log_path
        env = {**os.environ, **ENV, "LEADRELAY_LOG_FORMAT": "json"}
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [str(LEADRELAY), "run", "--config", str(config), *args], stdout=self._log, stderr=self._log, env=env
        )

    @property
    def url(self) -> str:
        """Base URL of the daemon's listener."""
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        """Wait until /readyz answers 200 (the CRMs synced once)."""

        def ready() -> bool:
            try:
                return requests.get(f"{self.url}/readyz", timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_for(ready, timeout_s, what=f"daemon ready; log: {self.logs()[-2000:]}")

    def stop(self, timeout_s: float = 20.0) -> int:
        """SIGTERM, then wait; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout_s)
        finally:
            self._log.close()

    def kill(self) -> None:
        """Make sure the process is gone."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self._log.close()

    def logs(self) -> str:
        """Everything the daemon logged so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def wait_for(check: Callable[[], bool], timeout_s: float, *, what: str, every_s: float = 0.1) -> None:
    """Poll ``check`` until true; fail the test with ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(every_s)
    raise AssertionError(f"timed out waiting for: {what}")


def create_contacts(sandbox: Any, n: int, *, tag: str = "burst") -> list[str]:
    """Create ``n`` HubSpot contacts through the batch API (100 a call); returns their ids."""
    ids: list[str] = []
    for start in range(0, n, 100):
        inputs = [
            {"properties": {"email": f"lead{i}@{tag}-example.com", "firstname": "Lee", "lastname": f"Burst{i}",
                            "company": f"{tag.title()} Example {i}", "country": "Germany"}}
            for i in range(start, min(n, start + 100))
        ]  # fmt: skip
        answer = requests.post(
            f"{sandbox.hubspot_url}/crm/v3/objects/contacts/batch/create",
            json={"inputs": inputs},
            headers={"Authorization": "Bearer sandbox-token"},
            timeout=30,
        )
        answer.raise_for_status()
        ids.extend(str(r["id"]) for r in answer.json()["results"])
    return ids


def hot_api_lead(n: int) -> Lead:
    """A qualified lead as the API would hand it over (recent demo request, a German company of 800)."""
    hot = Activity(page_views=30, form_submissions=2, demo_requests=1, pricing_page_views=4, email_replies=1,
                   last_activity_ms=int(time.time() * 1000))  # fmt: skip
    return Lead(id=f"api:api:{n}", crm="api", native_id=str(n), object="api", email=f"p{n}@acme-widgets.de",
                email_domain="acme-widgets.de", company="Acme Widgets", country="DE", employees=800,
                title="VP Sales", activity=hot)  # fmt: skip
