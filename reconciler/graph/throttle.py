"""Pacing that reads Meta's usage headers, so a fleet run slows down before Meta throttles it.

Every answer may carry ``X-App-Usage`` (the app's share of its limit, in percent) and
``X-Business-Use-Case-Usage`` (per business object, for WhatsApp the WABA: ``call_count``,
``total_cputime``, ``total_time`` in percent). Above ``HIGH`` percent the requests that count
against that object (those whose path starts with its id; every request, for the app's usage) are
spaced out, more the closer the usage is to 100; when a later answer reports less, the spacing
goes away again. One ``Throttle`` serves every client of a run, so the accounts of one business,
read at once, slow down together.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

HIGH = 90  # percent of a limit above which requests are spaced out
STEP = 0.5  # seconds between requests per percent above HIGH (at 100%: 5 s)
MOST = 10.0  # seconds: the longest spacing
APP = "*app*"  # the key of the app's own usage: it applies to every request


class Throttle:
    def __init__(self, sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._spacing: dict[str, float] = {}  # object id (or APP) -> seconds between its requests
        self._next: dict[str, float] = {}  # object id (or APP) -> when its next request may go
        self.waited = 0.0  # seconds spent waiting, in all

    def before(self, path: str) -> None:
        """Wait, if the usage last reported for what ``path`` touches asks for it."""
        with self._lock:
            now = self._clock()
            keys = [key for key in self._spacing if key == APP or _touches(path, key)]
            start = max([now, *(self._next.get(key, now) for key in keys)])
            for key in keys:
                self._next[key] = start + self._spacing[key]
        wait = start - now
        if wait > 0:
            self.waited += wait
            self._sleep(wait)

    def after(self, headers: Mapping[str, str]) -> None:
        """Take in the usage an answer reports; an answer without the headers changes nothing."""
        usage = {**_business_usage(headers.get("X-Business-Use-Case-Usage")), **_app_usage(headers.get("X-App-Usage"))}
        with self._lock:
            for key, percent in usage.items():
                spacing = min(MOST, STEP * (percent - HIGH)) if percent > HIGH else 0.0
                if spacing > 0:
                    self._spacing[key] = spacing
                else:
                    self._spacing.pop(key, None)
                    self._next.pop(key, None)

    def spacing(self, key: str) -> float:
        with self._lock:
            return self._spacing.get(key, 0.0)


def _touches(path: str, object_id: str) -> bool:
    """Whether a request path (``/v26.0/{id}/...``) is about the object."""
    parts = [part for part in path.split("/") if part]
    return object_id in parts[:2]


def _percent(entry: Any) -> int | None:
    if not isinstance(entry, dict):
        return None
    values = [entry.get(name) for name in ("call_count", "total_cputime", "total_time")]
    numbers = [int(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return max(numbers) if numbers else None


def _business_usage(header: str | None) -> dict[str, int]:
    """The highest usage reported per business object."""
    try:
        usage = json.loads(header) if header else {}
    except ValueError:
        return {}  # a header we cannot read steers nothing
    found: dict[str, int] = {}
    for object_id, entries in (usage.items() if isinstance(usage, dict) else ()):
        percents = [p for p in (_percent(e) for e in (entries if isinstance(entries, list) else [])) if p is not None]
        if percents:
            found[str(object_id)] = max(percents)
    return found


def _app_usage(header: str | None) -> dict[str, int]:
    try:
        percent = _percent(json.loads(header)) if header else None
    except ValueError:
        percent = None
    return {} if percent is None else {APP: percent}
