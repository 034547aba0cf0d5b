"""``/debug_token``: what Meta says about a token (valid, type, expiry, scopes, granular targets).

The token goes as ``input_token``, the one place Meta's interface wants it outside the
``Authorization`` header (which carries the same token, as for every call). It is never part of
an error: ``GraphClient`` names only the path of a request, never its query, and any text of
Meta's answer that quotes the token has it replaced before it is kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import GraphAnswerError
from .client import GraphClient

PATH = "debug_token"
MANAGEMENT = "whatsapp_business_management"  # templates (and the WABA's users)
BUSINESS = "business_management"  # business-level assets: reading and assigning users
HIDDEN = "[the token]"


@dataclass(frozen=True)
class TokenInfo:
    """Meta's answer about one token. ``granular`` maps a scope to the ids it is limited to; a scope
    that is absent from it, or maps to None, applies to every asset."""

    is_valid: bool
    type: str | None = None  # USER, SYSTEM_USER, PAGE, APP, ...
    expires_at: dt.datetime | None = None  # None: never (Meta's 0), or not said
    scopes: frozenset[str] = frozenset()
    granular: Mapping[str, frozenset[str] | None] = field(default_factory=dict)
    user_id: str | None = None
    app_id: str | None = None
    error: str | None = None  # why Meta calls it invalid
    error_code: int | None = None
    error_subcode: int | None = None

    def targets(self, scope: str) -> frozenset[str] | None:
        """The ids ``scope`` is limited to; None when it applies to all (or is not granted)."""
        return self.granular.get(scope)


def bearer_token(client: GraphClient) -> str:
    """The token a client sends (to tell clients with the same token apart; never shown)."""
    header = str(client.session.headers.get("Authorization") or "")
    return header[len("Bearer "):] if header.startswith("Bearer ") else header


def debug_token(client: GraphClient, token: str) -> TokenInfo:
    """Meta's introspection of ``token``; the client's own token authenticates the call."""
    # One try: the pre-flight is advice, and a server that does not answer it must not cost the
    # run the retry budget twice over (here, then again on the first real read).
    answer = client.get(PATH, {"input_token": token}, retried=False)
    if not isinstance(answer, dict) or not isinstance(answer.get("data"), dict):
        raise GraphAnswerError("GET", PATH, None, "no 'data' object")
    return parse(answer["data"], token)


def parse(data: dict[str, Any], token: str = "", path: str = PATH) -> TokenInfo:
    """A TokenInfo from the ``data`` of a debug_token answer, its shape checked."""

    def wrong(reason: str) -> GraphAnswerError:
        return GraphAnswerError("GET", path, None, reason)

    valid = data.get("is_valid")
    if not isinstance(valid, bool):
        raise wrong("'is_valid' is not true or false")
    scopes = data.get("scopes") or []
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise wrong("'scopes' is not a list of text")
    granular: dict[str, frozenset[str] | None] = {}
    entries = data.get("granular_scopes") or []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise wrong("'granular_scopes' is not a list of objects")
    for entry in entries:
        scope, targets = entry.get("scope"), entry.get("target_ids")
        if not isinstance(scope, str) or not scope:
            raise wrong("a granular scope has no 'scope'")
        if targets is not None and (not isinstance(targets, list) or not all(_is_id(t) for t in targets)):
            raise wrong(f"the 'target_ids' of {scope} are not ids")
        # Absent or empty target_ids: the permission applies to every asset (graph-api-facts.md 5).
        granular[scope] = frozenset(str(t) for t in targets) if targets else None
    error, code, subcode = _error(data.get("error"), token, wrong)
    return TokenInfo(
        is_valid=valid,
        type=_text(data, "type", wrong),
        expires_at=_moment(data.get("expires_at"), wrong),
        scopes=frozenset(scopes),
        granular=granular,
        user_id=_id_text(data.get("user_id"), "user_id", wrong),
        app_id=_id_text(data.get("app_id"), "app_id", wrong),
        error=error,
        error_code=code,
        error_subcode=subcode,
    )


def _error(raw: Any, token: str, wrong: Any) -> tuple[str | None, int | None, int | None]:
    if raw is None:
        return None, None, None
    if isinstance(raw, str):
        raw = {"message": raw}
    if not isinstance(raw, dict):
        raise wrong("'error' is not an object")
    message = str(raw.get("message") or "no message")[:300]
    if token:
        message = message.replace(token, HIDDEN)
    return message, _int(raw.get("code")), _int(raw.get("subcode", raw.get("error_subcode")))


def _text(data: dict[str, Any], key: str, wrong: Any) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise wrong(f"{key!r} is not text")
    return value.upper()


def _id_text(value: Any, key: str, wrong: Any) -> str | None:
    if value is None or value == "":
        return None
    if not _is_id(value):
        raise wrong(f"{key!r} is not an id")
    return str(value)


def _is_id(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return value >= 0
    return isinstance(value, str) and value.isdigit()


def _moment(value: Any, wrong: Any) -> dt.datetime | None:
    """A unix time; 0 (or nothing) is never."""
    if value is None or value == 0:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 10**11:
        raise wrong(f"'expires_at' is not a unix time: {str(value)[:40]!r}")
    return dt.datetime.fromtimestamp(value, dt.UTC)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError, OverflowError):
        return None
