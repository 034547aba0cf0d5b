"""WABA calls: read live state, create, edit and delete templates, assign and remove users.

Graph JSON is mapped into the canonical model here and nowhere else, and checked on the way: an
answer of the wrong shape (a missing id, a number where text belongs, a page that is not a list)
is a ``GraphAnswerError`` naming the request, never a traceback.

Each write comes with its read-back, the proof that a write whose answer was lost did or did not
happen: a create shows as its (name, language) in the listing, a delete as the id gone, an edit as
the content in place, a user's assignment as the task set. ``GraphClient.write`` tries a write
again only when its read-back says it did not happen, so a create is never made twice.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..errors import GraphAnswerError
from ..model import DELETED_STATUSES, LiveAccount, LiveTemplate, Template, User
from .client import GraphClient

TEMPLATE_FIELDS = (
    "id,name,language,category,status,components,parameter_format,previous_category,"
    "correct_category,rejected_reason,quality_score,message_send_ttl_seconds,library_template_name"
)
USER_FIELDS = "id,name,tasks"
SUMMARY = "total_count,message_template_count,message_template_limit"
PAGE = 100  # Meta's documented maximum for list edges; the API may give fewer per page
MOST = 10**9  # a count or limit beyond this is not a number Meta would send


def fetch_account(client: GraphClient, waba_id: str, business_id: str | None, with_users: bool,
                  with_review: bool = False) -> LiveAccount:
    """The live state of one WABA; with ``with_review`` (drift), its own review status too."""
    deleted: list[LiveTemplate] = []

    def beside() -> tuple[tuple[User, ...] | None, str | None, str | None]:
        users, token_user = None, None
        if with_users and business_id:
            users = fetch_users(client, waba_id, business_id)
            token_user = fetch_me(client)
        return users, token_user, fetch_review_status(client, waba_id) if with_review else None

    if client.batcher is None or (not (with_users and business_id) and not with_review):
        templates, count, limit = fetch_templates(client, waba_id, deleted=deleted)
        users, token_user, review_status = beside()
    else:  # batched: users and review status go beside the template pages (one chain fewer)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="waba-side") as side:
            others = side.submit(beside)
            templates, count, limit = fetch_templates(client, waba_id, deleted=deleted)
            users, token_user, review_status = others.result()
    return LiveAccount(waba_id=waba_id, templates=templates, users=users, template_count=count,
                       template_limit=limit, token_user=token_user, observed_at=client.server_now(),
                       deleted=tuple(sorted(deleted, key=lambda t: t.key)), review_status=review_status)


def fetch_templates(client: GraphClient, waba_id: str, name: str | None = None,
                    deleted: list[LiveTemplate] | None = None) -> tuple[tuple[LiveTemplate, ...], int | None, int | None]:
    """Every live template language (or those called ``name``), and the count and cap from the
    summary when given. Rows Meta lists as deleted are left out, or put in ``deleted`` when given."""
    path = f"{waba_id}/message_templates"
    params: dict[str, Any] = {"fields": TEMPLATE_FIELDS, "limit": PAGE, "summary": SUMMARY}
    if name is not None:
        params["name"] = name  # Meta matches part of the name: rows are filtered exactly below
    rows: list[dict[str, Any]] = []
    summary: Any = None
    for page in client.pages(path, params):
        summary = summary or page.get("summary")
        rows.extend(_rows(page, path))
    if summary is not None and not isinstance(summary, dict):
        raise GraphAnswerError("GET", path, None, "'summary' is not an object")
    seen: dict[str, LiveTemplate] = {}
    for row in rows:
        if str(row.get("status", "")).upper() in DELETED_STATUSES:
            if deleted is not None:
                deleted.append(live_template(row, path))
            continue
        live = live_template(row, path)
        if name is None or live.template.name == name:
            seen[live.key] = live
    templates = tuple(sorted(seen.values(), key=lambda t: t.key))
    summary = summary or {}
    return templates, _count(summary, "message_template_count", path), _count(summary, "message_template_limit", path)


def fetch_users(client: GraphClient, waba_id: str, business_id: str) -> tuple[User, ...]:
    path = f"{waba_id}/assigned_users"
    users: dict[str, User] = {}
    for row in client.paged(path, {"business": business_id, "fields": USER_FIELDS, "limit": PAGE}):
        tasks = row.get("tasks") or []
        if not isinstance(tasks, list) or not all(isinstance(task, str) for task in tasks):
            raise GraphAnswerError("GET", path, None, "a user's 'tasks' is not a list of text")
        user_id = _id(row, "id", path)
        users[user_id] = User(user_id, frozenset(tasks), _text(row, "name", path, required=False))
    return tuple(users[k] for k in sorted(users))


LISTINGS = {"owned": "owned_whatsapp_business_accounts", "client": "client_whatsapp_business_accounts"}


def fetch_business_wabas(client: GraphClient, business_id: str, listing: str) -> list[tuple[str, str | None]]:
    """The WABAs of a business in one listing (``owned`` or ``client``), as (id, name), by id."""
    path = f"{business_id}/{LISTINGS[listing]}"
    found = {_id(row, "id", path): _text(row, "name", path, required=False) for row in client.paged(path, {"fields": "id,name", "limit": PAGE})}
    return sorted(found.items())


def fetch_waba_name(client: GraphClient, waba_id: str) -> str | None:
    return _text(_object(client.get(waba_id, {"fields": "name"}), waba_id), "name", waba_id, required=False)


def fetch_review_status(client: GraphClient, waba_id: str) -> str | None:
    """The WABA's ``account_review_status`` (PENDING, APPROVED, REJECTED); None when not given."""
    row = _object(client.get(waba_id, {"fields": "account_review_status"}), waba_id)
    return _enum(_text(row, "account_review_status", waba_id, required=False))


def fetch_me(client: GraphClient) -> str:
    """The user behind the client's token: read once per client (one token, one user)."""
    return client.remembered("me", lambda: _id(_object(client.get("me", {"fields": "id"}), "me"), "id", "me"))


def live_template(row: dict[str, Any], path: str = "message_templates") -> LiveTemplate:
    components = row.get("components") or []
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise GraphAnswerError("GET", path, None, f"template {row.get('id')!r}: 'components' is not a list of objects")
    template = Template(
        name=_text(row, "name", path) or "",
        language=_text(row, "language", path) or "",
        category=(_text(row, "category", path, required=False) or "").upper(),
        parameter_format=(_text(row, "parameter_format", path, required=False) or "POSITIONAL").upper(),
        components=tuple(components),
        ttl=_ttl(row, path),
        library=_text(row, "library_template_name", path, required=False),
    )
    quality = row.get("quality_score")
    return LiveTemplate(
        template=template,
        id=_id(row, "id", path),
        status=(_text(row, "status", path, required=False) or "").upper(),
        rejected_reason=_enum(row.get("rejected_reason")),
        previous_category=_enum(row.get("previous_category")),
        correct_category=_enum(row.get("correct_category")),
        quality=_enum(quality.get("score")) if isinstance(quality, dict) else None,
    )


# --- writes, each with its read-back ----------------------------------------------------------


@dataclass(frozen=True)
class Created:
    """What Meta answered to a create: the new template's id and the category it gave it (it may
    differ from the one asked for: Meta recategorises at creation). Either may be missing."""

    id: str | None
    category: str | None


def create_template(client: GraphClient, waba_id: str, template: Template) -> Created:
    def landed() -> dict[str, Any] | None:
        found = find_template(client, waba_id, template.name, template.language)
        return {"id": found.id, "category": found.template.category} if found else None

    answer = client.write("POST", f"{waba_id}/message_templates", template.create_request(), landed)
    template_id = answer.get("id") if isinstance(answer, dict) else None
    category = answer.get("category") if isinstance(answer, dict) else None
    return Created(str(template_id) if isinstance(template_id, (str, int)) and template_id != "" else None,
                   category.upper() if isinstance(category, str) and category else None)


def edit_template(client: GraphClient, waba_id: str, current: LiveTemplate, wanted: Template) -> None:
    """Components are replaced wholesale; category and format are sent only when they change."""
    # A library template's components are Meta's: only its TTL is ever edited.
    payload: dict[str, Any] = {} if wanted.library else {"components": [dict(c) for c in wanted.components]}
    if wanted.parameter_format != current.template.parameter_format:
        payload["parameter_format"] = wanted.parameter_format
    if wanted.category != current.template.category:
        payload["category"] = wanted.category
    if wanted.ttl is not None and wanted.ttl != current.template.ttl:
        payload["message_send_ttl_seconds"] = wanted.ttl

    def landed() -> dict[str, Any] | None:
        found = find_template(client, waba_id, wanted.name, wanted.language)
        if found is None:
            return None
        target = wanted if wanted.ttl is not None else dataclasses.replace(wanted, ttl=found.template.ttl)
        return {"success": True} if found.template.content() == target.content() else None

    client.write("POST", current.id, payload, landed)


def delete_template(client: GraphClient, waba_id: str, current: LiveTemplate) -> None:
    """One language only: ``hsm_id`` with ``name``; a bare ``name`` would delete them all."""

    def landed() -> dict[str, Any] | None:
        found = find_template(client, waba_id, current.template.name, current.template.language)
        return {"success": True} if found is None or found.id != current.id else None

    client.write("DELETE", f"{waba_id}/message_templates", {"hsm_id": current.id, "name": current.template.name}, landed)


def assign_user(client: GraphClient, waba_id: str, business_id: str | None, user: User) -> None:
    """Always the complete task set: Meta may replace or merge, a full set is right either way."""

    def landed() -> dict[str, Any] | None:
        if business_id is None:
            return None  # users cannot be read back without the business: try again
        tasks = {u.user_id: u.tasks for u in fetch_users(client, waba_id, business_id)}
        return {"success": True} if tasks.get(user.user_id) == user.tasks else None

    client.write("POST", f"{waba_id}/assigned_users", {"user": user.user_id, "tasks": sorted(user.tasks)}, landed)


def unassign_user(client: GraphClient, waba_id: str, business_id: str | None, user_id: str) -> None:

    def landed() -> dict[str, Any] | None:
        if business_id is None:
            return None
        return None if any(u.user_id == user_id for u in fetch_users(client, waba_id, business_id)) else {"success": True}

    client.write("DELETE", f"{waba_id}/assigned_users", {"user": user_id}, landed)


# --- reading answers ------------------------------------------------------------------------


def find_template(client: GraphClient, waba_id: str, name: str, language: str) -> LiveTemplate | None:
    """The live template of that name and language, or None."""
    templates, _, _ = fetch_templates(client, waba_id, name)
    return next((t for t in templates if t.template.language == language), None)


def _rows(page: dict[str, Any], path: str) -> list[dict[str, Any]]:
    rows = page.get("data") or []
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise GraphAnswerError("GET", path, None, "'data' is not a list of objects")
    return rows


def _object(answer: Any, path: str) -> dict[str, Any]:
    if not isinstance(answer, dict):
        raise GraphAnswerError("GET", path, None, "the answer is not a JSON object")
    return answer


def _text(row: dict[str, Any], key: str, path: str, required: bool = True) -> str | None:
    value = row.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise GraphAnswerError("GET", path, None, f"{key!r} is {'missing' if value is None else 'not text'} in {_brief(row)}")
    return value


def _id(row: dict[str, Any], key: str, path: str) -> str:
    """Graph ids are numeric strings; some answers give them as JSON numbers."""
    value = row.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if not isinstance(value, str) or not value.isdigit():
        raise GraphAnswerError("GET", path, None, f"{key!r} is not an id in {_brief(row)}")
    return value


def _count(summary: dict[str, Any], key: str, path: str) -> int | None:
    value = summary.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MOST:
        raise GraphAnswerError("GET", path, None, f"summary {key} is not a count: {str(value)[:40]!r}")
    return value


def _ttl(row: dict[str, Any], path: str) -> int | None:
    """``message_send_ttl_seconds``: Meta's examples send it as text, its answers as a number."""
    value = row.get("message_send_ttl_seconds")
    if value is None:
        return None
    if isinstance(value, str) and value.lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not -1 <= value <= MOST:
        raise GraphAnswerError("GET", path, None, f"message_send_ttl_seconds is not a number of seconds: {str(value)[:40]!r}")
    return value


def _brief(row: dict[str, Any]) -> str:
    text = repr({k: row[k] for k in list(row)[:4]})
    return text if len(text) <= 120 else text[:117] + "..."


def _enum(value: Any) -> str | None:
    if value in (None, "", "NONE"):
        return None
    return str(value).upper()
