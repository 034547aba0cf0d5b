"""``/{waba-id}/message_templates`` and ``/{template-id}``: list, get, create, edit, delete."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import math
from typing import Any

from . import content, errors, library, paging, uploads
from . import params as p
from .errors import GraphError, invalid_parameter
from .params import Reply, Request
from .state import DAY, HOUR, World

TEMPLATE_FIELDS = {
    "id", "name", "language", "category", "status", "components", "parameter_format",
    "previous_category", "correct_category", "sub_category", "rejected_reason", "quality_score",
    "last_updated_time", "message_send_ttl_seconds", "library_template_name", "source",
    "ad_account_id", "ad_adset_id", "ad_campaign_id", "ad_id", "bid_spec",
    "cta_url_link_tracking_opted_out", "degrees_of_freedom_spec", "display_format",
    "health_status", "is_primary_device_delivery_only", "is_sms_fallback_enabled",
}
DEFAULT_FIELDS = [
    "name", "parameter_format", "components", "language", "status", "category",
    "sub_category", "previous_category",
]
SUMMARY_KEYS = ("total_count", "message_template_count", "message_template_limit", "are_translations_complete")
EDITABLE = ("APPROVED", "REJECTED", "PAUSED")


def public(template: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in template.items() if not k.startswith("_")}


def list_templates(world: World, request: Request, waba_id: str) -> Reply:
    asked = {str(v).upper() for v in p.string_list(request.params, "status") or []}
    rows = _filtered(world.listed_of(waba_id, frozenset(asked)), request.params)
    wanted = p.requested_fields(request.params)
    chunk, links = paging.page(rows, request, world.settings, key=lambda t: -int(t["id"]))
    body: dict[str, Any] = {
        "data": [
            p.project(public(t), wanted, DEFAULT_FIELDS, TEMPLATE_FIELDS, "WhatsAppMessageTemplate")
            for t in chunk
        ],
        "paging": links,
    }
    summary = _summary(world, waba_id, rows, request.params.get("summary"))
    if summary is not None:
        body["summary"] = summary
    return Reply(body)


# The filter enums of Meta's SDK (graph-api-facts.md 1.1, research item 11); other values are
# refused as Graph refuses any value outside an enum param's list.
FILTER_ENUMS = {
    "status": ("APPROVED", "ARCHIVED", "DELETED", "DISABLED", "IN_APPEAL", "LIMIT_EXCEEDED", "PAUSED",
               "PENDING", "PENDING_DELETION", "REJECTED"),
    "category": ("AUTHENTICATION", "MARKETING", "UTILITY"),
    "quality_score": ("GREEN", "RED", "UNKNOWN", "YELLOW"),
    "source": ("AUTO_GENERATED", "MANUAL"),
}


def _filtered(rows: list[dict[str, Any]], params: dict[str, Any]) -> list[dict[str, Any]]:
    """The listing filters Meta's SDK names: ``name``, ``content``, ``name_or_content``, the enum
    lists (``status``, ``category``, ``quality_score``, ``source``), ``language``, ``since``/``until``.

    Meta documents the names, not the matching: text filters match a part, ignoring case, the
    lenient reading (wabactl re-filters names exactly). ``since``/``until`` take the template's
    creation time, both ends included; which time Meta filters on is not documented.
    """
    name = p.text(params, "name")
    if name:  # Graph matches names by substring; clients must re-filter exactly.
        rows = [t for t in rows if name in t["name"]]
    for field, allowed in FILTER_ENUMS.items():
        wanted = _enum_list(params, field, allowed)
        if wanted is None:
            continue
        if field == "quality_score":
            rows = [t for t in rows if (t.get("quality_score") or {}).get("score") in wanted]
        elif field == "source":
            rows = [t for t in rows if str(t.get("source") or "MANUAL").upper() in wanted]
        else:
            rows = [t for t in rows if t[field] in wanted]
    languages = p.string_list(params, "language")
    if languages:
        rows = [t for t in rows if t["language"] in languages]
    text_in = p.text(params, "content")
    if text_in:
        rows = [t for t in rows if _contains(_component_texts(t["components"]), text_in)]
    either = p.text(params, "name_or_content")
    if either:
        rows = [t for t in rows if _contains([t["name"], *_component_texts(t["components"])], either)]
    since, until = _moment(params, "since"), _moment(params, "until")
    if since is not None:
        rows = [t for t in rows if _created(t) >= since]
    if until is not None:
        rows = [t for t in rows if _created(t) <= until]
    return rows


def _enum_list(params: dict[str, Any], field: str, allowed: tuple[str, ...]) -> set[str] | None:
    """An enum list filter, upper-cased (Meta's own example filters ``status=approved``)."""
    wanted = p.string_list(params, field)
    if not wanted:
        return None
    upper = {w.upper() for w in wanted}
    for index, value in enumerate(wanted):
        if value.upper() not in allowed:
            raise invalid_parameter(
                f"Param {field}[{index}] must be one of {{{', '.join(allowed)}}} - got \"{value}\"."
            )
    return upper


def _component_texts(components: list[dict[str, Any]]) -> list[str]:
    """Every ``text`` in the components: header, body, footer, buttons, carousel cards."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key == "text" and isinstance(inner, str):
                    found.append(inner)
                else:
                    walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(components)
    return found


def _contains(texts: list[str], part: str) -> bool:
    needle = part.casefold()
    return any(needle in text.casefold() for text in texts)


def _moment(params: dict[str, Any], name: str) -> float | None:
    """A Graph datetime param: unix seconds or an ISO-8601 date or date and time (UTC if no zone)."""
    raw = p.text(params, name)
    if raw is None:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if math.isfinite(seconds):
        return seconds
    try:
        moment = dt.datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise invalid_parameter(
            f"Param {name} must be a unix timestamp or an ISO-8601 date and time; got {raw!r}."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def _created(template: dict[str, Any]) -> float:
    """When the template was created; a template restored from an older state file has no stamp,
    so its last update stands in."""
    return float(template.get("_created", template.get("last_updated_time", 0)))


def _summary(world: World, waba_id: str, rows: list[dict[str, Any]], raw: Any) -> dict[str, Any] | None:
    if raw in (None, "", "false"):
        return None
    asked = SUMMARY_KEYS if raw in ("true", True, "1") else tuple(
        k.strip() for k in str(raw).split(",") if k.strip()
    )
    values = {
        "total_count": len(rows),
        "message_template_count": world.template_count(waba_id),
        "message_template_limit": world.template_limit(waba_id),
        "are_translations_complete": True,
    }
    return {k: values[k] for k in asked if k in values}


def get_template(world: World, request: Request, template: dict[str, Any]) -> Reply:
    wanted = p.requested_fields(request.params)
    default = DEFAULT_FIELDS + ["rejected_reason", "quality_score"]
    return Reply(p.project(public(template), wanted, default, TEMPLATE_FIELDS, "WhatsAppMessageTemplate"))


def create_template(world: World, request: Request, waba_id: str) -> Reply:
    """Steps: creation budget, content rules, identity, name lock, cap; then store as PENDING."""
    now = world.clock.now()
    settings = world.settings
    _check_creation_budget(world, waba_id, now)
    params = request.params
    name = content.check_name(params.get("name"))
    language = content.check_language(params.get("language"))
    category = content.check_category(params.get("category"))
    parameter_format = content.check_parameter_format(params.get("parameter_format"))
    library_name = params.get("library_template_name")
    if library_name not in (None, ""):
        # From Meta's template library: no components (Meta writes them), approved at once.
        if params.get("components") not in (None, "", []):
            raise invalid_parameter("A template from the template library takes no components.")
        components = library.expand(library_name, category, p.structured(params, "library_template_body_inputs"),
                                    p.structured(params, "library_template_button_inputs"))
    else:
        requested = p.structured(params, "components")
        components = content.check_components(requested, category, parameter_format, media_base=f"{request.base_url}{MEDIA_PATH}")
        _check_handles(world, requested)
        _check_catalog(world, waba_id, components)
    if world.find_template(waba_id, name, language):
        raise invalid_parameter(
            f"There is already {language} content for this template. "
            "You can create a new template and try again.",
            errors.LANGUAGE_EXISTS,
            "Content in This Language Already Exists",
        )
    locked_until = world.locks[waba_id].get(f"{name}|{language}", 0.0)
    if locked_until > now:
        days = (locked_until - now) / DAY
        wait = "less than 1 minute" if locked_until - now < 60 else f"{days:.0f} days"
        raise invalid_parameter(
            f"{language} is being deleted for {name}. Consider creating a new message template in "
            f"a different language, or wait {wait} before trying again.",
            errors.LANGUAGE_BEING_DELETED,
            "Message template language is being deleted",
        )
    new_name = all(t["name"] != name for t in world.templates_of(waba_id))
    adds = 1 if settings.count_mode == "translation" or new_name else 0
    if world.template_count(waba_id) + adds > world.template_limit(waba_id):
        raise invalid_parameter(
            "You have exceeded the maximum number of message templates you can have for this "
            "WhatsApp business account.",
            errors.TEMPLATE_LIMIT,
            "Message Template Limit Exceeded",
        )
    instant = (category == "AUTHENTICATION" and settings.instant_authentication_approval) or library_name not in (None, "")
    template: dict[str, Any] = {
        "id": world.new_id(),
        "name": name,
        "language": language,
        "category": category,
        "status": "APPROVED" if instant else "PENDING",
        "parameter_format": parameter_format,
        "components": components,
        "rejected_reason": "NONE",
        "quality_score": {"score": "UNKNOWN", "date": int(now)},
        "last_updated_time": int(now),
        "_waba": waba_id,
        "_edits": [],
        "_review_due": None if instant else now + settings.review_delay_seconds,
    }
    ttl = params.get("message_send_ttl_seconds")
    if ttl not in (None, ""):
        template["message_send_ttl_seconds"] = content.check_ttl(ttl, category)
    if library_name not in (None, ""):
        template["library_template_name"] = library_name
    template["category"] = world.category_at_create(template)
    world.add_template(template)
    world.creations[waba_id].append(now)
    return Reply({"id": template["id"], "status": template["status"], "category": template["category"]})


def _check_creation_budget(world: World, waba_id: str, now: float) -> None:
    settings = world.settings
    stamps = world.recent(world.creations[waba_id], now, HOUR)
    world.creations[waba_id] = stamps
    if len(stamps) < settings.creates_per_hour:
        return
    minutes = world.regain_minutes(stamps, now, HOUR, settings.creates_per_hour)
    error = errors.throttled(
        settings.create_limit_code, minutes,
        f"This account created {len(stamps)} templates in the last hour",
    )
    error.headers["X-Business-Use-Case-Usage"] = usage_header(waba_id, 100, minutes)
    raise error


def usage_header(waba_id: str, percent: int, regain_minutes: int) -> str:
    return json.dumps({
        waba_id: [{
            "type": "whatsapp_business_management",
            "call_count": percent,
            "total_cputime": min(percent, 100) // 4,
            "total_time": min(percent, 100) // 4,
            "estimated_time_to_regain_access": regain_minutes,
        }]
    }, separators=(",", ":"))


def edit_template(world: World, request: Request, template: dict[str, Any]) -> Reply:
    """Steps: status gate, category rule, edit quota, content rules; then back to review."""
    now = world.clock.now()
    settings = world.settings
    params = request.params
    status = template["status"]
    if status not in EDITABLE:
        raise invalid_parameter(
            f"A template in status {status} can't be edited; only APPROVED, REJECTED or PAUSED ones.",
            errors.STATUS_CANNOT_CHANGE,
            "Message template status can't be changed",
        )
    category = template["category"]
    if params.get("category") not in (None, ""):
        requested = content.check_category(params["category"])
        if status == "APPROVED" and requested != category:
            raise invalid_parameter(
                "The category of an approved template can't be edited.",
                errors.STATUS_CANNOT_CHANGE,
                "Category can't be changed",
            )
        category = requested
    if status == "APPROVED":
        edits = world.recent(template["_edits"], now, 30 * DAY)
        if len(world.recent(edits, now, DAY)) >= settings.edits_per_day or len(edits) >= settings.edits_per_30_days:
            raise invalid_parameter(
                "This template reached its edit limit (1 edit per 24 hours, 10 per 30 days for "
                "approved templates).",
                errors.STATUS_CANNOT_CHANGE,
                "Edit limit reached",
            )
    parameter_format = template["parameter_format"]
    if params.get("parameter_format") not in (None, ""):
        parameter_format = content.check_parameter_format(params["parameter_format"])
    components = template["components"]
    if params.get("components") not in (None, ""):
        requested = p.structured(params, "components")
        components = content.check_components(requested, category, parameter_format, media_base=f"{request.base_url}{MEDIA_PATH}")
        _check_handles(world, requested)
    elif parameter_format != template["parameter_format"]:
        components = content.check_components(components, category, parameter_format)
    ttl = template.get("message_send_ttl_seconds")
    if params.get("message_send_ttl_seconds") not in (None, ""):
        ttl = content.check_ttl(params["message_send_ttl_seconds"], category)
    if (category, parameter_format, components, ttl) == (template["category"], template["parameter_format"],
                                                         template["components"], template.get("message_send_ttl_seconds")):
        # An edit that changes nothing is refused and spends no edit allowance. Meta's answer to
        # it is not documented; an invalid-parameter error is the emulator's stricter guess.
        raise invalid_parameter("The edit changes nothing: the template already has these components, category and settings.",
                                title="Nothing to edit")
    if status == "APPROVED":
        template["_edits"] = world.recent(template["_edits"], now, 30 * DAY) + [now]
    template.update(
        category=category,
        parameter_format=parameter_format,
        components=components,
        status="PENDING",
        rejected_reason="NONE",
        last_updated_time=int(now),
        _review_due=now + settings.review_delay_seconds,
    )
    world.review_later(template)
    if ttl is not None:
        template["message_send_ttl_seconds"] = ttl
    return Reply({"success": True})


def delete_templates(world: World, request: Request, waba_id: str) -> Reply:
    """By ``hsm_ids`` (all or nothing), by ``hsm_id`` + ``name``, or by ``name`` (every language)."""
    params = request.params
    name = p.text(params, "name")
    hsm_id = p.text(params, "hsm_id")
    hsm_ids = p.string_list(params, "hsm_ids")
    live = world.templates_of(waba_id)
    if hsm_ids is not None:
        if name or hsm_id:
            raise invalid_parameter("hsm_ids cannot be combined with name or hsm_id.")
        if len(hsm_ids) > 100:
            raise invalid_parameter("At most 100 hsm_ids can be deleted at once.")
        by_id = {t["id"]: t for t in live}
        unknown = [i for i in hsm_ids if i not in by_id]
        if unknown:
            raise _not_found(", ".join(unknown))
        doomed = [by_id[i] for i in hsm_ids]
    elif name is None:
        raise invalid_parameter("Delete needs name, hsm_id and name, or hsm_ids.", title="Missing parameter")
    elif hsm_id is not None:
        doomed = [t for t in live if t["id"] == hsm_id and t["name"] == name]
        if not doomed:
            raise _not_found(name)
    else:
        doomed = [t for t in live if t["name"] == name]
        if not doomed:
            raise _not_found(name)
    disabled = [t for t in doomed if t["status"] == "DISABLED"]
    if disabled:
        raise invalid_parameter(
            f"The template {disabled[0]['name']} ({disabled[0]['language']}) is DISABLED; "
            "disabled templates can't be deleted.",
            title="Template can't be deleted",
        )
    now = world.clock.now()
    for template in doomed:
        _delete(world, waba_id, template, now)
    return Reply({"success": True})


def _delete(world: World, waba_id: str, template: dict[str, Any], now: float) -> None:
    settings = world.settings
    key = f"{template['name']}|{template['language']}"
    lock = now + settings.propagation_lock_seconds
    if template["status"] == "APPROVED":
        lock = max(lock, now + settings.name_lock_days * DAY)
    if lock > now:
        world.locks[waba_id][key] = max(world.locks[waba_id].get(key, 0.0), lock)
    world.remove_template(template)


MEDIA_PATH = "/_media"  # where the emulator serves uploaded media, as Meta's CDN does


def media_file(world: World, name: str) -> tuple[bytes, str] | None:
    """The bytes and type of uploaded media by the name its CDN URL ends in, or None."""
    digest = name.split(".", 1)[0]
    for handle, info in world.handles.items():
        if hashlib.sha256(handle.encode()).hexdigest()[:32] == digest and info.get("_bytes"):
            return base64.b64decode(info["_bytes"]), str(info["file_type"])
    return None


def _check_catalog(world: World, waba_id: str, components: list[dict[str, Any]]) -> None:
    """Meta's catalog and multi-product template pages: the WABA needs a connected catalog."""
    kinds = {str(b.get("type")) for c in components if c.get("type") == "BUTTONS" for b in c.get("buttons") or []}
    if kinds & {"CATALOG", "MPM"} and not world.wabas[waba_id].get("catalog_connected"):
        raise invalid_parameter("This WhatsApp Business Account has no e-commerce catalog connected; catalog and "
                                "multi-product templates need one.", title="No catalog connected")


# A handle's file type fits a header format (Meta's template media guide).
HANDLE_TYPES = {"IMAGE": ("image/jpeg", "image/jpg", "image/png"), "VIDEO": ("video/mp4",), "GIF": ("video/mp4",),
                "DOCUMENT": ("application/pdf",)}


def _check_handles(world: World, components: Any) -> None:
    """Every media header example is a handle an upload here produced: Meta takes only handles
    from its Resumable Upload API, never the CDN URL a read answers (what an imported config
    would hold) nor a handle it did not give out. Meta's answer to a bad handle is reported as
    131009 with subcode 2494102 (public code; graph-api-facts.md lists no code for it)."""
    for component in components if isinstance(components, list) else []:
        if not isinstance(component, dict):
            continue
        for card in component.get("cards") or [] if isinstance(component.get("cards"), list) else []:
            if isinstance(card, dict):
                _check_handles(world, card.get("components"))
        example = component.get("example")
        handles = example.get("header_handle") if isinstance(example, dict) else None
        header_format = str(component.get("format", "")).upper()
        for handle in handles if isinstance(handles, list) else []:
            info = uploads.handle_info(world, handle) if isinstance(handle, str) else None
            if info is not None and header_format in HANDLE_TYPES and info["file_type"] not in HANDLE_TYPES[header_format]:
                raise invalid_parameter(f"The media handle holds {info['file_type']}, which a {header_format} header does not take.",
                                        errors.HEADER_FORMAT, "Header format incorrect")
            if info is None:
                kind = "a URL" if isinstance(handle, str) and handle.lower().startswith(("http://", "https://")) else "not a handle this API gave out"
                raise GraphError(
                    code=131009, subcode=2494102, message="(#131009) Parameter value is not valid",
                    user_title="Invalid media handle",
                    user_msg=f"example.header_handle must be a handle from the Resumable Upload API; {str(handle)[:60]!r} is {kind}.",
                )


def _not_found(name: str) -> GraphError:
    return invalid_parameter(
        f"The message template {name} wasn't found for this account.",
        errors.TEMPLATE_NOT_FOUND,
        "Message template not found",
    )
