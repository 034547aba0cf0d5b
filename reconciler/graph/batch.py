"""Graph batch requests for reads: the GETs many threads send at the same moment go as one
``POST /`` with ``batch`` (at most ``MOST`` items), so reading a fleet costs a round trip per
batch, not per request. Meta still counts every item against its limits.

Reading threads call ``get`` as they would send a GET and wait for their item's answer. One
dispatcher thread per batcher takes what is waiting once a sending slot is free (slots are shared by
every batcher of a run: at most that many HTTP requests are in flight), lingers a moment for more
and hands the batch to a sender. A single item goes as a plain GET. An item's error is that read's
error, handled by the client's retry rules: a try again goes alone (``alone``), waiting for a slot
like a batch; an item Meta left null (timed out) is a transport error and so tried again. When the
batch itself fails (a cut connection, a throttle, an answer that is not one entry per item), each
of its reads gets that error and its retry rules decide: a batch never makes a read fail where the
read alone would have been tried again.
"""

from __future__ import annotations

import functools
import queue
import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..errors import GraphError, GraphTransportError
from .client import GraphClient
from .slots import Slots

MOST = 50  # Meta's most items in one batch request
LINGER = 0.003  # seconds a free slot waits for more reads to join a batch that is not full


@dataclass
class _Read:
    url: str
    params: dict[str, Any] | None
    path: str  # for errors: never the query
    answer: Future[Any] = field(default_factory=Future)


class Batcher:
    """Joins the concurrent first tries of one client's reads into batch requests."""

    def __init__(self, client: GraphClient, slots: Slots, senders: ThreadPoolExecutor,
                 most: int = MOST, linger: float = LINGER) -> None:
        self.client = client
        self.most = most
        self.linger = linger
        self.batches = 0  # batch requests sent (a single read sent alone is not one)
        self._slots = slots
        self._senders = senders
        self._waiting: queue.SimpleQueue[_Read | None] = queue.SimpleQueue()
        self._closed = False
        self._lock = threading.Lock()  # a read is queued only while the batcher is open
        self._dispatcher = threading.Thread(target=self._dispatch, name="graph-batch", daemon=True)
        self._dispatcher.start()

    def get(self, url: str, params: dict[str, Any] | None) -> Any:
        """The read's answer, sent in a batch with whatever else is waiting."""
        path = urllib.parse.urlsplit(url).path
        self._pace(path)
        read = _Read(url, params, path)
        with self._lock:
            queued = not self._closed
            if queued:
                self._waiting.put(read)
        if not queued:  # closed meanwhile (the run is ending): alone
            with self._slots:
                return self.client.get_once(url, params, paced=True)
        return read.answer.result()

    def alone(self, url: str, params: dict[str, Any] | None) -> Any:
        """The read sent on its own (a try again), in turn with the batches for a slot."""
        self._pace(urllib.parse.urlsplit(url).path)
        with self._slots:
            return self.client.get_once(url, params, paced=True)

    def close(self) -> None:
        """Stop taking reads; the dispatcher sends those already waiting, then ends."""
        with self._lock:
            self._closed = True
            self._waiting.put(None)
        self._dispatcher.join()

    def _pace(self, path: str) -> None:
        if self.client.throttle is not None:  # each item counts against its WABA: paced as if alone
            self.client.throttle.before(path)

    def _dispatch(self) -> None:
        while True:
            first = self._waiting.get()
            if first is None:
                return
            self._slots.acquire()  # reads pile up meanwhile: they go together
            reads, stop = [first], False
            until = time.monotonic() + self.linger
            while len(reads) < self.most:
                try:
                    more = self._waiting.get(timeout=max(0.0, until - time.monotonic()))
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                reads.append(more)
            try:
                self._senders.submit(self._send, reads)
            except BaseException as error:  # no sender to take them: every waiting read hears why
                self._slots.release()
                for read in reads:
                    _fail(read, error)
                raise
            if stop:
                return

    def _send(self, reads: list[_Read]) -> None:
        try:
            if len(reads) == 1:
                _settle(reads[0], functools.partial(self.client.get_once, reads[0].url, reads[0].params, paced=True))
                return
            try:
                answer = self.client.batch([{"method": "GET", "relative_url": self.client.relative_url(r.url, r.params)} for r in reads])
                self.batches += 1
            except GraphError as error:
                # The batch failed as a whole: each read gets its error, and its own retry rules
                # decide (a transient failure is tried again alone, in parallel, after its wait).
                for read in reads:
                    _fail(read, error)
                return
            if not isinstance(answer, list) or len(answer) != len(reads):
                for read in reads:  # not one entry per item: each read tries again alone
                    _fail(read, GraphTransportError("GET", read.path, "its batch request answered without one entry per item"))
                return
            for read, entry in zip(reads, answer, strict=True):
                _settle(read, functools.partial(self.client.item_answer, read.path, entry))
        except BaseException as error:  # a bug must reach the reading threads, never leave them waiting
            for read in reads:
                _fail(read, error)
            raise
        finally:
            self._slots.release()


def _settle(read: _Read, answer: Callable[[], Any]) -> None:
    """The read's answer, or its error: any error, so that a bug reaches the reading thread
    instead of dying in a sender and leaving that thread waiting."""
    try:
        read.answer.set_result(answer())
    except Exception as error:
        _fail(read, error)


def _fail(read: _Read, error: BaseException) -> None:
    if not read.answer.done():
        read.answer.set_exception(error)
