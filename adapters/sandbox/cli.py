"""``leadrelay sandbox ...`` commands."""

from __future__ import annotations

import importlib
import signal
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

import click

from adapters.sandbox.limits import PROFILES


class _SandboxGroup(click.Group):
    """The ``sandbox`` group; ``generate`` (the data generator's command) is imported only when used, so every other
    ``leadrelay`` command starts without loading the generator and its word lists."""

    LAZY: ClassVar[dict[str, tuple[str, str]]] = {"generate": ("adapters.sandbox.generate", "generate_command")}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *(name for name in self.LAZY if self._lazy(name))})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or self._lazy(cmd_name)

    def _lazy(self, name: str) -> click.Command | None:
        if name not in self.LAZY:
            return None
        module_name, attribute = self.LAZY[name]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            return None
        command: click.Command = getattr(module, attribute)
        return command


@click.group(cls=_SandboxGroup)
def sandbox() -> None:
    """Run and feed the local CRM sandbox (HubSpot + Salesforce APIs)."""


def _generated(contacts: int, seed: int) -> Iterable[dict[str, Any]]:
    try:
        generate = importlib.import_module("adapters.sandbox.generate")
    except ModuleNotFoundError as exc:
        raise click.UsageError("--generate needs adapters/sandbox/generate.py, which is not installed") from exc
    records: Iterable[dict[str, Any]] = generate.iter_seed(contacts=contacts, seed=seed)
    return records


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8765, show_default=True, help="Plain-HTTP port (HubSpot API and /_sandbox admin).")
@click.option("--tls-port", default=8766, show_default=True, help="HTTPS port (Salesforce API; serves everything).")
@click.option(
    "--db", "db_path", type=click.Path(dir_okay=False), help="SQLite file to keep records in (default: memory)."
)
@click.option("--seed", "seed_file", type=click.Path(exists=True, dir_okay=False), help="JSON Lines seed file to load.")
@click.option("--generate", "generate_contacts", type=int, help="Generate a realistic world with N contacts.")
@click.option("--generate-seed", default=42, show_default=True, help="RNG seed for --generate.")
@click.option("--faults", default="", help="Fault spec, e.g. '5xx=0.1,429=0.05,latency=50ms,reset=0.02,lock=0.05'.")
@click.option("--fault-seed", default=0, show_default=True, help="RNG seed for faults (reproducible runs).")
@click.option("--limits", default="professional", show_default=True, type=click.Choice(sorted(PROFILES)))
@click.option("--webhook-url", help="Send HubSpot contact webhooks to this URL.")
@click.option("--webhook-secret", envvar="LEADRELAY_SANDBOX_WEBHOOK_SECRET", help="Client secret that signs webhooks.")
@click.option("--tls-dir", type=click.Path(file_okay=False), help="Where the test CA and certificate are written.")
def serve(  # noqa: PLR0917 - click passes every option as an argument
    host: str,
    port: int,
    tls_port: int,
    db_path: str | None,
    seed_file: str | None,
    generate_contacts: int | None,
    generate_seed: int,
    faults: str,
    fault_seed: int,
    limits: str,
    webhook_url: str | None,
    webhook_secret: str | None,
    tls_dir: str | None,
) -> None:
    """Serve the sandbox until SIGINT/SIGTERM, printing its URLs and the CA file clients must trust."""
    from adapters.sandbox.runner import SandboxServer

    seed: Iterable[dict[str, Any]] | str | None = seed_file
    if generate_contacts:
        seed = _generated(generate_contacts, generate_seed)
    server = SandboxServer(
        host=host,
        http_port=port,
        https_port=tls_port,
        db_path=db_path,
        seed=seed,
        faults=faults or None,
        fault_seed=fault_seed,
        limits=limits,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        tls_dir=Path(tls_dir) if tls_dir else None,
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with server:
        _print_banner(server)
        stop.wait()
    click.echo("sandbox stopped")


def _print_banner(server: Any) -> None:
    click.echo(f"HubSpot API     {server.hubspot_url}")
    click.echo(f"Salesforce API  {server.salesforce_url}   (instance {server.salesforce_instance})")
    click.echo(f"Admin           {server.admin_url}/_sandbox/stats")
    click.echo(f"Test CA         {server.ca_path}")
    if server.seeded:
        click.echo("Seeded          " + ", ".join(f"{kind}={n}" for kind, n in sorted(server.seeded.items())))
    click.echo("Press Ctrl+C to stop.")
