"""Apply result -> JSON (``apply --report FILE``), checked against ``schemas/apply-report.schema.json``.

The one place an apply's outcome becomes JSON, for a pipeline to read: each change's outcome
(applied, failed, uncertain, deferred, blocked, not_attempted), the template id, the Graph API's
time, Meta's error code and subcode, when deferred work may run, and per-account totals.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .. import __version__
from ..planning.plan import Plan
from ..schemas import dumps_checked
from .result import ApplyResult, ChangeResult, Outcome

FORMAT = "wabactl-apply-report"
VERSION = 1
SCHEMA = "apply-report.schema.json"


def to_dict(result: ApplyResult, plan: Plan, exit_code: int, finished_at: dt.datetime) -> dict[str, Any]:
    names = [a.account for a in plan.accounts] + [f.account for f in plan.failures]
    waba_ids = {a.account: a.waba_id for a in plan.accounts} | {f.account: f.waba_id for f in plan.failures}
    errors = {f.account: f.error for f in plan.failures}
    return {
        "format": FORMAT,
        "version": VERSION,
        "wabactl_version": __version__,
        "finished_at": _time(finished_at),
        "exit_code": exit_code,
        "plan": {"created_at": plan.created_at, "paths": list(plan.source.paths) if plan.source else []},
        "summary": _totals(result.results),
        "retry_at": _time(result.retry_at),
        "ledger_error": result.ledger_error,
        "accounts": [
            {
                "account": name,
                "waba_id": waba_ids[name],
                "error": errors.get(name),
                "summary": _totals([r for r in result.results if r.account == name]),
                "changes": [_change(r) for r in result.results if r.account == name],
            }
            for name in sorted(names)
        ],
    }


def _totals(results: list[ChangeResult]) -> dict[str, int]:
    return {outcome.value: sum(1 for r in results if r.outcome is outcome) for outcome in Outcome}


def _change(result: ChangeResult) -> dict[str, Any]:
    error = None if result.error_code is None else {"code": result.error_code, "subcode": result.error_subcode}
    return {
        "key": result.key,
        "action": result.action.value,
        "outcome": result.outcome.value,
        "detail": result.detail,
        "template_id": result.template_id,
        "at": _time(result.at),
        "not_before": _time(result.not_before),
        "error": error,
    }


def _time(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def dumps(result: ApplyResult, plan: Plan, exit_code: int, finished_at: dt.datetime) -> str:
    return dumps_checked(to_dict(result, plan, exit_code, finished_at), SCHEMA)
