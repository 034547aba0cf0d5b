"""Which handler answers a Graph request, after the token and the object's access are checked."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from . import accounts, errors, templates, uploads
from .errors import GraphError, expired_token, invalid_parameter, invalid_token, no_permission, nonexisting_field, unknown_path, unsupported
from .params import Reply, Request
from .state import HOUR, World

WABA_EDGES = ("message_templates", "assigned_users", "phone_numbers", "subscribed_apps")
BUSINESS_EDGES = ("owned_whatsapp_business_accounts", "client_whatsapp_business_accounts")


def dispatch(world: World, request: Request) -> Reply:
    """Answer one Graph request; the caller holds ``world.lock``."""
    world.process_reviews()
    segments = request.segments
    if not segments or len(segments) > 2:
        raise unknown_path(request.path)
    if request.token is None:
        raise invalid_token()
    if request.token.expired(world.clock.now()):
        # Meta refuses an expired token on every call. Whether debug_token still answers a caller
        # asking about its own expired token is not documented: refusing it too is the stricter
        # choice (wabactl reads either answer as "expired").
        raise expired_token(request.token.expires_at, world.clock.now())
    node = segments[0]
    edge = segments[1] if len(segments) == 2 else None
    method = request.method
    if uploads.wants(world, request):  # the Resumable Upload API: /{app-id}/uploads, /upload:<id>
        return uploads.dispatch(world, request)
    if node in world.wabas:
        return _waba(world, request, node, edge)
    if edge is None:
        if node == "me" and method == "GET":
            return accounts.me(world, request)
        if node == "debug_token" and method == "GET":
            return accounts.debug_token(world, request)
        if node in world.templates:
            return _template(world, request, world.templates[node])
        if node in world.businesses and method == "GET":
            _see_business(request, node)
            return accounts.read_business(world, request, node)
        if node in world.users and method == "GET":
            user = world.users[node]
            return Reply({"id": user["id"], "name": user["name"]})
        raise unsupported(method, node)
    if node in world.businesses:
        _see_business(request, node)
        if edge in BUSINESS_EDGES and method == "GET":
            return accounts.list_business_wabas(world, request, node, edge)
        raise unsupported(method, f"{node}/{edge}")
    raise unsupported(method, node)


def _waba(world: World, request: Request, waba_id: str, edge: str | None) -> Reply:
    _see_waba(request, waba_id)
    # Meta: whatsapp_business_management is "required to do everything related to a WhatsApp
    # Business Account" (graph-api-facts.md 5): reads too, not only writes.
    accounts.require_management(request, f"WABA {waba_id}")
    charge_call(world, waba_id)
    method = request.method
    if edge is None:
        accounts.require_task(world, request, waba_id, "waba", method)
        if method == "GET":
            return accounts.read_waba(world, request, waba_id)
        if method == "POST":
            return accounts.update_waba(world, request, waba_id)
        raise unsupported(method, waba_id)
    if edge not in WABA_EDGES:
        raise nonexisting_field(edge, "WhatsAppBusinessAccount")
    accounts.require_task(world, request, waba_id, edge, method)
    needs_business = edge == "assigned_users" and world.settings.users_need_business_management
    if needs_business and request.token is not None and not request.token.has_scope("business_management"):
        # Meta says business_management "might" be needed for assigned users: a setting.
        raise no_permission(f"the users of WABA {waba_id}", "business_management")
    handlers: dict[tuple[str, str], Callable[[World, Request, str], Reply]] = {
        ("message_templates", "GET"): templates.list_templates,
        ("message_templates", "POST"): templates.create_template,
        ("message_templates", "DELETE"): templates.delete_templates,
        ("assigned_users", "GET"): accounts.list_users,
        ("assigned_users", "POST"): accounts.assign_user,
        ("assigned_users", "DELETE"): accounts.unassign_user,
        ("phone_numbers", "GET"): accounts.list_phone_numbers,
        ("subscribed_apps", "GET"): accounts.list_subscribed_apps,
        ("subscribed_apps", "POST"): accounts.subscribe_app,
        ("subscribed_apps", "DELETE"): accounts.unsubscribe_app,
    }
    handler = handlers.get((edge, method))
    if handler is None:
        raise unsupported(method, f"{waba_id}/{edge}")
    return handler(world, request, waba_id)


def _template(world: World, request: Request, template: dict[str, Any]) -> Reply:
    waba_id = template["_waba"]
    _see_waba(request, waba_id)
    accounts.require_management(request, f"template {template['id']}")
    charge_call(world, waba_id)
    accounts.require_task(world, request, waba_id, "message_templates", request.method)
    if request.method == "GET":
        return templates.get_template(world, request, template)
    if request.method == "POST":
        return templates.edit_template(world, request, template)
    raise unsupported(request.method, template["id"])


def _see_waba(request: Request, waba_id: str) -> None:
    assert request.token is not None
    if not request.token.can_see_waba(waba_id):
        raise no_permission(f"WhatsApp Business Account {waba_id}")


def _see_business(request: Request, business_id: str) -> None:
    assert request.token is not None
    if not request.token.can_see_business(business_id):
        raise no_permission(f"business {business_id}")


def charge_call(world: World, waba_id: str) -> None:
    """Count a call against the WABA's hourly budget; refuse with 80008 once it is spent."""
    budget = world.settings.calls_per_hour
    if budget <= 0:
        return
    now = world.clock.now()
    calls = world.recent(world.calls[waba_id], now, HOUR)
    if len(calls) >= budget:
        minutes = world.regain_minutes(calls, now, HOUR, budget)
        error = errors.throttled(80008, minutes, "This account spent its hourly call budget")
        error.headers["X-Business-Use-Case-Usage"] = templates.usage_header(waba_id, 100, minutes)
        world.calls[waba_id] = calls
        raise error
    world.calls[waba_id] = calls + [now]


def usage_headers(world: World, request: Request) -> dict[str, str]:
    """``X-App-Usage`` always; ``X-Business-Use-Case-Usage`` when the request touched a WABA."""
    now = world.clock.now()
    budget = world.settings.calls_per_hour or 5000
    total = sum(len(world.recent(c, now, HOUR)) for c in world.calls.values())
    app_percent = min(100, total * 100 // max(1, budget * max(1, len(world.calls))))
    headers = {"X-App-Usage": json.dumps({"call_count": app_percent, "total_cputime": 0, "total_time": 0})}
    waba_id = _waba_of(world, request)
    if waba_id is not None:
        percent = min(100, len(world.recent(world.calls[waba_id], now, HOUR)) * 100 // budget)
        headers["X-Business-Use-Case-Usage"] = templates.usage_header(waba_id, percent, 0)
    return headers


def _waba_of(world: World, request: Request) -> str | None:
    if not request.segments:
        return None
    node = request.segments[0]
    if node in world.wabas:
        return node
    template = world.templates.get(node)
    return template["_waba"] if template else None


def batch_items(raw: Any, most: int) -> list[dict[str, Any]]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise invalid_parameter("batch must be a JSON array.") from None
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise invalid_parameter("batch must be a JSON array of objects.")
    if len(raw) > most:
        raise GraphError(
            code=100,
            type="GraphBatchException",
            message=f"Too many requests in batch message. Maximum batch size is {most}",
        )
    for item in raw:
        if not isinstance(item.get("relative_url"), str) or not isinstance(item.get("method", "GET"), str):
            raise invalid_parameter("Each batch item needs method and relative_url.")
    return raw
