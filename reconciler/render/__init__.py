"""Rendering: plans and apply reports as text for a terminal, markdown for a pull request, or
JSON. Pure functions from data to strings; only the CLI prints them."""

from __future__ import annotations

from ..model import DesiredState
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


def config_summary(desired: DesiredState) -> str:
    """What ``validate`` found: accounts, template names, their languages, users."""
    templates = sum(len({t.name for t in a.templates}) for a in desired.accounts)
    languages = sum(len(a.templates) for a in desired.accounts)
    users = sum(len(a.users or ()) for a in desired.accounts)
    return f"Config valid: {len(desired.accounts)} account(s), {templates} template(s) in {languages} language(s), {users} user(s)."
