"""Options every ``leadrelay`` command spells the same way, so ``--config`` means one thing everywhere."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

DEFAULT_CONFIG = "leadrelay.yaml"
CONFIG_HELP = "Config file (or $LEADRELAY_CONFIG)."

F = TypeVar("F", bound=Callable[..., object])


def config_option(help_text: str = CONFIG_HELP) -> Callable[[F], F]:
    """``--config FILE`` (parameter ``config_path``): ``$LEADRELAY_CONFIG``, else ``leadrelay.yaml`` in the cwd."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar="LEADRELAY_CONFIG",
        default=DEFAULT_CONFIG,
        show_default=True,
        help=help_text,
    )
