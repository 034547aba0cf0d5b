"""One ``requests.Session`` per token; the token travels only in ``Authorization: Bearer``.

The network is bounded: every request has a total deadline (a body that drips forever cannot hang
a run), answers have a size cap, and paging stops with an error on a repeated link or beyond a page
cap. Reads are retried under the ``RetryPolicy``; writes go through ``write``, which tries again
only after a read-back shows the first try did not happen. Whatever fails, the error names the
method and path and never quotes a request header: the HTTP library's own messages can.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import ipaddress
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol, TypeVar

import requests
import urllib3

from .. import __version__
from ..errors import CredentialsError, GraphAnswerError, GraphError, GraphTransportError, ReconcilerError
from .retry import RetryPolicy
from .throttle import Throttle

Value = TypeVar("Value")
DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v26.0"
DEFAULT_TIMEOUT = 10.0  # seconds to connect, and for any one read of the socket
DEFAULT_DEADLINE = 15.0  # seconds for a whole request, answer included: 5 tries and their waits stay well under 2 minutes
LONGEST_REGAIN_MINUTES = 24 * 60  # a longer estimate is not believed (and would overflow date arithmetic)
Landed = Callable[[], Any]  # a read-back: what the write left behind, or None when it did not happen


def check_base_url(url: str) -> str:
    """``https``, or ``http`` to a loopback address (the emulator): the token must not cross a
    network in clear text."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return url
    if parts.scheme == "http" and _loopback(host):
        return url
    raise ReconcilerError(f"WABACTL_GRAPH_URL must be an https:// URL (http:// only to a loopback address such as the emulator); got {url!r}")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def clean_token(token: str, where: str) -> str:
    """The token without surrounding white space; refused when it holds what no token holds.

    The message names where the token came from, never the token."""
    token = token.strip()
    if not token.isascii() or not token.isprintable() or any(c.isspace() for c in token):
        raise CredentialsError(f"the access token in {where} contains spaces or control characters; it cannot be sent")
    return token


class Batching(Protocol):
    def get(self, url: str, params: dict[str, Any] | None) -> Any:
        """What ``GET url`` answers (the JSON body), or its ``GraphError``; sent in a batch."""

    def alone(self, url: str, params: dict[str, Any] | None) -> Any:
        """The same, sent on its own (a try again)."""


class GraphClient:
    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_GRAPH_URL,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float = DEFAULT_TIMEOUT,
        deadline: float = DEFAULT_DEADLINE,
        retry: RetryPolicy | None = None,
        page_cap: int = 1000,  # pages of one listing
        max_answer_bytes: int = 64 << 20,
        throttle: Throttle | None = None,  # shared by the clients of a run: pacing from usage headers
    ) -> None:
        self.throttle = throttle
        self.base_url = check_base_url(base_url).rstrip("/")
        self.api_version = api_version
        self.timeout = timeout
        self.deadline = deadline
        self.retry = retry or RetryPolicy()
        self.page_cap = page_cap
        self.max_answer_bytes = max_answer_bytes
        self.session = requests.Session()
        self._secret = clean_token(token, "the token given")  # only to keep it out of Meta's words we repeat
        self.session.headers.update({
            "Authorization": f"Bearer {self._secret}",
            "User-Agent": f"wabactl/{__version__}",
            "Accept-Encoding": "identity",  # bytes as sent, so the deadline can be kept while reading
        })
        self._server_clock: tuple[float, float] | None = None  # (server time, local monotonic)
        self._facts: dict[str, Any] = {}  # what holds for the token, read once (its user)
        self._facts_lock = threading.Lock()
        # While set (a read of many accounts), first tries of reads go through it, joined with the
        # reads other threads send at the same moment into Graph batch requests.
        self.batcher: Batching | None = None

    def close(self) -> None:
        self.session.close()

    def remembered(self, name: str, read: Callable[[], Value]) -> Value:
        """A fact about the token (its user), read the first time it is asked for; accounts that
        share the client, read in parallel, wait for that one read instead of repeating it."""
        with self._facts_lock:
            if name not in self._facts:
                self._facts[name] = read()
            value: Value = self._facts[name]
            return value

    def server_now(self) -> dt.datetime:
        """The API's own time: the last answer's ``Date`` header plus what has passed since.

        Meta's limits (creations per hour, edit quotas, name locks) run on its clock, not ours.
        """
        if self._server_clock is None:
            return dt.datetime.now(dt.UTC)
        server, seen = self._server_clock
        return dt.datetime.fromtimestamp(server + (time.monotonic() - seen), dt.UTC)

    # --- verbs -------------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None, retried: bool = True) -> Any:
        """A read, tried again on transient failures; ``retried=False`` for an advisory read whose
        failure the caller can live with (one deadline at most, not the whole retry budget)."""
        return self._read(self._url(path), params, attempts=None if retried else 1)

    def post(self, path: str, payload: dict[str, Any]) -> Any:
        """One try, never repeated: see ``write``."""
        return self._once("POST", self._url(path), json=payload)

    def post_bytes(self, path: str, data: Any, headers: dict[str, str], size: int = 0) -> Any:
        """Raw bytes (a file object, read from its position) as the body, once: an upload. Its
        deadline grows with ``size``: at least the request deadline, else 4 s per MB (a 100 MB
        file may take 400 s on a slow link)."""
        return self._once("POST", self._url(path), seconds=max(self.deadline, 4.0 * size / (1 << 20)), data=data, headers=headers)

    def delete(self, path: str, params: dict[str, Any]) -> Any:
        """One try, never repeated: see ``write``."""
        return self._once("DELETE", self._url(path), params=params)

    def write(self, method: str, path: str, body: dict[str, Any], landed: Landed) -> Any:
        """A write, tried again after a transient failure only when ``landed`` (a read-back) shows
        the last try did not happen. Returns the answer, or what ``landed`` found when the answer
        was lost but the write took effect."""
        url = self._url(path)
        sent: dict[str, Any] = {"json": body} if method == "POST" else {"params": body}
        started = time.monotonic()
        for attempt in range(1, self.retry.attempts + 1):
            try:
                return self._once(method, url, **sent)
            except GraphError as error:
                if not error.transient or error.rate_limited:  # a spent budget is deferred by the caller, not hammered
                    if attempt > 1 and not error.rate_limited:
                        # An earlier try may have landed late (it outlived its deadline): then this
                        # refusal ("already exists", "not found", "edited already") is its echo.
                        found = self._landed_quietly(landed)
                        if found is not None:
                            return found
                    raise
                failure = error
            try:
                found = landed()
            except GraphError as error:
                raise GraphTransportError(method, urllib.parse.urlsplit(url).path,
                                          f"{_reason(failure)}, and reading back whether it happened failed too: {error}") from None
            if found is not None:
                return found
            wait = self.retry.wait(attempt, failure)
            if attempt == self.retry.attempts or not self.retry.allows(time.monotonic() - started, wait, self.deadline):
                break
            time.sleep(wait)
        raise GraphError(failure.method, failure.path, failure.status, failure.code, failure.subcode,
                         f"gave up after {attempt} tries, each shown by a read-back not to have happened; "
                         f"the last: {_reason(failure)}", fbtrace_id=failure.fbtrace_id)

    def batch(self, items: list[dict[str, str]]) -> Any:
        """One Graph batch request (``POST /`` with ``batch``, at most 50 items), tried once: its
        answer, a list with one entry per item. Items carry no token; they go with the batch's."""
        return self._once("POST", self._url(""), data={"batch": json.dumps(items, separators=(",", ":")), "include_headers": "true"})

    def get_once(self, url: str, params: dict[str, Any] | None, paced: bool = False) -> Any:
        """``GET url`` (a full URL), tried once; ``paced``: the throttle was waited for already."""
        return self._once("GET", url, paced=paced, params=params)

    def relative_url(self, url: str, params: dict[str, Any] | None) -> str:
        """``url`` with ``params`` as a batch item's ``relative_url``: no host, no version (the
        batch's own applies)."""
        parts = urllib.parse.urlsplit(url)
        path = parts.path
        prefix = urllib.parse.urlsplit(self.base_url).path.rstrip("/") + "/"  # a base URL may have a path
        if path.startswith(prefix):
            path = path[len(prefix):]
        version, _, rest = path.lstrip("/").partition("/")
        path = rest if version == self.api_version else path.lstrip("/")
        query = "&".join(q for q in (parts.query, urllib.parse.urlencode(params or {}, doseq=True)) if q)
        return f"{path}?{query}" if query else path

    def item_answer(self, path: str, entry: Any) -> Any:
        """What one entry of a batch answer says for a GET of ``path``: its body, or its error.
        An entry that is null (Meta: the item timed out) is a transport error, tried again."""
        if entry is None:
            raise GraphTransportError("GET", path, "its item of a batch request timed out")
        if not isinstance(entry, dict) or not isinstance(entry.get("code"), int) or not isinstance(entry.get("body", ""), str):
            raise GraphAnswerError("GET", path, None, "a batch answer's item is not {code, headers, body}")
        named = [h for h in entry.get("headers") or () if isinstance(h, dict)]
        headers = requests.structures.CaseInsensitiveDict(
            {h["name"]: h["value"] for h in named if isinstance(h.get("name"), str) and isinstance(h.get("value"), str)})
        if self.throttle is not None:
            self.throttle.after(headers)
        return answer_of("GET", path, entry["code"], None, headers, (entry.get("body") or "").encode(), self._secret)

    @staticmethod
    def _landed_quietly(landed: Landed) -> Any:
        try:
            return landed()
        except GraphError:
            return None

    def paged(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every row of a listing."""
        for page in self.pages(path, params):
            rows = page.get("data") or []
            if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
                raise GraphAnswerError("GET", self._path(path), None, "'data' is not a list of objects")
            yield from rows

    def pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every page of a listing, following ``paging.next`` until there is none.

        ``next`` is followed only when it points back at the same server; otherwise (or when
        only a cursor is given) the query is sent again with ``after``, so the bearer token never
        goes to another host. A link or cursor seen before, or more than ``page_cap`` pages, ends
        the listing with an error: a server that pages forever must not hold a run forever.
        """
        url, query = self._url(path), dict(params)
        sent: dict[str, Any] | None = query
        seen: set[str] = set()
        for number in range(1, self.page_cap + 1):
            page = self._read(url, sent)
            if not isinstance(page, dict):
                raise GraphAnswerError("GET", self._path(path), None, f"page {number} is not a JSON object")
            yield page
            paging = page.get("paging") or {}
            if not isinstance(paging, dict):
                raise GraphAnswerError("GET", self._path(path), None, "'paging' is not an object")
            following = paging.get("next")
            if not following:
                return
            cursors = paging.get("cursors")
            after = cursors.get("after") if isinstance(cursors, dict) else None
            if not isinstance(following, str) or (after is not None and not isinstance(after, str)):
                raise GraphAnswerError("GET", self._path(path), None, "paging links are not text")
            if self._same_origin(following):
                url, sent, marker = following, None, following  # the next URL carries the whole query
            elif after:
                url, sent, marker = self._url(path), {**query, "after": after}, after
            else:
                return
            if marker in seen:
                raise GraphAnswerError("GET", self._path(path), None, f"paging repeated a link after {number} pages; stopped")
            seen.add(marker)
        raise GraphAnswerError("GET", self._path(path), None, f"more than {self.page_cap} pages; stopped")

    # --- plumbing ----------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.base_url}/{self.api_version}/{path.lstrip('/')}"

    def _path(self, path: str) -> str:
        return urllib.parse.urlsplit(self._url(path)).path

    def _same_origin(self, url: str) -> bool:
        ours, theirs = urllib.parse.urlsplit(self.base_url), urllib.parse.urlsplit(url)
        return (ours.scheme, ours.netloc) == (theirs.scheme, theirs.netloc)

    def _read(self, url: str, params: dict[str, Any] | None, attempts: int | None = None) -> Any:
        started = time.monotonic()
        most = attempts or self.retry.attempts
        batcher = self.batcher if attempts is None else None  # an advisory read goes alone, tried once
        for attempt in range(1, most + 1):
            try:
                if batcher is not None:  # a try again goes alone, after its wait, in turn for a slot
                    return batcher.get(url, params) if attempt == 1 else batcher.alone(url, params)
                return self._once("GET", url, params=params)
            except GraphError as error:
                wait = self.retry.wait(attempt, error)
                if (attempt == most or not self.retry.may_retry_read(error)
                        or not self.retry.allows(time.monotonic() - started, wait, self.deadline)):
                    raise
                time.sleep(wait)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _once(self, method: str, url: str, paced: bool = False, seconds: float | None = None, **kwargs: Any) -> Any:
        path = urllib.parse.urlsplit(url).path  # never the query: it can carry cursors, not tokens
        if self.throttle is not None and not paced:
            self.throttle.before(path)
        deadline = time.monotonic() + (seconds or self.deadline)
        try:
            with self.session.request(method, url, timeout=(self.timeout, min(self.timeout, self.deadline)),
                                      stream=True, **kwargs) as response:
                raw = self._body(response, deadline, method, path)
        except (requests.Timeout, urllib3.exceptions.TimeoutError):
            raise GraphTransportError(method, path, "timed out") from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError, urllib3.exceptions.HTTPError) as error:
            raise GraphTransportError(method, path, _connection_reason(error)) from None
        except requests.RequestException:
            # The library's message can quote the request, headers included: never shown.
            raise GraphTransportError(method, path, "the request could not be sent") from None
        self._note_date(response.headers.get("Date"))
        if self.throttle is not None:
            self.throttle.after(response.headers)
        return answer_of(method, path, response.status_code, response.reason, response.headers, raw, self._secret)

    def _body(self, response: requests.Response, deadline: float, method: str, path: str) -> bytes:
        """The whole answer, read as it comes, within the deadline and the size cap."""
        chunks: list[bytes] = []
        size = 0
        while True:
            if time.monotonic() > deadline:
                raise GraphTransportError(method, path, f"no complete answer within {self.deadline:g} s")
            chunk = response.raw.read1(65536)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > self.max_answer_bytes:
                raise GraphAnswerError(method, path, response.status_code, f"more than {self.max_answer_bytes} bytes")
            chunks.append(chunk)

    def _note_date(self, header: str | None) -> None:
        if not header:
            return
        try:
            moment = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return
        self._server_clock = (moment.timestamp(), time.monotonic())


def answer_of(method: str, path: str, status: int, reason: str | None, headers: Mapping[str, str], raw: bytes,
              secret: str) -> Any:
    """The JSON body of a success, or the typed error of a failure (an HTTP answer, or one item
    of a batch's). Meta's error text can quote the token it refused ("Malformed access token
    ..."): it is masked before anyone sees it. ``headers`` are looked up case-insensitively."""

    def said(text: str) -> str:
        return text.replace(secret, "[token]")[:500] if secret else text[:500]

    try:
        body = json.loads(raw) if raw else None
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested beyond reason
        body = None
    envelope = body.get("error") if isinstance(body, dict) else None
    if status >= 400 or envelope is not None:
        fields = envelope if isinstance(envelope, dict) else {}
        user_message = fields.get("error_user_msg")
        raise GraphError(
            method,
            path,
            status,
            code=_int(fields.get("code")),
            subcode=_int(fields.get("error_subcode")),
            message=said(str(fields.get("message") or reason or "")),
            user_message=said(user_message) if isinstance(user_message, str) else None,
            fbtrace_id=str(fields["fbtrace_id"])[:100] if fields.get("fbtrace_id") else None,
            is_transient=fields.get("is_transient") is True,
            regain_minutes=_regain_minutes(headers.get("X-Business-Use-Case-Usage")),
            retry_after=_retry_after(headers.get("Retry-After")),
        )
    if body is None:
        kind = headers.get("Content-Type", "no content type").split(";")[0]
        raise GraphAnswerError(method, path, status, f"not JSON ({kind}, {len(raw)} bytes)")
    return body


def _regain_minutes(header: str | None) -> int | None:
    """Minutes until access returns: the largest ``estimated_time_to_regain_access`` of
    ``X-Business-Use-Case-Usage`` (keyed by business object, a list of usage entries each),
    at most a day."""
    if not header:
        return None
    try:
        usage: Any = json.loads(header)
        minutes = [
            int(entry.get("estimated_time_to_regain_access") or 0)
            for entries in usage.values()
            for entry in entries
        ]
    except (ValueError, AttributeError, TypeError, OverflowError):
        return None
    return min(max(minutes), LONGEST_REGAIN_MINUTES) if minutes else None


def _retry_after(header: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (a number of seconds; an HTTP date is not used)."""
    try:
        seconds = float(header) if header else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 <= seconds < float("inf") else None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError, OverflowError):
        return None


def _reason(error: GraphError) -> str:
    return str(error).split(": ", 1)[-1]


def _connection_reason(error: Exception) -> str:
    text = str(error.args[0] if error.args else error)  # only looked at, never shown
    if "RemoteDisconnected" in text or "Connection aborted" in text:
        return "the connection was closed before an answer"
    if "IncompleteRead" in text or "InvalidChunkLength" in text or "Connection broken" in text:
        return "the connection was cut during the answer"
    if "refused" in text.lower():
        return "connection refused"
    return "connection failed"
