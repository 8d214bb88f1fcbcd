"""Routing: given a qualified lead, its matched account and the team, pick the owner(s) fairly and explainably.

The pieces, from the inside out:

- ``model``: the value objects (``RoutingInput``, ``Snapshot``, ``Decision`` and its ``StepResult`` trace).
- ``availability`` / ``context``: who can take a lead now (hours, PTO, holidays, caps, CRM active flag).
- ``ledger``: persistent deficit weighted round-robin; ``pools``: picking within a pool and its waterfall.
- ``conditions``: rule conditions; ``cascade.route``: the pure decision function.
- ``store`` / ``router``: the decision log and ledger in SQLite, and the stateful router that writes them.
- ``explain``, ``simulate``, ``lint``, ``report``: plain-language explanations, backtests, rule-file warnings, tables.
"""

from connector.routing.cascade import route
from connector.routing.model import Decision, RoutingInput, Snapshot
from connector.routing.router import Router

__all__ = ["Decision", "Router", "RoutingInput", "Snapshot", "route"]
