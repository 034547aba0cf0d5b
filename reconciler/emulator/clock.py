"""Emulator time: real time moved by an offset that tests advance, or a frozen instant."""

from __future__ import annotations

import time


class Clock:
    def __init__(self, start: float | None = None, frozen: bool = False) -> None:
        self._base = time.time() if start is None else float(start)
        self._started = time.monotonic()
        self._frozen = frozen
        self.offset = 0.0

    def now(self) -> float:
        flowing = 0.0 if self._frozen else time.monotonic() - self._started
        return self._base + flowing + self.offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self.offset += seconds
        return self.now()

    def restore(self, now: float) -> None:
        """Continue from a saved instant (``--state`` across restarts)."""
        self._base = now
        self._started = time.monotonic()
        self.offset = 0.0
