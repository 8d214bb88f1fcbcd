"""The HTML report in a real headless Chromium: it renders, logs no console message, and a screenshot is saved.

Chromium logs every console message as ``...:CONSOLE:<line>] "text"`` with ``--enable-logging=stderr``; the report
has no script, so any such line (or a failed resource load) is a defect. A control page with a
``console.error`` proves the detector sees messages. Skipped only when no Chromium is installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from analytics.history import DAY, MON
from connector.analytics.metrics import compute
from connector.analytics.report_html import render_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium)")
CONSOLE = re.compile(r":CONSOLE(?::|\()\d+\)?\]\s*(.*)")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _chromium(page: Path, workdir: Path, *mode: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    args = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", f"--user-data-dir={workdir / 'profile'}",
        "--enable-logging=stderr", "--v=0", *mode, page.as_uri(),
    ]  # fmt: skip
    return subprocess.run(args, capture_output=True, text=True, timeout=90, check=False, cwd=workdir)


def console_messages(stderr: str) -> list[str]:
    """Console messages and failed loads Chromium logged for the page."""
    found = [m.group(1) for line in stderr.splitlines() if (m := CONSOLE.search(line))]
    return found + [line for line in stderr.splitlines() if "Failed to load resource" in line]


def test_detector_sees_a_console_error(tmp_path):
    page = tmp_path / "control.html"
    page.write_text('<!doctype html><p>x</p><script>console.error("control-error")</script>', encoding="utf-8")
    result = _chromium(page, tmp_path, "--dump-dom")
    assert any("control-error" in m for m in console_messages(result.stderr)), result.stderr[-2000:]


def test_report_renders_without_console_errors_and_is_screenshotted(tmp_path, db, routing, six_leads):
    page = tmp_path / "report.html"
    page.write_text(render_html(compute(db, routing, MON, MON + 7 * DAY)), encoding="utf-8")
    artifacts = Path(os.environ.get("LEADRELAY_ARTIFACTS", tmp_path))
    artifacts.mkdir(parents=True, exist_ok=True)
    shot = artifacts / "analytics_report.png"

    result = _chromium(page, tmp_path, f"--screenshot={shot}", "--window-size=1200,2600", "--hide-scrollbars")
    print(f"report screenshot: {shot}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert console_messages(result.stderr) == []
    assert shot.read_bytes()[:8] == PNG_MAGIC and shot.stat().st_size > 20_000

    dom = _chromium(page, tmp_path, "--dump-dom")
    assert dom.stdout.count("<svg") == 4 and "Fairness (Jain)" in dom.stdout
    assert console_messages(dom.stderr) == []
