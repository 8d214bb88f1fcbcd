"""``leadrelay sandbox ...`` commands."""

from __future__ import annotations

import click


@click.group()
def sandbox() -> None:
    """Run and feed the local CRM sandbox (HubSpot + Salesforce APIs)."""
