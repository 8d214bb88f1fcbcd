# One-command setup: every target builds .venv from the lock files on first use and
# reinstalls only when pyproject.toml or a lock file changes (the stamp file tracks that).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: install demo test lint format bench clean lock

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -r requirements-dev.lock
	$(PIP) install --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/leadrelay demo

test: $(STAMP) lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check connector adapters tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix connector adapters tests bench
	$(BIN)/ruff format connector adapters tests bench

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

# Regenerate the lock files from pyproject.toml in a throwaway venv (maintainers only).
lock:
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/python -m pip install -q --upgrade pip setuptools wheel
	.lockvenv/bin/python -m pip install -q .
	.lockvenv/bin/python -m pip freeze --exclude leadrelay > requirements.lock
	.lockvenv/bin/python -m pip install -q '.[dev]'
	( echo "-r requirements.lock"; .lockvenv/bin/python -m pip freeze --all --exclude leadrelay | grep -v "^pip==" | grep -vxFf requirements.lock ) > requirements-dev.lock
	rm -rf .lockvenv

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
