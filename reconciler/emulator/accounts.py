"""WABA node, business WABA listings, ``/me``, ``/debug_token`` and ``/{waba-id}/assigned_users``."""

from __future__ import annotations

from typing import Any

from . import errors, paging
from . import params as p
from .errors import GraphError, invalid_parameter, no_permission
from .params import Reply, Request
from .state import World

WABA_FIELDS = {
    "id", "name", "currency", "timezone_id", "message_template_namespace", "owner_business",
    "creation_time", "account_review_status", "business_verification_status", "ownership_type",
    "status", "is_enabled_for_insights", "template_auto_archival_enabled", "country",
    "health_status", "on_behalf_of_business_info", "owner_business_info",
    "primary_business_location", "whatsapp_business_manager_messaging_limit",
    "is_shared_with_partners", "disable_marketing_messages_on_cloud_api",
    "marketing_messages_lite_api_status", "marketing_messages_onboarding_status",
    "auth_international_rate_eligibility", "purchase_order_number", "primary_funding_id",
    "linked_commerce_account", "marketing_messages_ad_account", "analytics", "subscribed_apps",
    "phone_numbers",
}
WABA_DEFAULT = ["id", "name", "currency", "timezone_id", "message_template_namespace"]
# Fields of a phone number node (Meta's phone number reference); the default set is what Meta's
# examples of GET /{waba-id}/phone_numbers show.
PHONE_FIELDS = {
    "id", "display_phone_number", "verified_name", "quality_rating", "code_verification_status",
    "name_status", "new_name_status", "platform_type", "status", "throughput", "messaging_limit_tier",
    "is_official_business_account", "account_mode", "certificate", "new_certificate", "is_pin_enabled",
    "is_preverified_number", "last_onboarded_time", "search_visibility", "health_status",
    "webhook_configuration", "is_on_biz_app", "quality_score", "eligibility_for_api_business_global_search",
}
PHONE_DEFAULT = ["id", "display_phone_number", "verified_name", "quality_rating", "code_verification_status"]
WABA_SETTABLE = ("is_enabled_for_insights", "disable_marketing_messages_on_cloud_api", "template_auto_archival_enabled")
USER_FIELDS = {"id", "name", "tasks", "user_type", "business", "permitted_tasks"}
USER_DEFAULT = ["id", "name", "tasks"]
# The tasks enum of Meta's SDK, plus the granular tasks Meta's system-user guide names.
TASKS = frozenset({
    "DEVELOP", "MANAGE", "MANAGE_EXTENSIONS", "MANAGE_PHONE", "MANAGE_PHONE_ASSETS",
    "MANAGE_TEMPLATES", "MESSAGING", "VIEW_COST", "VIEW_PHONE_ASSETS", "VIEW_TEMPLATES",
    "VIEW_INSIGHTS", "MANAGE_USERS", "MANAGE_BILLING",
})


def read_waba(world: World, request: Request, waba_id: str) -> Reply:
    node = _waba_node(world, waba_id)
    return Reply(p.project(node, p.requested_fields(request.params), WABA_DEFAULT, WABA_FIELDS, "WhatsAppBusinessAccount"))


def _waba_node(world: World, waba_id: str, shared: set[str] | None = None) -> dict[str, Any]:
    """The WABA with the fields Graph derives: owner and ownership, health, the edges as fields.

    ``ownership_type`` (unless the seed sets one, e.g. ON_BEHALF_OF) is CLIENT_OWNED for a WABA
    some business lists among its client WABAs, with its owner in ``on_behalf_of_business_info``,
    and SELF_OWNED otherwise: a property of the WABA, the same whoever reads it. Meta's examples
    show both values; its full enum and rules are not documented.
    """
    node = dict(world.wabas[waba_id])
    owner = world.businesses.get(node.get("owner_business") or "")
    owner_info = {"id": owner["id"], "name": owner["name"]} if owner is not None else None
    if owner_info is not None:
        node.setdefault("owner_business_info", owner_info)
    if shared is None:
        shared = _shared_wabas(world)
    node.setdefault("ownership_type", "CLIENT_OWNED" if waba_id in shared else "SELF_OWNED")
    if node["ownership_type"] != "SELF_OWNED" and owner_info is not None:
        node.setdefault("on_behalf_of_business_info", owner_info)
    node.setdefault("subscribed_apps", {"data": _subscriptions(world, waba_id)})
    node.setdefault("phone_numbers", {"data": [
        p.project(n, None, PHONE_DEFAULT, PHONE_FIELDS, "WhatsAppBusinessPhoneNumber")
        for n in world.phone_numbers.get(waba_id, [])
    ]})
    entities = [{"entity_type": "WABA", "id": waba_id, "can_send_message": "AVAILABLE"}]
    entities += [{"entity_type": "PHONE_NUMBER", "id": n["id"], "can_send_message": "AVAILABLE"}
                 for n in world.phone_numbers.get(waba_id, [])]
    node.setdefault("health_status", {"can_send_message": "AVAILABLE", "entities": entities})
    return node


def _shared_wabas(world: World) -> set[str]:
    """The WABAs some business other than their owner lists among its client WABAs."""
    return {
        waba_id
        for business in world.businesses.values()
        for waba_id in business["client_wabas"]
        if (world.wabas.get(waba_id) or {}).get("owner_business") != business["id"]
    }


def list_phone_numbers(world: World, request: Request, waba_id: str) -> Reply:
    """``GET /{waba-id}/phone_numbers``: the seeded numbers, paged like every list edge.

    Meta's ``filtering`` on this edge (by account mode and the like) is not implemented: the
    parameter is ignored, and every number is listed.
    """
    rows = world.phone_numbers.get(waba_id, [])
    chunk, links = paging.page(rows, request, world.settings, key=lambda n: n["id"])
    wanted = p.requested_fields(request.params)
    data = [p.project(n, wanted, PHONE_DEFAULT, PHONE_FIELDS, "WhatsAppBusinessPhoneNumber") for n in chunk]
    return Reply({"data": data, "paging": links})


def list_subscribed_apps(world: World, request: Request, waba_id: str) -> Reply:
    """``GET /{waba-id}/subscribed_apps``: the apps that get this WABA's webhooks, unpaged."""
    return Reply({"data": _subscriptions(world, waba_id)})


def _subscriptions(world: World, waba_id: str) -> list[dict[str, Any]]:
    # Meta's webhook guide shows each entry as {"whatsapp_business_api_data": {link, name, id}}.
    rows = []
    for app_id in world.subscribed_apps.get(waba_id, []):
        app = world.apps.get(app_id, {"id": app_id, "name": f"App {app_id}"})
        rows.append({"whatsapp_business_api_data": {
            "id": app_id, "name": app["name"], "link": f"https://www.facebook.com/games/?app_id={app_id}",
        }})
    return rows


def subscribe_app(world: World, request: Request, waba_id: str) -> Reply:
    """``POST /{waba-id}/subscribed_apps`` subscribes the app the token belongs to; again is a
    no-op. Meta's ``override_callback_uri``/``verify_token`` are accepted and not kept (lenient:
    the emulator sends no webhooks)."""
    assert request.token is not None
    apps = world.subscribed_apps.setdefault(waba_id, [])
    if request.token.app_id not in apps:
        apps.append(request.token.app_id)
    return Reply({"success": True})


def unsubscribe_app(world: World, request: Request, waba_id: str) -> Reply:
    """``DELETE /{waba-id}/subscribed_apps`` unsubscribes the token's app; Meta's answer when it
    was not subscribed is not documented, so that is a success too."""
    assert request.token is not None
    apps = world.subscribed_apps.get(waba_id, [])
    if request.token.app_id in apps:
        apps.remove(request.token.app_id)
    return Reply({"success": True})


def update_waba(world: World, request: Request, waba_id: str) -> Reply:
    changed = False
    for key in WABA_SETTABLE:
        value = p.boolean(request.params, key)
        if value is not None:
            world.wabas[waba_id][key] = value
            changed = True
    if not changed:
        raise invalid_parameter(f"Nothing to update; settable fields: {', '.join(WABA_SETTABLE)}.")
    return Reply({"success": True})


def read_business(world: World, request: Request, business_id: str) -> Reply:
    business = world.businesses[business_id]
    node = {"id": business_id, "name": business["name"]}
    return Reply(p.project(node, p.requested_fields(request.params), ["id", "name"], {"id", "name"}, "Business"))


def list_business_wabas(world: World, request: Request, business_id: str, edge: str) -> Reply:
    """``owned_whatsapp_business_accounts`` or ``client_whatsapp_business_accounts``."""
    ids = world.businesses[business_id]["owned_wabas" if edge.startswith("owned") else "client_wabas"]
    shared = _shared_wabas(world)
    rows = [_waba_node(world, w, shared) for w in ids
            if w in world.wabas and request.token and request.token.can_see_waba(w)]
    for rule in _filtering(request.params):
        value = float(rule["value"])
        if rule["operator"] == "GREATER_THAN":
            rows = [r for r in rows if r["creation_time"] > value]
        else:
            rows = [r for r in rows if r["creation_time"] < value]
    sort = p.text(request.params, "sort") or "creation_time_ascending"
    if sort == "creation_time":  # Graph appends "_ascending" to a bare field (graph-api-facts.md 5)
        sort = "creation_time_ascending"
    if sort not in ("creation_time_ascending", "creation_time_descending"):
        raise invalid_parameter("sort must be creation_time_ascending or creation_time_descending.")
    sign = -1 if sort.endswith("descending") else 1
    chunk, links = paging.page(rows, request, world.settings, key=lambda w: [sign * w["creation_time"], w["id"]])
    wanted = p.requested_fields(request.params)
    data = [p.project(w, wanted, WABA_DEFAULT, WABA_FIELDS, "WhatsAppBusinessAccount") for w in chunk]
    return Reply({"data": data, "paging": links})


def _filtering(params: dict[str, Any]) -> list[dict[str, Any]]:
    rules = p.structured(params, "filtering")
    if rules in (None, ""):
        return []
    if not isinstance(rules, list):
        raise invalid_parameter("filtering must be a JSON array of {field, operator, value}.")
    for rule in rules:
        if (
            not isinstance(rule, dict)
            or rule.get("field") != "creation_time"
            or rule.get("operator") not in ("GREATER_THAN", "LESS_THAN")
        ):
            raise invalid_parameter("filtering supports field creation_time with GREATER_THAN or LESS_THAN.")
        try:
            float(rule.get("value", ""))
        except (TypeError, ValueError):
            raise invalid_parameter("filtering value must be a unix timestamp.") from None
    return rules


def me(world: World, request: Request) -> Reply:
    assert request.token is not None
    user = world.users.get(request.token.user_id, {"id": request.token.user_id, "name": "Unknown"})
    node = {"id": user["id"], "name": user["name"]}
    return Reply(p.project(node, p.requested_fields(request.params), ["id", "name"], {"id", "name"}, "User"))


def debug_token(world: World, request: Request) -> Reply:
    """Introspect ``input_token``; the caller's own token authenticates the call."""
    subject = p.text(request.params, "input_token", required=True)
    info = world.tokens.get(subject or "")
    if info is None:
        return Reply({"data": {
            "is_valid": False,
            "error": {"code": 190, "message": "Invalid OAuth access token."},
            "scopes": [],
        }})
    scopes, granular = [], []
    for scope in info.scopes:
        entry: dict[str, Any] = {"scope": scope}
        targets = None
        if scope.startswith("whatsapp"):
            targets = info.wabas
        elif scope == "business_management":
            targets = info.businesses
        if targets is not None and not targets:
            # Granted for no asset, the permission gives nothing; empty target_ids would read as
            # "every asset" (graph-api-facts.md 5), so the emulator leaves the scope out.
            continue
        if targets is not None:
            entry["target_ids"] = list(targets)
        scopes.append(scope)
        granular.append(entry)
    now = world.clock.now()
    data: dict[str, Any] = {
        "app_id": info.app_id,
        "application": "wabactl emulator",
        "type": info.type,
        "data_access_expires_at": 0,
        "expires_at": info.expires_at,
        "is_valid": True,
        "issued_at": int(now),
        "scopes": scopes,
        "granular_scopes": granular,
        "user_id": info.user_id,
    }
    if info.expired(now):  # Meta's answer for an expired token: invalid, with the 190/463 error
        expired = errors.expired_token(info.expires_at, now)
        data["is_valid"] = False
        data["error"] = {"code": expired.code, "message": expired.message, "subcode": expired.subcode}
    return Reply({"data": data})


def list_users(world: World, request: Request, waba_id: str) -> Reply:
    business_id = p.text(request.params, "business")
    if business_id is None:
        raise invalid_parameter("The parameter business is required.", title="Missing parameter")
    business = world.businesses.get(business_id)
    if business is None or waba_id not in business["owned_wabas"] + business["client_wabas"]:
        raise invalid_parameter(f"The business {business_id} has no access to this WhatsApp Business Account.")
    rows = []
    for user_id, tasks in world.assigned[waba_id].items():
        user = world.users.get(user_id, {"name": f"User {user_id}", "user_type": "BUSINESS_USER"})
        rows.append({
            "id": user_id,
            "name": user["name"],
            "tasks": list(tasks),
            "user_type": user["user_type"],
            "business": {"id": business_id, "name": business["name"]},
            "permitted_tasks": sorted(TASKS),
        })
    chunk, links = paging.page(rows, request, world.settings, key=lambda u: u["id"])
    wanted = p.requested_fields(request.params)
    data = [p.project(u, wanted, USER_DEFAULT, USER_FIELDS, "AssignedUser") for u in chunk]
    return Reply({"data": data, "paging": links, "summary": {"total_count": len(rows)}})


def assign_user(world: World, request: Request, waba_id: str) -> Reply:
    user_id = p.text(request.params, "user", required=True)
    assert user_id is not None
    if user_id not in world.users:
        raise invalid_parameter(f"The user {user_id} does not exist or is not in this business.")
    tasks = p.string_list(request.params, "tasks")
    if not tasks:
        raise invalid_parameter("The parameter tasks is required (a non-empty array).", title="Missing parameter")
    unknown = sorted({t for t in tasks} - TASKS)
    if unknown:
        raise invalid_parameter(f"Unknown tasks: {', '.join(unknown)}.", title="Invalid tasks")
    assigned = world.assigned[waba_id]
    if user_id in assigned and world.settings.assign_existing == "error":
        raise GraphError(
            code=100,
            message="User is already assigned to this WhatsApp Business Account",
            details="Remove the user first, or the emulator's assign_existing setting to replace.",
        )
    assigned[user_id] = list(dict.fromkeys(tasks))
    return Reply({"success": True})


def unassign_user(world: World, request: Request, waba_id: str) -> Reply:
    user_id = p.text(request.params, "user", required=True)
    world.assigned[waba_id].pop(user_id or "", None)
    return Reply({"success": True})


def require_management(request: Request, what: str) -> None:
    if request.token is None or not request.token.has_scope("whatsapp_business_management"):
        raise no_permission(what, "whatsapp_business_management")


# What a user assigned to a WABA needs among its tasks, by what it asks for. Meta documents the
# tasks (MANAGE: everything; MANAGE_TEMPLATES and VIEW_TEMPLATES: templates) but not a table of
# which call needs which; this is the emulator's reading of the names. A token whose user is not
# assigned to the WABA at all (a business admin, say) is not limited here: whether Meta limits it
# is not documented, so the emulator stays lenient.
READ_TEMPLATES = frozenset({"MANAGE", "DEVELOP", "MANAGE_TEMPLATES", "VIEW_TEMPLATES"})
WRITE_TEMPLATES = frozenset({"MANAGE", "DEVELOP", "MANAGE_TEMPLATES"})
NEEDED_TASKS = {
    ("message_templates", "GET"): READ_TEMPLATES,
    ("message_templates", "POST"): WRITE_TEMPLATES,
    ("message_templates", "DELETE"): WRITE_TEMPLATES,
    ("assigned_users", "GET"): frozenset({"MANAGE", "MANAGE_USERS"}),
    ("assigned_users", "POST"): frozenset({"MANAGE", "MANAGE_USERS"}),
    ("assigned_users", "DELETE"): frozenset({"MANAGE", "MANAGE_USERS"}),
    ("waba", "POST"): frozenset({"MANAGE"}),
}


def require_task(world: World, request: Request, waba_id: str, what: str, method: str) -> None:
    """Refuse a user assigned to the WABA whose tasks do not cover the call (code 200)."""
    assert request.token is not None
    tasks = world.assigned.get(waba_id, {}).get(request.token.user_id)
    needed = NEEDED_TASKS.get((what, method))
    if tasks is None or needed is None or needed & set(tasks):
        return
    raise no_permission(f"WABA {waba_id} ({what}, {method}): the user's tasks {', '.join(sorted(tasks))} "
                        f"include none of {', '.join(sorted(needed))}")
