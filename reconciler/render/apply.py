"""An apply as a person reads it: progress lines while it runs, then a report of what happened.

A report has two parts: ``out`` (the outcome, for standard output) and ``err`` (details of what
stopped or waits, for standard error), so a pipeline can keep the two apart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..applying.result import ApplyResult, ChangeResult, Outcome
from ..applying.review import Verdict
from ..planning.plan import Plan

# The order outcomes are listed in when an apply stopped at a failure.
STOPPED_ORDER = (Outcome.APPLIED, Outcome.FAILED, Outcome.UNCERTAIN, Outcome.NOT_ATTEMPTED, Outcome.DEFERRED)


@dataclass(frozen=True)
class Report:
    out: str = ""
    err: str = ""


def progress_line(done: int, total: int, result: ChangeResult) -> str:
    detail = f": {result.detail}" if result.detail else ""
    return f"[{done}/{total}] {result.account}: {result.action.symbol} {result.key} {result.outcome.phrase}{detail}"


def countdown_line(left: float, until: dt.datetime) -> str:
    minutes, seconds = divmod(int(left), 60)
    return f"waiting for the creation window: {minutes}m {seconds:02d}s left (until {until:%H:%M:%S} UTC)"


def review_progress_line(pending: int, left: float) -> str:
    return f"waiting for review: {pending} template(s) in review, {int(left)}s left"


def failures_report(plan: Plan) -> Report:
    """The accounts that could not be planned, one error line each."""
    return Report(err=_lines([f"Error: account {failure.account}: {failure.error}" for failure in plan.failures]))


def apply_report(result: ApplyResult, plan: Plan) -> Report:
    """What happened, then what stands in the way: the accounts that could not be planned, and a
    ledger that could not be written."""
    outcome = _outcome_report(result)
    ledger = [f"Error: {result.ledger_error}"] if result.ledger_error else []
    return Report(outcome.out, outcome.err + failures_report(plan).err + _lines(ledger))


def _outcome_report(result: ApplyResult) -> Report:
    """Stopped at a failure (every change by outcome), partly done (what waits, and until when),
    or complete."""
    applied = result.count(Outcome.APPLIED)
    if result.stopped:
        stopped = sorted({r.account for r in result.results if r.outcome in (Outcome.FAILED, Outcome.UNCERTAIN)})
        err = [f"Apply stopped at a failure (account{'s' if len(stopped) > 1 else ''} {', '.join(stopped)}); other accounts went on."]
        for outcome in STOPPED_ORDER:
            results = result.of(outcome)
            if results:
                err.append(f"  {outcome.phrase} ({len(results)}):")
                shown = outcome is not Outcome.APPLIED
                err += [f"    {r.account}: {r.key}" + (f": {r.detail}" if r.detail and shown else "") for r in results]
        return Report(err=_lines(err))
    if result.waiting:
        out = [f"  {r.account}: {r.outcome.phrase}: {r.key}" + (f": {r.detail}" if r.detail else "") for r in result.results if r.waits_on_time]
        when = f" after {result.retry_at:%Y-%m-%d %H:%M:%S} UTC" if result.retry_at else " later"
        blocked = sum(1 for r in result.of(Outcome.BLOCKED) if r.waits_on_time)
        out.append(f"Apply partly done: {applied} applied, {result.count(Outcome.DEFERRED)} deferred, "
                   f"{blocked} blocked. Run apply again{when}.")
        return Report(out=_lines(out))
    out = [f"Apply complete: {applied} change(s) applied."]
    blocked = result.count(Outcome.BLOCKED)
    if blocked:
        out.append(f"{blocked} blocked change(s) were not applied (see the plan for the reasons).")
    return Report(out=_lines(out))


def review_report(verdicts: list[Verdict]) -> Report:
    out = ["Review:"] + [f"  {verdict.key}: {verdict.describe()}" for verdict in verdicts]
    err = []
    pending = sum(1 for v in verdicts if v.in_review)
    rejected = sum(1 for v in verdicts if v.status == "REJECTED")
    if pending:
        err.append(f"{pending} template(s) still in review when the timeout ran out.")
    if rejected:
        err.append(f"{rejected} template(s) rejected by Meta's review.")
    return Report(out=_lines(out), err=_lines(err))


def _lines(lines: list[str]) -> str:
    return "".join(f"{line}\n" for line in lines)
