"""The apply report and progress lines: pure, and worded from the closed set of outcomes."""

from __future__ import annotations

import datetime as dt

from reconciler.applying.result import ApplyResult, ChangeResult, Outcome
from reconciler.applying.review import Verdict
from reconciler.planning.plan import AccountFailure, Action, Plan
from reconciler.render import apply as report

WHEN = dt.datetime(2026, 11, 22, 14, 5, tzinfo=dt.UTC)
PLAN = Plan((), "2026-11-22T14:00:00+00:00")


def result(*outcomes: tuple[str, Action, Outcome, str | None], retry_at: dt.datetime | None = None) -> ApplyResult:
    return ApplyResult([ChangeResult("acme", key, action, outcome, detail) for key, action, outcome, detail in outcomes], retry_at)


def test_every_outcome_has_a_phrase():
    assert [o.phrase for o in Outcome] == ["applied", "failed", "uncertain", "deferred", "blocked", "not attempted"]


def test_progress_line():
    line = report.progress_line(2, 5, ChangeResult("acme", "template.a[en]", Action.CREATE, Outcome.NOT_ATTEMPTED))
    assert line == "[2/5] acme: + template.a[en] not attempted"


def test_stopped_lists_each_outcome_on_stderr():
    stopped = report.apply_report(result(
        ("template.a[en]", Action.CREATE, Outcome.APPLIED, None),
        ("template.b[en]", Action.CREATE, Outcome.UNCERTAIN, "no answer"),
        ("template.c[en]", Action.CREATE, Outcome.NOT_ATTEMPTED, None),
        ("template.d[en]", Action.BLOCKED, Outcome.BLOCKED, "protected"),
    ), PLAN)
    assert stopped.out == ""
    assert stopped.err.splitlines() == ["Apply stopped at a failure (account acme); other accounts went on.", "  applied (1):", "    acme: template.a[en]",
                                        "  uncertain (1):", "    acme: template.b[en]: no answer", "  not attempted (1):", "    acme: template.c[en]"]


def test_partly_done_names_what_waits_and_until_when():
    waiting = report.apply_report(result(
        ("template.a[en]", Action.CREATE, Outcome.APPLIED, None),
        ("template.b[en]", Action.CREATE, Outcome.DEFERRED, "creation budget spent"),
        ("template.c[en]", Action.CREATE, Outcome.BLOCKED, "name locked"),
        ("template.d[en]", Action.BLOCKED, Outcome.BLOCKED, "protected"),
        retry_at=WHEN,
    ), PLAN)
    assert waiting.out.splitlines() == [
        "  acme: deferred: template.b[en]: creation budget spent", "  acme: blocked: template.c[en]: name locked",
        "Apply partly done: 1 applied, 1 deferred, 1 blocked. Run apply again after 2026-11-22 14:05:00 UTC."]


def test_complete_counts_what_the_plan_blocked():
    done = report.apply_report(result(("template.a[en]", Action.EDIT, Outcome.APPLIED, None),
                                      ("template.d[en]", Action.BLOCKED, Outcome.BLOCKED, "protected")), PLAN)
    assert done.out.splitlines() == ["Apply complete: 1 change(s) applied.",
                                     "1 blocked change(s) were not applied (see the plan for the reasons)."]


def test_review_report():
    verdicts = [Verdict("acme", "template.a[en]", "1", "APPROVED", "MARKETING", "UTILITY"),
                Verdict("acme", "template.b[en]", "2", "REJECTED", rejected_reason="SCAM"),
                Verdict("acme", "template.c[en]", "3", "PENDING")]
    reviewed = report.review_report(verdicts)
    assert reviewed.out.splitlines() == ["Review:", "  template.a[en]: APPROVED as MARKETING (declared UTILITY)",
                                         "  template.b[en]: REJECTED (SCAM)", "  template.c[en]: PENDING"]
    assert reviewed.err.splitlines() == ["1 template(s) still in review when the timeout ran out.",
                                         "1 template(s) rejected by Meta's review."]


def test_accounts_left_out_and_an_unwritten_ledger_are_errors_after_the_report():
    failed = Plan((), "now", (AccountFailure("partner", "2", "Graph API error on GET /v26.0/2/message_templates: HTTP 403"),))
    done = result(("template.a[en]", Action.CREATE, Outcome.APPLIED, None))
    done.ledger_error = "the ledger /x/ledger.json could not be written (Read-only file system); not recorded: 1 creations"
    reported = report.apply_report(done, failed)
    assert reported.out == "Apply complete: 1 change(s) applied.\n"
    assert reported.err.splitlines() == ["Error: account partner: Graph API error on GET /v26.0/2/message_templates: HTTP 403",
                                         "Error: the ledger /x/ledger.json could not be written (Read-only file system); not recorded: 1 creations"]
