"""Drift findings without HTTP: which kind for which live fact, ignore globs, the baseline file."""

from __future__ import annotations

import pytest

from reconciler.model import AccountSettings, DesiredAccount, LiveAccount, LiveTemplate, Template, User
from reconciler.planning.drift import (
    IgnoreRules,
    Kind,
    Observed,
    account_findings,
    baseline_text,
    drift_report,
    parse_ignore,
)
from reconciler.planning.plan import AccountFailure
from reconciler.planning.planner import plan_account

BODY = {"type": "BODY", "text": "Your order {{1}} ships today.", "example": {"body_text": [["#1"]]}}
CHANGED = {"type": "BODY", "text": "Your parcel {{1}} ships today.", "example": {"body_text": [["#1"]]}}
KEY = "template.order[en_US]"


def template(name="order", language="en_US", body=BODY, category="UTILITY"):
    return Template(name, language, category, (body,))


def live_template(status="APPROVED", name="order", body=BODY, category="UTILITY", **facts):
    return LiveTemplate(template(name, body=body, category=category), f"id-{name}", status, **facts)


def observe(declared=(), live=(), users=None, live_users=None, review_status=None, deleted=(), **settings):
    desired = DesiredAccount("acme", "1", "2", "WABACTL_TOKEN", AccountSettings(**settings), tuple(declared), users)
    account = LiveAccount("1", tuple(live), live_users, deleted=tuple(deleted), review_status=review_status)
    return Observed(desired, account, plan_account(desired, account))


def found(observed):
    return [(f.kind, f.key, f.summary) for f in account_findings(observed)]


# (case, observed account, expected findings as (kind, key, summary))
CASES = [
    ("in sync is clean", observe([template()], [live_template()]), []),
    ("missing is a change", observe([template()], []), [(Kind.CHANGE, KEY, "create")]),
    ("changed content is a change", observe([template(body=CHANGED)], [live_template("REJECTED")]),
     [(Kind.CHANGE, KEY, "replace"), (Kind.STATUS, KEY, "REJECTED")]),
    ("blocked is a change too", observe([template(body=CHANGED)], [live_template()], on_change="forbid"),
     [(Kind.CHANGE, KEY, "blocked")]),
    ("paused", observe([template()], [live_template("PAUSED")]), [(Kind.STATUS, KEY, "PAUSED")]),
    ("disabled", observe([template()], [live_template("DISABLED")]), [(Kind.STATUS, KEY, "DISABLED")]),
    ("in review", observe([template()], [live_template("PENDING")]), [(Kind.STATUS, KEY, "PENDING")]),
    ("pending deletion", observe([template()], [], deleted=[live_template("PENDING_DELETION")]),
     [(Kind.CHANGE, KEY, "create"), (Kind.STATUS, KEY, "PENDING_DELETION")]),
    ("recategorised by Meta", observe([template(category="UTILITY")], [live_template(category="MARKETING", previous_category="UTILITY")]),
     [(Kind.CATEGORY, KEY, "UTILITY -> MARKETING")]),
    ("yellow quality", observe([template()], [live_template(quality="YELLOW")]), [(Kind.QUALITY, KEY, "YELLOW")]),
    ("unknown quality is no finding", observe([template()], [live_template(quality="UNKNOWN")]), []),
    ("undeclared live template", observe([], [live_template(name="by_hand")]), [(Kind.UNMANAGED, "template.by_hand[en_US]", "template")]),
    ("pruned undeclared is a change, not unmanaged", observe([], [live_template(name="by_hand")], prune_templates=True),
     [(Kind.CHANGE, "template.by_hand[en_US]", "delete")]),
    ("protected undeclared stays unmanaged", observe([], [live_template(name="keep")], prune_templates=True, protect=frozenset({"keep"})),
     [(Kind.UNMANAGED, "template.keep[en_US]", "template")]),
    ("undeclared user where users are declared", observe(users=(User("7", frozenset({"MANAGE"})),),
                                                         live_users=(User("7", frozenset({"MANAGE"})), User("8", frozenset({"DEVELOP"})))),
     [(Kind.UNMANAGED, "user.8", "user")]),
    ("users not declared: live users are not drift", observe(live_users=(User("8", frozenset({"DEVELOP"})),)), []),
    ("account in review", observe(review_status="PENDING"), [(Kind.ACCOUNT, "account", "PENDING")]),
    ("approved account", observe(review_status="APPROVED"), []),
]


@pytest.mark.parametrize(("case", "observed", "expected"), CASES, ids=[c[0] for c in CASES])
def test_findings(case, observed, expected):
    assert found(observed) == expected


def test_findings_paths_are_account_kind_key():
    finding = account_findings(observe([template()], [live_template("PAUSED")]))[0]
    assert finding.path == "acme/status/template.order[en_US]"
    assert "PAUSED" in finding.detail


@pytest.mark.parametrize(("glob", "matches"), [
    ("acme/status/template.order[en_US]", True),  # [ is literal: a key reads as written
    ("acme/status/template.order[en_GB]", False),
    ("acme/status/*", True),
    ("*/status/template.order*", True),
    ("acme/quality/*", False),
    ("acm?/*", True),
    ("acme/status/template.order", False),  # whole path, not a prefix
])
def test_ignore_globs(glob, matches):
    finding = account_findings(observe([template()], [live_template("PAUSED")]))[0]
    assert IgnoreRules((glob,)).matches(finding) is matches


def test_ignore_file_lines_skip_comments_and_blanks():
    text = "# team rules\n\n  acme/status/*  \n# another\nfleet/*/unmanaged/*\n"
    assert parse_ignore(text) == ("acme/status/*", "fleet/*/unmanaged/*")


def test_report_drops_ignored_kinds_and_globs_and_counts_them():
    observed = observe([template(), template("promo", category="MARKETING")],
                       [live_template("PAUSED"), live_template(name="by_hand"), live_template(name="promo", category="MARKETING", quality="RED")])
    report = drift_report([(observed.desired, account_findings(observed))], [AccountFailure("broken", "9", "HTTP 500")], "2026-11-01T09:00:00+00:00",
                          ignore_kinds=["unmanaged"], rules=IgnoreRules(("acme/quality/*",)))
    assert [(f.kind, f.key) for f in report.findings] == [(Kind.STATUS, KEY)]
    assert report.ignored == 2
    assert [a.account for a in report.failures] == ["broken"]


def test_baseline_adds_new_findings_under_a_dated_comment_and_keeps_the_rest():
    observed = observe([template()], [live_template("PAUSED"), live_template(name="by_hand")])
    findings = account_findings(observed)
    first = baseline_text("", findings, "2026-11-01")
    assert "# baseline 2026-11-01: 2 finding(s)" in first
    assert IgnoreRules(parse_ignore(first)).matches(findings[0]) and IgnoreRules(parse_ignore(first)).matches(findings[1])
    assert baseline_text(first, findings, "2026-11-02") == first  # nothing new: unchanged
    kept = baseline_text("# mine\nother/*\n", findings, "2026-11-02")
    assert kept.startswith("# mine\nother/*\n") and "acme/status/template.order[en_US] = PAUSED\n" in kept


def test_a_baselined_finding_that_gets_worse_is_new_drift():
    paused = account_findings(observe([template()], [live_template("PAUSED")]))
    rules = IgnoreRules(parse_ignore(baseline_text("", paused, "2026-11-01")))
    assert rules.matches(paused[0])
    disabled = account_findings(observe([template()], [live_template("DISABLED")]))
    assert not rules.matches(disabled[0])


@pytest.mark.parametrize(("rule", "matches"), [
    ("acme/status/* = PAUSED", True), ("acme/status/* = P*", True), ("acme/status/* = DISABLED", False),
    ("acme/status/*", True),  # no summary: any
])
def test_ignore_rule_with_a_summary_glob(rule, matches):
    finding = account_findings(observe([template()], [live_template("PAUSED")]))[0]
    assert IgnoreRules((rule,)).matches(finding) is matches
