"""One apply at a time per ledger: a file lock beside ``ledger.json``, held from reading live state
until the ledger is written, so two applies never plan the same creates or lose each other's
records. Whoever holds it is written beside it (pid, host, since), so a refusal can name them.

It uses ``filelock`` (an OS file lock: released by the kernel when the holder dies, so a killed
apply never leaves a stale lock behind).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from types import TracebackType

import filelock

from .errors import LedgerLockedError

DEFAULT_TIMEOUT = 5.0  # seconds a second apply waits for the first


class LedgerLock:
    def __init__(self, ledger_path: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.lock_path = ledger_path + ".lock"
        self.holder_path = ledger_path + ".holder"
        self.timeout = timeout
        self._lock = filelock.FileLock(self.lock_path, thread_local=False)

    def __enter__(self) -> LedgerLock:
        os.makedirs(os.path.dirname(os.path.abspath(self.lock_path)), exist_ok=True)
        try:
            self._lock.acquire(timeout=self.timeout)
        except filelock.Timeout:
            raise LedgerLockedError(f"the ledger {self.lock_path[: -len('.lock')]} is in use by {self._holder()}; "
                                    f"waited {self.timeout:g} s (--lock-timeout). Run again when that apply has ended.") from None
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        with open(self.holder_path, "w", encoding="utf-8") as out:
            json.dump(holder, out)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        try:
            os.remove(self.holder_path)
        except OSError:
            pass
        self._lock.release()

    def _holder(self) -> str:
        try:
            with open(self.holder_path, encoding="utf-8") as handle:
                holder = json.load(handle)
            return f"another apply (pid {int(holder['pid'])} on {str(holder['host'])[:100]}, since {str(holder['since'])[:40]})"
        except (OSError, ValueError, KeyError, TypeError):
            return "another apply"
