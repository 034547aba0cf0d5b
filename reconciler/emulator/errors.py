"""Graph-shaped errors raised by the emulator's handlers.

The emulator imports nothing from the rest of ``reconciler`` (so it cannot share a bug with the
client); this module is its own small error vocabulary. Every refusal the emulator gives is a
``GraphError``; the server turns it into Meta's envelope::

    {"error": {"message", "type", "code", "error_subcode", "error_user_title",
               "error_user_msg", "fbtrace_id", "is_transient", "error_data": {...}}}
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

# Subcodes under code 100 for template management (graph-api-facts.md, section 6.2).
TEMPLATE_LIMIT = 2388019
LANGUAGE_BEING_DELETED = 2388023
LANGUAGE_EXISTS = 2388024
STATUS_CANNOT_CHANGE = 2388039
TOO_LONG = 2388040
MISSING_FIELD = 2388043
HEADER_FORMAT = 2388047
BODY_FORMAT = 2388072
FOOTER_FORMAT = 2388073
WHATSAPP_LINK = 2388081
PARAM_RATIO = 2388293
LEADING_TRAILING_PARAM = 2388299
TEMPLATE_NOT_FOUND = 2593002

RATE_LIMIT_CODES = (4, 17, 613, 80007, 80008)


def http_status_for(code: int) -> int:
    """The HTTP status the real API uses for a code (facts sheet, decisions table)."""
    if code == 200 or 200 < code < 300:
        return 403
    if code in (1, 2):
        return 500
    return 400


@dataclass
class GraphError(Exception):
    code: int
    message: str
    subcode: int | None = None
    user_title: str | None = None
    user_msg: str | None = None
    type: str = "OAuthException"
    is_transient: bool = False
    details: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    status: int | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @property
    def http_status(self) -> int:
        return self.status if self.status is not None else http_status_for(self.code)

    def envelope(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.type,
            "code": self.code,
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["is_transient"] = self.is_transient
        if self.user_title is not None:
            error["error_user_title"] = self.user_title
        if self.user_msg is not None:
            error["error_user_msg"] = self.user_msg
        error["error_data"] = {
            "messaging_product": "whatsapp",
            "details": self.details or self.user_msg or self.message,
        }
        error["fbtrace_id"] = "A" + secrets.token_urlsafe(15)
        return {"error": error}


def invalid_parameter(
    details: str, subcode: int | None = None, title: str = "Invalid parameter"
) -> GraphError:
    """Code 100, the carrier of every template-management rule."""
    return GraphError(
        code=100,
        message="Invalid parameter",
        subcode=subcode,
        user_title=title,
        user_msg=details,
        details=details,
    )


def unsupported(method: str, node: str) -> GraphError:
    return GraphError(
        code=100,
        subcode=33,
        type="GraphMethodException",
        message=(
            f"Unsupported {method.lower()} request. Object with ID '{node}' does not exist, "
            "cannot be loaded due to missing permissions, or does not support this operation."
        ),
    )


def nonexisting_field(edge: str, node_type: str) -> GraphError:
    """An edge the node does not have: code 100 (``unknown_path``'s 2500 is for paths that name
    no node at all)."""
    return GraphError(code=100, message=f"(#100) Tried accessing nonexisting field ({edge}) on node type ({node_type})")


def unknown_path(path: str) -> GraphError:
    return GraphError(code=2500, message=f"Unknown path components: {path}")


def invalid_token() -> GraphError:
    return GraphError(
        code=190,
        message="Invalid OAuth access token - Cannot parse access token",
        details="The access token is missing, unknown or expired.",
    )


def expired_token(expires_at: float, now: float) -> GraphError:
    """Meta's refusal of an expired token: code 190, subcode 463 (graph-api-facts.md 6.2)."""
    return GraphError(
        code=190,
        subcode=463,
        message=f"Error validating access token: Session has expired on {_http_time(expires_at)}. "
                f"The current time is {_http_time(now)}.",
        details="The access token has expired.",
    )


def _http_time(moment: float) -> str:
    return time.strftime("%A, %d-%b-%y %H:%M:%S UTC", time.gmtime(moment))


def no_permission(what: str, needed: str | None = None) -> GraphError:
    return GraphError(
        code=200,
        message=f"(#200) Requires {needed} permission to manage the object" if needed else "(#200) Permissions error",
        details=f"The access token has no permission on {what}.",
    )


def throttled(code: int, regain_minutes: int, what: str) -> GraphError:
    messages = {
        4: "(#4) Application request limit reached",
        17: "(#17) User request limit reached",
        613: "(#613) Calls to this api have exceeded the rate limit.",
        80007: "(#80007) The WhatsApp Business Account has reached its rate limit.",
        80008: (
            "(#80008) There have been too many calls to this WhatsApp Business account. "
            "Wait a bit and try again."
        ),
    }
    return GraphError(
        code=code,
        message=messages.get(code, f"(#{code}) Rate limit hit"),
        is_transient=True,
        details=f"{what}; estimated time to regain access: {regain_minutes} minutes.",
    )


def internal_error() -> GraphError:
    return GraphError(
        code=1,
        message="An unknown error occurred",
        is_transient=True,
    )
