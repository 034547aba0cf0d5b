"""Field-level details of a change, for display only."""

from __future__ import annotations

import dataclasses

from reconciler.model import Template, User
from reconciler.planning.diff import task_details, template_details

BASE = Template("t", "en", "UTILITY", ({"type": "BODY", "text": "Hello there"},))


def test_changed_added_and_removed_fields():
    after = dataclasses.replace(BASE, components=({"type": "BODY", "text": "Hello again"}, {"type": "FOOTER", "text": "Acme"}))
    lines = template_details(BASE, after)
    assert 'components[0].text: "Hello there" -> "Hello again"' in lines
    assert any(line.startswith("+ components[1]") for line in lines)
    assert any(line.startswith("- components[1]") for line in template_details(after, BASE))


def test_category_change_and_no_change():
    assert template_details(BASE, dataclasses.replace(BASE, category="MARKETING")) == ['category: "UTILITY" -> "MARKETING"']
    assert template_details(BASE, dataclasses.replace(BASE)) == []


def test_tasks():
    assert task_details(User("1", frozenset({"A", "B"})), User("1", frozenset({"B", "C"}))) == ["+ C", "- A"]
    assert task_details(None, User("1", frozenset({"A"}))) == ["+ A"]
