"""Rendering: plans and apply reports as text for a terminal, markdown for a pull request, or
JSON. Pure functions from data to strings; only the CLI prints them."""

from __future__ import annotations

from ..planning import planfile
from ..planning.plan import Plan
from . import plan as plan_text

FORMATS = ("text", "markdown", "json")


def render(plan: Plan, fmt: str, color: bool = False) -> str:
    """A plan in one of ``FORMATS``; the JSON form is the plan file's."""
    if fmt == "json":
        return planfile.dumps(plan)
    if fmt == "markdown":
        return plan_text.markdown(plan)
    return plan_text.text(plan, color)
