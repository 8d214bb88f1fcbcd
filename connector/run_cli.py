"""``leadrelay run``: the daemon. Syncs the CRMs on their schedules, takes HubSpot webhooks and routing API calls,
routes every new lead as soon as it is seen, delivers the effects, and serves /healthz, /readyz and /metrics.

A first SIGTERM/SIGINT finishes the step in hand (a sync stops between pages with its cursor saved), flushes due
outbox effects and exits 0; a second exits at once. Exit status 2: the config is invalid.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType

import click

from connector.cli_options import config_option
from connector.config import load_config
from connector.errors import ConfigError, TransportError
from connector.logs import get_logger

log = get_logger("leadrelay.run")


@click.command("run")
@config_option("Config file (or $LEADRELAY_CONFIG); watched and reloaded when it changes.")
@click.option("--burst", is_flag=True, help="Sync, route and deliver what is waiting, then exit (no HTTP listener).")
@click.option("--max-turns", type=int, default=None, help="Stop after this many loop turns (testing).")
def run_command(config_path: Path, burst: bool, max_turns: int | None) -> None:
    """Run the leadrelay daemon (webhooks, routing API, schedules, health and metrics)."""
    from connector.daemon import Daemon
    from connector.web.app import create_app
    from connector.web.server import WebServer

    try:
        loaded = load_config(config_path)
        daemon = Daemon(loaded)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    server = None
    if not burst:
        settings = loaded.config.daemon
        try:
            server = WebServer(create_app(daemon), settings.host, settings.port).start()
        except TransportError as exc:
            click.echo(f"error: {exc.message}", err=True)
            sys.exit(1)
    _install_signals(daemon)
    try:
        daemon.run(burst=burst, max_iterations=max_turns)
    finally:
        if server is not None:
            server.stop()
        daemon.close()
    sys.exit(0)


def _install_signals(daemon: object) -> None:
    """First SIGTERM/SIGINT: a graceful stop; the second: exit at once."""
    from connector.daemon import Daemon

    assert isinstance(daemon, Daemon)

    def handle(signum: int, _frame: FrameType | None) -> None:
        if daemon.stopping.is_set():
            log.warning("daemon_killed", signal=signum)
            raise SystemExit(128 + signum)
        log.info("daemon_signal", signal=signum, message="finishing the step in hand; send again to exit at once")
        daemon.request_stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handle)
