"""Planner decisions, table-driven and without HTTP: which action for which key."""

from __future__ import annotations

import datetime as dt

import pytest

from reconciler.ledger import AccountLedger
from reconciler.model import AccountSettings, DesiredAccount, LiveAccount, LiveTemplate, Template, User
from reconciler.planning.plan import Action
from reconciler.planning.planner import plan_account

BODY = {"type": "BODY", "text": "Your order {{1}} ships today.", "example": {"body_text": [["#1"]]}}
CHANGED = {"type": "BODY", "text": "Your parcel {{1}} ships today.", "example": {"body_text": [["#1"]]}}


def template(name="order", language="en_US", body=BODY, category="UTILITY"):
    return Template(name, language, category, (body,))


def desired(templates=(), users=None, **settings):
    on_change = settings.pop("template_on_change", ())
    return DesiredAccount("acme", "1", "2", "WABACTL_TOKEN", AccountSettings(**settings), tuple(templates), users,
                          template_on_change=on_change)


def live(templates=(), users=None, count=None, limit=None):
    return LiveAccount("1", tuple(templates), users, count, limit)


def live_template(status="APPROVED", body=BODY, category="UTILITY", name="order", **extra):
    return LiveTemplate(template(name, body=body, category=category), f"id-{name}", status, **extra)


def actions(plan):
    return [(c.key, c.action) for c in plan.changes]


KEY = "template.order[en_US]"

# (case, desired templates, live templates, settings, expected actions, phrase in reason or warning)
CASES = [
    ("missing is created", [template()], [], {}, [(KEY, Action.CREATE)], None),
    ("equal is left alone", [template()], [live_template()], {}, [], None),
    ("undeclared kept without prune", [], [live_template()], {}, [], None),
    ("undeclared deleted with prune", [], [live_template()], {"prune_templates": True}, [(KEY, Action.DELETE)], None),
    ("protected never deleted", [], [live_template()], {"prune_templates": True, "protect": frozenset({"order"})}, [], None),
    ("disabled cannot be deleted", [], [live_template("DISABLED")], {"prune_templates": True}, [(KEY, Action.BLOCKED)], "cannot be deleted"),
    ("approved edited in place", [template(body=CHANGED)], [live_template()], {"on_change": "edit"}, [(KEY, Action.EDIT)], None),
    ("rejected edited in place", [template(body=CHANGED)], [live_template("REJECTED")], {"on_change": "edit"}, [(KEY, Action.EDIT)], None),
    ("paused edited in place", [template(body=CHANGED)], [live_template("PAUSED")], {"on_change": "edit"}, [(KEY, Action.EDIT)], None),
    ("pending waits for review", [template(body=CHANGED)], [live_template("PENDING")], {"on_change": "edit"}, [], "in review"),
    ("appeal waits for review", [template(body=CHANGED)], [live_template("IN_APPEAL")], {"on_change": "replace"}, [], "in review"),
    ("disabled cannot change", [template(body=CHANGED)], [live_template("DISABLED")], {"on_change": "edit"}, [(KEY, Action.BLOCKED)], "DISABLED"),
    ("approved replace would lock the name", [template(body=CHANGED)], [live_template()], {"on_change": "replace"}, [(KEY, Action.BLOCKED)], "30 days"),
    ("rejected is replaced", [template(body=CHANGED)], [live_template("REJECTED")], {"on_change": "replace"}, [(KEY, Action.REPLACE)], None),
    ("forbid blocks", [template(body=CHANGED)], [live_template("REJECTED")], {"on_change": "forbid"}, [(KEY, Action.BLOCKED)], "forbid"),
    ("per-template on_change wins", [template(body=CHANGED)], [live_template()], {"on_change": "replace", "template_on_change": (("order", "edit"),)}, [(KEY, Action.EDIT)], None),
    ("protected cannot change", [template(body=CHANGED)], [live_template("REJECTED")], {"protect": frozenset({"order"})}, [(KEY, Action.BLOCKED)], "protected"),
    ("approved category cannot change", [template(category="MARKETING")], [live_template()], {"on_change": "edit"}, [(KEY, Action.BLOCKED)], "order_v2"),
    ("rejected category can change", [template(category="MARKETING")], [live_template("REJECTED")], {"on_change": "edit"}, [(KEY, Action.EDIT)], None),
    ("recategorised by Meta is a warning", [template()], [live_template(category="MARKETING", previous_category="UTILITY")], {}, [], "Meta approved it as MARKETING"),
    ("correct_category shows Meta's choice", [template()], [live_template(category="MARKETING", correct_category="MARKETING")], {}, [], "Meta approved it as MARKETING"),
    ("rejected unchanged warns with reason", [template()], [live_template("REJECTED", rejected_reason="PROMOTIONAL")], {}, [], "PROMOTIONAL"),
    ("paused unchanged warns", [template()], [live_template("PAUSED")], {}, [], "PAUSED"),
]


@pytest.mark.parametrize("case,wanted,current,settings,expected,phrase", CASES, ids=[c[0] for c in CASES])
def test_template_decisions(case, wanted, current, settings, expected, phrase):
    plan = plan_account(desired(wanted, **settings), live(current))
    assert actions(plan) == expected
    if phrase:
        said = [c.reason or "" for c in plan.changes] + list(plan.warnings)
        assert any(phrase in text for text in said), said
    else:
        assert all(c.reason is None for c in plan.changes)


def test_recategorised_template_with_other_changes_keeps_meta_category():
    plan = plan_account(desired([template(body=CHANGED)], on_change="edit"),
                        live([live_template(category="MARKETING", previous_category="UTILITY")]))
    (change,) = plan.changes
    assert change.action is Action.EDIT and change.after.category == "MARKETING"


def test_users_added_updated_removed_only_with_prune():
    wanted = (User("1", frozenset({"MANAGE"})), User("2", frozenset({"VIEW_TEMPLATES", "MANAGE_TEMPLATES"})))
    current = (User("2", frozenset({"VIEW_TEMPLATES"})), User("3", frozenset({"MESSAGING"})))
    kept = plan_account(desired(users=wanted), live(users=current))
    assert actions(kept) == [("user.1", Action.CREATE), ("user.2", Action.UPDATE)]
    assert kept.changes[1].after.tasks == {"MANAGE_TEMPLATES", "VIEW_TEMPLATES"}
    pruned = plan_account(desired(users=wanted, prune_users=True), live(users=current))
    assert actions(pruned)[-1] == ("user.3", Action.DELETE)


def test_users_not_managed_when_undeclared():
    plan = plan_account(desired(users=None, prune_users=True), live(users=None))
    assert plan.changes == () and plan.manages_users is False


def test_order_deletes_before_creates_and_users_last():
    plan = plan_account(
        desired([template("b_new")], users=(User("1", frozenset({"MANAGE"})),), prune_templates=True),
        live([live_template(name="a_old")], users=()),
    )
    assert [c.action for c in plan.changes] == [Action.DELETE, Action.CREATE, Action.CREATE]
    assert plan.creates == 1  # a user is not a template create: it spends no creation budget
    assert plan.changes[-1].kind == "user"


def test_usage_counts_names_from_summary_or_listing():
    plan = plan_account(desired([template("a"), template("a", "es"), template("c")], prune_templates=True),
                        live([live_template(name="a"), live_template(name="b")]))
    assert plan.usage.templates_now == 2 and plan.usage.templates_after == 2
    assert plan.usage.template_limit == 250 and plan.usage.counted_by == "name"
    plan = plan_account(desired([template("a"), template("b")]), live([live_template(name="a")], count=212, limit=6000))
    assert (plan.usage.templates_now, plan.usage.templates_after, plan.usage.template_limit) == (212, 213, 6000)


def test_usage_follows_the_rule_the_summary_shows():
    current = [live_template(name="a"), LiveTemplate(template("a", "es"), "id-a-es", "APPROVED")]
    wanted = [template("a"), template("a", "es"), template("a", "pt_BR")]
    by_language = plan_account(desired(wanted), live(current, count=2))
    assert by_language.usage.counted_by == "translation" and by_language.usage.templates_after == 3
    by_name = plan_account(desired(wanted), live(current, count=1))
    assert by_name.usage.counted_by == "name" and by_name.usage.templates_after == 1
    configured = plan_account(desired(wanted, count_by="translation"), live(current))
    assert configured.usage.templates_after == 3


def test_creates_fall_into_waves_by_the_rolling_hour():
    now = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
    book = AccountLedger(creations=[now - dt.timedelta(minutes=30)] * 2)
    current = LiveAccount("1", (), None, observed_at=now)
    plan = plan_account(desired([template(f"t{i}") for i in range(5)], creates_per_hour=3), current, book)
    assert plan.creates == 5 and all(c.creates for c in plan.changes)
    waves = [(c.wave, c.not_before) for c in plan.changes]
    later = now + dt.timedelta(minutes=30)
    latest = now + dt.timedelta(minutes=60)
    assert waves == [(1, None), (2, later), (2, later), (3, latest), (4, now + dt.timedelta(minutes=90))]


def test_ledger_lock_and_edit_quota_defer_until_their_time():
    now = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
    book = AccountLedger(locks={"order[en_US]": now + dt.timedelta(days=3)}, edits={"id-other": [now - dt.timedelta(hours=2)]})
    plan = plan_account(desired([template(), template("other", body=CHANGED)], on_change="edit"),
                        LiveAccount("1", (live_template(name="other"),), None, observed_at=now), book)
    by_key = {c.key: c for c in plan.changes}
    assert by_key[KEY].action is Action.DEFERRED and "name locked until 2026-11-25" in by_key[KEY].reason
    assert by_key[KEY].not_before == now + dt.timedelta(days=3)
    deferred = by_key["template.other[en_US]"]
    assert deferred.action is Action.DEFERRED and deferred.not_before == now + dt.timedelta(hours=22)
