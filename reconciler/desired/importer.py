"""Live WABA -> config YAML that, planned again, shows no changes."""

from __future__ import annotations

import re
from typing import Any

import yaml

from ..model import BUTTON_KEYS, LiveAccount, LiveTemplate

COMPONENT_KEYS = ("type", "format", "text", "example", "add_security_recommendation", "code_expiration_minutes", "buttons")
EXAMPLE_KEYS = ("header_text", "header_text_named_params", "header_handle", "body_text", "body_text_named_params")
SCHEMA_COMMENT = "# yaml-language-server: $schema=https://wabactl.dev/schemas/config.schema.json\n"


def account_name(waba_name: str | None, waba_id: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", (waba_name or "").lower()).strip("-")[:60]
    return slug or f"waba-{waba_id}"


def config_for(live: LiveAccount, name: str, business_id: str | None, token_env: str | None = None) -> dict[str, Any]:
    account: dict[str, Any] = {"waba_id": live.waba_id}
    if business_id:
        account["business_id"] = business_id
    if token_env:
        account["token_env"] = token_env
    account["templates"] = _templates(live.templates)
    if live.users is not None:
        account["users"] = {u.user_id: sorted(u.tasks) for u in live.users}
    return {"version": 1, "accounts": {name: account}}


def to_yaml(config: dict[str, Any]) -> str:
    body = yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)
    return SCHEMA_COMMENT + body


def _templates(live: tuple[LiveTemplate, ...]) -> dict[str, Any]:
    """Grouped by name, each with all its languages."""
    out: dict[str, Any] = {}
    for current in sorted(live, key=lambda t: (t.template.name, t.template.language)):
        template = current.template
        entry = out.setdefault(template.name, {"category": template.category})
        if template.parameter_format != "POSITIONAL":
            entry["parameter_format"] = template.parameter_format
        languages = entry.setdefault("languages", {})
        languages[template.language] = {
            "components": [_component(c, template.category) for c in template.components]
        }
    return out


def _component(component: dict[str, Any], category: str) -> dict[str, Any]:
    kind = str(component.get("type", "")).upper()
    if category == "AUTHENTICATION" and kind in ("BODY", "FOOTER"):
        # Meta writes these texts itself and refuses them on create.
        keep = ("type", "add_security_recommendation") if kind == "BODY" else ("type", "code_expiration_minutes")
        return {k: component[k] for k in keep if component.get(k) is not None} | {"type": kind}
    out = {k: component[k] for k in COMPONENT_KEYS if component.get(k) not in (None, "", [], {})}
    out["type"] = kind
    if isinstance(out.get("example"), dict):
        out["example"] = {k: v for k, v in out["example"].items() if k in EXAMPLE_KEYS}
    if isinstance(out.get("buttons"), list):
        out["buttons"] = [{k: b[k] for k in BUTTON_KEYS if b.get(k) not in (None, "")} for b in out["buttons"]]
    return out
