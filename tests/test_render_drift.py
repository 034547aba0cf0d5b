"""The drift report as text and markdown: findings per account, the same finding across accounts as
one row, and a comment that fits whatever the fleet and whatever the text."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from test_render_markdown import assert_layout, hostile

from reconciler import render
from reconciler.planning.drift import AccountDrift, DriftReport, Finding, Kind
from reconciler.render import drift
from reconciler.render import markdown as md


def paused(account: str) -> Finding:
    return Finding(account, Kind.STATUS, "template.promo[en_US]", "PAUSED", "PAUSED by Meta for low quality")


def created(account: str) -> Finding:
    return Finding(account, Kind.CHANGE, "template.new[es]", "create", "will be created")


def fleet_report() -> DriftReport:
    """40 accounts with the same paused template, two of them also with a change; one clean, one unreadable."""
    accounts = [AccountDrift(f"shop-{i:02d}", str(100 + i), ((created(f"shop-{i:02d}"),) if i < 2 else ()) + (paused(f"shop-{i:02d}"),),
                             ignored=1 if i == 0 else 0) for i in range(40)]
    accounts += [AccountDrift("clean", "9"), AccountDrift("down", "8", error="Graph API error on GET /v26.0/8: HTTP 500 <html>")]
    return DriftReport(tuple(sorted(accounts, key=lambda a: a.account)), "2026-11-22T00:00:00+00:00", ("quality",), ".wabactl-ignore")


def test_text_lists_findings_per_account_then_totals():
    text = drift.text(fleet_report())
    assert "Account shop-00 (WABA 100)\n  change template.new[es]: will be created\n  status template.promo[en_US]: PAUSED by Meta for low quality\n  1 finding ignored\n" in text
    assert "Account down (WABA 8)\n  error: Graph API error on GET /v26.0/8: HTTP 500 <html>\n" in text
    assert "Account clean" not in text
    assert text.endswith("Drift: 42 findings in 40 of 42 accounts: 2 change, 40 status.\n"
                         "1 finding ignored (by kind: quality; by the rules in .wabactl-ignore).\n"
                         "1 account without drift.\n"
                         "1 account could not be read: down (see the errors above).\n")
    assert "\x1b[" not in text and "\x1b[31m" in drift.text(fleet_report(), color=True)


def test_text_of_a_clean_report():
    assert drift.text(DriftReport((AccountDrift("acme", "1"),), "now")) == "No drift. Live state matches the configuration and is healthy.\n"
    unreadable = DriftReport((AccountDrift("acme", "1"), AccountDrift("down", "2", error="HTTP 403")), "now")
    assert drift.text(unreadable).splitlines()[-2:] == ["No drift in the accounts that could be read.",
                                                         "1 account could not be read: down (see the errors above)."]


def test_markdown_groups_the_same_finding_across_accounts_into_one_row():
    markdown = drift.markdown(fleet_report())
    assert_layout(markdown, md.DRIFT_MARKER)
    assert markdown.startswith("<!-- wabactl:drift -->\n### wabactl drift\n\n**Drift: 42 findings in 40 of 42 accounts: 2 change, 40 status.** "
                               "1 finding ignored (by kind: quality; by the rules in .wabactl-ignore).\n")
    assert "**1 account could not be read:**\n\n- `down` (WABA 8): Graph API error on GET /v26.0/8: HTTP 500 &lt;html&gt;\n" in markdown
    assert ("| key | kind | fact | accounts |\n| --- | --- | --- | --- |\n"
            "| `template.new[es]` | change | create | 2 accounts: `shop-00`, `shop-01` |\n"
            "| `template.promo[en_US]` | status | PAUSED | 40 accounts: `shop-00`, `shop-01`, `shop-02`, `shop-03`, `shop-04` and 35 more |\n") in markdown
    assert "1 account without drift: `clean`." in markdown
    assert ("<details><summary>shop-00: 2 findings</summary>\n\n```\nchange template.new[es]: will be created\n"
            "status template.promo[en_US]: PAUSED by Meta for low quality\n```\n\n1 finding ignored.\n\n</details>") in markdown
    assert "<summary>clean" not in markdown and "<summary>down" not in markdown


def test_markdown_of_a_clean_report():
    markdown = drift.markdown(DriftReport((AccountDrift("acme", "1"),), "now"))
    assert markdown == "<!-- wabactl:drift -->\n### wabactl drift\n\n**No drift. Live state matches the configuration and is healthy.**\n"


def test_markdown_of_5000_accounts_fits_and_keeps_the_errors():
    accounts = tuple(AccountDrift(f"shop-{i:04d}", str(i), tuple(Finding(f"shop-{i:04d}", Kind.QUALITY, f"template.t{j}[en]", "RED", "quality score RED")
                                                                 for j in range(20))) for i in range(5_000))
    report = DriftReport(accounts + (AccountDrift("zz-down", "9", error="HTTP 500"),), "now")
    markdown = drift.markdown(report, full="the drift report drift.json")
    assert_layout(markdown, md.DRIFT_MARKER)
    assert "| `template.t0[en]` | quality | RED | 5,000 accounts: `shop-0000`, `shop-0001`, `shop-0002`, `shop-0003`, `shop-0004` and 4,995 more |" in markdown
    assert "- `zz-down` (WABA 9): HTTP 500" in markdown
    shown = markdown.count("<details>")
    assert f"the details of {5_000 - shown:,} of 5,000 accounts are left out ({(5_000 - shown) * 20:,} findings)" in markdown
    assert markdown.rstrip().endswith("The full report: the drift report drift.json.")


def test_markdown_of_findings_that_all_differ_bounds_the_table():
    accounts = tuple(AccountDrift(f"shop-{i:04d}", str(i), (Finding(f"shop-{i:04d}", Kind.UNMANAGED, f"template.own_{i}[en]", "template",
                                                                    "live (APPROVED, MARKETING) but not in the config"),)) for i in range(5_000))
    markdown = drift.markdown(DriftReport(accounts, "now"))
    assert_layout(markdown, md.DRIFT_MARKER)
    assert "**Drift: 5,000 findings in 5,000 of 5,000 accounts: 5,000 unmanaged.**" in markdown
    assert "… and 4,950 more rows of findings." in markdown


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(list(Kind)), hostile, hostile, hostile), max_size=6), st.lists(hostile, max_size=2),
       st.integers(1, 3))
def test_markdown_layout_holds_whatever_the_user_text(findings, errors, copies):
    accounts = [AccountDrift(f"a{n}", "1", tuple(Finding(f"a{n}", kind, key, summary, detail) for kind, key, summary, detail in findings))
                for n in range(copies)]
    accounts += [AccountDrift(f"down{n}", error, error=error) for n, error in enumerate(errors)]
    assert_layout(drift.markdown(DriftReport(tuple(accounts), "now")), md.DRIFT_MARKER)


def test_render_drift_in_every_format():
    report = fleet_report()
    assert render.render_drift(report, "text") == drift.text(report)
    assert render.render_drift(report, "markdown", full="x") == drift.markdown(report, "x")
    document = json.loads(render.render_drift(report, "json"))
    assert document["format"] == "wabactl-drift" and document["summary"]["status"] == 40
