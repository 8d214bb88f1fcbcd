"""What the sandbox served: per-endpoint counters and a bounded log of the latest requests."""

from __future__ import annotations

from collections import Counter, deque
from typing import Any, NamedTuple

LOG_SIZE = 2000  # enough to inspect a test's whole conversation, small enough to never matter for memory


class ServedRequest(NamedTuple):
    """One answered (or deliberately dropped) request.

    A NamedTuple rather than a frozen dataclass: one is built per request, and it is several times cheaper.
    """

    at_ms: int
    side: str
    method: str
    path: str
    endpoint: str
    status: int  # 0 when the connection was dropped by a reset fault
    latency_ms: float
    fault: str | None = None


class Traffic:
    """Counters by endpoint and status plus the last ``LOG_SIZE`` requests."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget everything served so far."""
        self.log: deque[ServedRequest] = deque(maxlen=LOG_SIZE)
        self.by_endpoint: Counter[tuple[str, int]] = Counter()
        self.total = 0

    def record(self, request: ServedRequest) -> None:
        """Count and log one request."""
        self.total += 1
        self.log.append(request)
        self.by_endpoint[(request.endpoint, request.status)] += 1

    def latest(self, limit: int = 100) -> list[dict[str, Any]]:
        """The last ``limit`` requests, oldest first."""
        items = list(self.log)[-limit:] if limit > 0 else []
        return [item._asdict() for item in items]

    def snapshot(self) -> dict[str, Any]:
        """Totals and a nested ``{endpoint: {status: count}}`` map."""
        endpoints: dict[str, dict[str, int]] = {}
        for (endpoint, status), count in sorted(self.by_endpoint.items()):
            endpoints.setdefault(endpoint, {})[str(status)] = count
        return {"total": self.total, "endpoints": endpoints}
