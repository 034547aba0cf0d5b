"""Plan <-> JSON: the one place where a plan becomes JSON and JSON becomes a plan again.

The JSON is the plan file (``plan --out``) and ``plan --format json``; it is checked against
``schemas/plan.schema.json`` both when written and when read back. A change's ``before`` and
``after`` are the model objects of the plan, written as Meta's template fields (plus the live id
and status on the ``before`` side) or as a user's id and tasks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import tempfile
from typing import Any

from .. import __version__
from ..errors import PlanFileError
from ..model import LiveTemplate, Template, User, canonical_inputs
from ..schemas import dumps_checked, problems
from .plan import AccountFailure, AccountPlan, Action, After, Before, Change, FleetFound, Limits, Plan, Source, Usage

FORMAT = "wabactl-plan"
SCHEMA = "plan.schema.json"
VERSION = 1
LIVE_FACTS = ("rejected_reason", "previous_category", "correct_category", "quality")


def to_dict(plan: Plan) -> dict[str, Any]:
    counts = plan.counts()
    return {
        "format": FORMAT,
        "version": VERSION,
        "wabactl_version": __version__,
        "created_at": plan.created_at,
        "summary": {action.value: counts[action] for action in Action},
        "accounts": [_account(a) for a in plan.accounts],
        "failures": [{"account": f.account, "waba_id": f.waba_id, "error": f.error} for f in plan.failures],
        "source": None if plan.source is None else {
            "paths": list(plan.source.paths),
            "files": [{"path": path, "sha256": digest} for path, digest in plan.source.files],
            "accounts": list(plan.source.accounts),
            "shard": plan.source.shard,
        },
        "fleets": [{"fleet": f.fleet, "business_id": f.business_id, "accounts": list(f.accounts), "error": f.error} for f in plan.fleets],
    }


def _account(account: AccountPlan) -> dict[str, Any]:
    # One "usage" object for readers: the cap's numbers and the limits the plan was checked with.
    usage = {} if account.usage is None else dataclasses.asdict(account.usage) | dataclasses.asdict(account.limits)
    return {
        "account": account.account,
        "waba_id": account.waba_id,
        "business_id": account.business_id,
        "token_env": account.token_env,
        "fingerprint": account.fingerprint,
        "manages_users": account.manages_users,
        "token_user": account.token_user,
        "usage": usage,
        "warnings": list(account.warnings),
        "statuses": dict(account.statuses),
        "live_templates": account.live_templates,
        "unmanaged": list(account.unmanaged),
        **({"app_id": account.app_id} if account.app_id else {}),
        "changes": [
            {
                "key": c.key,
                "action": c.action.value,
                "before": _side(c.before),
                "after": _side(c.after),
                "reason": c.reason,
                "not_before": c.not_before.isoformat() if c.not_before else None,
                "wave": c.wave,
            }
            for c in account.changes
        ],
    }


def _side(side: Before | After | None) -> dict[str, Any] | None:
    if side is None:
        return None
    if isinstance(side, User):
        return {"user_id": side.user_id, "tasks": sorted(side.tasks)} | ({"name": side.name} if side.name else {})
    if isinstance(side, LiveTemplate):
        facts = {"rejected_reason": side.rejected_reason, "previous_category": side.previous_category,
                 "correct_category": side.correct_category, "quality": side.quality}
        return side.template.payload() | {"id": side.id, "status": side.status} | {k: v for k, v in facts.items() if v is not None}
    return side.payload() | ({"set": side.origin} if side.origin else {})


def from_dict(data: Any) -> Plan:
    problems = schema_problems(data)
    if problems:
        raise PlanFileError("not a valid wabactl plan: " + "; ".join(problems[:5]))
    try:
        return _plan(data)
    except (KeyError, TypeError, ValueError) as error:  # what the schema cannot say, e.g. a user's side on a template key
        raise PlanFileError(f"not a valid wabactl plan: {type(error).__name__}: {str(error)[:200]}") from None


def _plan(data: dict[str, Any]) -> Plan:
    accounts = tuple(
        AccountPlan(
            account=a["account"],
            waba_id=a["waba_id"],
            business_id=a["business_id"],
            token_env=a["token_env"],
            fingerprint=a["fingerprint"],
            manages_users=a["manages_users"],
            token_user=a["token_user"],
            usage=_fields(Usage, a["usage"]) if a["usage"] else None,
            limits=_fields(Limits, a["usage"]) if a["usage"] else Limits.default(),
            warnings=tuple(a["warnings"]),
            statuses=a["statuses"],
            live_templates=a.get("live_templates", len(a["statuses"])),
            unmanaged=tuple(a.get("unmanaged", ())),
            app_id=a.get("app_id"),
            changes=tuple(_change(a["account"], c) for c in a["changes"]),
        )
        for a in data["accounts"]
    )
    failures = tuple(AccountFailure(f["account"], f["waba_id"], f["error"]) for f in data["failures"])
    raw = data["source"]
    source = None if raw is None else Source(tuple(raw["paths"]), tuple((f["path"], f["sha256"]) for f in raw["files"]), tuple(raw["accounts"]),
                                             raw.get("shard"))
    fleets = tuple(FleetFound(f["fleet"], f["business_id"], tuple(f["accounts"]), f["error"]) for f in data.get("fleets", ()))
    return Plan(accounts=accounts, created_at=data["created_at"], failures=failures, source=source, fleets=fleets)


def _change(account: str, raw: dict[str, Any]) -> Change:
    user = raw["key"].startswith("user.")
    before, after = raw["before"], raw["after"]
    return Change(
        account=account,
        key=raw["key"],
        action=Action(raw["action"]),
        before=None if before is None else _user(before) if user else _live_template(before),
        after=None if after is None else _user(after) if user else _template(after),
        reason=raw["reason"],
        not_before=_time(raw["not_before"]) if raw["not_before"] else None,
        wave=raw["wave"],
    )


def _time(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise PlanFileError(f"not_before is not a time: {value!r}") from None
    if moment.tzinfo is None:
        raise PlanFileError(f"not_before has no time zone: {value!r}")
    return moment


def _fields(kind: Any, raw: dict[str, Any]) -> Any:
    return kind(**{f.name: raw[f.name] for f in dataclasses.fields(kind)})


def _template(raw: dict[str, Any]) -> Template:
    inputs: dict[str, Any] = {key: raw[key] for key in ("library_template_body_inputs", "library_template_button_inputs") if key in raw}
    return Template(raw["name"], raw["language"], raw["category"], tuple(raw["components"]), raw["parameter_format"], raw.get("set"),
                    raw.get("message_send_ttl_seconds"), raw.get("library_template_name"),
                    canonical_inputs(inputs))


def _live_template(raw: dict[str, Any]) -> LiveTemplate:
    facts = {name: raw[name] for name in LIVE_FACTS if name in raw}
    return LiveTemplate(_template(raw), raw["id"], raw["status"], **facts)


def _user(raw: dict[str, Any]) -> User:
    return User(raw["user_id"], frozenset(raw["tasks"]), raw.get("name"))


def schema_problems(data: Any) -> list[str]:
    """Messages for a plan that does not match ``plan.schema.json``."""
    return problems(data, SCHEMA)


def dumps(plan: Plan) -> str:
    return dumps_checked(to_dict(plan), SCHEMA)


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
    except (ValueError, RecursionError) as error:  # not JSON, not UTF-8, or nested beyond reason
        raise PlanFileError(f"{path}: not a JSON plan file: {str(error)[:200]}") from None
    try:
        return from_dict(data)
    except PlanFileError as error:
        raise PlanFileError(f"{path}: {error}") from error


def looks_like_plan(path: str) -> bool:
    """A plan file is JSON with ``"format": "wabactl-plan"``; a config file is YAML."""
    return written_by_wabactl(path) == FORMAT


KINDS = {"wabactl-plan": "a plan file", "wabactl-drift": "a drift report", "wabactl-apply-report": "an apply report"}


def written_by_wabactl(path: str) -> str | None:
    """The ``format`` of a JSON document wabactl wrote (plan file, drift report, apply report),
    read from the file's start; None for anything else."""
    try:
        with open(path, encoding="utf-8") as handle:
            head = handle.read(4096)
    except (OSError, UnicodeDecodeError):
        return None
    found = re.search(r'"format"\s*:\s*"(wabactl-[a-z-]+)"', head) if head.lstrip().startswith("{") else None
    return found.group(1) if found else None
