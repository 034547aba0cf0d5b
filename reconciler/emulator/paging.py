"""Cursor paging as Graph does it: opaque ``before``/``after`` cursors, ``next`` as an absolute URL.

A cursor encodes the sort key of a row, not its position, so that rows deleted between two page
reads do not make a client skip others.

With the ``untidy_paging`` setting, pages come back the way Meta's paging guide allows: some short,
some empty yet still carrying ``next`` (graph-api-facts.md 6.4, research item 11). The pattern is
fixed, so tests repeat: of the pages read forward, every third is empty and every other one holds
half of ``limit``. Every row still comes exactly once. The page's ordinal rides in the cursor.
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
    untidy = settings.untidy_paging
    ordered = sorted(rows, key=key)
    after = p.text(request.params, "after")
    before = p.text(request.params, "before")
    number = 0  # the ordinal of this page among those read forward
    if after:
        cursor, number = _unwrap(decode_cursor(after))
        start = next((i for i, row in enumerate(ordered) if key(row) > cursor), len(ordered))
        chunk = ordered[start:start + (_untidy_size(limit, number) if untidy else limit)]
    elif before:
        cursor, number = _unwrap(decode_cursor(before))
        end = next((i for i, row in enumerate(ordered) if key(row) >= cursor), len(ordered))
        start = max(0, end - limit)
        chunk = ordered[start:end]
    else:
        start = 0
        chunk = ordered[:limit]
    paging: dict[str, Any] = {}
    if chunk:
        first, last = key(chunk[0]), key(chunk[-1])
        paging["cursors"] = {
            "before": _wrap(first, number, untidy),
            "after": _wrap(last, number + 1, untidy),
        }
        if start + len(chunk) < len(ordered):
            paging["next"] = _link(request, "after", paging["cursors"]["after"], limit)
        if start > 0:
            paging["previous"] = _link(request, "before", paging["cursors"]["before"], limit)
    elif untidy and after and start < len(ordered):
        # An empty page with rows still to come: its cursors stay where the last page ended.
        here = _wrap(cursor, number + 1, untidy)
        paging["cursors"] = {"before": here, "after": here}
        paging["next"] = _link(request, "after", here, limit)
    return chunk, paging


def _untidy_size(limit: int, number: int) -> int:
    """How many rows the forward page ``number`` (1 is the one after the first) holds."""
    if number % 3 == 2:
        return 0
    if number % 2 == 1:
        return max(1, limit // 2)
    return limit


def _wrap(key: Any, number: int, untidy: bool) -> str:
    """A cursor: the bare sort key, or with untidy paging the key and the next page's ordinal."""
    return encode_cursor({"key": key, "page": number} if untidy else key)


def _unwrap(value: Any) -> tuple[Any, int]:
    if isinstance(value, dict) and "key" in value:
        number = value.get("page", 0)
        if not isinstance(number, int) or isinstance(number, bool) or number < 0:
            raise invalid_parameter("The cursor is not valid.")
        return value["key"], number
    return value, 0


def _link(request: Request, direction: str, cursor: str, limit: int) -> str:
    query = {
        k: v if isinstance(v, str) else json.dumps(v)
        for k, v in request.params.items()
        if k not in ("after", "before") and request.method == "GET"
    }
    query.update(limit=str(limit), **{direction: cursor})
    return f"{request.base_url}{request.path}?{urllib.parse.urlencode(query)}"
