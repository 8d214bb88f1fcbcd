"""leadrelay's CRM-agnostic core: cache, sync engine, matching, scoring, routing, outbox, daemon, CLI."""

__version__ = "0.1.0"
