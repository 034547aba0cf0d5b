"""The exception tree of wabactl. Only ``cli.py`` catches these, prints them and picks the exit code.

    ReconcilerError                 root; its message is what the user reads
    ├── ConfigError                 invalid config; carries every Problem (file, line, column)
    ├── CredentialsError            no token in the environment variable the account names
    ├── GraphError                  the Graph API refused or failed (method, path, status, code, …);
    │   │                           what kind of failure it is (rate limit, name lock, edit refused,
    │   │                           permission, transient) is decided here and nowhere else
    │   ├── GraphTransportError     no answer at all (connection refused, cut, timed out)
    │   ├── GraphAnswerError        an answer wabactl cannot use (not JSON, wrong shape, endless paging)
    │   └── TokenError              the token pre-flight (debug_token) found the account cannot work
    ├── PlanError                   a plan that must not be made or applied (over the template cap)
    │   ├── StalePlanError          live state moved since the plan file was written
    │   ├── PlanFileError           the plan file is unreadable or not a wabactl plan
    │   └── UnsafePlanError         a safety valve (too many deletes, self-lockout); --allow-destroy
    ├── LedgerLockedError           another apply holds the ledger's lock beyond --lock-timeout
    └── EmulatorError               the in-process emulator could not start (bad seed)
"""

from __future__ import annotations

from dataclasses import dataclass

# Graph error codes (graph-api-facts.md 6.2), by what they mean for wabactl.
RATE_LIMIT_CODES = (4, 17, 613, 80007, 80008)
# Worth another try after a pause. The WABA rate limits (80007, 80008) are not: calling again
# prolongs the block, so they go up to the caller, which defers.
TEMPORARY_CODES = (1, 2, 4, 17, 341, 613)
NOT_RETRIED_CODES = (80007, 80008)
PERMISSION_CODES = (3, 10, *range(200, 300))
INVALID_PARAMETER = 100
LANGUAGE_BEING_DELETED = 2388023  # a (name, language) deleted recently: Meta's name lock
STATUS_CANNOT_CHANGE = 2388039  # edit refused: the template's status, or its edit quota


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
    """A Graph API error answer; classified by ``code`` and ``subcode``, never by the message text
    (Meta localises it)."""

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
        is_transient: bool = False,
        regain_minutes: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.code = code
        self.subcode = subcode
        self.user_message = user_message
        self.fbtrace_id = fbtrace_id
        self.is_transient = is_transient  # Meta's own flag, as the answer gave it
        # Minutes until access returns, from X-Business-Use-Case-Usage when the answer had it.
        self.regain_minutes = regain_minutes
        self.retry_after = retry_after  # seconds, from a Retry-After header
        self.message = message  # Meta's words (masked), or what wabactl says of the failure
        facts = [f"HTTP {status}" if status is not None else "",
                 f"code {code}" + (f", subcode {subcode}" if subcode is not None else "") if code is not None else ""]
        said = ", ".join(fact for fact in facts if fact)
        text = user_message or message or "no message"
        trace = f", fbtrace_id {fbtrace_id}" if fbtrace_id else ""
        super().__init__(f"Graph API error on {method} {path}: " + (f"{said}: " if said else "") + f"{text}{trace}")

    @property
    def rate_limited(self) -> bool:
        """A rate limit: on a create, the hourly creation budget is spent."""
        return self.code in RATE_LIMIT_CODES

    @property
    def name_locked(self) -> bool:
        """Meta refuses to create a (name, language) that was deleted recently."""
        return self.code == INVALID_PARAMETER and self.subcode == LANGUAGE_BEING_DELETED

    @property
    def edit_refused(self) -> bool:
        """Meta refuses the edit now: the edit quota or the template's status."""
        return self.code == INVALID_PARAMETER and self.subcode == STATUS_CANNOT_CHANGE

    @property
    def permission_denied(self) -> bool:
        return self.code in PERMISSION_CODES

    @property
    def transient(self) -> bool:
        """Trying again after a pause can succeed (never for the WABA rate limits)."""
        if self.code in NOT_RETRIED_CODES:
            return False
        server_side = self.status is not None and self.status >= 500
        return self.is_transient or server_side or self.code in TEMPORARY_CODES


class GraphTransportError(GraphError):
    def __init__(self, method: str, path: str, reason: str) -> None:
        super().__init__(method, path, None, message=f"no answer ({reason})", is_transient=True)


class GraphAnswerError(GraphError):
    def __init__(self, method: str, path: str, status: int | None, reason: str) -> None:
        super().__init__(method, path, status, message=f"unusable answer: {reason}", is_transient=status is not None and status >= 500)


class TokenError(GraphError):
    """The token pre-flight found what makes Meta refuse an account for certain (an invalid or
    expired token, no ``whatsapp_business_management``, a WABA outside the token's granular
    targets): the account fails before any of its requests. The message names the token's
    environment variable, never the token."""

    def __init__(self, reason: str, code: int | None = None, subcode: int | None = None) -> None:
        super().__init__("GET", "debug_token", None, code=code, subcode=subcode, message=reason)
        Exception.__init__(self, f"token pre-flight: {reason}")


class PlanError(ReconcilerError):
    pass


class StalePlanError(PlanError):
    pass


class PlanFileError(PlanError):
    pass


class UnsafePlanError(PlanError):
    pass


class LedgerLockedError(ReconcilerError):
    pass


class EmulatorError(ReconcilerError):
    pass
