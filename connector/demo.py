"""``leadrelay demo``: the end-to-end demonstration on the embedded default sandbox."""

from __future__ import annotations

import click


@click.command()
def demo() -> None:
    """Start the sandbox, seed it, route leads end to end and show the result."""
    click.echo("demo: under construction")
