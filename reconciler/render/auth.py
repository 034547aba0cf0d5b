"""The token pre-flight (``wabactl auth``) as text or JSON (``schemas/auth.schema.json``). Pure.

Each account shows its token's environment variable, never the token: whether Meta calls it valid,
its type, expiry, permissions, whether the WABA is among the granular targets, then what refuses
the account for certain (``Error:``) and what only may (``warning:``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from .. import __version__
from ..graph.auth import MANAGEMENT
from ..planning.preflight import Check
from ..schemas import dumps_checked

FORMATS = ("text", "json")
FORMAT = "wabactl-auth"
VERSION = 1
SCHEMA = "auth.schema.json"


def text(checks: Sequence[Check], errors: Sequence[str] = ()) -> str:
    lines: list[str] = []
    for check in checks:
        lines.append(f"account {check.account} (WABA {check.waba_id}), token in {check.token_env}")
        info = check.info
        if info is None and check.problems:
            lines.append("  valid:       no (Meta refused the token itself)")
        elif info is None:
            lines.append(f"  not checked: {check.error or 'no answer'}")
        else:
            kind = f", {info.type}" if info.type else ""
            lines.append(f"  valid:       {'yes' if info.is_valid else 'no'}{kind}")
            lines.append(f"  expires:     {_expiry(info.expires_at, check.checked_at)}")
            lines.append(f"  permissions: {', '.join(sorted(info.scopes)) or 'none'}")
            lines.append(f"  WABA:        {_targeted(check)}")
        lines += [f"  Error: {problem}" for problem in check.problems]
        lines += [f"  warning: {warning}" for warning in check.warnings]
    lines += [f"Error: {error}" for error in errors]
    refused = sum(1 for c in checks if c.problems)
    warned = sum(1 for c in checks if c.warnings and not c.problems)
    unchecked = sum(1 for c in checks if c.info is None and not c.problems)
    summary = f"{len(checks)} account(s) checked: {refused} refused, {warned} with warnings only"
    if unchecked:
        summary += f", {unchecked} could not be checked"
    lines.append(summary + ".")
    return "\n".join(lines) + "\n"


def to_dict(checks: Sequence[Check], errors: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "wabactl_version": __version__,
        "summary": {
            "accounts": len(checks),
            "refused": sum(1 for c in checks if c.problems),
            "warnings": sum(len(c.warnings) for c in checks),
            "unchecked": sum(1 for c in checks if c.info is None and not c.problems),
        },
        "errors": list(errors),
        "accounts": [_account(check) for check in checks],
    }


def dumps(checks: Sequence[Check], errors: Sequence[str] = ()) -> str:
    return dumps_checked(to_dict(checks, errors), SCHEMA)


def _account(check: Check) -> dict[str, Any]:
    info = check.info
    token = None if info is None else {
        "valid": info.is_valid,
        "type": info.type,
        "expires_at": _iso(info.expires_at),
        "scopes": sorted(info.scopes),
        "management_targets": None if info.targets(MANAGEMENT) is None else sorted(info.targets(MANAGEMENT) or ()),
        "user_id": info.user_id,
        "app_id": info.app_id,
        "error": info.error,
    }
    return {
        "account": check.account,
        "waba_id": check.waba_id,
        "token_env": check.token_env,
        "checked_at": _iso(check.checked_at),
        "token": token,
        "waba_targeted": check.waba_targeted,
        "problems": list(check.problems),
        "warnings": list(check.warnings),
        "error": check.error,
    }


def _expiry(moment: dt.datetime | None, now: dt.datetime | None) -> str:
    if moment is None:
        return "never"
    shown = moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if now is None:
        return shown
    left = moment - now
    return f"{shown} ({'in ' + _span(left) if left.total_seconds() > 0 else _span(-left) + ' ago'})"


def _span(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def _targeted(check: Check) -> str:
    info = check.info
    if info is None or not info.is_valid:
        return "not known"
    if MANAGEMENT not in info.scopes:
        return f"no {MANAGEMENT} at all"
    targeted = check.waba_targeted
    if targeted is None:
        return f"{MANAGEMENT} covers every WABA"
    return f"among the {MANAGEMENT} targets" if targeted else f"NOT among the {MANAGEMENT} targets"


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if moment else None
