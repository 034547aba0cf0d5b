"""One ``requests.Session`` per token; the token travels only in ``Authorization: Bearer``.

Reads are retried with backoff on transient failures (``GraphError.transient`` decides: 5xx,
codes 1/2/4/17/341/613, ``is_transient``); writes are not, because a write whose answer was lost
may have happened: the applier reports it as uncertain instead. WABA rate limits (80007/80008)
are never retried here: hammering prolongs the block, so they go up to the caller.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import requests

from .. import __version__
from ..errors import GraphError, GraphTransportError

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v26.0"


class GraphClient:
    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_GRAPH_URL,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.session = requests.Session()
        self.session.headers.update({
            "Authorization": f"Bearer {token}",
            "User-Agent": f"wabactl/{__version__}",
        })
        self._server_clock: tuple[float, float] | None = None  # (server time, local monotonic)

    def close(self) -> None:
        self.session.close()

    def server_now(self) -> dt.datetime:
        """The API's own time: the last answer's ``Date`` header plus what has passed since.

        Meta's limits (creations per hour, edit quotas, name locks) run on its clock, not ours.
        """
        if self._server_clock is None:
            return dt.datetime.now(dt.UTC)
        server, seen = self._server_clock
        return dt.datetime.fromtimestamp(server + (time.monotonic() - seen), dt.UTC)

    # --- verbs -------------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._call("GET", self._url(path), params=params, retry=True)

    def post(self, path: str, payload: dict[str, Any]) -> Any:
        return self._call("POST", self._url(path), json=payload, retry=False)

    def delete(self, path: str, params: dict[str, Any]) -> Any:
        return self._call("DELETE", self._url(path), params=params, retry=False)

    def paged(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every row of a listing."""
        for page in self.pages(path, params):
            yield from page.get("data") or []

    def pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every page of a listing, following ``paging.next`` until there is none.

        ``next`` is followed only when it points back at the same server; otherwise (or when
        only a cursor is given) the query is sent again with ``after``, so the bearer token never
        goes to another host.
        """
        url, query = self._url(path), dict(params)
        sent: dict[str, Any] | None = query
        while True:
            page = self._call("GET", url, params=sent, retry=True)
            yield page
            paging = page.get("paging") or {}
            following = paging.get("next")
            if not following:
                return
            if self._same_origin(following):
                url, sent = following, None  # the next URL carries the whole query
            else:
                after = (paging.get("cursors") or {}).get("after")
                if not after:
                    return
                url, sent = self._url(path), {**query, "after": after}

    # --- plumbing ----------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.base_url}/{self.api_version}/{path.lstrip('/')}"

    def _same_origin(self, url: str) -> bool:
        ours, theirs = urllib.parse.urlsplit(self.base_url), urllib.parse.urlsplit(url)
        return (ours.scheme, ours.netloc) == (theirs.scheme, theirs.netloc)

    def _call(self, method: str, url: str, retry: bool, **kwargs: Any) -> Any:
        attempts = self.retries + 1 if retry else 1
        for attempt in range(1, attempts + 1):
            try:
                return self._once(method, url, **kwargs)
            except GraphError as error:
                if attempt == attempts or not error.transient:
                    raise
            time.sleep(self.backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # the loop returns or raises

    def _once(self, method: str, url: str, **kwargs: Any) -> Any:
        path = urllib.parse.urlsplit(url).path  # never the query: it can carry cursors, not tokens
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.Timeout:
            raise GraphTransportError(method, path, "timed out") from None
        except requests.ConnectionError as error:
            raise GraphTransportError(method, path, _connection_reason(error)) from None
        self._note_date(response.headers.get("Date"))
        try:
            body = response.json()
        except ValueError:
            body = None
        envelope = body.get("error") if isinstance(body, dict) else None
        if response.status_code >= 400 or isinstance(envelope, dict):
            fields = envelope if isinstance(envelope, dict) else {}
            raise GraphError(
                method,
                path,
                response.status_code,
                code=_int(fields.get("code")),
                subcode=_int(fields.get("error_subcode")),
                message=str(fields.get("message") or response.reason or ""),
                user_message=fields.get("error_user_msg"),
                fbtrace_id=fields.get("fbtrace_id"),
                is_transient=bool(fields.get("is_transient")),
                regain_minutes=_regain_minutes(response.headers.get("X-Business-Use-Case-Usage")),
            )
        if body is None:
            raise GraphError(method, path, response.status_code, message="the answer is not JSON")
        return body


    def _note_date(self, header: str | None) -> None:
        if not header:
            return
        try:
            moment = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return
        self._server_clock = (moment.timestamp(), time.monotonic())


def _regain_minutes(header: str | None) -> int | None:
    """Minutes until access returns: the largest ``estimated_time_to_regain_access`` of
    ``X-Business-Use-Case-Usage`` (keyed by business object, a list of usage entries each)."""
    if not header:
        return None
    try:
        usage: Any = json.loads(header)
        minutes = [
            int(entry.get("estimated_time_to_regain_access") or 0)
            for entries in usage.values()
            for entry in entries
        ]
    except (ValueError, AttributeError, TypeError):
        return None
    return max(minutes) if minutes else None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _connection_reason(error: requests.ConnectionError) -> str:
    text = str(error.args[0] if error.args else error)
    if "RemoteDisconnected" in text or "Connection aborted" in text:
        return "the connection was closed before an answer"
    if "refused" in text.lower():
        return "connection refused"
    return "connection failed"
