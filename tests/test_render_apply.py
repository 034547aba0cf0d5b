"""The apply report and progress lines: pure, and worded from the closed set of outcomes."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st
from test_render_markdown import assert_layout, hostile

from reconciler.applying.result import ApplyResult, ChangeResult, Outcome
from reconciler.applying.review import Verdict
from reconciler.planning.plan import AccountFailure, Action, Plan
from reconciler.render import apply as report
from reconciler.render import markdown as md

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
    assert stopped.err.splitlines() == ["Apply stopped at a failure (account acme).", "  applied (1):", "    acme: template.a[en]",
                                        "  uncertain (1):", "    acme: template.b[en]: no answer", "  not attempted (1):", "    acme: template.c[en]"]


def test_partly_done_names_what_waits_and_until_when():
    waiting = report.apply_report(result(
        ("template.a[en]", Action.CREATE, Outcome.APPLIED, None),
        ("template.b[en]", Action.CREATE, Outcome.DEFERRED, "creation budget spent"),
        ("template.c[en]", Action.CREATE, Outcome.DEFERRED, "name locked"),
        retry_at=WHEN,
    ), PLAN)
    assert waiting.out.splitlines() == [
        "  acme: deferred: template.b[en]: creation budget spent", "  acme: deferred: template.c[en]: name locked",
        "Apply partly done: 1 applied, 2 deferred. Run apply again after 2026-11-22 14:05:00 UTC."]


def test_blocked_by_the_plan_is_incomplete_not_complete():
    done = report.apply_report(result(("template.a[en]", Action.EDIT, Outcome.APPLIED, None),
                                      ("template.b[en]", Action.CREATE, Outcome.DEFERRED, "creation budget spent"),
                                      ("template.d[en]", Action.BLOCKED, Outcome.BLOCKED, "protected")), PLAN)
    assert done.out.splitlines() == [
        "  acme: deferred: template.b[en]: creation budget spent", "  acme: blocked: template.d[en]: protected",
        "Apply incomplete: 1 applied, 1 blocked by the plan (they need a change to the config; see the reasons), 1 deferred."]


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
    assert reported.out == ("Apply complete in the accounts that could be planned: 1 change(s) applied; "
                            "1 account(s) could not be planned (see the errors).\n")
    assert reported.err.splitlines() == ["Error: account partner: Graph API error on GET /v26.0/2/message_templates: HTTP 403",
                                         "Error: the ledger /x/ledger.json could not be written (Read-only file system); not recorded: 1 creations"]


# --- markdown ------------------------------------------------------------------------------


def mixed_result() -> ApplyResult:
    return ApplyResult([
        ChangeResult("acme", "template.a[en]", Action.CREATE, Outcome.APPLIED),
        ChangeResult("acme", "template.b[en]", Action.EDIT, Outcome.FAILED, "Invalid parameter <x>", error_code=100, error_subcode=2388024),
        ChangeResult("acme", "template.c[en]", Action.CREATE, Outcome.NOT_ATTEMPTED),
        ChangeResult("beta", "template.d[en]", Action.CREATE, Outcome.DEFERRED, "creation budget spent", not_before=WHEN),
        ChangeResult("beta", "template.e[en]", Action.BLOCKED, Outcome.BLOCKED, "protected"),
    ], retry_at=WHEN, ledger_error="the ledger could not be written")


def test_markdown_report_for_posting_back():
    failed = Plan((), "now", (AccountFailure("partner", "2", "HTTP 403"),))
    markdown = report.markdown(mixed_result(), failed)
    assert_layout(markdown, md.APPLY_MARKER)
    assert markdown.startswith("<!-- wabactl:apply -->\n### wabactl apply\n\n**Apply stopped at a failure in 1 account; other accounts went on.** "
                               "1 applied, 1 failed, 0 uncertain, 1 deferred, 1 blocked, 1 not attempted.\n\n"
                               "**Error:** the ledger could not be written\n\n"
                               "**1 account could not be planned, so nothing was applied there:**\n\n- `partner` (WABA 2): HTTP 403\n")
    assert ("| account | applied | failed | uncertain | deferred | blocked | not attempted |\n| --- | --: | --: | --: | --: | --: | --: |\n"
            "| `acme` | 1 | 1 | 0 | 0 | 0 | 1 |\n| `beta` | 0 | 0 | 0 | 1 | 1 | 0 |\n") in markdown
    assert "| `acme` | `template.b[en]` | failed | Graph error 100/2388024: Invalid parameter &lt;x&gt; |" in markdown
    assert "**Waiting (1):** Meta's limits allow them later: run apply again after 2026-11-22 14:05:00 UTC." in markdown
    assert "| `beta` | `template.d[en]` | deferred | creation budget spent (not before 2026-11-22 14:05 UTC) |" in markdown
    assert "| `beta` | `template.e[en]` | blocked | protected |" in markdown
    assert "<details><summary>acme: 3 changes</summary>\n\n```\napplied       + template.a[en]\n" in markdown


def test_markdown_report_of_a_complete_apply():
    done = report.markdown(result(("template.a[en]", Action.EDIT, Outcome.APPLIED, None)), PLAN)
    assert "**Apply complete: 1 change applied.** 1 applied, 0 failed" in done
    assert "Failed or uncertain" not in done and "Waiting" not in done and "Error" not in done


def test_markdown_report_of_300_accounts_keeps_every_failure():
    results = [ChangeResult(f"acct-{i:03d}", f"template.t{j}[en]", Action.CREATE, Outcome.APPLIED, template_id=str(j)) for i in range(300) for j in range(30)]
    results += [ChangeResult(f"acct-{i:03d}", "template.bad[en]", Action.CREATE, Outcome.FAILED, f"Graph says no ({i})") for i in range(0, 300, 10)]
    markdown = report.markdown(ApplyResult(results), PLAN)
    assert_layout(markdown, md.APPLY_MARKER)
    assert all(f"| `acct-{i:03d}` | `template.bad[en]` | failed | Graph says no ({i}) |" in markdown for i in range(0, 300, 10))
    assert sum(1 for line in markdown.split("\n") if line.startswith("| `acct-") and line.endswith(" | 0 | 0 | 0 | 0 |")) == 300
    assert "accounts are left out" in markdown and "run apply with `--report FILE` (JSON)" in markdown
    assert report.markdown(ApplyResult(results), PLAN, full="the report file apply.json").rstrip().endswith("The full report: the report file apply.json.")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(list(Outcome)), st.sampled_from(list(Action)), hostile), max_size=8), st.lists(hostile, max_size=2),
       st.one_of(st.none(), hostile))
def test_markdown_layout_holds_whatever_the_user_text(outcomes, errors, ledger_error):
    applied = ApplyResult([ChangeResult(f"a{i % 3}", f"template.t{i}[en]", action, outcome, detail) for i, (outcome, action, detail) in enumerate(outcomes)],
                          ledger_error=ledger_error)
    plan = Plan((), "now", tuple(AccountFailure(f"down{i}", error, error) for i, error in enumerate(errors)))
    assert_layout(report.markdown(applied, plan), md.APPLY_MARKER)
