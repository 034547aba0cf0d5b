"""The emulator's world: businesses, WABAs, templates, assigned users, limits' memory.

All of it is JSON-shaped so that ``/_emulator/state`` can dump it and ``--state FILE`` can keep it
across restarts. Tokens are never part of the dump or the state file: they come from the seed.
One lock guards the whole world; handlers run under it, so each request is atomic.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import os
import tempfile
import threading
from dataclasses import dataclass
from typing import Any

from . import content
from .clock import Clock
from .settings import ReviewRule, Settings

HOUR = 3600.0
DAY = 86400.0
DELETED_STATUSES = ("DELETED", "PENDING_DELETION")


@dataclass(frozen=True)
class Token:
    user_id: str
    type: str = "SYSTEM_USER"
    scopes: tuple[str, ...] = (
        "whatsapp_business_management",
        "whatsapp_business_messaging",
        "business_management",
    )
    wabas: tuple[str, ...] | None = None  # None: every WABA
    businesses: tuple[str, ...] | None = None  # None: every business
    app_id: str = "1000000000000001"
    expires_at: int = 0  # unix time; 0: never

    def expired(self, now: float) -> bool:
        return self.expires_at != 0 and self.expires_at <= now

    def can_see_waba(self, waba_id: str) -> bool:
        return self.wabas is None or waba_id in self.wabas

    def can_see_business(self, business_id: str) -> bool:
        return self.businesses is None or business_id in self.businesses

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class World:
    """Everything the emulator knows. Mutated only by handlers holding ``lock``."""

    def __init__(self, settings: Settings, clock: Clock, tokens: dict[str, Token]) -> None:
        self.lock = threading.RLock()
        self.settings = settings
        self.clock = clock
        self.tokens = tokens
        self.users: dict[str, dict[str, Any]] = {}
        self.businesses: dict[str, dict[str, Any]] = {}
        self.wabas: dict[str, dict[str, Any]] = {}
        self.templates: dict[str, dict[str, Any]] = {}
        # Indexes over ``templates``, so that a request costs what its own WABA holds, never the
        # whole fleet: the templates of each WABA, and those with a review still to finish.
        self.by_waba: dict[str, dict[str, dict[str, Any]]] = {}
        self.reviewing: set[str] = set()
        self.assigned: dict[str, dict[str, list[str]]] = {}
        self.creations: dict[str, list[float]] = {}
        self.calls: dict[str, list[float]] = {}
        self.locks: dict[str, dict[str, float]] = {}
        # Apps (seed ``apps``), each WABA's phone numbers and subscribed app ids, and the Resumable
        # Upload API's sessions and the handles of finished uploads (uploads.py).
        self.apps: dict[str, dict[str, Any]] = {}
        self.phone_numbers: dict[str, list[dict[str, Any]]] = {}
        self.subscribed_apps: dict[str, list[str]] = {}
        self.uploads: dict[str, dict[str, Any]] = {}
        self.handles: dict[str, dict[str, Any]] = {}
        self.next_id = 1_000_000_000_000_001

    # --- ids and lookups -------------------------------------------------------------------

    def new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id - 1)

    def add_template(self, template: dict[str, Any]) -> None:
        # When it was made, for the listing's since/until filters (not a field Meta returns).
        template.setdefault("_created", self.clock.now())
        self.templates[template["id"]] = template
        self.by_waba.setdefault(template["_waba"], {})[template["id"]] = template
        self.review_later(template)

    def remove_template(self, template: dict[str, Any]) -> None:
        del self.templates[template["id"]]
        self.by_waba.get(template["_waba"], {}).pop(template["id"], None)
        self.reviewing.discard(template["id"])

    def review_later(self, template: dict[str, Any]) -> None:
        """Note a template whose review has a due time (``_review_due``), for ``process_reviews``."""
        if template.get("_review_due") is not None:
            self.reviewing.add(template["id"])

    def reindex(self) -> None:
        """The indexes built again from ``templates`` (after a restore)."""
        self.by_waba, self.reviewing = {}, set()
        for template in self.templates.values():
            self.by_waba.setdefault(template["_waba"], {})[template["id"]] = template
            self.review_later(template)

    def templates_of(self, waba_id: str) -> list[dict[str, Any]]:
        """Live (not deleted) templates of a WABA, newest first, as the listing orders them."""
        rows = [t for t in self.by_waba.get(waba_id, {}).values() if t["status"] not in DELETED_STATUSES]
        rows.sort(key=lambda t: int(t["id"]), reverse=True)
        return rows

    def listed_of(self, waba_id: str, statuses: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
        """What a listing holds, newest first: the live templates and those PENDING_DELETION (Meta
        lists them while their undelivered messages drain); DELETED ones only when ``statuses``
        asks for them (whether Meta lists them unasked is not documented)."""
        rows = [t for t in self.by_waba.get(waba_id, {}).values() if t["status"] != "DELETED" or "DELETED" in statuses]
        rows.sort(key=lambda t: int(t["id"]), reverse=True)
        return rows

    def find_template(self, waba_id: str, name: str, language: str) -> dict[str, Any] | None:
        for template in self.templates_of(waba_id):
            if template["name"] == name and template["language"] == language:
                return template
        return None

    def template_count(self, waba_id: str) -> int:
        rows = self.templates_of(waba_id)
        if self.settings.count_mode == "translation":
            return len(rows)
        return len({t["name"] for t in rows})

    def template_limit(self, waba_id: str) -> int:
        return int(self.wabas[waba_id].get("template_limit") or self.settings.template_limit)

    # --- rolling windows -------------------------------------------------------------------

    @staticmethod
    def recent(stamps: list[float], now: float, window: float) -> list[float]:
        return [s for s in stamps if s > now - window]

    def regain_minutes(self, stamps: list[float], now: float, window: float, most: int) -> int:
        """Minutes until the window has room again (0 when it has room now)."""
        inside = sorted(self.recent(stamps, now, window))
        if len(inside) < most:
            return 0
        frees_at = inside[len(inside) - most] + window
        return max(1, int(-(-(frees_at - now) // 60)))

    # --- review ------------------------------------------------------------------------------

    def process_reviews(self) -> None:
        """Finish every review whose time has come; called before each request is handled. Only
        templates with a review due are looked at, so its cost follows the reviews, not the fleet."""
        now = self.clock.now()
        for template_id in list(self.reviewing):
            template = self.templates.get(template_id)
            due = None if template is None else template.get("_review_due")
            if template is None or due is None or template["status"] != "PENDING":
                self.reviewing.discard(template_id)
                continue
            if due > now:
                continue
            self.reviewing.discard(template_id)
            self._decide(template)
            template["_review_due"] = None
            template["last_updated_time"] = int(now)

    def _decide(self, template: dict[str, Any]) -> None:
        if content.adjacent_variables(template["components"]):
            template.update(status="REJECTED", rejected_reason="INVALID_FORMAT")
            return
        for rule in self.settings.review_rules:
            if rule.outcome == "recategorize_at_create" or not _matches(rule, template):
                continue
            if rule.outcome == "reject":
                template.update(status="REJECTED", rejected_reason=rule.rejected_reason)
                return
            if template["category"] != rule.to_category:
                template["previous_category"] = template["category"]
                template["category"] = rule.to_category
            break
        template.update(status="APPROVED", rejected_reason="NONE")

    def category_at_create(self, template: dict[str, Any]) -> str:
        """The category a create stores: the submitted one, unless a rule recategorises at once."""
        for rule in self.settings.review_rules:
            if rule.outcome == "recategorize_at_create" and _matches(rule, template):
                return rule.to_category
        return str(template["category"])

    # --- persistence -------------------------------------------------------------------------

    def dump(self, internal: bool = False) -> dict[str, Any]:
        """JSON-ready copy of the world; ``internal`` keeps the bookkeeping fields too."""
        templates, uploads = self.templates, self.uploads
        if not internal:
            templates = {
                tid: {k: v for k, v in t.items() if not k.startswith("_")} | {"waba_id": t["_waba"]}
                for tid, t in templates.items()
            }
            # A session's bytes are for the state file only, not for a state dump to read.
            uploads = {sid: {k: v for k, v in u.items() if not k.startswith("_")} for sid, u in uploads.items()}
        return copy.deepcopy({
            "now": self.clock.now(),
            "next_id": self.next_id,
            "users": self.users,
            "businesses": self.businesses,
            "wabas": self.wabas,
            "templates": templates,
            "assigned_users": self.assigned,
            "creations": self.creations,
            "calls": self.calls,
            "locks": self.locks,
            "apps": self.apps,
            "phone_numbers": self.phone_numbers,
            "subscribed_apps": self.subscribed_apps,
            "uploads": uploads,
            "handles": self.handles,
        })

    def restore(self, saved: dict[str, Any]) -> None:
        self.clock.restore(float(saved["now"]))
        self.next_id = int(saved["next_id"])
        self.users = saved["users"]
        self.businesses = saved["businesses"]
        self.wabas = saved["wabas"]
        self.templates = saved["templates"]
        self.reindex()
        self.assigned = saved["assigned_users"]
        self.creations = saved["creations"]
        self.calls = saved["calls"]
        self.locks = saved["locks"]
        # State files written before these existed have none of them: the seed's stay.
        self.apps = saved.get("apps", self.apps)
        self.phone_numbers = saved.get("phone_numbers", self.phone_numbers)
        self.subscribed_apps = saved.get("subscribed_apps", self.subscribed_apps)
        self.uploads = saved.get("uploads", {})
        self.handles = saved.get("handles", {})

    def save(self, path: str) -> None:
        """Write the state file atomically, so a crash never leaves half a file."""
        folder = os.path.dirname(os.path.abspath(path))
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".emulator-state-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(self.dump(internal=True), out)
        os.replace(temporary, path)


def _matches(rule: ReviewRule, template: dict[str, Any]) -> bool:
    if rule.name and not fnmatch.fnmatchcase(template["name"], rule.name):
        return False
    if rule.category and template["category"] != rule.category.upper():
        return False
    if rule.language and template["language"] != rule.language:
        return False
    if rule.body_contains:
        if rule.body_contains.lower() not in content.body_text(template["components"]).lower():
            return False
    return True
