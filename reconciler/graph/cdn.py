"""Media where Meta's template reads point (``header_handle`` answers a CDN URL): downloaded for
``import --media-dir``. A CDN URL is fetched as it is, without the token: it is not a Graph call,
and the token never leaves the Authorization header of Graph requests."""

from __future__ import annotations

import time

import requests
import urllib3

from ..errors import ReconcilerError
from .client import check_base_url

MOST = 100 * 1024 * 1024  # the largest media Meta takes for a template header (a PDF)
DEADLINE = 60.0  # seconds for one file


def download(url: str) -> bytes:
    """The bytes at ``url`` (https, or http to a loopback address such as the emulator)."""
    try:
        check_base_url(url)
    except ReconcilerError:
        raise ReconcilerError(f"media URL {url[:120]!r} is not https (nor http to a loopback address); not downloaded") from None
    started = time.monotonic()
    try:
        with requests.get(url, timeout=(10, 30), stream=True, headers={"Accept-Encoding": "identity"}) as response:
            if response.status_code != 200:
                raise ReconcilerError(f"media {url[:120]}: HTTP {response.status_code}")
            chunks, size = [], 0
            for chunk in response.iter_content(1 << 16):
                size += len(chunk)
                if size > MOST:
                    raise ReconcilerError(f"media {url[:120]}: more than {MOST // (1024 * 1024)} MB")
                if time.monotonic() - started > DEADLINE:
                    raise ReconcilerError(f"media {url[:120]}: not downloaded within {DEADLINE:g} s")
                chunks.append(chunk)
            return b"".join(chunks)
    except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
        raise ReconcilerError(f"media {url[:120]}: {type(error).__name__}") from None
