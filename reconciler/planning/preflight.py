"""The token pre-flight: what Meta's ``debug_token`` answer means for one account, before any of
its requests.

Certain (the account fails at once, with the reason): an invalid or expired token (expiry in the
Graph API's time), no ``whatsapp_business_management``, or that permission granted only for other
WABAs. What Meta leaves open is a warning: an account that declares users with a token lacking
``business_management`` (or holding it only for other businesses) may or may not be refused.

Messages name the token's environment variable, never the token. Pure: no network.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import GraphError
from ..graph.auth import BUSINESS, MANAGEMENT, TokenInfo
from ..model import DesiredAccount

INVALID_TOKEN = 190  # Graph's code for an invalid or expired token
EXPIRED_SUBCODE = 463


@dataclass(frozen=True)
class Check:
    """One account's pre-flight: ``problems`` refuse it for certain, ``warnings`` do not. ``info``
    is None when debug_token could not be asked (``error`` says why)."""

    account: str
    waba_id: str
    token_env: str
    business_id: str | None
    manages_users: bool
    info: TokenInfo | None
    checked_at: dt.datetime | None = None  # the Graph API's time when it answered
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def waba_targeted(self) -> bool | None:
        """Whether the token's whatsapp_business_management reaches this WABA: True or False when
        that permission is granular, None when it covers every WABA (or is missing, or unknown)."""
        targets = self.info.targets(MANAGEMENT) if self.info else None
        return None if targets is None else self.waba_id in targets


def check(account: DesiredAccount, info: TokenInfo, now: dt.datetime) -> Check:
    """What ``info`` (about the account's token) means for ``account`` at ``now`` (Graph time)."""
    token = f"the token in {account.token_env}"
    problems: list[str] = []
    warnings: list[str] = []
    expired = info.expires_at is not None and info.expires_at <= now
    if expired:
        problems.append(f"{token} expired at {_when(info.expires_at)} (Graph API time now {_when(now)})")
    if not info.is_valid:
        said = f": Meta says {info.error!r}" if info.error else ""
        if not expired:
            problems.append(f"{token} is not valid{said}")
        return _made(account, info, now, problems, warnings)
    if MANAGEMENT not in info.scopes:
        problems.append(f"{token} lacks the {MANAGEMENT} permission, which managing templates needs "
                        f"(it has: {_listed(info.scopes) or 'no permissions'})")
    else:
        targets = info.targets(MANAGEMENT)
        if targets is not None and account.waba_id not in targets:
            problems.append(f"{token} holds {MANAGEMENT} only for WABA {_listed(targets)}, not for this account's WABA {account.waba_id}")
    if account.users is not None:
        if BUSINESS not in info.scopes:
            warnings.append(f"account {account.name} declares users, and {token} lacks {BUSINESS}: "
                            f"Meta may refuse to read or assign them")
        else:
            businesses = info.targets(BUSINESS)
            if businesses is not None and account.business_id is not None and account.business_id not in businesses:
                warnings.append(f"account {account.name} declares users, and {token} holds {BUSINESS} only for business "
                                f"{_listed(businesses)}, not for {account.business_id}: Meta may refuse to read or assign them")
    return _made(account, info, now, problems, warnings)


def not_checked(account: DesiredAccount, error: GraphError) -> Check:
    """The account's pre-flight when debug_token itself failed. A refusal of the token (code 190)
    is certain: every request with it would be refused the same way. Anything else (no answer, a
    permission, a strange answer) leaves the decision to Meta's answers: a warning."""
    token = f"the token in {account.token_env}"
    base = Check(account.name, account.waba_id, account.token_env, account.business_id, account.users is not None, None,
                 error=str(error))
    if error.code == INVALID_TOKEN:
        what = "has expired" if error.subcode == EXPIRED_SUBCODE else "is invalid"
        return dataclasses.replace(base, problems=(f"{token} {what}: Meta refused it ({error})",))
    return dataclasses.replace(base, warnings=(f"the token pre-flight for {token} could not run ({error}); Meta's answers will decide",))


def _made(account: DesiredAccount, info: TokenInfo, now: dt.datetime, problems: list[str], warnings: list[str]) -> Check:
    return Check(account.name, account.waba_id, account.token_env, account.business_id, account.users is not None, info,
                 now, tuple(problems), tuple(warnings))


def _when(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "never"


def _listed(ids: Iterable[str], most: int = 5) -> str:
    ordered = sorted(ids)
    shown = ", ".join(ordered[:most])
    return shown + (f" and {len(ordered) - most} more" if len(ordered) > most else "")
