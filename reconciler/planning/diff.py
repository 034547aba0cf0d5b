"""Field-level explanation of a change, for display only: deepdiff says what differs, it never
decides an action (the planner's rules do)."""

from __future__ import annotations

import re
from typing import Any

from deepdiff import DeepDiff

from ..model import Template, User

PATH_PART = re.compile(r"\[('(?:[^'\\]|\\.)*'|\d+)\]")


def template_details(before: Template, after: Template) -> list[str]:
    """Lines like ``components[1].text: "old" -> "new"``, in a stable order."""
    difference = DeepDiff(before.content(), after.content(), verbose_level=2)
    lines: list[str] = []
    for path, values in (difference.get("values_changed") or {}).items():
        lines.append(f"{_path(path)}: {show_value(values['old_value'])} -> {show_value(values['new_value'])}")
    for path, values in (difference.get("type_changes") or {}).items():
        lines.append(f"{_path(path)}: {show_value(values['old_value'])} -> {show_value(values['new_value'])}")
    for kind, sign in (("dictionary_item_added", "+"), ("iterable_item_added", "+"),
                       ("dictionary_item_removed", "-"), ("iterable_item_removed", "-")):
        for path, value in (difference.get(kind) or {}).items():
            lines.append(f"{sign} {_path(path)}: {show_value(value)}")
    if before.unread_digest is not None and after.unread_digest is not None and before.unread_digest != after.unread_digest:
        # Two declarations (a saved plan and the config now): what Meta does not read back differs.
        lines.append(f"header file or library inputs: {before.unread_digest[:12]} -> {after.unread_digest[:12]}")
    return sorted(lines, key=lambda line: line.lstrip("+- "))


def task_details(before: User | None, after: User | None) -> list[str]:
    old = before.tasks if before else frozenset()
    new = after.tasks if after else frozenset()
    return [f"+ {t}" for t in sorted(new - old)] + [f"- {t}" for t in sorted(old - new)]


def _path(deepdiff_path: str) -> str:
    parts: list[str] = []
    for token in PATH_PART.findall(deepdiff_path):
        if token.startswith("'"):
            parts.append(("." if parts else "") + token[1:-1])
        else:
            parts.append(f"[{token}]")
    return "".join(parts) or "(all)"


def show_value(value: Any) -> str:
    """A value as one line a reviewer reads in full: strings quoted with line breaks shown as
    ``\\n`` (never cut: a plan is what a person approves), mappings and lists in brace form."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {show_value(item)}" for key, item in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(show_value(item) for item in value) + "]"
    return "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
