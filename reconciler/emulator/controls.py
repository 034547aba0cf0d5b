"""Test controls under ``/_emulator/``; no token needed, JSON in and out.

| method + path                        | does                                                     |
|--------------------------------------|----------------------------------------------------------|
| GET  /_emulator/health               | ``{"ok": true}``                                         |
| GET  /_emulator/clock                | emulator time (``now`` as unix seconds, ``iso``)         |
| POST /_emulator/clock                | ``{"advance": seconds}`` moves the clock forward         |
| GET  /_emulator/requests             | the request log (never a token, only how it came)        |
| DELETE /_emulator/requests           | clears the log                                           |
| GET/POST/DELETE /_emulator/faults    | list, add (one object or ``{"faults": [...]}``), clear   |
| GET  /_emulator/settings             | the settings in force                                    |
| POST /_emulator/settings             | change settings (``{"page_max": 5}``)                    |
| GET  /_emulator/state                | dump the world as JSON                                   |
| POST /_emulator/reset                | back to the seed (or ``{"seed": {...}}``, a new one);   |
|                                      | clears log and faults                                    |
| POST /_emulator/templates/{id}       | what Meta does on its own: set ``status``, ``category``, |
|                                      | ``previous_category``, ``correct_category``,             |
|                                      | ``rejected_reason``, ``quality_score``                   |
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any, Protocol

from .faults import Faults
from .params import Reply
from .settings import Settings
from .state import World
from .templates import public

META_FIELDS = ("status", "category", "previous_category", "correct_category", "rejected_reason", "quality_score")


class ControlledServer(Protocol):
    """What the controls need from the server.

    ``server.EmulatorServer`` fits it; naming that class here would make the two modules import
    each other.
    """

    world: World
    faults: Faults
    log: list[dict[str, Any]]
    log_lock: threading.Lock

    def persist(self) -> None: ...

    def reset(self, seed: dict[str, Any] | None) -> None: ...


def handle(server: ControlledServer, method: str, path: str, body: dict[str, Any]) -> Reply:
    parts = [part for part in path.split("/") if part][1:]
    what = parts[0] if parts else ""
    world = server.world
    if what == "health":
        return Reply({"ok": True})
    if what == "clock":
        with world.lock:
            if method == "POST":
                world.clock.advance(float(body.get("advance", body.get("advance_seconds", 0))))
                world.process_reviews()
                server.persist()
            now = world.clock.now()
        return Reply({"now": now, "iso": dt.datetime.fromtimestamp(now, dt.UTC).isoformat()})
    if what == "requests":
        with server.log_lock:
            if method == "DELETE":
                server.log.clear()
            return Reply({"data": list(server.log)})
    if what == "faults":
        if method == "POST":
            for raw in body.get("faults", [body]):
                server.faults.add(raw)
        elif method == "DELETE":
            server.faults.clear()
        return Reply({"data": server.faults.listing()})
    if what == "settings":
        with world.lock:
            if method == "POST":
                merged = world.settings.to_dict() | body
                world.settings = Settings.from_dict(merged)
            return Reply(world.settings.to_dict())
    if what == "state":
        with world.lock:
            world.process_reviews()
            return Reply(world.dump())
    if what == "reset" and method == "POST":
        server.reset(body.get("seed"))
        return Reply({"ok": True})
    if what == "templates" and len(parts) == 2 and method == "POST":
        return _set_template(server, parts[1], body)
    raise ValueError(f"unknown emulator control: {method} {path}")


def _set_template(server: ControlledServer, template_id: str, body: dict[str, Any]) -> Reply:
    world = server.world
    unknown = sorted(set(body) - set(META_FIELDS))
    if unknown:
        raise ValueError(f"settable template fields are {', '.join(META_FIELDS)}; not {', '.join(unknown)}")
    with world.lock:
        template = world.templates.get(template_id)
        if template is None:
            raise KeyError(f"no template {template_id}")
        template.update(body)
        if body.get("status") and body["status"] != "PENDING":
            template["_review_due"] = None
        world.review_later(template)
        server.persist()
        return Reply(public(template))
