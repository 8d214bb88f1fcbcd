"""The sandbox's clock: real time by default; tests can freeze or shift it to make timestamps tie."""

from __future__ import annotations

import time


class Clock:
    """Epoch-millisecond clock that can be frozen, advanced, or shifted by an offset."""

    def __init__(self) -> None:
        self._frozen_ms: int | None = None
        self._offset_ms = 0

    def now_ms(self) -> int:
        """Current time in epoch milliseconds, as the sandbox sees it."""
        if self._frozen_ms is not None:
            return self._frozen_ms
        return int(time.time() * 1000) + self._offset_ms

    def freeze(self, at_ms: int | None = None) -> None:
        """Stop the clock (at ``at_ms``, or now): every write gets the same timestamp."""
        self._frozen_ms = self.now_ms() if at_ms is None else at_ms

    def advance(self, ms: int) -> None:
        """Move the clock forward by ``ms`` (frozen or not)."""
        if self._frozen_ms is not None:
            self._frozen_ms += ms
        else:
            self._offset_ms += ms

    def reset(self) -> None:
        """Back to real time: not frozen, no offset."""
        self._frozen_ms = None
        self._offset_ms = 0

    def unfreeze(self) -> None:
        """Let the clock run again from where it stands."""
        if self._frozen_ms is not None:
            self._offset_ms = self._frozen_ms - int(time.time() * 1000)
            self._frozen_ms = None
