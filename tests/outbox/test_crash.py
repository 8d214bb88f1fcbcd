"""SIGKILL the delivery process at random points against a faulty sandbox: every effect still happens exactly once.

The full-size run (1,000 leads, 20 kills) is ``python bench/outbox_crash.py``; this is the same harness, smaller.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "outbox_crash.py"


@pytest.mark.slow
def test_killed_workers_lose_nothing_and_double_nothing() -> None:
    completed = subprocess.run(
        [sys.executable, str(BENCH), "--leads", "60", "--kills", "5", "--window", "0.4", "--seed", "3"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    summary = json.loads(completed.stdout.strip().splitlines()[-1])
    assert summary["kills"] >= 3, summary  # the kills landed while work remained
    assert summary["wrong"] == {"owner_changes": 0, "final_owner": 0, "tasks": 0, "slack": 0}, summary
    assert summary["messages"] == 60
    assert completed.returncode == 0
