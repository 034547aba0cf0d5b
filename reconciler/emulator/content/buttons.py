"""The buttons array of a BUTTONS component: kinds, how many of each, their order and fields."""

from __future__ import annotations

import re
from typing import Any

from .. import errors
from ..errors import invalid_parameter
from .variables import VARIABLE_RE

BUTTON_TYPES = (
    "QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE", "OTP", "FLOW", "CATALOG", "MPM",
    "SPM", "VOICE_CALL", "APP",
)
BUTTON_TEXT_MAX, URL_MAX, PHONE_MAX = 25, 2000, 20
BUTTONS_MAX, COPY_CODE_MAX = 10, 15
PER_KIND_MAX = {"URL": 2, "PHONE_NUMBER": 1, "COPY_CODE": 1, "VOICE_CALL": 1, "QUICK_REPLY": 10}
WHATSAPP_LINK_RE = re.compile(r"^(https?://)?([a-z0-9-]+\.)*(wa\.me|whatsapp\.com)(/|$)", re.I)


def check_buttons(buttons: Any) -> list[dict[str, Any]]:
    """Validate the buttons of a non-authentication template and return them as Meta stores them."""
    if not isinstance(buttons, list) or not buttons:
        raise invalid_parameter("A BUTTONS component needs a non-empty buttons array.", errors.MISSING_FIELD)
    if len(buttons) > BUTTONS_MAX:
        raise invalid_parameter(f"A template has at most {BUTTONS_MAX} buttons.")
    kinds: list[str] = []
    stored_buttons = []
    for button in buttons:
        if not isinstance(button, dict) or not isinstance(button.get("type"), str):
            raise invalid_parameter("Each button must be an object with a type.")
        kind = button["type"].upper()
        if kind not in BUTTON_TYPES or kind == "OTP":
            raise invalid_parameter(f"Unsupported button type {button['type']!r}.")
        kinds.append(kind)
        stored_buttons.append(_button(kind, button))
    for kind, most in PER_KIND_MAX.items():
        if kinds.count(kind) > most:
            raise invalid_parameter(f"A template has at most {most} {kind} button(s).")
    quick = [i for i, kind in enumerate(kinds) if kind == "QUICK_REPLY"]
    if quick and quick[-1] - quick[0] + 1 != len(quick):
        raise invalid_parameter(
            "Quick reply buttons must be grouped together (invalid combination of buttons)."
        )
    return stored_buttons


def _button(kind: str, button: dict[str, Any]) -> dict[str, Any]:
    stored = dict(button, type=kind)
    if kind != "COPY_CODE":
        _limited(button.get("text"), kind, "text", BUTTON_TEXT_MAX, "Button text is")
    if kind == "URL":
        url = _limited(button.get("url"), kind, "url", URL_MAX, "Button URLs are")
        if WHATSAPP_LINK_RE.match(url):
            raise invalid_parameter(
                "Direct links to WhatsApp aren't allowed for buttons.", errors.WHATSAPP_LINK
            )
        variables = VARIABLE_RE.findall(url)
        if len(variables) > 1 or (variables and not url.rstrip().endswith("}}")):
            raise invalid_parameter("A URL button has one variable at most, at the end of the URL.")
        if variables:
            example = button.get("example")
            if not isinstance(example, list) or not example:
                raise invalid_parameter(
                    "Component of type BUTTONS is missing expected field(s) (example).",
                    errors.MISSING_FIELD,
                )
    elif kind == "PHONE_NUMBER":
        _limited(button.get("phone_number"), kind, "phone_number", PHONE_MAX, "Phone numbers are")
    elif kind == "COPY_CODE":
        example = button.get("example")
        if isinstance(example, list):
            example = example[0] if example else None
        _limited(example, kind, "example", COPY_CODE_MAX, "Copy code examples are")
    return stored


def _limited(value: Any, kind: str, field: str, most: int, what: str) -> str:
    """A button field that must be a non-empty string of at most ``most`` characters."""
    if not isinstance(value, str) or not value:
        raise invalid_parameter(f"A {kind} button needs {field}.", errors.MISSING_FIELD)
    if len(value) > most:
        raise invalid_parameter(f"{what} limited to {most} characters.", errors.TOO_LONG)
    return value
