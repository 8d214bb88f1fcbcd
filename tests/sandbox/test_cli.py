"""``leadrelay sandbox serve`` as a user runs it: prints its addresses, serves, stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

LEADRELAY = str(Path(sys.executable).with_name("leadrelay"))


def test_serve_prints_urls_serves_and_stops_on_sigterm(tmp_path):
    seed = tmp_path / "seed.jsonl"
    seed.write_text('{"kind": "hubspot.contacts", "properties": {"email": "cli@x.com"}}\n')
    proc = subprocess.Popen(
        [LEADRELAY, "sandbox", "serve", "--port", "0", "--tls-port", "0", "--limits", "off",
         "--seed", str(seed), "--tls-dir", str(tmp_path / "tls")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "LEADRELAY_LOG_LEVEL": "WARNING"},
    )  # fmt: skip
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if line.startswith("Press Ctrl+C") or not line:
                break
        banner = {line.split()[0] + line.split()[1]: line.split()[2] for line in lines if len(line.split()) >= 3}
        hubspot_url = banner["HubSpotAPI"]
        assert banner["TestCA"] == str(tmp_path / "tls" / "sandbox-ca.pem")
        answer = requests.get(
            hubspot_url + "/crm/v3/objects/contacts", headers={"Authorization": "Bearer x"}, timeout=5
        )
        assert answer.json()["results"][0]["properties"]["email"] == "cli@x.com"
        assert "hubspot.contacts=1" in "".join(lines)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0 and "sandbox stopped" in out
