"""JSON Schema validation of config files and plan files, reported as located problems."""

from __future__ import annotations

import functools
import json
import pathlib
import sys
from typing import Any

import jsonschema

from .errors import Problem
from .yamlfile import Document

SCHEMA_DIRS = (
    pathlib.Path(__file__).resolve().parent.parent / "schemas",  # a source checkout
    pathlib.Path(sys.prefix) / "share" / "wabactl" / "schemas",  # an installed wheel
)


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    for folder in SCHEMA_DIRS:
        candidate = folder / name
        if candidate.is_file():
            return json.loads(candidate.read_text(encoding="utf-8"))
    raise FileNotFoundError(f"schema {name} not found in {', '.join(map(str, SCHEMA_DIRS))}")


@functools.cache
def validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(load_schema(name))


def config_problems(document: Document) -> list[tuple[tuple[Any, ...], Problem]]:
    """Each schema problem with the path of the value it concerns."""
    problems: list[tuple[tuple[Any, ...], Problem]] = []
    for error in validator("config.schema.json").iter_errors(document.data):
        path = tuple(error.absolute_path)
        problems.extend((path, problem) for problem in _located(document, error))
    return problems


def plan_errors(data: Any) -> list[str]:
    """Messages for a plan file that does not match ``plan.schema.json``."""
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in validator("plan.schema.json").iter_errors(data)
    ]


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
