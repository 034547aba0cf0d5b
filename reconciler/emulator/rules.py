"""Meta's synchronous checks on template content, as the emulator applies them on create and edit.

Pure functions: they take the request's fields and either return the components as Meta stores
them (enum case normalised, media handles turned into CDN URLs, authentication text generated) or
raise a ``GraphError`` with the code and subcode the real API uses (graph-api-facts.md sections
1.7 and 2). Where Meta's subcode for a rule is unknown, the error is code 100 without a subcode.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from . import errors
from .errors import invalid_parameter

NAME_RE = re.compile(r"^[a-z0-9_]+$")
NAME_MAX = 512
CATEGORIES = ("AUTHENTICATION", "MARKETING", "UTILITY")
PARAMETER_FORMATS = ("POSITIONAL", "NAMED")
LANGUAGES = frozenset(
    """af sq ar ar_EG ar_AE ar_LB ar_MA ar_QA ar_SA az bn bg ca zh_CN zh_HK zh_TW hr cs da nl en
    en_GB en_US en_AU en_CA en_IN et fil fi fr fr_CA fr_BE ka de el gu ha he hi hu id ga it ja kn
    kk rw_RW ko ky_KG lo lv lt mk ms ml mr nb fa pl pt_BR pt_PT pa ro ru sr sk sl es es_AR es_ES
    es_MX es_CL es_CO es_PE es_VE sw sv ta te th tr uk ur uz vi zu""".split()
)
HEADER_FORMATS = ("TEXT", "IMAGE", "VIDEO", "GIF", "DOCUMENT", "LOCATION")
MEDIA_FORMATS = ("IMAGE", "VIDEO", "GIF", "DOCUMENT")
BUTTON_TYPES = (
    "QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE", "OTP", "FLOW", "CATALOG", "MPM",
    "SPM", "VOICE_CALL", "APP",
)
OTP_TYPES = ("COPY_CODE", "ONE_TAP", "ZERO_TAP")
BODY_MAX, HEADER_TEXT_MAX, FOOTER_MAX, BUTTON_TEXT_MAX, URL_MAX, PHONE_MAX = 1024, 60, 60, 25, 2000, 20
BUTTONS_MAX, URL_BUTTONS_MAX, COPY_CODE_MAX = 10, 2, 15
PER_KIND_MAX = {"URL": 2, "PHONE_NUMBER": 1, "COPY_CODE": 1, "VOICE_CALL": 1, "QUICK_REPLY": 10}

VARIABLE_RE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
NAMED_VARIABLE_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
WHATSAPP_LINK_RE = re.compile(r"^(https?://)?([a-z0-9-]+\.)*(wa\.me|whatsapp\.com)(/|$)", re.I)


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise invalid_parameter("Param name must be a non-empty string.", title="Invalid name")
    if len(name) > NAME_MAX or not NAME_RE.match(name):
        raise invalid_parameter(
            "Template names may contain only lowercase letters, digits and underscores, "
            f"at most {NAME_MAX} characters.",
            title="Invalid name",
        )
    return name


def check_language(language: Any) -> str:
    if not isinstance(language, str) or language not in LANGUAGES:
        raise invalid_parameter(
            f"Param language must be one of the supported language codes; got {language!r}.",
            title="Invalid language",
        )
    return language


def check_category(category: Any) -> str:
    if not isinstance(category, str) or category.upper() not in CATEGORIES:
        raise invalid_parameter(
            f"Param category must be one of {', '.join(CATEGORIES)}; got {category!r}.",
            title="Invalid category",
        )
    return category.upper()


def check_parameter_format(value: Any) -> str:
    if value is None or value == "":
        return "POSITIONAL"
    if not isinstance(value, str) or value.upper() not in PARAMETER_FORMATS:
        raise invalid_parameter(
            "Param parameter_format must be 'positional' or 'named'.",
            title="Invalid parameter format",
        )
    return value.upper()


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
            stored.append(_authentication_component(kind, component))
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


def adjacent_variables(components: list[dict[str, Any]]) -> bool:
    """Adjacent variables pass the synchronous checks but fail review (INVALID_FORMAT)."""
    for component in components:
        text = component.get("text")
        if isinstance(text, str) and re.search(r"\}\}\s*\{\{", text):
            return True
    return False


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
        text = _text(component, "HEADER", HEADER_TEXT_MAX)
        names = _variables(text, "HEADER", parameter_format, errors.HEADER_FORMAT)
        if len(names) > 1:
            raise invalid_parameter(
                "A text header has at most one variable.", errors.HEADER_FORMAT, "Header format incorrect"
            )
        if names:
            _leading_trailing(text, "HEADER", allow_trailing=True)
            _examples(component.get("example"), names, parameter_format, "header_text", nested=False)
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
    text = _text(component, "BODY", BODY_MAX)
    names = _variables(text, "BODY", parameter_format, errors.BODY_FORMAT)
    if names:
        _leading_trailing(text, "BODY", allow_trailing=False)
        words = len(VARIABLE_RE.sub(" ", text).split())
        if words < len(set(names)):
            raise invalid_parameter(
                "This template has too many variables for its length.",
                errors.PARAM_RATIO,
                "Too many variables",
            )
        _examples(component.get("example"), names, parameter_format, "body_text", nested=True)
    return _upper(component, "type")


def _footer(component: dict[str, Any]) -> dict[str, Any]:
    text = _text(component, "FOOTER", FOOTER_MAX)
    if VARIABLE_RE.search(text):
        raise invalid_parameter(
            "A footer cannot contain variables.", errors.FOOTER_FORMAT, "Footer format incorrect"
        )
    return _upper(component, "type")


def _buttons(component: dict[str, Any]) -> dict[str, Any]:
    buttons = component.get("buttons")
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
    stored = _upper(component, "type")
    stored["buttons"] = stored_buttons
    return stored


def _button(kind: str, button: dict[str, Any]) -> dict[str, Any]:
    stored = dict(button, type=kind)
    if kind != "COPY_CODE":
        text = button.get("text")
        if not isinstance(text, str) or not text:
            raise invalid_parameter(f"A {kind} button needs text.", errors.MISSING_FIELD)
        if len(text) > BUTTON_TEXT_MAX:
            raise invalid_parameter(
                f"Button text is limited to {BUTTON_TEXT_MAX} characters.", errors.TOO_LONG
            )
    if kind == "URL":
        url = button.get("url")
        if not isinstance(url, str) or not url:
            raise invalid_parameter("A URL button needs url.", errors.MISSING_FIELD)
        if len(url) > URL_MAX:
            raise invalid_parameter(f"Button URLs are limited to {URL_MAX} characters.", errors.TOO_LONG)
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
        phone = button.get("phone_number")
        if not isinstance(phone, str) or not phone:
            raise invalid_parameter("A PHONE_NUMBER button needs phone_number.", errors.MISSING_FIELD)
        if len(phone) > PHONE_MAX:
            raise invalid_parameter(f"Phone numbers are limited to {PHONE_MAX} characters.", errors.TOO_LONG)
    elif kind == "COPY_CODE":
        example = button.get("example")
        if isinstance(example, list):
            example = example[0] if example else None
        if not isinstance(example, str) or not example:
            raise invalid_parameter("A COPY_CODE button needs example.", errors.MISSING_FIELD)
        if len(example) > COPY_CODE_MAX:
            raise invalid_parameter(f"Copy code examples are limited to {COPY_CODE_MAX} characters.", errors.TOO_LONG)
    return stored


def _authentication_component(kind: str, component: dict[str, Any]) -> dict[str, Any]:
    """Authentication templates have a fixed shape; Meta writes their texts itself."""
    if kind == "HEADER":
        raise invalid_parameter("Authentication templates have no header.", errors.HEADER_FORMAT)
    if kind == "BODY":
        if component.get("text"):
            raise invalid_parameter(
                "Authentication template bodies have no text; Meta supplies it.", errors.BODY_FORMAT
            )
        secure = component.get("add_security_recommendation", False)
        if not isinstance(secure, bool):
            raise invalid_parameter("add_security_recommendation must be a boolean.")
        text = "*{{1}}* is your verification code."
        if secure:
            text += " For your security, do not share this code."
        return {"type": "BODY", "text": text, "add_security_recommendation": secure}
    if kind == "FOOTER":
        minutes = component.get("code_expiration_minutes")
        if minutes is None:
            return {"type": "FOOTER"}
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 90:
            raise invalid_parameter("code_expiration_minutes must be an integer from 1 to 90.")
        return {
            "type": "FOOTER",
            "text": f"This code expires in {minutes} minutes.",
            "code_expiration_minutes": minutes,
        }
    buttons = component.get("buttons")
    if not isinstance(buttons, list) or len(buttons) != 1 or not isinstance(buttons[0], dict):
        raise invalid_parameter("Authentication templates have exactly one OTP button.")
    button = dict(buttons[0])
    if str(button.get("type", "")).upper() != "OTP":
        raise invalid_parameter("Authentication templates have exactly one OTP button.")
    otp_type = str(button.get("otp_type", "")).upper()
    if otp_type not in OTP_TYPES:
        raise invalid_parameter(f"otp_type must be one of {', '.join(OTP_TYPES)}.")
    if otp_type != "COPY_CODE":
        apps = button.get("supported_apps")
        signature = button.get("signature_hash")
        if not apps and not (button.get("package_name") and signature):
            raise invalid_parameter(
                f"{otp_type} buttons need package_name and signature_hash, or supported_apps.",
                errors.MISSING_FIELD,
            )
        if signature is not None and (not isinstance(signature, str) or len(signature) != 11):
            raise invalid_parameter("signature_hash is exactly 11 characters.")
    for key, most in (("text", BUTTON_TEXT_MAX), ("autofill_text", BUTTON_TEXT_MAX), ("package_name", 224)):
        if isinstance(button.get(key), str) and len(button[key]) > most:
            raise invalid_parameter(f"{key} is limited to {most} characters.", errors.TOO_LONG)
    button.update(type="OTP", otp_type=otp_type)
    return {"type": "BUTTONS", "buttons": [button]}


# --- shared helpers --------------------------------------------------------------------------


def _upper(component: dict[str, Any], *keys: str) -> dict[str, Any]:
    stored = dict(component)
    for key in keys:
        if isinstance(stored.get(key), str):
            stored[key] = stored[key].upper()
    return stored


def _text(component: dict[str, Any], kind: str, most: int) -> str:
    text = component.get("text")
    if not isinstance(text, str) or not text.strip():
        subcode = errors.BODY_FORMAT if kind == "BODY" else errors.MISSING_FIELD
        raise invalid_parameter(f"A {kind} component needs text.", subcode)
    if len(text) > most:
        raise invalid_parameter(
            f"{kind} text is limited to {most} characters; it has {len(text)}.",
            errors.TOO_LONG,
            "Character limit exceeded",
        )
    if text.count("{{") != text.count("}}"):
        raise invalid_parameter(f"{kind} text has mismatched variable braces.", errors.BODY_FORMAT)
    return text


def _variables(text: str, kind: str, parameter_format: str, subcode: int) -> list[str]:
    """The variable names in order of appearance, checked against the parameter format."""
    names = VARIABLE_RE.findall(text)
    if parameter_format == "NAMED":
        for name in names:
            if not NAMED_VARIABLE_RE.match(name):
                raise invalid_parameter(
                    f"{kind} variable {{{{{name}}}}} is not a named parameter "
                    "(lowercase letters, digits and underscores).",
                    subcode,
                )
        return names
    numbers = []
    for name in names:
        if not name.isdigit():
            raise invalid_parameter(
                f"{kind} variable {{{{{name}}}}} is not positional; set parameter_format to named.",
                subcode,
            )
        numbers.append(int(name))
    if numbers and sorted(set(numbers)) != list(range(1, max(numbers) + 1)):
        raise invalid_parameter(
            f"{kind} variables must be numbered sequentially from {{{{1}}}}.", subcode
        )
    return names


def _leading_trailing(text: str, kind: str, allow_trailing: bool) -> None:
    stripped = text.strip()
    leading = stripped.startswith("{{")
    trailing = stripped.endswith("}}") and not allow_trailing
    if leading or trailing:
        raise invalid_parameter(
            f"{kind} text cannot start or end with a variable.",
            errors.LEADING_TRAILING_PARAM,
            "Leading or trailing parameters",
        )


def _examples(
    example: Any, names: list[str], parameter_format: str, field: str, nested: bool
) -> None:
    """Every variable needs an example value, in the shape the parameter format asks for."""
    missing = invalid_parameter(
        f"Every variable needs an example: set example.{field}"
        f"{'_named_params' if parameter_format == 'NAMED' else ''}.",
        errors.MISSING_FIELD,
        "Missing example",
    )
    if not isinstance(example, dict):
        raise missing
    if parameter_format == "NAMED":
        given = example.get(f"{field}_named_params")
        if not isinstance(given, list):
            raise missing
        named = {p.get("param_name") for p in given if isinstance(p, dict) and p.get("example") not in (None, "")}
        if not set(names) <= named:
            raise missing
        return
    values = example.get(field)
    if nested:
        values = values[0] if isinstance(values, list) and values and isinstance(values[0], list) else None
    if not isinstance(values, list) or len(values) < len(set(names)):
        raise missing


def _cdn_url(handle: str, header_format: str) -> str:
    if handle.startswith("https://"):
        return handle
    digest = hashlib.sha256(handle.encode()).hexdigest()[:32]
    extension = {"IMAGE": "jpg", "VIDEO": "mp4", "GIF": "mp4", "DOCUMENT": "pdf"}[header_format]
    return f"https://scontent.whatsapp.net/v/t61.29466-34/{digest}.{extension}"
