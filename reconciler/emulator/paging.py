"""Cursor paging as Graph does it: opaque ``before``/``after`` cursors, ``next`` as an absolute URL.

A cursor encodes the sort key of a row, not its position, so that rows deleted between two page
reads do not make a client skip others.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Callable
from typing import Any

from . import params as p
from .errors import invalid_parameter
from .params import Request
from .settings import Settings


def encode_cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        raise invalid_parameter(f"The cursor {cursor!r} is not valid.") from None


def page(
    rows: list[dict[str, Any]],
    request: Request,
    settings: Settings,
    key: Callable[[dict[str, Any]], Any],
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One page of ``rows`` (already filtered) and its ``paging`` object."""
    limit = min(p.integer(request.params, "limit", settings.page_default), settings.page_max)
    # page_default above page_max is clamped too: a seed lowering only page_max still pages.
    ordered = sorted(rows, key=key)
    after = p.text(request.params, "after")
    before = p.text(request.params, "before")
    if after:
        cursor = decode_cursor(after)
        start = next((i for i, row in enumerate(ordered) if key(row) > cursor), len(ordered))
        chunk = ordered[start:start + limit]
    elif before:
        cursor = decode_cursor(before)
        end = next((i for i, row in enumerate(ordered) if key(row) >= cursor), len(ordered))
        start = max(0, end - limit)
        chunk = ordered[start:end]
    else:
        start = 0
        chunk = ordered[:limit]
    paging: dict[str, Any] = {}
    if chunk:
        first, last = key(chunk[0]), key(chunk[-1])
        paging["cursors"] = {"before": encode_cursor(first), "after": encode_cursor(last)}
        if start + len(chunk) < len(ordered):
            paging["next"] = _link(request, "after", paging["cursors"]["after"], limit)
        if start > 0:
            paging["previous"] = _link(request, "before", paging["cursors"]["before"], limit)
    return chunk, paging


def _link(request: Request, direction: str, cursor: str, limit: int) -> str:
    query = {
        k: v if isinstance(v, str) else json.dumps(v)
        for k, v in request.params.items()
        if k not in ("after", "before") and request.method == "GET"
    }
    query.update(limit=str(limit), **{direction: cursor})
    return f"{request.base_url}{request.path}?{urllib.parse.urlencode(query)}"
