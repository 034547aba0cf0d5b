"""JSON Schema validation of config files, reported as problems at file, line and column."""

from __future__ import annotations

import copy
import functools
import hashlib
from collections.abc import Iterator
from typing import Any

import jsonschema

from ..errors import Problem
from ..schemas import load_schema, validator
from .yamlfile import Document, Path, shown

# Past this many, a file is not a draft to correct problem by problem (10,000 wrong values would
# take minutes to list and nobody reads them all).
MAX_PROBLEMS = 1000


def config_problems(document: Document) -> list[tuple[tuple[Any, ...], Problem]]:
    """Each schema problem with the path of the value it concerns; one a value where its type is
    wrong (not also its range), none where YAML could not read the value (a problem says so).

    At most ``MAX_PROBLEMS`` are listed, then one problem at the file's root path saying so (the
    root path keeps the config loader from checking content whose shape was not all checked)."""
    errors: list[jsonschema.ValidationError] = []
    cut = False
    for error in _schema_errors(document.data):
        if tuple(error.absolute_path) not in document.unreadable:
            errors.append(error)
        if len(errors) > MAX_PROBLEMS:
            cut = True
            break
    mistyped = {tuple(error.absolute_path) for error in errors if error.validator == "type"}
    problems: list[tuple[tuple[Any, ...], Problem]] = []
    for error in errors:
        path = tuple(error.absolute_path)
        if error.validator == "type" or path not in mistyped:
            problems.extend((path, problem) for problem in _located(document, error))
    if cut or len(problems) > MAX_PROBLEMS:
        note = document.problem((), f"more than {MAX_PROBLEMS} problems: the first {MAX_PROBLEMS} are listed")
        problems = problems[:MAX_PROBLEMS] + [((), note)]
    return problems


def _schema_errors(data: Any) -> Iterator[jsonschema.ValidationError]:
    """The config schema's errors, each template checked once per distinct content.

    A fleet declared in full repeats the same template in every account: the document is checked
    without looking inside templates, then each template whose content was not met before is
    checked on its own (with its errors placed at its path). Identical content has identical
    errors, so a template already found valid is not checked again."""
    yield from _outline_validator().iter_errors(data)
    template = validator("config.schema.json").evolve(schema={"$ref": "#/$defs/template"})
    valid: set[bytes] = set()
    for prefix, value in _templates(data):
        digest = hashlib.blake2b(repr(value).encode(), digest_size=16).digest()
        if digest in valid:
            continue
        found = list(template.iter_errors(value))
        if not found:
            valid.add(digest)
        for error in found:
            error.path.extendleft(reversed(prefix))
            yield error


def _templates(data: Any) -> Iterator[tuple[Path, Any]]:
    """Every template declared, with its path: in accounts and in template sets."""
    if not isinstance(data, dict):
        return
    for kind in ("accounts", "template_sets"):
        owners = data.get(kind)
        for name, owner in (owners.items() if isinstance(owners, dict) else ()):
            templates = owner.get("templates") if isinstance(owner, dict) else None
            for template_name, value in (templates.items() if isinstance(templates, dict) else ()):
                yield (kind, name, "templates", template_name), value


@functools.cache
def _outline_validator() -> jsonschema.Draft202012Validator:
    """The config schema with templates' contents left to ``_schema_errors`` (their names still checked)."""
    schema = copy.deepcopy(load_schema("config.schema.json"))
    schema["$defs"]["account"]["properties"]["templates"]["additionalProperties"] = True
    return jsonschema.Draft202012Validator(schema)


def _located(document: Document, error: jsonschema.ValidationError) -> list[Problem]:
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        schema = error.schema if isinstance(error.schema, dict) else {}
        allowed = set(schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        hint = f" (expected one of: {', '.join(sorted(allowed))})" if allowed else ""
        return [document.problem(path + (k,), f"unknown key {shown(k)}{hint}", at_key=True) for k in extra]
    if "propertyNames" in error.schema_path:
        key = error.instance
        reason = _reason(error).split(": ", 1)[-1]
        return [document.problem(path + (key,), f"name {shown(key)} is not allowed: {reason}", at_key=True)]
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
        if expected == "object" and isinstance(error.instance, list):
            return f"{label}expected a mapping of name: value, got a list (write `{field or 'key'}:` then `  name: {{...}}` lines, not `- ` items)"
        return f"{label}expected {expected}, got {type(error.instance).__name__} {shown(error.instance)}{quoted}"
    if error.validator == "enum":
        choices = sorted({str(v).upper() if isinstance(v, str) else str(v) for v in value})
        if len(choices) > 14:
            return f"{label}{shown(error.instance)} is not a supported value"
        return f"{label}{shown(error.instance)} is not one of {', '.join(choices)}"
    if error.validator == "pattern":
        return f"{label}{shown(error.instance)} does not match {error.validator_value}"
    if error.validator == "const":
        return f"{label}must be {error.validator_value!r}"
    if error.validator == "uniqueItems":
        return f"{label}an entry is listed twice"
    if error.validator in ("minItems", "minProperties"):
        return f"{label}must not be empty"
    if error.validator in ("minimum", "maximum"):
        return f"{label}{shown(error.instance)} is out of range: {'at least' if error.validator == 'minimum' else 'at most'} {value}"
    # jsonschema's own words quote the whole value, which may be a megabyte long
    return f"{label}{error.message if len(error.message) <= 200 else error.message[:200] + '…'}"
