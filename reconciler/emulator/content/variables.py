"""The text of a component: its length and braces, its variables, and the examples they need."""

from __future__ import annotations

import re
from typing import Any

from .. import errors
from ..errors import invalid_parameter

VARIABLE_RE = re.compile(r"\{\{([^{}]*)\}\}")  # linear: names are stripped where they are read
NAMED_VARIABLE_RE = re.compile(r"^[a-z_][a-z0-9_]*$")


def component_text(component: dict[str, Any], kind: str, most: int) -> str:
    """The component's text, present, at most ``most`` characters, with its braces paired."""
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


def variable_names(text: str, kind: str, parameter_format: str, subcode: int) -> list[str]:
    """The variable names in order of appearance, checked against the parameter format."""
    names = [name.strip() for name in VARIABLE_RE.findall(text)]
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


def refuse_leading_or_trailing(text: str, kind: str, allow_trailing: bool) -> None:
    stripped = text.strip()
    leading = stripped.startswith("{{")
    trailing = stripped.endswith("}}") and not allow_trailing
    if leading or trailing:
        raise invalid_parameter(
            f"{kind} text cannot start or end with a variable.",
            errors.LEADING_TRAILING_PARAM,
            "Leading or trailing parameters",
        )


def require_examples(
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


def adjacent_variables(components: list[dict[str, Any]]) -> bool:
    """Adjacent variables pass the synchronous checks but fail review (INVALID_FORMAT)."""
    for component in components:
        text = component.get("text")
        if isinstance(text, str) and re.search(r"\}\}\s*\{\{", text):
            return True
    return False
