"""Media header examples given as local files (``example: {header_file: assets/banner.jpg}``).

Meta takes a media header's example only as a handle from its Resumable Upload API, and reads it
back as a CDN URL, so neither side can be compared with the other. A config names the file
instead: it is checked here against Meta's limits (type by its first bytes, size by the header's
format) when the config is read, and its sha256 goes into the declared component, so a plan shows
a changed file and a saved plan goes stale when the file changes. wabactl uploads the file at
create or edit and remembers the digest in the ledger; that record is what the next plan compares.
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass
from typing import Any

from .. import model

MB = 1024 * 1024
# What a template media header may hold: the types Meta's upload sessions take for each format,
# and the Cloud API's media size limits (Meta states none for upload sessions themselves). The
# formats are model.MEDIA_FORMATS.
ALLOWED = {
    "IMAGE": (("image/jpeg", "image/png"), 5 * MB),
    "VIDEO": (("video/mp4",), 16 * MB),
    "GIF": (("video/mp4",), int(3.5 * MB)),  # Meta: a GIF header is an mp4 of at most 3.5 MB
    "DOCUMENT": (("application/pdf",), 100 * MB),
}
FILE_KEY, DIGEST_KEY, TYPE_KEY = "header_file", "header_file_sha256", "header_file_type"


@dataclass(frozen=True)
class MediaFile:
    path: str
    sha256: str
    mime: str
    size: int


def sniff(head: bytes) -> str | None:
    """The media type a file's first bytes show, of those Meta takes; None for any other."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def read_media(path: str, header_format: str) -> MediaFile | str:
    """The file's facts, or what is wrong with it for a ``header_format`` header."""
    try:
        stat = os.stat(path)
    except OSError as error:
        return f"header_file {path}: {error.strerror or 'cannot be read'}"
    if not os.path.isfile(path):
        return f"header_file {path} is not a file"
    try:
        found = _digest(path, stat.st_mtime_ns, stat.st_size)
    except OSError as error:
        return f"header_file {path}: {error.strerror or 'cannot be read'}"
    types, most = ALLOWED.get(header_format, ((), 0))
    if found.mime not in types:
        shown = found.mime if found.mime != "unknown" else "not JPEG, PNG, MP4 or PDF"
        return f"header_file {path} is {shown}; {_a(header_format)} header takes {' or '.join(types)}"
    if found.size > most:
        return f"header_file {path} is {found.size / MB:.1f} MB; {_a(header_format)} header takes at most {most / MB:g} MB"
    if found.size == 0:
        return f"header_file {path} is empty"
    return found


def _a(word: str) -> str:
    return f"an {word}" if word[:1] in "AEIOU" else f"a {word}"


@functools.lru_cache(maxsize=256)
def _digest(path: str, mtime_ns: int, size: int) -> MediaFile:
    """Hashed once per file version: a thousand accounts using one banner read it once."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        head = handle.read(16)
        digest.update(head)
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return MediaFile(path, digest.hexdigest(), sniff(head) or "unknown", size)


def current_sha256(path: str) -> str | None:
    """The file's sha256 as it is now; None when it cannot be read."""
    try:
        stat = os.stat(path)
        return _digest(path, stat.st_mtime_ns, stat.st_size).sha256
    except OSError:
        return None


def with_handles(components: list[Any] | tuple[Any, ...], handles: dict[str, str]) -> list[dict[str, Any]]:
    """The components with each header file replaced by the handle its upload gave (by sha256)."""
    out = []
    for component in components:
        if not isinstance(component, dict):
            out.append(component)
            continue
        copied = dict(component)
        example = copied.get("example")
        if isinstance(example, dict) and example.get(DIGEST_KEY) in handles:
            copied["example"] = {"header_handle": [handles[example[DIGEST_KEY]]]}
        if isinstance(copied.get("cards"), list):
            copied["cards"] = [dict(card, components=with_handles(card.get("components") or [], handles))
                               if isinstance(card, dict) else card for card in copied["cards"]]
        out.append(copied)
    return out


def files_of(components: list[Any] | tuple[Any, ...]) -> list[MediaFile]:
    """The header files a template's components name, once each (by sha256)."""
    found: dict[str, MediaFile] = {}
    for component in model.media_headers(components):
        example = component.get("example")
        if isinstance(example, dict) and example.get(FILE_KEY) and example.get(DIGEST_KEY):
            found.setdefault(str(example[DIGEST_KEY]), MediaFile(str(example[FILE_KEY]), str(example[DIGEST_KEY]),
                                                                  str(example.get(TYPE_KEY) or ""), 0))
    return list(found.values())
