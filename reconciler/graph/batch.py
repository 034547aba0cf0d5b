"""Graph batch requests for reads: the GETs many threads send at the same moment go as one
``POST /`` with ``batch`` (at most ``MOST`` items), so reading a fleet costs a round trip per
batch, not per request. Meta still counts every item against its limits.

Reading threads call ``get`` as they would send a GET and wait for their item's answer. One
dispatcher thread per batcher takes what is waiting once a sending slot is free (slots are shared by
every batcher of a run: at most that many HTTP requests are in flight), lingers a moment for more
and hands the batch to a sender. A single item goes as a plain GET. An item's error is that read's
error, handled by the client's retry rules (a try again goes alone); an item Meta left null (timed
out) is a transport error and so tried again. When the batch itself fails (a cut connection, an
answer that is not one entry per item), each of its reads is sent alone instead: a batch is an
optimisation and never a reason for a read to fail.
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

from ..errors import GraphError
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
        self._dispatcher = threading.Thread(target=self._dispatch, name="graph-batch", daemon=True)
        self._dispatcher.start()

    def get(self, url: str, params: dict[str, Any] | None) -> Any:
        path = urllib.parse.urlsplit(url).path
        if self.client.throttle is not None:  # each item counts against its WABA: paced as if alone
            self.client.throttle.before(path)
        read = _Read(url, params, path)
        self._waiting.put(read)
        return read.answer.result()

    def close(self) -> None:
        """Stop the dispatcher once the reads already waiting are sent."""
        self._waiting.put(None)
        self._dispatcher.join()

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
            self._senders.submit(self._send, reads)
            if stop:
                return

    def _send(self, reads: list[_Read]) -> None:
        try:
            if len(reads) == 1:
                _settle(reads[0], functools.partial(self.client.get_once, reads[0].url, reads[0].params))
                return
            try:
                answer = self.client.batch([{"method": "GET", "relative_url": self.client.relative_url(r.url, r.params)} for r in reads])
                self.batches += 1
            except GraphError:
                answer = None
            if not isinstance(answer, list) or len(answer) != len(reads):
                for read in reads:  # the batch failed as a whole: each read alone
                    _settle(read, functools.partial(self.client.get_once, read.url, read.params))
                return
            for read, entry in zip(reads, answer, strict=True):
                _settle(read, functools.partial(self.client.item_answer, read.path, entry))
        finally:
            self._slots.release()


def _settle(read: _Read, answer: Callable[[], Any]) -> None:
    """The read's answer, or its error: any error, so that a bug reaches the reading thread
    instead of dying in a sender and leaving that thread waiting."""
    try:
        read.answer.set_result(answer())
    except Exception as error:
        read.answer.set_exception(error)
