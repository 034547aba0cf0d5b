"""Injected faults: make chosen endpoints fail, throttle, slow down, drop the connection, or answer
as a broken or hostile server would (a body dripped forever, HTML instead of JSON, paging that
never ends).

A fault matches by method and by a glob on the path without its version prefix
(``/*/message_templates``). ``rate`` draws from a seeded generator so runs repeat; ``times``
limits how often the fault fires before it retires.
"""

from __future__ import annotations

import fnmatch
import json
import random
import urllib.parse
from dataclasses import asdict, dataclass
from typing import Any

from .errors import GraphError, throttled
from .paging import decode_cursor, encode_cursor
from .params import Reply, Request

KINDS = ("error", "throttle", "latency", "drop_before", "drop_after", "drip", "malformed", "endless_paging", "null_item")
# "null_item": a batch item answered null, as Meta answers an item that timed out; the item is not
# handled. It fires only inside batches: a request sent alone neither matches nor spends it.
# Kinds that answer in place of the emulator: the request is never processed.
INSTEAD = ("error", "throttle", "drop_before", "drip", "endless_paging")
PAGING = ("repeat", "advance")
DEFAULT_STATUS = {"malformed": 200}  # every other kind: 500 (used by "error" only)
STATUS_RANGE = {"error": (400, 599), "malformed": (200, 599)}


@dataclass
class Fault:
    kind: str
    method: str = "*"
    path: str = "*"
    rate: float = 1.0
    times: int | None = None
    status: int | None = None  # "error" (default 500), "malformed" (default 200): the HTTP status
    code: int | None = None  # "error": defaults to 2 (5xx) or 100; "throttle": defaults to 80008
    subcode: int | None = None
    regain_minutes: int = 5  # "throttle": estimated_time_to_regain_access
    latency_ms: int = 0  # "latency": added before the request is handled
    retry_after: int | None = None  # "error", "throttle": seconds in a Retry-After header
    drip_interval_ms: int = 500  # "drip": one body byte this often
    drip_seconds: float = 600  # "drip": then the server closes the connection
    raw_body: str = "<html><body>Bad gateway</body></html>"  # "malformed": sent verbatim
    content_type: str = "text/html"  # "malformed"
    after: bool = False  # "malformed": process the request first (its write happens)
    paging: str = "repeat"  # "endless_paging": "repeat" the same next link, or "advance" forever

    def __post_init__(self) -> None:
        self.status = self.answer_status  # listings show the status that will be sent

    @property
    def answer_status(self) -> int:
        return self.status if self.status is not None else DEFAULT_STATUS.get(self.kind, 500)

    @property
    def instead(self) -> bool:
        """Whether the fault answers in place of the emulator, leaving the world untouched."""
        return self.kind in INSTEAD or (self.kind == "malformed" and not self.after)

    def check(self) -> None:
        """Refuse what cannot be meant; the controls turn the ValueError into a 400 answer."""
        if self.kind not in KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(KINDS)}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("fault rate must be between 0 and 1")
        if self.times is not None and self.times < 1:
            raise ValueError("fault times must be at least 1")
        low, high = STATUS_RANGE.get(self.kind, (100, 599))
        _whole("status", self.answer_status, low, high)
        _whole("regain_minutes", self.regain_minutes, 0)
        _whole("latency_ms", self.latency_ms, 0)
        _whole("drip_interval_ms", self.drip_interval_ms, 1)
        if isinstance(self.drip_seconds, bool) or not isinstance(self.drip_seconds, int | float) or self.drip_seconds < 0:
            raise ValueError("fault drip_seconds must be a number of seconds, at least 0")
        self._check_fields_of_kinds()

    def _check_fields_of_kinds(self) -> None:
        if self.retry_after is not None:
            _whole("retry_after", self.retry_after, 0)
            if self.kind not in ("error", "throttle"):
                raise ValueError("fault retry_after applies to kinds error and throttle only")
        if not isinstance(self.raw_body, str):
            raise ValueError("fault raw_body must be a string")
        if not isinstance(self.content_type, str) or not self.content_type or set("\r\n") & set(self.content_type):
            raise ValueError("fault content_type must be a non-empty string on one line")
        if not isinstance(self.after, bool):
            raise ValueError("fault after must be true or false")
        if self.paging not in PAGING:
            raise ValueError(f"fault paging must be one of {', '.join(PAGING)}")
        if self.kind == "endless_paging" and self.method not in ("*", "GET"):
            raise ValueError("an endless_paging fault answers GET requests only")

    def matches(self, method: str, path: str, in_batch: bool = False) -> bool:
        if self.kind == "endless_paging" and method.upper() != "GET":
            return False
        if self.kind == "null_item" and not in_batch:
            return False
        return (self.method in ("*", method.upper())) and fnmatch.fnmatchcase(path, self.path)


def _whole(name: str, value: Any, least: int, most: int | None = None) -> None:
    """``value`` is an integer in range (JSON booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < least or (most is not None and value > most):
        bounds = f"between {least} and {most}" if most is not None else f"at least {least}"
        raise ValueError(f"fault {name} must be a whole number {bounds}")


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

    def fire(self, method: str, path: str, in_batch: bool = False) -> list[Fault]:
        """The faults that fire for this request (``in_batch``: an item of a batch); each use
        counts against ``times``."""
        fired = []
        for fault in list(self._faults):
            if not fault.matches(method, path, in_batch) or self._random.random() >= fault.rate:
                continue
            fired.append(fault)
            if fault.times is not None:
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
        return fired


# --- answers --------------------------------------------------------------------------------


@dataclass
class RawReply(Reply):
    """An answer sent verbatim rather than as JSON: what a broken proxy in front of Graph sends."""

    content_type: str = "text/html"


def answer(fault: Fault, request: Request) -> Reply:
    """What a fault answers for ``request`` (kinds error, throttle, malformed, endless_paging)."""
    if fault.kind == "malformed":
        return RawReply(fault.raw_body, fault.answer_status, content_type=fault.content_type)
    if fault.kind == "endless_paging":
        return _endless_page(fault, request)
    error = _throttle(fault) if fault.kind == "throttle" else _error(fault)
    if fault.retry_after is not None:
        error.headers["Retry-After"] = str(fault.retry_after)
    return Reply(error.envelope(), error.http_status, error.headers)


def _throttle(fault: Fault) -> GraphError:
    error = throttled(fault.code or 80008, fault.regain_minutes, "Injected throttle")
    usage = {"*": [{"type": "whatsapp_business_management", "call_count": 100,
                    "total_cputime": 0, "total_time": 0,
                    "estimated_time_to_regain_access": fault.regain_minutes}]}
    error.headers["X-Business-Use-Case-Usage"] = json.dumps(usage)
    return error


def _error(fault: Fault) -> GraphError:
    status = fault.answer_status
    return GraphError(
        code=fault.code if fault.code is not None else (2 if status >= 500 else 100),
        subcode=fault.subcode,
        message="Service temporarily unavailable" if status >= 500 else "Injected error",
        is_transient=status >= 500,
        status=status,
    )


def _endless_page(fault: Fault, request: Request) -> Reply:
    """An empty page whose ``next`` never runs out.

    "repeat": ``next`` is the URL just asked for, so a client following it loops on one link.
    "advance": ``next`` carries a cursor one past the one asked for, so no link ever comes twice.
    """
    position = _position(request.params.get("after"))
    here = encode_cursor(position)
    if fault.paging == "repeat":
        cursors, following = {"before": here, "after": here}, _url(request)
    else:
        ahead = encode_cursor(position + 1)
        cursors, following = {"before": here, "after": ahead}, _url(request, after=ahead)
    return Reply({"data": [], "paging": {"cursors": cursors, "next": following}})


def _position(cursor: Any) -> int:
    """How far along an endless listing a cursor is; 0 for none or another kind of cursor."""
    if not isinstance(cursor, str) or not cursor:
        return 0
    try:
        value = decode_cursor(cursor)
    except GraphError:
        return 0
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _url(request: Request, **changes: str) -> str:
    """The absolute URL of ``request`` (never its token), some parameters changed."""
    query = {k: v if isinstance(v, str) else json.dumps(v) for k, v in request.params.items()} | changes
    return f"{request.base_url}{request.path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
