"""An apply as a person reads it: progress lines while it runs, then a report of what happened;
or the same report as markdown, for posting back to a pull request.

A text report has two parts: ``out`` (the outcome, for standard output) and ``err`` (details of
what stopped or waits, for standard error), so a pipeline can keep the two apart.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from ..applying.result import ApplyResult, ChangeResult, Outcome
from ..applying.review import Verdict
from ..planning.plan import Plan
from . import markdown as md

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
    if plan.failures and outcome.out.startswith("Apply complete"):
        outcome = Report(f"Apply complete in the accounts that could be planned: {result.count(Outcome.APPLIED)} change(s) applied; "
                         f"{len(plan.failures)} account(s) could not be planned (see the errors).\n", outcome.err)
    ledger = [f"Error: {result.ledger_error}"] if result.ledger_error else []
    return Report(outcome.out, outcome.err + failures_report(plan).err + _lines(ledger))


def _outcome_report(result: ApplyResult) -> Report:
    """Stopped at a failure (every change by outcome), partly done (what waits, and until when),
    or complete."""
    applied = result.count(Outcome.APPLIED)
    if result.stopped:
        stopped = sorted({r.account for r in result.results if r.outcome in (Outcome.FAILED, Outcome.UNCERTAIN)})
        others = "; other accounts went on" if len({r.account for r in result.results}) > len(stopped) else ""
        err = [f"Apply stopped at a failure (account{'s' if len(stopped) > 1 else ''} {', '.join(stopped)}){others}."]
        for outcome in STOPPED_ORDER:
            results = result.of(outcome)
            if results:
                err.append(f"  {outcome.phrase} ({len(results)}):")
                shown = outcome is not Outcome.APPLIED
                err += [f"    {r.account}: {r.key}" + (f": {r.detail}" if r.detail and shown else "") for r in results]
        return Report(err=_lines(err))
    out = [f"  {r.account}: {r.outcome.phrase}: {r.key}" + (f": {r.detail}" if r.detail else "")
           for r in result.results if r.outcome in (Outcome.DEFERRED, Outcome.BLOCKED) or (r.outcome is Outcome.APPLIED and r.detail)]
    if result.blocked:
        out.append(f"Apply incomplete: {applied} applied, {result.count(Outcome.BLOCKED)} blocked by the plan (they need a change "
                   f"to the config; see the reasons), {result.count(Outcome.DEFERRED)} deferred.")
    elif result.waiting:
        when = f" after {result.retry_at:%Y-%m-%d %H:%M:%S} UTC" if result.retry_at else " later"
        out.append(f"Apply partly done: {applied} applied, {result.count(Outcome.DEFERRED)} deferred. Run apply again{when}.")
    else:
        out.append(f"Apply complete: {applied} change(s) applied.")
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


# --- markdown ------------------------------------------------------------------------------

# The totals table's columns: what happened, then what did not.
TABLE_OUTCOMES = (Outcome.APPLIED, Outcome.FAILED, Outcome.UNCERTAIN, Outcome.DEFERRED, Outcome.BLOCKED, Outcome.NOT_ATTEMPTED)
FULL_REPORT = "For the full report, run apply with `--report FILE` (JSON)."


def markdown(result: ApplyResult, plan: Plan, full: str | None = None) -> str:
    """A comment of at most ``md.LIMIT`` characters: marker, the outcome in one line, the errors
    (an unwritten ledger, accounts that could not be planned), a totals table per account, every
    failed or uncertain change with Meta's error, what waits and until when, what the plan
    blocked; then each account's outcomes in a collapsible section, cut to fit by ``md.fit`` with a
    line pointing at ``full`` (where the full report is, such as "the report file apply.json")."""
    where = f"The full report: {md.cell(md.clip(full, 300))}." if full else FULL_REPORT
    return md.fit(lambda level: _required(result, plan, level), _sections(result), "change", where)


def _required(result: ApplyResult, plan: Plan, level: md.Compaction) -> list[str]:
    blocks = [f"{md.APPLY_MARKER}\n### wabactl apply", _headline(result)]
    if result.ledger_error:
        blocks.append(f"**Error:** {md.cell(md.clip(result.ledger_error, level.width))}")
    blocks += _plan_failures(plan, level)
    blocks += _totals_table(result, plan, level)
    blocks += _listed("Failed or uncertain", "Meta refused these, or its answer never came; apply stopped in their accounts.",
                      [r for r in result.results if r.outcome in (Outcome.FAILED, Outcome.UNCERTAIN)], level)
    blocks += _listed("Waiting", _waiting_note(result), [r for r in result.results if r.waits_on_time], level)
    blocks += _listed("Blocked by the plan", "they wait on a change to the config, not on time.", result.of(Outcome.BLOCKED), level)
    return blocks


def _headline(result: ApplyResult) -> str:
    totals = ", ".join(f"{result.count(outcome):,} {outcome.phrase}" for outcome in TABLE_OUTCOMES)
    if result.stopped:
        stopped = {r.account for r in result.results if r.outcome in (Outcome.FAILED, Outcome.UNCERTAIN)}
        others = "; other accounts went on" if len({r.account for r in result.results}) > len(stopped) else ""
        head = f"Apply stopped at a failure in {md.count(len(stopped), 'account')}{others}."
    elif result.blocked:
        head = (f"Apply incomplete: {md.count(result.count(Outcome.BLOCKED), 'change')} blocked by the plan; "
                "they need a change to the config.")
    elif result.waiting:
        head = f"Apply partly done: {_run_again(result)}"
    else:
        head = f"Apply complete: {md.count(result.count(Outcome.APPLIED), 'change')} applied."
    return f"**{head}** {totals}."


def _run_again(result: ApplyResult) -> str:
    return f"run apply again after {result.retry_at:%Y-%m-%d %H:%M:%S} UTC." if result.retry_at else "run apply again later."


def _waiting_note(result: ApplyResult) -> str:
    return "Meta's limits allow them later: " + _run_again(result)


def _plan_failures(plan: Plan, level: md.Compaction) -> list[str]:
    """The accounts that could not be planned, so nothing was applied there."""
    failures = [(f.account, f.waba_id, f.error) for f in sorted(plan.failures, key=lambda failure: failure.account)]
    title = f"{md.count(len(failures), 'account')} could not be planned, so nothing was applied there:"
    return md.error_list(title, failures, level) if failures else []


def _totals_table(result: ApplyResult, plan: Plan, level: md.Compaction) -> list[str]:
    """One row per account with outcomes (accounts with the same totals grouped when compact)."""
    by_account = _by_account(result)
    if not by_account:
        return []
    rows = [(name, tuple(f"{sum(1 for r in results if r.outcome is outcome):,}" for outcome in TABLE_OUTCOMES))
            for name, results in by_account.items()]
    if level.grouped:
        lines = [[md.accounts_phrase(names, level.names), *cells] for cells, names in md.grouped((cells, name) for name, cells in rows)]
    else:
        lines = [[md.code(name, in_table=True), *cells] for name, cells in rows]
    return md.bounded_table(["account", *(outcome.phrase for outcome in TABLE_OUTCOMES)], lines, level, "accounts", numeric_from=1)


def _listed(title: str, note: str, results: list[ChangeResult], level: md.Compaction) -> list[str]:
    """Changes with their outcome and detail (the same key, outcome and detail in several accounts
    grouped when compact)."""
    if not results:
        return []
    if level.grouped:
        groups = md.grouped(((r.key, r.outcome.phrase, md.clip(_detail(r), level.width)), r.account) for r in results)
        rows = [[md.code(key, in_table=True), md.cell(outcome), md.cell(detail), md.accounts_phrase(names, level.names)]
                for (key, outcome, detail), names in groups]
        header = ["key", "outcome", "detail", "accounts"]
    else:
        rows = [[md.code(r.account, in_table=True), md.code(r.key, in_table=True), md.cell(r.outcome.phrase),
                 md.cell(md.clip(_detail(r), level.width))] for r in results]
        header = ["account", "key", "outcome", "detail"]
    return [f"**{title} ({len(results):,}):** {md.cell(note)}", *md.bounded_table(header, rows, level, title.lower())]


def _detail(result: ChangeResult) -> str:
    """What Meta said (with its error code and subcode), and when a later run may do it."""
    said = result.detail or ""
    if result.error_code is not None and str(result.error_code) not in said:  # Meta's words may name it already
        code = f"{result.error_code}" + (f"/{result.error_subcode}" if result.error_subcode is not None else "")
        said = f"Graph error {code}" + (f": {said}" if said else "")
    if result.not_before is not None:
        said += f" (not before {result.not_before.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC)"
    return said


def _by_account(result: ApplyResult) -> dict[str, list[ChangeResult]]:
    accounts: dict[str, list[ChangeResult]] = {}
    for outcome in sorted(result.results, key=lambda r: r.account):
        accounts.setdefault(outcome.account, []).append(outcome)
    return accounts


def _sections(result: ApplyResult) -> list[md.Section]:
    """One collapsible section per account: each change's outcome, in the order apply met them."""
    return [md.Section(name, len(results), functools.partial(_section, name, results)) for name, results in _by_account(result).items()]


def _section(name: str, results: list[ChangeResult]) -> str:
    lines = [md.one_line(f"{r.outcome.phrase:<13} {r.action.symbol} {r.key}" + (f": {_detail(r)}" if _detail(r) else "")) for r in results]
    return md.details(f"{name}: {md.count(len(results), 'change')}", md.fenced(lines))
