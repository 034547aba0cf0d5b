"""Meta's Resumable Upload API: a media header's example file becomes the handle a template
create or edit sends (graph-api-facts.md 2; Meta's "Resumable Upload API" guide).

``POST /{app-id}/uploads`` (file_name, file_length, file_type) opens a session and answers its id
(``upload:...``); ``POST /{session}`` with the header ``file_offset`` and the bytes from there
answers the handle (``{"h": ...}``) once the file is whole; after a cut, ``GET /{session}``
answers how many bytes arrived (``file_offset``) and the rest is sent from there. The token goes
in the ``Authorization`` header, as for every call.
"""

from __future__ import annotations

import os

from ..errors import GraphAnswerError, GraphError, GraphTransportError
from .client import GraphClient

TRIES = 5  # sends of the bytes, resumes included


def upload_file(client: GraphClient, app_id: str, path: str, mime: str) -> str:
    """The handle of ``path`` uploaded through ``app_id``; resumed from Meta's offset after a cut."""
    size = os.path.getsize(path)
    opened = client.post(f"{app_id}/uploads", {"file_name": os.path.basename(path), "file_length": size, "file_type": mime})
    session = opened.get("id") if isinstance(opened, dict) else None
    if not isinstance(session, str) or not session.startswith("upload:") or "/" in session or "?" in session:
        raise GraphAnswerError("POST", f"/{app_id}/uploads", None, "the answer holds no upload session id")
    offset, last = 0, None
    for _ in range(TRIES):
        try:
            with open(path, "rb") as handle:
                handle.seek(offset)
                answer = client.post_bytes(session, handle, {"file_offset": str(offset), "Content-Type": mime}, size - offset)
        except GraphTransportError as error:  # cut: ask how far it got, and go on from there
            last = error
            offset = _offset(client.get(session), session, size)
            continue
        if isinstance(answer, dict) and isinstance(answer.get("h"), str) and answer["h"]:
            return str(answer["h"])
        offset = _offset(answer, session, size)
    raise GraphError("POST", f"/{session}", None, None, None,
                     f"the upload of {os.path.basename(path)} did not finish in {TRIES} tries" + (f"; the last: {last}" if last else ""))


def _offset(answer: object, session: str, size: int) -> int:
    value = answer.get("file_offset") if isinstance(answer, dict) else None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= size:
        raise GraphAnswerError("GET", f"/{session}", None, f"file_offset is not a byte count of the file: {str(value)[:40]!r}")
    return value
