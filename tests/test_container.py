"""The container: the Dockerfile passes hadolint, and the image's entry command works in a clean virtual environment
built the way the Dockerfile builds it (no Docker engine here): python -m venv; pip install --no-deps -r
requirements.lock; pip install --no-deps .; then ``leadrelay run --help`` and ``leadrelay config check``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HADOLINT = Path(sys.executable).parent / "hadolint"
PIP_FAST = ["--no-deps", "--no-compile", "--disable-pip-version-check", "-q"]  # bytecode is compiled on first run


def _run(*args: str | Path, cwd: Path = ROOT, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


def test_the_dockerfile_passes_hadolint():
    result = _run(HADOLINT, "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dockerfile_runs_the_daemon_and_checks_its_health():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert 'ENTRYPOINT ["leadrelay"]' in text
    assert 'CMD ["run", "--config"' in text
    assert "HEALTHCHECK" in text and "/healthz" in text


@pytest.mark.slow
def test_the_entry_command_works_in_a_clean_venv_built_like_the_image(tmp_path):
    src = tmp_path / "src"  # only what the Dockerfile COPYs, so a file missing from the image fails here too
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "requirements.lock"):
        shutil.copy(ROOT / name, src / name)
    for package in ("connector", "adapters"):
        shutil.copytree(ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    venv = tmp_path / "venv"
    assert _run(sys.executable, "-m", "venv", venv).returncode == 0
    pip = venv / "bin" / "pip"
    locked = _run(pip, "install", *PIP_FAST, "-r", src / "requirements.lock", cwd=src)
    assert locked.returncode == 0, locked.stderr[-2000:]
    project = _run(pip, "install", *PIP_FAST, ".", cwd=src)
    assert project.returncode == 0, project.stderr[-2000:]
    leadrelay = venv / "bin" / "leadrelay"
    helped = _run(leadrelay, "run", "--help", cwd=tmp_path)
    assert helped.returncode == 0 and "--config" in helped.stdout, helped.stderr[-2000:]
    checked = _run(leadrelay, "config", "check", ROOT / "config" / "leadrelay.example.yaml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr[-2000:]
    assert "valid" in checked.stdout
