"""Field-level details of a change, for display only."""

from __future__ import annotations

from reconciler.diff import task_details, template_details

BASE = {"name": "t", "language": "en", "category": "UTILITY", "parameter_format": "POSITIONAL",
        "components": [{"type": "BODY", "text": "Hello there"}]}


def test_changed_added_and_removed_fields():
    after = {**BASE, "components": [{"type": "BODY", "text": "Hello again"}, {"type": "FOOTER", "text": "Acme"}]}
    lines = template_details(BASE, after)
    assert 'components[0].text: "Hello there" -> "Hello again"' in lines
    assert any(line.startswith("+ components[1]") for line in lines)
    assert any(line.startswith("- components[1]") for line in template_details(after, BASE))


def test_category_change_and_no_change():
    assert template_details(BASE, {**BASE, "category": "MARKETING"}) == ['category: "UTILITY" -> "MARKETING"']
    assert template_details(BASE, dict(BASE)) == []


def test_tasks():
    assert task_details({"tasks": ["A", "B"]}, {"tasks": ["B", "C"]}) == ["+ C", "- A"]
    assert task_details(None, {"tasks": ["A"]}) == ["+ A"]
