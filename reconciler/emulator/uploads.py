"""The Resumable Upload API, where media header examples of templates come from.

| method + path                           | does                                                   |
|-----------------------------------------|--------------------------------------------------------|
| ``POST /{app-id}/uploads``              | ``file_name``, ``file_length``, ``file_type`` give a   |
|                                         | session: ``{"id": "upload:<session>"}``                |
| ``POST /upload:<session>``              | header ``file_offset`` (the bytes received so far) and |
|                                         | the raw body appended; ``{"h": "<handle>"}`` once the   |
|                                         | file is whole, else ``{"id", "file_offset"}``          |
| ``GET /upload:<session>``               | ``{"id", "file_offset"}``, to resume a cut upload      |

What Meta documents is enforced (graph-api-facts.md 8, research item 8): the five file types, the
token in the ``Authorization`` header (``OAuth`` or ``Bearer``) for the bytes, an offset that must
match, ``session_type`` only ``attachment``. What it does not document stays lenient and is said
where it is decided: size limits (the usual Cloud API media limits), the app role of the token's
user, a missing ``file_offset`` header, a session used again after it finished.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import urllib.parse
import uuid
from typing import Any

from . import params as p
from .errors import invalid_parameter, invalid_token, unsupported
from .params import Reply, Request
from .state import World

MB = 1024 * 1024
# Meta states no size limit for upload sessions; these are the Cloud API's media limits, the
# usual assumption for template header samples (graph-api-facts.md 8, [U]).
FILE_TYPES = {
    "image/jpeg": 5 * MB,
    "image/jpg": 5 * MB,
    "image/png": 5 * MB,
    "video/mp4": 16 * MB,
    "application/pdf": 100 * MB,
}
LARGEST = max(FILE_TYPES.values())
PREFIX = "upload:"
VERSION_RE = re.compile(r"^v\d+(\.\d+)?$")  # as server.VERSION_RE
# A reply carrying this header is never sent: the server cuts the connection instead (the
# ``upload_cut_after_bytes`` setting), after the bytes before the cut are stored.
CUT_HEADER = "X-Emulator-Cut-Connection"


def is_upload_path(path: str) -> bool:
    """Whether ``path`` (version prefix or not) names an upload session: its body is raw bytes."""
    parts = [urllib.parse.unquote(part) for part in path.split("/") if part]
    if parts and VERSION_RE.match(parts[0]):
        parts.pop(0)
    return len(parts) == 1 and parts[0].startswith(PREFIX)


def wants(world: World, request: Request) -> bool:
    """Whether ``routes.dispatch`` should hand the request here: a session path, or ``uploads``
    on anything that is not a WABA (a WABA has no such edge and answers as for any other)."""
    segments = request.segments
    if len(segments) == 2:
        return segments[1] == "uploads" and segments[0] not in world.wabas
    return len(segments) == 1 and urllib.parse.unquote(segments[0]).startswith(PREFIX)


def dispatch(world: World, request: Request) -> Reply:
    if len(request.segments) == 2:
        return create_session(world, request, request.segments[0])
    session_id = urllib.parse.unquote(request.segments[0])
    session = world.uploads.get(session_id)
    if session is None or request.method not in ("GET", "POST"):
        raise unsupported(request.method, session_id)
    if request.method == "GET":
        return Reply(_progress(session))
    return append(world, request, session)


def create_session(world: World, request: Request, app_id: str) -> Reply:
    """``POST /{app-id}/uploads``. Meta wants the token's user to hold an admin or developer role
    on the app; the emulator does not model app roles, so any valid token may open a session."""
    if request.method != "POST" or app_id not in world.apps:
        raise unsupported(request.method, app_id)
    params = request.params
    session_type = p.text(params, "session_type") or "attachment"
    if session_type != "attachment":
        raise invalid_parameter("Param session_type must be one of {attachment}.")
    file_type = (p.text(params, "file_type", required=True) or "").lower()
    if file_type not in FILE_TYPES:
        raise invalid_parameter(
            f"Param file_type must be one of {', '.join(FILE_TYPES)}; got {file_type!r}.", title="Invalid file type"
        )
    p.text(params, "file_length", required=True)
    length = p.integer(params, "file_length", 0, least=1)
    most = FILE_TYPES[file_type]
    if length > most:
        raise invalid_parameter(
            f"A {file_type} file may have at most {most} bytes; file_length is {length}.", title="File too large"
        )
    session_id = PREFIX + base64.urlsafe_b64encode(f"1:attachment:{uuid.uuid4()}".encode()).decode().rstrip("=")
    world.uploads[session_id] = {
        "id": session_id,
        "app_id": app_id,
        "file_name": p.text(params, "file_name") or "",  # optional: Meta's older page had none
        "file_length": length,
        "file_type": file_type,
        "file_offset": 0,
        "created_time": int(world.clock.now()),
        "handle": None,
        "_chunks": [],  # base64 of each stored piece: the state file is JSON
    }
    return Reply({"id": session_id})


def append(world: World, request: Request, session: dict[str, Any]) -> Reply:
    """``POST /upload:<session>``: the raw body appended at ``file_offset``."""
    if request.token_via != "header":
        # Meta: the token of an upload goes in the Authorization header, "else the call fails".
        refused = invalid_token()
        refused.details = refused.user_msg = "Send the token in the Authorization header (OAuth or Bearer) to upload."
        raise refused
    offset = _offset(request)
    received = int(session["file_offset"])
    if offset != received:
        raise invalid_parameter(
            f"file_offset is {offset}, but the session has received {received} bytes; resume from {received}.",
            title="Wrong file offset",
        )
    data = request.raw_body
    if received + len(data) > int(session["file_length"]):
        # Meta's answer to more bytes than file_length announced is not documented; storing them
        # would make a file other than the one announced, so nothing is stored.
        raise invalid_parameter(
            f"The body has {len(data)} bytes, but only {int(session['file_length']) - received} of the "
            f"{session['file_length']} announced are missing.",
            title="Too many bytes",
        )
    cut_after = world.settings.upload_cut_after_bytes
    cut = 0 < cut_after < len(data)
    if cut:
        data = data[:cut_after]
    if data:
        session["_chunks"].append(base64.b64encode(data).decode())
        session["file_offset"] = received + len(data)
    if session["file_offset"] == session["file_length"] and session["handle"] is None:
        session["handle"] = _finish(world, session)
    if cut:
        return Reply(_progress(session), headers={CUT_HEADER: str(len(data))})
    if session["handle"] is not None:
        # A finished session asked again (an answer that got lost) gives its handle again: what
        # Meta does then is not documented.
        return Reply({"h": session["handle"]})
    return Reply(_progress(session))


def handle_info(world: World, handle: str) -> dict[str, Any] | None:
    """What is known of an upload handle (``file_type``, ``file_length``, ``sha256``,
    ``created_time``, ...), or None for a handle no upload here produced."""
    info = world.handles.get(handle)
    return {k: v for k, v in info.items() if not k.startswith("_")} if info is not None else None


def _offset(request: Request) -> int:
    raw = request.headers.get("file_offset")
    if raw is None:
        # Meta's examples always send the header; without it the emulator reads offset 0
        # (lenient: the answer to a missing header is not documented).
        return 0
    try:
        offset = int(raw.strip())
    except ValueError:
        raise invalid_parameter(f"The file_offset header must be a whole number; got {raw!r}.") from None
    if offset < 0:
        raise invalid_parameter("The file_offset header must not be negative.")
    return offset


def _finish(world: World, session: dict[str, Any]) -> str:
    whole = b"".join(base64.b64decode(chunk) for chunk in session["_chunks"])
    # Handles look like Meta's "4::<base64 of the type>:<opaque>"; their expiry is not modelled.
    handle = f"4::{base64.b64encode(session['file_type'].encode()).decode()}:{secrets.token_urlsafe(32)}"
    world.handles[handle] = {
        "handle": handle,
        "app_id": session["app_id"],
        "file_name": session["file_name"],
        "file_type": session["file_type"],
        "file_length": len(whole),
        "sha256": hashlib.sha256(whole).hexdigest(),
        "created_time": int(world.clock.now()),
        "_bytes": base64.b64encode(whole).decode(),  # served at the CDN URL templates read back
    }
    return handle


def _progress(session: dict[str, Any]) -> dict[str, Any]:
    # Meta's example shows the offset as a number placeholder; clients should accept text too.
    return {"id": session["id"], "file_offset": int(session["file_offset"])}

