"""Injected faults: make chosen endpoints fail, throttle, slow down or drop the connection.

A fault matches by method and by a glob on the path without its version prefix
(``/*/message_templates``). ``rate`` draws from a seeded generator so runs repeat; ``times``
limits how often the fault fires before it retires.
"""

from __future__ import annotations

import fnmatch
import random
from dataclasses import asdict, dataclass
from typing import Any

KINDS = ("error", "throttle", "latency", "drop_before", "drop_after")


@dataclass
class Fault:
    kind: str
    method: str = "*"
    path: str = "*"
    rate: float = 1.0
    times: int | None = None
    status: int = 500  # "error": the HTTP status
    code: int | None = None  # "error": defaults to 2 (5xx) or 100; "throttle": defaults to 80008
    subcode: int | None = None
    regain_minutes: int = 5  # "throttle": estimated_time_to_regain_access
    latency_ms: int = 0  # "latency": added before the request is handled

    def check(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(KINDS)}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("fault rate must be between 0 and 1")
        if self.times is not None and self.times < 1:
            raise ValueError("fault times must be at least 1")

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method.upper())) and fnmatch.fnmatchcase(path, self.path)


class Faults:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._random = random.Random(0)

    def add(self, raw: dict[str, Any]) -> Fault:
        fault = Fault(**raw)
        fault.check()
        self._faults.append(fault)
        return fault

    def clear(self) -> None:
        self._faults.clear()

    def listing(self) -> list[dict[str, Any]]:
        return [asdict(f) for f in self._faults]

    def fire(self, method: str, path: str) -> list[Fault]:
        """The faults that fire for this request; each use counts against ``times``."""
        fired = []
        for fault in list(self._faults):
            if not fault.matches(method, path) or self._random.random() >= fault.rate:
                continue
            fired.append(fault)
            if fault.times is not None:
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
        return fired
