"""WABA calls: read live state, create, edit and delete templates, assign and remove users.

Graph JSON is mapped into the canonical model here and nowhere else.
"""

from __future__ import annotations

from typing import Any

from ..model import DELETED_STATUSES, LiveAccount, LiveTemplate, Template, User
from .client import GraphClient

TEMPLATE_FIELDS = (
    "id,name,language,category,status,components,parameter_format,previous_category,"
    "correct_category,rejected_reason,quality_score"
)
USER_FIELDS = "id,name,tasks"
SUMMARY = "total_count,message_template_count,message_template_limit"
PAGE = 100  # Meta's documented maximum for list edges; the API may give fewer per page


def fetch_account(client: GraphClient, waba_id: str, business_id: str | None, with_users: bool) -> LiveAccount:
    templates, count, limit = fetch_templates(client, waba_id)
    users, token_user = None, None
    if with_users and business_id:
        users = fetch_users(client, waba_id, business_id)
        token_user = fetch_me(client)
    return LiveAccount(waba_id=waba_id, templates=templates, users=users, template_count=count,
                       template_limit=limit, token_user=token_user, observed_at=client.server_now())


def fetch_templates(client: GraphClient, waba_id: str) -> tuple[tuple[LiveTemplate, ...], int | None, int | None]:
    """Every live template language, plus the count and cap from the summary when given."""
    rows: list[dict[str, Any]] = []
    summary: dict[str, Any] = {}
    params = {"fields": TEMPLATE_FIELDS, "limit": PAGE, "summary": SUMMARY}
    for page in client.pages(f"{waba_id}/message_templates", params):
        summary = summary or page.get("summary") or {}
        rows.extend(page.get("data") or [])
    seen: dict[str, LiveTemplate] = {}
    for row in rows:
        if str(row.get("status", "")).upper() in DELETED_STATUSES:
            continue
        live = live_template(row)
        seen[live.key] = live
    templates = tuple(sorted(seen.values(), key=lambda t: t.key))
    return templates, _int(summary.get("message_template_count")), _int(summary.get("message_template_limit"))


def fetch_users(client: GraphClient, waba_id: str, business_id: str) -> tuple[User, ...]:
    rows = client.paged(f"{waba_id}/assigned_users", {"business": business_id, "fields": USER_FIELDS, "limit": PAGE})
    users = {str(r["id"]): User(str(r["id"]), frozenset(r.get("tasks") or ()), r.get("name")) for r in rows}
    return tuple(users[k] for k in sorted(users))


def fetch_waba_name(client: GraphClient, waba_id: str) -> str | None:
    name = client.get(waba_id, {"fields": "name"}).get("name")
    return str(name) if name else None


def fetch_me(client: GraphClient) -> str:
    return str(client.get("me", {"fields": "id"})["id"])


def live_template(row: dict[str, Any]) -> LiveTemplate:
    category = str(row.get("category", "")).upper()
    template = Template(
        name=str(row["name"]),
        language=str(row["language"]),
        category=category,
        parameter_format=str(row.get("parameter_format") or "POSITIONAL").upper(),
        components=tuple(row.get("components") or ()),
    )
    quality = row.get("quality_score")
    return LiveTemplate(
        template=template,
        id=str(row["id"]),
        status=str(row.get("status", "")).upper(),
        rejected_reason=_enum(row.get("rejected_reason")),
        previous_category=_enum(row.get("previous_category")),
        correct_category=_enum(row.get("correct_category")),
        quality=_enum(quality.get("score")) if isinstance(quality, dict) else None,
    )


def create_template(client: GraphClient, waba_id: str, template: Template) -> dict[str, Any]:
    return client.post(f"{waba_id}/message_templates", template.create_request())


def edit_template(client: GraphClient, template_id: str, template: Template, with_category: bool,
                  with_parameter_format: bool) -> dict[str, Any]:
    """Components are replaced wholesale; category and format are sent only when they change."""
    payload: dict[str, Any] = {"components": [dict(c) for c in template.components]}
    if with_parameter_format:
        payload["parameter_format"] = template.parameter_format
    if with_category:
        payload["category"] = template.category
    return client.post(template_id, payload)


def delete_template(client: GraphClient, waba_id: str, name: str, template_id: str) -> dict[str, Any]:
    """One language only: ``hsm_id`` with ``name``; a bare ``name`` would delete them all."""
    return client.delete(f"{waba_id}/message_templates", {"hsm_id": template_id, "name": name})


def assign_user(client: GraphClient, waba_id: str, user_id: str, tasks: frozenset[str]) -> dict[str, Any]:
    """Always the complete task set: Meta may replace or merge, a full set is right either way."""
    return client.post(f"{waba_id}/assigned_users", {"user": user_id, "tasks": sorted(tasks)})


def unassign_user(client: GraphClient, waba_id: str, user_id: str) -> dict[str, Any]:
    return client.delete(f"{waba_id}/assigned_users", {"user": user_id})


def _enum(value: Any) -> str | None:
    if value in (None, "", "NONE"):
        return None
    return str(value).upper()


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
