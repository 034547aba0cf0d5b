"""The components array of a template, and the HEADER, BODY and FOOTER components in it."""

from __future__ import annotations

import hashlib
from typing import Any

from .. import errors
from ..errors import invalid_parameter
from .authentication import authentication_component
from .buttons import check_buttons
from .variables import VARIABLE_RE, component_text, refuse_leading_or_trailing, require_examples, variable_names

HEADER_FORMATS = ("TEXT", "IMAGE", "VIDEO", "GIF", "DOCUMENT", "LOCATION")
BODY_MAX, HEADER_TEXT_MAX, FOOTER_MAX = 1024, 60, 60


def check_components(
    components: Any, category: str, parameter_format: str
) -> list[dict[str, Any]]:
    """Validate a components array and return it as Meta stores it."""
    if not isinstance(components, list) or not components:
        raise invalid_parameter("Param components must be a non-empty array.")
    by_type: dict[str, dict[str, Any]] = {}
    for component in components:
        if not isinstance(component, dict) or not isinstance(component.get("type"), str):
            raise invalid_parameter("Each component must be an object with a type.")
        kind = component["type"].upper()
        if kind not in ("HEADER", "BODY", "FOOTER", "BUTTONS"):
            raise invalid_parameter(f"Unsupported component type {component['type']!r}.")
        if kind in by_type:
            subcode = errors.BODY_FORMAT if kind == "BODY" else None
            raise invalid_parameter(f"A template has at most one {kind} component.", subcode)
        by_type[kind] = component
    if "BODY" not in by_type:
        raise invalid_parameter(
            "A template needs exactly one BODY component.", errors.BODY_FORMAT, "Body format incorrect"
        )
    authentication = category == "AUTHENTICATION"
    stored: list[dict[str, Any]] = []
    for component in components:
        kind = component["type"].upper()
        if authentication:
            stored.append(authentication_component(kind, component))
        elif kind == "HEADER":
            stored.append(_header(component, category, parameter_format))
        elif kind == "BODY":
            stored.append(_body(component, parameter_format))
        elif kind == "FOOTER":
            stored.append(_footer(component))
        else:
            stored.append(_buttons(component))
    if authentication and "BUTTONS" not in by_type:
        raise invalid_parameter(
            "Authentication templates need a BUTTONS component with one OTP button.",
            errors.MISSING_FIELD,
        )
    return stored


def body_text(components: list[dict[str, Any]]) -> str:
    for component in components:
        if component.get("type") == "BODY":
            return str(component.get("text") or "")
    return ""


# --- one function per component kind -------------------------------------------------------


def _header(component: dict[str, Any], category: str, parameter_format: str) -> dict[str, Any]:
    stored = _upper(component, "type", "format")
    header_format = stored.get("format")
    if header_format not in HEADER_FORMATS:
        raise invalid_parameter(
            f"HEADER format must be one of {', '.join(HEADER_FORMATS)}.",
            errors.HEADER_FORMAT,
            "Header format incorrect",
        )
    if header_format == "TEXT":
        text = component_text(component, "HEADER", HEADER_TEXT_MAX)
        names = variable_names(text, "HEADER", parameter_format, errors.HEADER_FORMAT)
        if len(names) > 1:
            raise invalid_parameter(
                "A text header has at most one variable.", errors.HEADER_FORMAT, "Header format incorrect"
            )
        if names:
            refuse_leading_or_trailing(text, "HEADER", allow_trailing=True)
            require_examples(component.get("example"), names, parameter_format, "header_text", nested=False)
    elif header_format == "LOCATION":
        if category not in ("UTILITY", "MARKETING"):
            raise invalid_parameter(
                "Location headers are for UTILITY and MARKETING templates.", errors.HEADER_FORMAT
            )
    else:
        handles = (component.get("example") or {}).get("header_handle")
        if not isinstance(handles, list) or not handles or not all(isinstance(h, str) for h in handles):
            raise invalid_parameter(
                f"A {header_format} header needs example.header_handle (an upload handle).",
                errors.MISSING_FIELD,
            )
        # Meta keeps the media and answers reads with a CDN URL, never the handle sent.
        stored["example"] = {"header_handle": [_cdn_url(h, header_format) for h in handles]}
    return stored


def _body(component: dict[str, Any], parameter_format: str) -> dict[str, Any]:
    text = component_text(component, "BODY", BODY_MAX)
    names = variable_names(text, "BODY", parameter_format, errors.BODY_FORMAT)
    if names:
        refuse_leading_or_trailing(text, "BODY", allow_trailing=False)
        words = len(VARIABLE_RE.sub(" ", text).split())
        if words < len(set(names)):
            raise invalid_parameter(
                "This template has too many variables for its length.",
                errors.PARAM_RATIO,
                "Too many variables",
            )
        require_examples(component.get("example"), names, parameter_format, "body_text", nested=True)
    return _upper(component, "type")


def _footer(component: dict[str, Any]) -> dict[str, Any]:
    text = component_text(component, "FOOTER", FOOTER_MAX)
    if VARIABLE_RE.search(text):
        raise invalid_parameter(
            "A footer cannot contain variables.", errors.FOOTER_FORMAT, "Footer format incorrect"
        )
    return _upper(component, "type")


def _buttons(component: dict[str, Any]) -> dict[str, Any]:
    stored = _upper(component, "type")
    stored["buttons"] = check_buttons(component.get("buttons"))
    return stored


# --- shared helpers --------------------------------------------------------------------------


def _upper(component: dict[str, Any], *keys: str) -> dict[str, Any]:
    stored = dict(component)
    for key in keys:
        if isinstance(stored.get(key), str):
            stored[key] = stored[key].upper()
    return stored


def _cdn_url(handle: str, header_format: str) -> str:
    if handle.startswith("https://"):
        return handle
    digest = hashlib.sha256(handle.encode()).hexdigest()[:32]
    extension = {"IMAGE": "jpg", "VIDEO": "mp4", "GIF": "mp4", "DOCUMENT": "pdf"}[header_format]
    return f"https://scontent.whatsapp.net/v/t61.29466-34/{digest}.{extension}"
