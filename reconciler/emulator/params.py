"""Request parameters: merged from query string, form body and JSON body, read with types.

facebook-business sends form bodies whose lists, objects and booleans are JSON strings; pywa sends
JSON bodies; both put GET and DELETE parameters in the query string (facts sheet, section 9).
"""

from __future__ import annotations

import ast
import json
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from .errors import GraphError, invalid_parameter
from .state import Token

TOKEN_PARAM = "access_token"


@dataclass
class Request:
    method: str
    path: str  # as received, without the query string
    segments: list[str]  # path parts after the version prefix
    params: dict[str, Any]
    base_url: str
    token: Token | None = None
    token_via: str | None = None  # "header", "query" or "body"; the token itself is never kept
    headers: dict[str, str] = field(default_factory=dict)  # names in lower case
    raw_body: bytes = b""  # kept only for upload sessions, whose body is the file's bytes


@dataclass
class Reply:
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


def parse_query(query: str) -> dict[str, Any]:
    return {k: v for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True)}


def parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise invalid_parameter(f"The request body is not valid JSON: {error}") from error
        if not isinstance(data, dict):
            raise invalid_parameter("A JSON request body must be an object.")
        return data
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise invalid_parameter("The request body is not UTF-8.") from error
    if kind == "multipart/form-data":
        raise invalid_parameter("multipart/form-data bodies are not supported by the emulator.")
    return parse_query(text)


def decoded(value: Any) -> Any:
    """A form or query value that carries JSON (lists, objects, booleans) as its decoded form."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text[:1] in ("[", "{") or text in ("true", "false", "null"):
        try:
            return json.loads(text)
        except ValueError:
            pass
        try:  # Meta's own examples write tasks=['MANAGE'] with Python-style quotes.
            return ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return value
    return value


def text(params: dict[str, Any], name: str, required: bool = False) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise invalid_parameter(f"The parameter {name} is required.", title="Missing parameter")
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise invalid_parameter(f"Param {name} must be a string.")
    return value


def integer(params: dict[str, Any], name: str, default: int, least: int = 1) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid_parameter(f"Param {name} must be an integer.") from None
    if isinstance(value, bool) or number < least:
        raise invalid_parameter(f"Param {name} must be an integer of at least {least}.")
    return number


def string_list(params: dict[str, Any], name: str) -> list[str] | None:
    """A list given as JSON, Python-style literal or comma-joined string."""
    value = decoded(params.get(name))
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
        return [str(v) for v in value]
    raise invalid_parameter(f"Param {name} must be a list of strings.")


def structured(params: dict[str, Any], name: str) -> Any:
    return decoded(params.get(name))


def boolean(params: dict[str, Any], name: str) -> bool | None:
    value = decoded(params.get(name))
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    raise invalid_parameter(f"Param {name} must be a boolean.")


def requested_fields(params: dict[str, Any]) -> list[str] | None:
    """``fields=a,b{c,d},e`` as top-level names; nested selections are read as the whole field."""
    raw = params.get("fields")
    if not raw:
        return None
    if not isinstance(raw, str):
        raise invalid_parameter("Param fields must be a comma-separated string.")
    names, depth, current = [], 0, ""
    for char in raw:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "," and depth == 0:
            names.append(current.strip())
            current = ""
            continue
        if depth == 0 and char not in "{}":
            current += char
    names.append(current.strip())
    names = [n.split(".")[0] for n in names if n]
    return names


def project(
    node: dict[str, Any], wanted: list[str] | None, default: list[str], known: set[str], kind: str
) -> dict[str, Any]:
    """The node with only the requested fields (id always), as Graph answers ``fields=``."""
    names = wanted if wanted is not None else default
    for name in names:
        if name not in known:
            raise GraphError(
                code=100,
                message=f"(#100) Tried accessing nonexisting field ({name}) on node type ({kind})",
            )
    out = {"id": node["id"]} if "id" in node else {}
    for name in names:
        if name in node:
            out[name] = node[name]
    return out
