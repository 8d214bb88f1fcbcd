"""The ``leadrelay`` command line: one click group; each area registers its commands here.

click rather than typer: click is the mature base typer itself wraps, has no runtime type-hint
magic to debug, and its explicit decorators keep each command's options readable in one place.
Commands import their adapters lazily so the core's import graph stays free of CRM client libraries.
"""

from __future__ import annotations

import click

from connector import __version__
from connector.logs import configure


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="leadrelay")
@click.option("--log-format", type=click.Choice(["auto", "json", "pretty"]), default="auto", show_default=True)
@click.option("--log-level", default="INFO", show_default=True, help="DEBUG, INFO, WARNING or ERROR.")
def cli(log_format: str, log_level: str) -> None:
    """leadrelay: match, qualify and route inbound leads for HubSpot and Salesforce, explainably."""
    configure(json=None if log_format == "auto" else log_format == "json", level=log_level)


def _register() -> None:
    """Attach the command groups of each area (kept in their own modules)."""
    from adapters.sandbox.cli import sandbox
    from connector.demo import demo

    cli.add_command(sandbox)
    cli.add_command(demo)

    from connector.routing_cli import register as register_routing

    register_routing(cli)

    from connector.sync_cli import sync_command

    cli.add_command(sync_command)

    from connector.scoring.cli import scoring

    cli.add_command(scoring)

    from connector.outbox_cli import outbox

    cli.add_command(outbox)

    from connector.match_cli import match_command

    cli.add_command(match_command)

    from connector.run_cli import run_command

    cli.add_command(run_command)

    from connector.report_cli import register as register_reports

    register_reports(cli)


_register()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="leadrelay")
