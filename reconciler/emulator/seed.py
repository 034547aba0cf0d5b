"""Seed files: the YAML that declares an emulator's tokens, businesses, WABAs and settings.

Format (every section optional)::

    settings: {page_max: 100, review_delay_seconds: 0, ...}     # see settings.py
    clock: {start: "2026-11-01T00:00:00Z", frozen: false}
    tokens:
      - token: "test-token"            # what clients send
        user: "900000000000001"        # the user (usually a system user) behind it
        scopes: [whatsapp_business_management, business_management]
        wabas: ["102290129340398"]      # omitted: every WABA
        businesses: ["805021500648488"] # omitted: every business
        expires_at: 0                   # unix time, 0: never; once past, every call is refused (190/463)
    users:
      "900000000000001": {name: "CI system user", user_type: SYSTEM_USER}
    apps:                               # for the Resumable Upload API (POST /{app-id}/uploads)
      "1000000000000001": {name: "wabactl CI app"}
    businesses:
      "805021500648488": {name: "Acme", owned_wabas: ["102290129340398"], client_wabas: []}
    wabas:
      "102290129340398":
        name: "Acme Main"
        owner_business: "805021500648488"
        templates:
          - {name: order_shipped, language: en_US, category: UTILITY, status: APPROVED,
             components: [...]}
        assigned_users: {"900000000000001": [MANAGE]}
        phone_numbers:                  # GET /{waba-id}/phone_numbers; default none
          - {id: "106540352242922", display_phone_number: "+1 555-010-0100", verified_name: "Acme"}
        subscribed_apps: ["1000000000000001"]   # app ids; default none
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml

from . import content
from .clock import Clock
from .errors import GraphError
from .settings import Settings
from .state import Token, World

TEMPLATE_STATUSES = (  # Meta's status enum (its SDK's filter list); a seed may hold any of them
    "APPROVED", "ARCHIVED", "DELETED", "DISABLED", "IN_APPEAL", "LIMIT_EXCEEDED", "PAUSED", "PENDING",
    "PENDING_DELETION", "REJECTED",
)
WABA_DEFAULTS: dict[str, Any] = {
    "currency": "USD",
    "timezone_id": "1",
    "account_review_status": "APPROVED",
    "business_verification_status": "verified",
    "status": "ACTIVE",
    "is_enabled_for_insights": True,
    "template_auto_archival_enabled": True,
    # Whether an e-commerce catalog is connected (Meta: catalog and multi-product templates need one).
    "catalog_connected": False,
}

# Keys of a seeded WABA that are data of its edges, not fields of the node.
WABA_EDGE_KEYS = ("templates", "assigned_users", "phone_numbers", "subscribed_apps")
# A seeded phone number's fields when not given (the values of Meta's examples).
PHONE_DEFAULTS: dict[str, Any] = {
    "quality_rating": "GREEN",
    "code_verification_status": "VERIFIED",
    "name_status": "APPROVED",
    "platform_type": "CLOUD_API",
    "status": "CONNECTED",
}


class SeedError(ValueError):
    """A seed file that cannot be loaded; the message names the place."""


def load_seed_file(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            raw = yaml.safe_load(handle)
    except OSError as error:
        raise SeedError(f"{path}: cannot read seed file: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise SeedError(f"{path}: not valid YAML: {error}") from error
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SeedError(f"{path}: a seed file is a mapping at the top level")
    return raw


def build_world(seed: dict[str, Any]) -> World:
    """Make a fresh world from a parsed seed; raises SeedError naming the faulty entry."""
    known = {"settings", "clock", "tokens", "users", "businesses", "wabas", "apps"}
    unknown = sorted(set(seed) - known)
    if unknown:
        raise SeedError(f"unknown seed sections: {', '.join(unknown)}")
    try:
        settings = Settings.from_dict(seed.get("settings"))
    except (TypeError, ValueError) as error:
        raise SeedError(f"settings: {error}") from error
    clock_raw = seed.get("clock") or {}
    clock = Clock(start=_timestamp(clock_raw.get("start")), frozen=bool(clock_raw.get("frozen")))
    world = World(settings, clock, _tokens(seed.get("tokens") or []))
    for user_id, user in (seed.get("users") or {}).items():
        user = user or {}
        world.users[str(user_id)] = {
            "id": str(user_id),
            "name": str(user.get("name", f"User {user_id}")),
            "user_type": str(user.get("user_type", "BUSINESS_USER")),
        }
    for app_id, app in (seed.get("apps") or {}).items():
        world.apps[str(app_id)] = {"id": str(app_id), "name": str((app or {}).get("name", f"App {app_id}"))}
    for business_id, business in (seed.get("businesses") or {}).items():
        business = business or {}
        world.businesses[str(business_id)] = {
            "id": str(business_id),
            "name": str(business.get("name", f"Business {business_id}")),
            "owned_wabas": [str(w) for w in business.get("owned_wabas") or []],
            "client_wabas": [str(w) for w in business.get("client_wabas") or []],
        }
    for waba_id, waba in (seed.get("wabas") or {}).items():
        _add_waba(world, str(waba_id), waba or {})
    return world


def _timestamp(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dt.datetime):
        moment = value
    else:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def _tokens(raw: list[dict[str, Any]]) -> dict[str, Token]:
    tokens = {}
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict) or not entry.get("token") or not entry.get("user"):
            raise SeedError(f"tokens[{index}]: needs 'token' and 'user'")
        fields: dict[str, Any] = {"user_id": str(entry["user"])}
        for key in ("wabas", "businesses", "scopes"):
            if entry.get(key) is not None:
                fields[key] = tuple(str(v) for v in entry[key])
        for key in ("type", "app_id"):
            if entry.get(key) is not None:
                fields[key] = str(entry[key])
        if entry.get("expires_at") is not None:
            fields["expires_at"] = int(entry["expires_at"])
        tokens[str(entry["token"])] = Token(**fields)
    return tokens


def _add_waba(world: World, waba_id: str, raw: dict[str, Any]) -> None:
    owner = str(raw.get("owner_business", ""))
    node = dict(WABA_DEFAULTS)
    node.update({k: v for k, v in raw.items() if k not in WABA_EDGE_KEYS})
    node.update(
        id=waba_id,
        name=str(raw.get("name", f"WABA {waba_id}")),
        owner_business=owner,
        creation_time=int(raw.get("creation_time") or world.clock.now()),
        message_template_namespace=str(raw.get("message_template_namespace") or f"ns_{waba_id}"),
    )
    world.wabas[waba_id] = node
    if owner and owner in world.businesses and waba_id not in world.businesses[owner]["owned_wabas"]:
        world.businesses[owner]["owned_wabas"].append(waba_id)
    world.assigned[waba_id] = {
        str(user): [str(task) for task in tasks]
        for user, tasks in (raw.get("assigned_users") or {}).items()
    }
    for user in world.assigned[waba_id]:
        world.users.setdefault(user, {"id": user, "name": f"User {user}", "user_type": "BUSINESS_USER"})
    world.creations[waba_id] = []
    world.calls[waba_id] = []
    world.phone_numbers[waba_id] = [_phone_number(world, waba_id, index, entry)
                                    for index, entry in enumerate(raw.get("phone_numbers") or [])]
    world.subscribed_apps[waba_id] = list(dict.fromkeys(str(a) for a in raw.get("subscribed_apps") or []))
    world.locks[waba_id] = {}
    for index, template in enumerate(raw.get("templates") or []):
        try:
            _add_template(world, waba_id, template)
        except (GraphError, KeyError, TypeError, ValueError) as error:
            detail = error.user_msg if isinstance(error, GraphError) else str(error)
            raise SeedError(f"wabas.{waba_id}.templates[{index}]: {detail}") from error


def _phone_number(world: World, waba_id: str, index: int, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict) or not raw.get("display_phone_number"):
        raise SeedError(f"wabas.{waba_id}.phone_numbers[{index}]: needs display_phone_number")
    number = dict(PHONE_DEFAULTS)
    number.update(raw)
    number["id"] = str(raw.get("id") or world.new_id())
    number.setdefault("verified_name", world.wabas[waba_id]["name"])
    return number


def _add_template(world: World, waba_id: str, raw: dict[str, Any]) -> None:
    category = content.check_category(raw["category"])
    parameter_format = content.check_parameter_format(raw.get("parameter_format"))
    status = str(raw.get("status", "APPROVED")).upper()
    if status not in TEMPLATE_STATUSES:
        raise ValueError(f"status must be one of {', '.join(TEMPLATE_STATUSES)}")
    template_id = str(raw.get("id") or world.new_id())
    now = world.clock.now()
    review_after = raw.get("review_after_seconds")
    template = {
        "id": template_id,
        "name": content.check_name(raw["name"]),
        "language": content.check_language(raw["language"]),
        "category": category,
        "status": status,
        "parameter_format": parameter_format,
        "components": content.check_components(raw.get("components"), category, parameter_format),
        "rejected_reason": str(raw.get("rejected_reason", "NONE")),
        "quality_score": raw.get("quality_score") or {"score": "UNKNOWN", "date": int(now)},
        "last_updated_time": int(now),
        "_waba": waba_id,
        "_edits": [],
        "_review_due": None if review_after is None else now + float(review_after),
        # created_time: when the template was made (the listing's since/until filters use it).
        "_created": _timestamp(raw.get("created_time")) or now,
    }
    for key in ("previous_category", "correct_category", "sub_category", "message_send_ttl_seconds"):
        if raw.get(key) is not None:
            template[key] = raw[key]
    world.add_template(template)
