"""The exception tree of wabactl. Only ``cli.py`` catches these, prints them and picks the exit code.

    ReconcilerError                 root; its message is what the user reads
    ├── ConfigError                 invalid config; carries every Problem (file, line, column)
    ├── CredentialsError            no token in the environment variable the account names
    ├── GraphError                  the Graph API refused or failed (method, path, status, code, …)
    │   └── GraphTransportError     no answer at all (connection refused, dropped, timed out)
    ├── PlanError                   a plan that must not be made or applied
    │   ├── StalePlanError          live state moved since the plan file was written
    │   ├── PlanFileError           the plan file is unreadable or not a wabactl plan
    │   └── UnsafePlanError         a safety valve (too many deletes, self-lockout); --allow-destroy
    ├── ApplyError                  apply stopped at a failed change; carries the per-change results
    └── EmulatorError               the in-process emulator could not start (bad seed)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class ReconcilerError(Exception):
    """Root of every error wabactl reports to the user."""


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a config file, at a place a person can jump to."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}, line {self.line}, column {self.column}: {self.message}"
        return f"{self.file}: {self.message}"


class ConfigError(ReconcilerError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems))
        count = len(self.problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"invalid config: {count} problem{'s' if count != 1 else ''}\n{lines}")


class CredentialsError(ReconcilerError):
    pass


class GraphError(ReconcilerError):
    """A Graph API error answer; match on ``code``/``subcode``, never on the message text."""

    def __init__(
        self,
        method: str,
        path: str,
        status: int | None,
        code: int | None = None,
        subcode: int | None = None,
        message: str = "",
        user_message: str | None = None,
        fbtrace_id: str | None = None,
        transient: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.code = code
        self.subcode = subcode
        self.graph_message = message
        self.user_message = user_message
        self.fbtrace_id = fbtrace_id
        self.transient = transient
        self.headers = headers or {}
        where = f"{method} {path}"
        codes = f"code {code}" + (f", subcode {subcode}" if subcode is not None else "")
        text = user_message or message or "no message"
        trace = f", fbtrace_id {fbtrace_id}" if fbtrace_id else ""
        super().__init__(f"Graph API error on {where}: HTTP {status}, {codes}: {text}{trace}")

    @property
    def rate_limited(self) -> bool:
        return self.code in (4, 17, 613, 80007, 80008)

    def regain_minutes(self) -> int | None:
        """Minutes until access returns, from ``X-Business-Use-Case-Usage`` when given."""
        raw = {k.lower(): v for k, v in self.headers.items()}.get("x-business-use-case-usage")
        if not raw:
            return None
        try:
            usage: Any = json.loads(raw)
            minutes = [
                int(entry.get("estimated_time_to_regain_access") or 0)
                for entries in usage.values()
                for entry in entries
            ]
        except (ValueError, AttributeError, TypeError):
            return None
        return max(minutes) if minutes else None


class GraphTransportError(GraphError):
    def __init__(self, method: str, path: str, reason: str) -> None:
        super().__init__(method, path, None, message=f"no answer ({reason})", transient=True)


class PlanError(ReconcilerError):
    pass


class StalePlanError(PlanError):
    pass


class PlanFileError(PlanError):
    pass


class UnsafePlanError(PlanError):
    pass


class ApplyError(ReconcilerError):
    def __init__(self, message: str, results: Any) -> None:
        super().__init__(message)
        self.results = results


class EmulatorError(ReconcilerError):
    pass
