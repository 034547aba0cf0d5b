"""Plan <-> JSON. The JSON is the plan file (``plan --out``) and ``plan --format json``; it is
checked against ``schemas/plan.schema.json`` both when written and when read back."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

from . import __version__
from .errors import PlanFileError
from .plan import AccountPlan, Action, Change, Plan
from .schema import plan_errors

FORMAT = "wabactl-plan"
VERSION = 1


def to_dict(plan: Plan) -> dict[str, Any]:
    counts = plan.counts()
    return {
        "format": FORMAT,
        "version": VERSION,
        "wabactl_version": __version__,
        "created_at": plan.created_at,
        "summary": {action.value: counts[action] for action in Action},
        "accounts": [_account(a) for a in plan.accounts],
    }


def _account(account: AccountPlan) -> dict[str, Any]:
    return {
        "account": account.account,
        "waba_id": account.waba_id,
        "business_id": account.business_id,
        "token_env": account.token_env,
        "fingerprint": account.fingerprint,
        "manages_users": account.manages_users,
        "token_user": account.token_user,
        "usage": dict(account.usage),
        "warnings": list(account.warnings),
        "statuses": dict(account.statuses),
        "changes": [
            {
                "key": c.key,
                "action": c.action.value,
                "before": c.before,
                "after": c.after,
                "reason": c.reason,
                "not_before": c.not_before,
                "wave": c.wave,
            }
            for c in account.changes
        ],
    }


def from_dict(data: Any) -> Plan:
    problems = plan_errors(data)
    if problems:
        raise PlanFileError("not a valid wabactl plan: " + "; ".join(problems[:5]))
    accounts = tuple(
        AccountPlan(
            account=a["account"],
            waba_id=a["waba_id"],
            business_id=a["business_id"],
            token_env=a["token_env"],
            fingerprint=a["fingerprint"],
            manages_users=a["manages_users"],
            token_user=a["token_user"],
            usage=a["usage"],
            warnings=tuple(a["warnings"]),
            statuses=a["statuses"],
            changes=tuple(
                Change(a["account"], c["key"], Action(c["action"]), c["before"], c["after"], c["reason"],
                       c["not_before"], c["wave"])
                for c in a["changes"]
            ),
        )
        for a in data["accounts"]
    )
    return Plan(accounts=accounts, created_at=data["created_at"])


def dumps(plan: Plan) -> str:
    data = to_dict(plan)
    problems = plan_errors(data)
    if problems:  # a bug in wabactl, not in the user's input
        raise AssertionError(f"plan does not match its schema: {problems}")
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def save(plan: Plan, path: str) -> None:
    """Written atomically: a plan file is either whole or absent."""
    text = dumps(plan)
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".wabactl-plan-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, path)


def load(path: str) -> Plan:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as error:
        raise PlanFileError(f"{path}: cannot read plan file: {error.strerror}") from error
    except ValueError as error:
        raise PlanFileError(f"{path}: not a JSON plan file: {error}") from error
    try:
        return from_dict(data)
    except PlanFileError as error:
        raise PlanFileError(f"{path}: {error}") from error


def looks_like_plan(path: str) -> bool:
    """A plan file is JSON with ``"format": "wabactl-plan"``; a config file is YAML."""
    try:
        with open(path, encoding="utf-8") as handle:
            head = handle.read(4096)
    except (OSError, UnicodeDecodeError):
        return False
    return head.lstrip().startswith("{") and FORMAT in head
