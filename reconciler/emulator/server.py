"""The HTTP side: a threaded server on loopback, request parsing, faults, the request log,
batch requests, ``/_emulator/`` controls, and the ``Emulator`` object tests start and stop.
"""

from __future__ import annotations

import email.utils
import itertools
import json
import re
import secrets
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import controls, routes, templates, uploads
from . import params as p
from .errors import GraphError, internal_error, invalid_parameter
from .faults import Fault, Faults, RawReply, answer
from .params import Reply, Request
from .seed import build_world, load_seed_file
from .state import World

VERSION_RE = re.compile(r"^v\d+(\.\d+)?$")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
MUTATING = ("POST", "DELETE", "PUT")
DRIP_PROMISE = 10_000_000  # the Content-Length a "drip" fault announces and never reaches


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, seed: dict[str, Any], host: str, port: int, state_file: str | None) -> None:
        if host not in LOOPBACK:
            raise ValueError("the emulator listens on loopback only")
        super().__init__((host, port), Handler)
        self.seed = seed
        self.state_file = state_file
        self.world: World = build_world(seed)
        self.faults = Faults()
        self.log: list[dict[str, Any]] = []
        self.log_lock = threading.Lock()
        if state_file:
            self._restore(state_file)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def reset(self, seed: dict[str, Any] | None = None) -> None:
        """Back to the seed, or to a new one (a test loading its own fixture)."""
        world = build_world(seed if seed is not None else self.seed)
        with self.world.lock:
            self.world = world
        if seed is not None:
            self.seed = seed
        self.faults.clear()
        with self.log_lock:
            self.log.clear()

    def persist(self) -> None:
        if self.state_file:
            self.world.save(self.state_file)

    def _restore(self, path: str) -> None:
        try:
            with open(path, encoding="utf-8") as handle:
                saved = json.load(handle)
        except FileNotFoundError:
            return
        self.world.restore(saved)


@dataclass
class _Held:
    """What a batch's items left for the batch itself: their longest latency, a cut connection."""

    latency_ms: int = 0
    dropped: bool = False


class Handler(BaseHTTPRequestHandler):
    server: EmulatorServer
    protocol_version = "HTTP/1.1"
    # One buffered write per answer and no Nagle delay: keep-alive clients otherwise wait on
    # delayed ACKs between the header and body writes.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    _held = _Held()  # replaced per request

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log under /_emulator/requests is the record."""


    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header tells emulator time, so clients that read it follow the test clock."""
        return email.utils.formatdate(self.server.world.clock.now(), usegmt=True)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def _handle(self) -> None:
        """Steps: read, controls or Graph; faults before; answer; faults after; log."""
        # The world as the request found it: a reset while it waits (an injected latency) must not
        # let it act on the next test's world.
        world = self.server.world
        url = urllib.parse.urlsplit(self.path)
        try:
            raw = self._body()
        except GraphError as error:
            self.close_connection = True
            self._send(Reply(error.envelope(), error.http_status))
            return
        if url.path.startswith("/_emulator"):
            self._send(self._control(url, raw))
            return
        if url.path.startswith(templates.MEDIA_PATH + "/") and self.command == "GET":
            self._media(url.path[len(templates.MEDIA_PATH) + 1:], world)
            return
        try:
            request = self._request(url, raw)
        except GraphError as error:
            self._send(Reply(error.envelope(), error.http_status, error.headers))
            return
        fired = self.server.faults.fire(request.method, "/" + "/".join(request.segments))
        for fault in fired:
            if fault.kind == "latency":
                time.sleep(fault.latency_ms / 1000)
        early = next((f for f in fired if f.instead), None)
        if early is not None and early.kind == "drop_before":
            self._record(request, None, "dropped before handling")
            self._drop()
            return
        if early is not None and early.kind == "drip":
            self._drip(request, early)
            return
        self._held = _Held()
        reply = answer(early, request) if early else self._answer(request, world)
        late = next((f for f in fired if f.kind == "malformed" and f.after), None)
        if early is None and late is not None:
            reply = answer(late, request)
        self._record(request, reply)
        # A batch's items are handled side by side: it takes as long as its slowest item
        # (beyond its own latency, already waited), and a connection fault on an item cuts it.
        longest = max((f.latency_ms for f in fired if f.kind == "latency"), default=0)
        if self._held.latency_ms > longest:
            time.sleep((self._held.latency_ms - longest) / 1000)
        if self._held.dropped or any(f.kind == "drop_after" for f in fired):
            self._drop()
            return
        if reply.headers.pop(uploads.CUT_HEADER, None) is not None:  # upload_cut_after_bytes
            self._drop()
            return
        self._send(reply)

    def _answer(self, request: Request, world: World) -> Reply:
        with world.lock:
            if request.method == "POST" and not request.segments and "batch" in request.params:
                reply = self._batch(request, world)
            else:
                reply = _graph(world, request)
            if request.method in MUTATING and world is self.server.world:
                self.server.persist()
        return reply

    def _batch(self, request: Request, world: World) -> Reply:
        try:
            items = routes.batch_items(request.params.get("batch"), world.settings.max_batch)
        except GraphError as error:
            return Reply(error.envelope(), error.http_status)
        include_headers = request.params.get("include_headers") not in ("false", False)
        answers: list[dict[str, Any] | None] = []
        for item in items:
            relative = urllib.parse.urlsplit("/" + item["relative_url"].lstrip("/"))
            path = relative.path
            first = path.strip("/").split("/")[0]
            if not VERSION_RE.match(first) and request.segments == [] and request.path.strip("/"):
                path = "/" + request.path.strip("/") + path  # relative to the batch's version
            body = item.get("body") or ""
            sub = _build(
                method=str(item.get("method", "GET")).upper(),
                path=path,
                query=p.parse_query(relative.query),
                body=p.parse_query(body) if isinstance(body, str) else dict(body),
                base_url=request.base_url,
                header_token=None,
                world=world,
                fallback=request,
            )
            reply = self._item(sub, world)
            self._record(sub, reply, "batch item")
            if reply is None:  # timed out, as Meta says of a null entry
                answers.append(None)
                continue
            body = reply.body if isinstance(reply, RawReply) else json.dumps(reply.body)
            entry: dict[str, Any] = {"code": reply.status, "body": body}
            if include_headers:
                headers = dict(reply.headers)
                if isinstance(reply, RawReply):
                    headers["Content-Type"] = reply.content_type
                entry["headers"] = [{"name": k, "value": v} for k, v in headers.items()]
            answers.append(entry)
        return Reply(answers, headers=routes.usage_headers(world, request))

    def _item(self, sub: Request, world: World) -> Reply | None:
        """One batch item's answer, faults on its own method and path included: an answering
        fault is the item's answer; latency and connection faults are the batch's (``_held``)."""
        fired = self.server.faults.fire(sub.method, "/" + "/".join(sub.segments), in_batch=True)
        self._held.latency_ms = max([self._held.latency_ms, *(f.latency_ms for f in fired if f.kind == "latency")])
        if any(f.kind in ("drop_before", "drop_after", "drip") for f in fired):
            self._held.dropped = True
        if any(f.kind == "null_item" for f in fired):
            return None
        early = next((f for f in fired if f.instead and f.kind not in ("drop_before", "drip")), None)
        reply = answer(early, sub) if early else _graph(world, sub)
        late = next((f for f in fired if f.kind == "malformed" and f.after), None)
        return answer(late, sub) if early is None and late is not None else reply

    # --- plumbing ------------------------------------------------------------------------------

    def _body(self) -> bytes:
        length_header = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raise invalid_parameter("Chunked request bodies are not supported; send Content-Length.")
        if not length_header:
            return b""
        try:
            length = int(length_header)
        except ValueError:
            raise invalid_parameter("Content-Length is not a number.") from None
        most = self.server.world.settings.max_body_bytes
        if uploads.is_upload_path(urllib.parse.urlsplit(self.path).path):
            most = max(most, uploads.LARGEST)  # a file as large as Meta takes for its type
        if length > most:
            raise GraphError(
                code=100,
                message=f"Request body too large: {length} bytes; at most {most}.",
                status=413,
            )
        return self.rfile.read(length) if length > 0 else b""

    def _request(self, url: urllib.parse.SplitResult, raw: bytes) -> Request:
        # An upload session's body is the file itself (any Content-Type, curl's form one too).
        upload = uploads.is_upload_path(url.path)
        request = _build(
            method=self.command,
            path=url.path,
            query=p.parse_query(url.query),
            body={} if upload else p.parse_body(raw, self.headers.get("Content-Type", "")),
            base_url=self._base_url(),
            header_token=self._bearer(),
            world=self.server.world,
            fallback=None,
        )
        request.headers = {name.lower(): value for name, value in self.headers.items()}
        if upload:
            request.raw_body = raw
        return request

    def _bearer(self) -> str | None:
        value = self.headers.get("Authorization", "")
        if value[:7].lower() == "bearer ":
            return value[7:].strip()
        if value[:6].lower() == "oauth ":
            return value[6:].strip()
        return None

    def _base_url(self) -> str:
        host = self.headers.get("Host")
        return f"http://{host}" if host else self.server.url

    def _control(self, url: urllib.parse.SplitResult, raw: bytes) -> Reply:
        try:
            body = json.loads(raw.decode("utf-8")) if raw else {}
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            return controls.handle(self.server, self.command, url.path, body)
        except (ValueError, TypeError, KeyError) as error:
            return Reply({"error": {"message": str(error), "type": "EmulatorControlError", "code": 100}}, 400)

    def _record(self, request: Request, reply: Reply | None, note: str | None = None) -> None:
        entry: dict[str, Any] = {
            "time": self.server.world.clock.now(),
            "method": request.method,
            "path": request.path,
            # debug_token's input_token is a token too: the log never holds one.
            "params": {k: "[hidden]" if k == "input_token" else v for k, v in request.params.items()},
            "token": request.token_via,
            "status": reply.status if reply else None,
        }
        if reply is not None and isinstance(reply.body, dict) and "error" in reply.body:
            entry["code"] = reply.body["error"].get("code")
            entry["subcode"] = reply.body["error"].get("error_subcode")
        if note:
            entry["note"] = note
        with self.server.log_lock:
            self.server.log.append(entry)

    def _media(self, name: str, world: World) -> None:
        """Uploaded media at the URL template reads give, as Meta's CDN serves it: no token (a CDN
        URL is fetched as is); an unknown name is a plain 404."""
        with world.lock:
            found = templates.media_file(world, name)
        entry = {"time": world.clock.now(), "method": "GET", "path": f"{templates.MEDIA_PATH}/{name}", "params": {},
                 "token": "header" if self.headers.get("Authorization") else None, "status": 200 if found else 404, "note": "media"}
        with self.server.log_lock:
            self.server.log.append(entry)
        if found is None:
            self._send(RawReply("Not found", 404, content_type="text/plain"))
            return
        data, file_type = found
        self.send_response(200)
        self.send_header("Content-Type", file_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send(self, reply: Reply) -> None:
        if isinstance(reply, RawReply):
            payload, content_type = reply.body.encode("utf-8"), reply.content_type
        else:
            payload, content_type = json.dumps(reply.body).encode("utf-8"), "application/json; charset=UTF-8"
        self.send_response(reply.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("facebook-api-version", "v26.0")
        # Every Graph answer carries a trace id (graph-api-facts.md 6.3); an error's is its fbtrace_id.
        error = reply.body.get("error") if isinstance(reply.body, dict) else None
        trace = error.get("fbtrace_id") if isinstance(error, dict) else None
        self.send_header("x-fb-trace-id", str(trace or "A" + secrets.token_urlsafe(15)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    def _drip(self, request: Request, fault: Fault) -> None:
        """Promise a large JSON body, then send it a byte at a time, never finishing, until the
        client leaves or ``drip_seconds`` pass; then close. No lock is held meanwhile, so every
        other request is served as usual. The log entry is written at the end and says which.
        """
        self.close_connection = True
        sent, ending = 0, "the server closed the connection"
        deadline = time.monotonic() + fault.drip_seconds
        # Unbuffered: each byte leaves at once, and no byte is left over for the base class to
        # flush again (and fail on, with a traceback) once the client has closed the socket.
        self.wfile.close()
        self.wfile = self.connection.makefile("wb", buffering=0)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(DRIP_PROMISE))
            self.end_headers()
            for byte in itertools.islice(_drip_bytes(), DRIP_PROMISE - 1):
                if time.monotonic() >= deadline:
                    break
                self.wfile.write(byte)
                sent += 1
                time.sleep(fault.drip_interval_ms / 1000)
        except OSError:  # broken pipe or reset: the client gave up, which is what a drip tests
            ending = "the client closed the connection"
        self._record(request, Reply(None), f"dripped {sent} of {DRIP_PROMISE} bytes; {ending}")
        self._drop()

    def _drop(self) -> None:
        """Close the socket without an answer, as a network failure would."""
        self.close_connection = True
        try:
            self.connection.shutdown(2)
        except OSError:
            pass


def _drip_bytes() -> Iterator[bytes]:
    """The start of a plausible listing, then whitespace forever: a JSON parser keeps waiting."""
    for byte in b'{"data": [':
        yield bytes([byte])
    yield from itertools.repeat(b" ")


def _build(
    method: str,
    path: str,
    query: dict[str, Any],
    body: dict[str, Any],
    base_url: str,
    header_token: str | None,
    world: World,
    fallback: Request | None,
) -> Request:
    """A Request with merged parameters and the caller's token resolved (and removed)."""
    params = dict(query)
    params.update(body)
    token, via = header_token, "header" if header_token else None
    if token is None and p.TOKEN_PARAM in body:
        token, via = str(body[p.TOKEN_PARAM]), "body"
    elif token is None and p.TOKEN_PARAM in query:
        token, via = str(query[p.TOKEN_PARAM]), "query"
    params.pop(p.TOKEN_PARAM, None)
    parts = [part for part in path.split("/") if part]
    if parts and VERSION_RE.match(parts[0]):
        parts.pop(0)
    request = Request(
        method=method.upper(),
        path=path,
        segments=parts,
        params=params,
        base_url=base_url,
        token=world.tokens.get(token) if token else None,
        token_via=via,
    )
    if token is None and fallback is not None:  # batch items inherit the batch's token
        request.token, request.token_via = fallback.token, fallback.token_via
    return request


def _graph(world: World, request: Request) -> Reply:
    """Dispatch under the world lock; every failure becomes a Graph error, never a traceback."""
    try:
        reply = routes.dispatch(world, request)
    except GraphError as error:
        reply = Reply(error.envelope(), error.http_status, dict(error.headers))
    except Exception:
        unknown = internal_error()
        reply = Reply(unknown.envelope(), unknown.http_status)
    for name, value in routes.usage_headers(world, request).items():
        reply.headers.setdefault(name, value)
    return reply


class Emulator:
    """An emulator in a background thread: ``with Emulator(seed) as emulator: emulator.url``."""

    def __init__(
        self,
        seed: dict[str, Any] | str | None = None,
        port: int = 0,
        host: str = "127.0.0.1",
        state_file: str | None = None,
    ) -> None:
        if isinstance(seed, str):
            seed = load_seed_file(seed)
        self.server = EmulatorServer(seed or {}, host, port, state_file)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def world(self) -> World:
        return self.server.world

    def start(self) -> Emulator:
        self._thread = threading.Thread(target=self.server.serve_forever, name="graph-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
