"""``leadrelay outbox list|retry|drop`` on a database with dead and conflicting items."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils
from click.testing import CliRunner
from outbox_factories import assignment

from connector.cli import cli
from connector.config.actions import ActionsConfig, OutboxConfig
from connector.db import transaction
from connector.outbox import store
from connector.outbox.model import EffectKind, ItemState, Outcome


def _seed(db: sqlite_utils.Database) -> None:
    with transaction(db) as conn:
        for n in (1, 2):
            store.enqueue(conn, assignment(n), ActionsConfig(create_task=False))
    first, second = store.claim(db, EffectKind.SET_OWNER, "hubspot", limit=5, worker="w", lease_s=5)
    store.complete(
        db,
        "w",
        [(first.item, Outcome("dead", "RequestError: property hubspot_owner_id is read-only")),
         (second.item, Outcome.conflict("owner changed by someone else: expected 100, found 777"))],
        OutboxConfig(),
    )  # fmt: skip


def test_list_shows_dead_and_conflicting_items_with_reasons(db: sqlite_utils.Database, tmp_path: Path) -> None:
    _seed(db)
    wide = {"COLUMNS": "220"}
    result = CliRunner().invoke(cli, ["outbox", "list", "--db", str(tmp_path / "outbox.sqlite")], env=wide)
    assert result.exit_code == 0, result.output
    assert "dead" in result.output and "read-only" in result.output
    assert "conflict" in result.output and "found 777" in result.output
    assert "conflict: 1  dead: 1" in result.output


def test_retry_and_drop_redrive_or_retire_dead_items(db: sqlite_utils.Database, tmp_path: Path) -> None:
    _seed(db)
    (dead,) = store.list_items(db, states=[ItemState.DEAD])
    path = str(tmp_path / "outbox.sqlite")
    runner = CliRunner()
    assert "1 item(s) queued again" in runner.invoke(cli, ["outbox", "retry", "--all-dead", "--db", path]).output
    assert store.list_items(db, states=[ItemState.PENDING])[0].id == dead.id
    assert "1 item(s) dropped" in runner.invoke(cli, ["outbox", "drop", str(dead.id), "--db", path]).output
    assert runner.invoke(cli, ["outbox", "retry", "--db", path]).exit_code == 2  # says what to name
