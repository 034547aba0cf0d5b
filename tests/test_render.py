"""Rendering is pure: the same plan always gives the same text, markdown and JSON."""

from __future__ import annotations

import dataclasses
import json

from reconciler import render
from reconciler.model import AccountSettings, DesiredAccount, DesiredState, LiveTemplate, Template, User
from reconciler.planning.plan import AccountPlan, Action, Change, Plan, Usage
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


def test_markdown_for_pull_requests():
    markdown = plan_text.markdown(sample_plan())
    assert markdown.startswith("### wabactl plan\n")
    assert "**Plan: 1 to create, 1 to edit, 0 to replace, 1 to update, 0 to delete.**" in markdown
    assert "| `~` | `template.welcome[en_US]` | will be edited in place | APPROVED |" in markdown
    assert "```diff" in markdown and "<details>" in markdown


def test_rendering_is_pure():
    plan = sample_plan()
    assert render.render(plan, "text") == render.render(plan, "text")
    assert json.loads(render.render(plan, "json"))["summary"]["edit"] == 1


def test_config_summary_counts_names_languages_and_users():
    templates = (AFTER, dataclasses.replace(AFTER, language="es"), dataclasses.replace(AFTER, name="other"))
    account = DesiredAccount("acme", "1", "2", "WABACTL_TOKEN", AccountSettings(), templates, (User("42", frozenset({"MANAGE"})),))
    assert render.config_summary(DesiredState((account,))) == "Config valid: 1 account(s), 2 template(s) in 3 language(s), 1 user(s)."
