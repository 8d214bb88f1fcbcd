"""Injected faults: the failures a connector meets in production, on demand and reproducibly.

A spec is a comma-separated list of ``kind=value`` items, each optionally prefixed by the side it applies to:
``5xx=0.1,429=0.05,latency=50ms,reset=0.02,lock=0.05`` or ``hubspot:5xx=0.2,salesforce:lock=0.1``.
Kinds: ``5xx`` (500/502/503), ``429`` (a rate-limit answer with Retry-After), ``reset`` (the connection is dropped
without an answer), ``lock`` (Salesforce UNABLE_TO_LOCK_ROW on writes only) take a probability; ``latency`` takes a
delay (``50ms``, ``0.2s``, or a range ``20-80ms``) added to every call. One seeded RNG draws at most one failure per
call, so a run with the same spec, seed and request sequence fails the same way.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

SIDES = ("hubspot", "salesforce")
FAILURE_KINDS = ("reset", "5xx", "429", "lock")
_DELAY = re.compile(r"^(?P<low>\d+(?:\.\d+)?)(?:-(?P<high>\d+(?:\.\d+)?))?\s*(?P<unit>ms|s)?$")


@dataclass(frozen=True)
class SideFaults:
    """The faults configured for one CRM: failure probabilities and a latency range in seconds."""

    probabilities: dict[str, float] = field(default_factory=dict)
    latency_s: tuple[float, float] = (0.0, 0.0)

    @property
    def active(self) -> bool:
        """Whether this side has anything to inject."""
        return any(self.probabilities.values()) or self.latency_s[1] > 0


@dataclass(frozen=True)
class FaultSpec:
    """A parsed spec: per-side faults plus the text it came from."""

    text: str
    sides: dict[str, SideFaults]

    @classmethod
    def parse(cls, text: str | None) -> FaultSpec:
        """Parse a spec string (empty or None: no faults); raises ValueError saying which item is wrong."""
        text = (text or "").strip()
        probabilities: dict[str, dict[str, float]] = {side: {} for side in SIDES}
        latency: dict[str, tuple[float, float]] = dict.fromkeys(SIDES, (0.0, 0.0))
        for raw in filter(None, (part.strip() for part in text.split(","))):
            sides, kind, value = _split_item(raw)
            for side in sides:
                if kind == "latency":
                    latency[side] = _parse_delay(value, raw)
                else:
                    probabilities[side][kind] = _parse_probability(value, raw)
        return cls(text, {side: SideFaults(probabilities[side], latency[side]) for side in SIDES})


def _split_item(raw: str) -> tuple[tuple[str, ...], str, str]:
    head, sep, value = raw.partition("=")
    if not sep:
        raise ValueError(f"fault item {raw!r}: expected kind=value")
    side, colon, kind = head.strip().rpartition(":")
    kind = kind.strip().lower()
    if kind not in (*FAILURE_KINDS, "latency"):
        raise ValueError(f"fault item {raw!r}: unknown kind {kind!r}; expected 5xx, 429, reset, lock or latency")
    if not colon:
        return SIDES, kind, value.strip()
    side = side.strip().lower()
    if side not in SIDES:
        raise ValueError(f"fault item {raw!r}: unknown side {side!r}; expected hubspot or salesforce")
    return (side,), kind, value.strip()


def _parse_probability(value: str, raw: str) -> float:
    try:
        p = float(value)
    except ValueError:
        raise ValueError(f"fault item {raw!r}: expected a probability between 0 and 1") from None
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"fault item {raw!r}: probability must be between 0 and 1")
    return p


def _parse_delay(value: str, raw: str) -> tuple[float, float]:
    match = _DELAY.match(value.strip().lower())
    if not match:
        raise ValueError(f"fault item {raw!r}: expected a delay like 50ms, 0.2s or 20-80ms")
    scale = 1.0 if match["unit"] == "s" else 0.001
    low = float(match["low"]) * scale
    high = float(match["high"]) * scale if match["high"] else low
    return (low, max(low, high))


@dataclass(frozen=True)
class Fault:
    """What to do to one call: wait ``delay_s`` first, then fail with ``kind`` (None: answer normally)."""

    delay_s: float = 0.0
    kind: str | None = None
    status: int | None = None


NO_FAULT = Fault()


class FaultInjector:
    """Draws the fault for each call from a seeded RNG; the spec can be swapped at runtime."""

    def __init__(self, spec: str | FaultSpec | None = None, *, seed: int = 0) -> None:
        self.configure(spec, seed=seed)

    def configure(self, spec: str | FaultSpec | None, *, seed: int | None = None) -> None:
        """Install a new spec (and reseed the RNG when ``seed`` is given)."""
        self.spec = spec if isinstance(spec, FaultSpec) else FaultSpec.parse(spec)
        if seed is not None:
            self.seed = seed
        self._rng = random.Random(self.seed)  # noqa: S311 - reproducible faults, not security
        self.injected: dict[str, int] = {}

    def draw(self, side: str, *, write: bool) -> Fault:
        """The fault for one call to ``side``; ``write`` says whether it changes data (locks hit writes only)."""
        faults = self.spec.sides.get(side)
        if faults is None or not faults.active:
            return NO_FAULT
        low, high = faults.latency_s
        delay = low if low == high else self._rng.uniform(low, high)
        roll = self._rng.random()
        for kind in FAILURE_KINDS:
            p = faults.probabilities.get(kind, 0.0)
            if kind == "lock" and (side != "salesforce" or not write):
                continue
            if roll < p:
                self.injected[kind] = self.injected.get(kind, 0) + 1
                return Fault(delay, kind, self._status_for(kind))
            roll -= p
        return Fault(delay) if delay else NO_FAULT

    def _status_for(self, kind: str) -> int | None:
        if kind == "5xx":
            return self._rng.choice((500, 502, 503))
        return {"429": 429, "lock": 400}.get(kind)

    def snapshot(self) -> dict[str, object]:
        """The spec, seed and how many faults of each kind were injected."""
        return {"spec": self.spec.text, "seed": self.seed, "injected": dict(self.injected)}
