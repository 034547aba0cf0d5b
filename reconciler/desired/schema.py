"""JSON Schema validation of config files, reported as problems at file, line and column."""

from __future__ import annotations

from typing import Any

import jsonschema

from ..errors import Problem
from ..schemas import validator
from .yamlfile import Document


def config_problems(document: Document) -> list[tuple[tuple[Any, ...], Problem]]:
    """Each schema problem with the path of the value it concerns."""
    problems: list[tuple[tuple[Any, ...], Problem]] = []
    for error in validator("config.schema.json").iter_errors(document.data):
        path = tuple(error.absolute_path)
        problems.extend((path, problem) for problem in _located(document, error))
    return problems


def _located(document: Document, error: jsonschema.ValidationError) -> list[Problem]:
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        schema = error.schema if isinstance(error.schema, dict) else {}
        allowed = set(schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        hint = f" (expected one of: {', '.join(sorted(allowed))})" if allowed else ""
        return [document.problem(path + (k,), f"unknown key '{k}'{hint}", at_key=True) for k in extra]
    if "propertyNames" in error.schema_path:
        key = error.instance
        reason = _reason(error).split(": ", 1)[-1]
        return [document.problem(path + (key,), f"name '{key}' is not allowed: {reason}", at_key=True)]
    if error.validator == "required":
        return [document.problem(path, error.message.replace("is a required property", "is required"))]
    return [document.problem(path, _reason(error))]


def _reason(error: jsonschema.ValidationError) -> str:
    """The schema's complaint in a user's words, naming the field."""
    field = next((str(p) for p in reversed(error.absolute_path) if isinstance(p, str)), None)
    label = f"{field}: " if field else ""
    value: Any = error.validator_value
    if error.validator == "type":
        expected = value if isinstance(value, str) else " or ".join(value)
        quoted = " (quote it)" if expected == "string" and isinstance(error.instance, (int, float)) else ""
        return f"{label}expected {expected}, got {type(error.instance).__name__} {error.instance!r}{quoted}"
    if error.validator == "enum":
        choices = sorted({str(v).upper() if isinstance(v, str) else str(v) for v in value})
        if len(choices) > 14:
            return f"{label}{error.instance!r} is not a supported value"
        return f"{label}{error.instance!r} is not one of {', '.join(choices)}"
    if error.validator == "pattern":
        return f"{label}{error.instance!r} does not match {error.validator_value}"
    if error.validator == "const":
        return f"{label}must be {error.validator_value!r}"
    if error.validator in ("minItems", "minProperties"):
        return f"{label}must not be empty"
    return f"{label}{error.message}"
