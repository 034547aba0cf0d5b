"""The JSON Schemas in ``schemas/`` (config file, plan file), found in a source checkout or beside
an installed wheel, each compiled once."""

from __future__ import annotations

import functools
import json
import pathlib
import sys
from typing import Any

import jsonschema

SCHEMA_DIRS = (
    pathlib.Path(__file__).resolve().parent.parent / "schemas",  # a source checkout
    pathlib.Path(sys.prefix) / "share" / "wabactl" / "schemas",  # an installed wheel
)


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    for folder in SCHEMA_DIRS:
        candidate = folder / name
        if candidate.is_file():
            schema: dict[str, Any] = json.loads(candidate.read_text(encoding="utf-8"))
            return schema
    raise FileNotFoundError(f"schema {name} not found in {', '.join(map(str, SCHEMA_DIRS))}")


@functools.cache
def validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(load_schema(name))


def problems(data: Any, name: str) -> list[str]:
    """Messages for ``data`` that does not match the schema ``name``, each with its JSON path."""
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in validator(name).iter_errors(data)]


def dumps_checked(data: Any, name: str) -> str:
    """``data`` as indented JSON, checked against the schema ``name`` first: a document wabactl
    writes that misses its own schema is a bug in wabactl, not in the user's input."""
    found = problems(data, name)
    if found:
        raise AssertionError(f"output does not match {name}: {found[:5]}")
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
