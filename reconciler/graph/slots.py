"""A fair bound on requests in flight: at most ``size`` holders, and waiters served in the order
they came. ``threading.Semaphore`` lets a thread that just released take the slot straight back,
so with many accounts sharing a few slots some would run ahead and others starve, and the run
would end with a few accounts' long tails one after another. Handing each freed slot to the
longest waiter interleaves the accounts evenly instead."""

from __future__ import annotations

import threading
from collections import deque
from types import TracebackType


class Slots:
    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("slots: size must be at least 1")
        self._free = size
        self._lock = threading.Lock()
        self._waiting: deque[threading.Event] = deque()

    def acquire(self) -> None:
        with self._lock:
            if self._free > 0 and not self._waiting:
                self._free -= 1
                return
            turn = threading.Event()
            self._waiting.append(turn)
        turn.wait()  # set by release, which hands its slot over

    def release(self) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._free += 1

    def __enter__(self) -> Slots:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.release()
