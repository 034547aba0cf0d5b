"""Rendering is pure: the same plan always gives the same text, markdown and JSON."""

from __future__ import annotations

import dataclasses
import json

from hypothesis import given, settings
from hypothesis import strategies as st
from test_render_markdown import assert_layout, hostile

from reconciler import render
from reconciler.model import AccountSettings, DesiredAccount, DesiredState, LiveTemplate, Template, User
from reconciler.planning.plan import AccountFailure, AccountPlan, Action, Change, Plan, Usage
from reconciler.render import markdown as md
from reconciler.render import plan as plan_text

AFTER = Template("welcome", "en_US", "MARKETING", ({"type": "BODY", "text": "Take 15% off"},))
BEFORE = LiveTemplate(dataclasses.replace(AFTER, components=({"type": "BODY", "text": "Take 10% off"},)), "1", "APPROVED")


def sample_plan(changes=None, warnings=()):
    changes = changes if changes is not None else (
        Change("acme", "template.welcome[en_US]", Action.EDIT, BEFORE, AFTER),
        Change("acme", "template.order[es]", Action.CREATE, None, dataclasses.replace(AFTER, name="order", language="es", category="UTILITY")),
        Change("acme", "user.42", Action.UPDATE, User("42", frozenset({"VIEW_TEMPLATES"}), "Ann"),
               User("42", frozenset({"MANAGE_TEMPLATES", "VIEW_TEMPLATES"}))),
        Change("acme", "template.old[en_US]", Action.BLOCKED, BEFORE, AFTER, reason="replacing an APPROVED template would lock it"),
    )
    account = AccountPlan("acme", "1", "2", "WABACTL_TOKEN", "sha256:" + "0" * 64, tuple(changes),
                          warnings=tuple(warnings), usage=Usage(3, 4, 250, "name"),
                          statuses={"template.welcome[en_US]": "APPROVED"})
    return Plan((account,), "2026-11-22T00:00:00+00:00")


def test_text_has_symbols_details_status_and_summary():
    text = plan_text.text(sample_plan())
    assert "~ template.welcome[en_US]  will be edited in place  [live: APPROVED]" in text
    assert 'components[0].text: "Take 10% off" -> "Take 15% off"' in text
    assert "+ template.order[es]  will be created" in text and "category: UTILITY" in text
    assert "tasks: + MANAGE_TEMPLATES" in text
    assert "! template.old[en_US]  cannot change: replacing an APPROVED template would lock it" in text
    assert "templates: 3/250 now, 4/250 after apply" in text
    assert "Plan: 1 to create, 1 to edit, 0 to replace, 1 to update, 0 to delete." in text
    assert "1 blocked, 0 deferred" in text
    assert "\x1b[" not in text


def test_colour_only_when_asked():
    assert "\x1b[32m" in plan_text.text(sample_plan(), color=True)


def test_no_changes():
    text = plan_text.text(sample_plan(changes=()))
    assert "No changes. Live state matches the configuration." in text and "Plan:" not in text


def test_warnings_are_shown():
    text = plan_text.text(sample_plan(warnings=("template.x[en]: REJECTED (PROMOTIONAL)",)))
    assert "warning: template.x[en]: REJECTED (PROMOTIONAL)" in text


def test_unmanaged_objects_are_counted_never_listed():
    account = dataclasses.replace(sample_plan().accounts[0], unmanaged=("template.by_hand[en_US]", "user.7"))
    plan = dataclasses.replace(sample_plan(), accounts=(account,))
    line = "unmanaged: 2 live objects not in the config, left alone (wabactl drift lists them)"
    assert f"  {line}\n" in plan_text.text(plan) and line in plan_text.markdown(plan)
    assert "by_hand" not in plan_text.text(plan) + plan_text.markdown(plan)


def test_markdown_for_pull_requests():
    markdown = plan_text.markdown(sample_plan())
    assert markdown.startswith("<!-- wabactl:plan -->\n### wabactl plan\n")
    assert "**Plan: 1 to create, 1 to edit, 0 to replace, 1 to update, 0 to delete.** 1 blocked, 0 deferred." in markdown
    assert "| account | WABA | create | edit | replace | update | delete | blocked | deferred |" in markdown
    assert "| `acme` | 1 | 1 | 1 | 0 | 1 | 0 | 1 | 0 |" in markdown
    assert "| `acme` | `template.old[en_US]` | replacing an APPROVED template would lock it |" in markdown
    assert "<details><summary>acme: 4 changes</summary>\n\n```diff\n" in markdown
    assert "~ template.welcome[en_US]  will be edited in place  [live: APPROVED]\n" in markdown
    assert '    components[0].text: "Take 10% off" -> "Take 15% off"\n' in markdown
    assert "templates: 3/250 now, 4/250 after apply" in markdown
    assert "Details cut" not in markdown


def test_markdown_lists_only_what_changes():
    unchanged = AccountPlan("quiet", "7", None, "WABACTL_TOKEN", "sha256:" + "1" * 64, (), statuses={"template.same[en]": "APPROVED"})
    plan = dataclasses.replace(sample_plan(), accounts=(*sample_plan().accounts, unchanged))
    markdown = plan_text.markdown(plan)
    assert "1 account with no changes: `quiet`." in markdown
    assert "| `quiet`" not in markdown and "quiet:" not in markdown and "template.same" not in markdown


def test_markdown_shows_errors_and_warnings_as_text():
    plan = dataclasses.replace(sample_plan(warnings=("<b>REJECTED</b> | see `x`",)),
                               failures=(AccountFailure("partner", "2", "HTTP 403 <html>"),))
    markdown = plan_text.markdown(plan)
    assert "**1 account could not be planned:**\n\n- `partner` (WABA 2): HTTP 403 &lt;html&gt;" in markdown
    assert "| `partner` | 2 | error | — | — | — | — | — | — |" in markdown
    # Warnings are listed before the details, where cutting to fit cannot drop them.
    assert "**Warnings (1):**\n\n| account | warning |\n| --- | --- |\n| `acme` | &lt;b&gt;REJECTED&lt;/b&gt; \\| see \\`x\\` |" in markdown
    assert markdown.index("**Warnings (1):**") < markdown.index("<details>")
    assert "<summary>acme: 4 changes</summary>" in markdown


def test_markdown_says_where_the_full_plan_is_only_when_it_cut():
    assert "The full plan: the plan file plan.json." not in plan_text.markdown(sample_plan(), full="the plan file plan.json")
    big = fleet(300, 30)
    assert "The full plan: the plan file plan.json." in plan_text.markdown(big, full="the plan file plan.json")
    assert "For the full plan, run `wabactl plan --format json` or `--out plan.json`." in plan_text.markdown(big)


def test_markdown_of_300_accounts_by_30_templates_fits_and_shows_every_account():
    plan = fleet(300, 30)
    markdown = plan_text.markdown(plan)
    assert_layout(markdown, md.PLAN_MARKER)
    rows = [line for line in markdown.split("\n") if line.startswith("| `acct-") and "`template." not in line]
    assert rows == [f"| `acct-{i:04d}` | {10**14 + i} | 0 | 30 | 0 | 0 | 0 | 1 | 0 |" for i in range(300)]
    assert "| `acct-0299` | `template.locked[en_US]` | the name is locked after a deletion |" in markdown  # every blocked change
    assert "- `broken` (WABA 9): HTTP 403" in markdown
    shown = markdown.count("<details>")
    assert 0 < shown < 300
    assert f"the details of {300 - shown} of 300 accounts are left out ({(300 - shown) * 31:,} changes)" in markdown


def test_markdown_of_5000_accounts_groups_the_summary_to_fit():
    markdown = plan_text.markdown(fleet(5_000, 3))
    assert_layout(markdown, md.PLAN_MARKER)
    assert "| 5,000 accounts: `acct-0000`, `acct-0001`, `acct-0002`, " in markdown
    assert "| `template.locked[en_US]` | the name is locked after a deletion | 5,000 accounts: `acct-0000`, " in markdown
    assert "- 1 account: `broken`: HTTP 403" in markdown
    assert "accounts are left out" in markdown


def test_markdown_of_5000_accounts_that_differ_bounds_its_tables():
    accounts = tuple(AccountPlan(f"acct-{i:04d}", str(i), None, "T", "sha256:0",
                                 tuple(Change(f"acct-{i:04d}", f"user.{j}", Action.DELETE, User(str(j), frozenset()), None) for j in range(i % 7 + 1))
                                 + (Change(f"acct-{i:04d}", "template.x[en]", Action.BLOCKED, None, None, reason=f"reason {i}"),))
                     for i in range(5_000))
    plan = Plan(accounts, "now", failures=tuple(AccountFailure(f"down-{i}", str(i), f"HTTP 500 number {i}") for i in range(2_000)))
    markdown = plan_text.markdown(plan)
    assert_layout(markdown, md.PLAN_MARKER)
    assert f"Plan: 0 to create, 0 to edit, 0 to replace, 0 to update, {sum(i % 7 + 1 for i in range(5_000))} to delete." in markdown
    assert "5,000 blocked" in markdown and "**Blocked (5,000):**" in markdown
    assert "**2,000 accounts could not be planned:**" in markdown and "- … and 1,950 more errors" in markdown
    assert "more rows of blocked changes" in markdown


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(list(Action)), hostile, hostile, hostile), max_size=6), hostile, st.lists(hostile, max_size=2),
       st.lists(hostile, max_size=2), hostile)
def test_markdown_layout_holds_whatever_the_user_text(changes, blocked_reason, warnings, errors, status):
    made = [Change("acme", "template.stuck[en]", Action.BLOCKED, None, None, reason=blocked_reason)]
    for index, (action, reason, old, new) in enumerate(changes):
        after = dataclasses.replace(AFTER, name=f"t{index}", components=({"type": "BODY", "text": new},))
        before = LiveTemplate(dataclasses.replace(after, components=({"type": "BODY", "text": old},)), str(index), status)
        made.append(Change("acme", after.key, action, before if action is not Action.CREATE else None, after, reason=reason or None))
    # An error lands in a list, its WABA id in the summary table.
    plan = dataclasses.replace(sample_plan(made, warnings), failures=tuple(AccountFailure(f"down-{i}", e, e) for i, e in enumerate(errors)))
    plan.accounts[0].statuses.update({change.key: status for change in made})
    assert_layout(plan_text.markdown(plan), md.PLAN_MARKER)


def fleet(accounts: int, templates: int) -> Plan:
    """A change of ``templates`` templates across ``accounts`` accounts, each with one blocked change."""
    plans = []
    for i in range(accounts):
        name = f"acct-{i:04d}"
        changes = [Change(name, f"template.promo_{j}[en_US]", Action.EDIT,
                          LiveTemplate(dataclasses.replace(AFTER, name=f"promo_{j}", components=({"type": "BODY", "text": "old"},)), str(j), "APPROVED"),
                          dataclasses.replace(AFTER, name=f"promo_{j}", components=({"type": "BODY", "text": f"Take {j}% off"},)))
                   for j in range(templates)]
        changes.append(Change(name, "template.locked[en_US]", Action.BLOCKED, None, None, reason="the name is locked after a deletion"))
        plans.append(AccountPlan(name, str(10**14 + i), None, "WABACTL_TOKEN", "sha256:" + "0" * 64, tuple(changes)))
    return Plan(tuple(plans), "2026-11-22T00:00:00+00:00", failures=(AccountFailure("broken", "9", "HTTP 403"),))


def test_rendering_is_pure():
    plan = sample_plan()
    assert render.render(plan, "text") == render.render(plan, "text")
    assert json.loads(render.render(plan, "json"))["summary"]["edit"] == 1


def test_config_summary_counts_names_languages_and_users():
    templates = (AFTER, dataclasses.replace(AFTER, language="es"), dataclasses.replace(AFTER, name="other"))
    account = DesiredAccount("acme", "1", "2", "WABACTL_TOKEN", AccountSettings(), templates, (User("42", frozenset({"MANAGE"})),))
    assert render.config_summary(DesiredState((account,))) == "Config valid: 1 account(s), 2 template(s) in 3 language(s), 1 user(s)."


def test_a_create_outline_shows_every_declared_part_of_the_new_kinds():
    from reconciler.model import Template
    from reconciler.render.plan import _outline

    offer = Template("flash_offer", "en_US", "MARKETING", (
        {"type": "HEADER", "format": "IMAGE", "example": {"header_file": "assets/banner.png", "header_file_sha256": "ab"}},
        {"type": "LIMITED_TIME_OFFER", "limited_time_offer": {"text": "Ends Sunday!", "has_expiration": True}},
        {"type": "BODY", "text": "Good news {{1}}."},
        {"type": "BUTTONS", "buttons": [{"type": "COPY_CODE", "example": "SPRING20"}]},
    ), ttl=86400)
    carousel = Template("picks", "en_US", "MARKETING", (
        {"type": "BODY", "text": "Our picks."},
        {"type": "CAROUSEL", "cards": [{"components": [{"type": "HEADER", "format": "VIDEO", "example": {"header_handle": ["4::x"]}},
                                                       {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "More"}]}]}]},
    ))
    library = Template("news", "en_US", "UTILITY", (), library="delivery_update_1", library_inputs='{"library_template_body_inputs":{}}')
    assert _outline(offer) == ["category: MARKETING", "message_send_ttl_seconds: 86400", 'HEADER: IMAGE "assets/banner.png"',
                               'LIMITED_TIME_OFFER: "Ends Sunday!", with expiry', 'BODY: "Good news {{1}}."', 'BUTTONS[0]: COPY_CODE (code "SPRING20")']
    assert _outline(carousel)[2:] == ['CARD[0] HEADER: VIDEO "4::x"', 'CARD[0] BUTTONS[0]: QUICK_REPLY "More"']
    assert _outline(library) == ["category: UTILITY", 'from Meta\'s library: delivery_update_1 {"library_template_body_inputs":{}}']
