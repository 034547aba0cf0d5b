"""Rendering: plans, drift reports and apply reports as text for a terminal, markdown for a pull
request, or JSON. Pure functions from data to strings; only the CLI prints them."""

from __future__ import annotations

from ..model import DesiredState
from ..planning import driftfile, planfile
from ..planning.drift import DriftReport
from ..planning.plan import Plan
from . import drift as drift_text
from . import plan as plan_text

FORMATS = ("text", "markdown", "json")


def render(plan: Plan, fmt: str, color: bool = False, full: str | None = None) -> str:
    """A plan in one of ``FORMATS``; the JSON form is the plan file's. ``full`` says where the full
    plan is (such as "the plan file plan.json"), for markdown that must leave details out."""
    if fmt == "json":
        return planfile.dumps(plan)
    if fmt == "markdown":
        return plan_text.markdown(plan, full)
    return plan_text.text(plan, color)


def render_drift(report: DriftReport, fmt: str, color: bool = False, full: str | None = None) -> str:
    """A drift report in one of ``FORMATS``; ``full`` as for ``render``."""
    if fmt == "json":
        return driftfile.dumps(report)
    if fmt == "markdown":
        return drift_text.markdown(report, full)
    return drift_text.text(report, color)


def config_summary(desired: DesiredState) -> str:
    """What ``validate`` found: accounts, template names, their languages, users."""
    templates = sum(len({t.name for t in a.templates}) for a in desired.accounts)
    languages = sum(len(a.templates) for a in desired.accounts)
    users = sum(len(a.users or ()) for a in desired.accounts)
    return f"Config valid: {len(desired.accounts)} account(s), {templates} template(s) in {languages} language(s), {users} user(s)."
