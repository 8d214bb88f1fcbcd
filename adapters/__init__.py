"""Edges of leadrelay: one package per outside system (CRMs, Slack, email, enrichment, the CRM sandbox).

Adapters implement the small protocols defined in ``connector``; the core never imports them directly,
only the composition root (the CLI and the daemon) wires them in.
"""
