"""How often the webhook path may call a paced CRM: under a rate budget, calls are gathered into cycles.

A webhook turn costs one read by id and an owner write costs two calls (compare-and-set read, batch update),
whatever the number of leads. Unpaced, each goes out at once. Under a budget (HubSpot professional: 190 calls per
rolling 10 s), one lead per turn at 10 leads/s would need 30 calls/s: the window fills and everything stalls for
seconds. Spacing reads and owner writes by a cycle sized to a share of the budget gathers the leads that arrive
meanwhile into the same calls, so latency grows by a fraction of a cycle instead of by a stall.
"""

from __future__ import annotations

from collections.abc import Iterable

from connector.ratelimit import CrmLimiter

CALLS_PER_CYCLE = 3  # one read by id + the owner write's read and update
BUDGET_SHARE = 0.8  # the rest is for tasks, the scheduled sync and the routing API's write-backs


def cycle_seconds(limiters: Iterable[CrmLimiter]) -> float:
    """The shortest spacing of reads and owner writes that stays inside every paced CRM's share (0: unpaced)."""
    cycle = 0.0
    for limiter in limiters:
        window = limiter.windows.get("default")
        if window is not None:
            per_second = window.limit / window.window_s
            cycle = max(cycle, CALLS_PER_CYCLE / (BUDGET_SHARE * per_second))
    return cycle
