"""Plan -> text (a terminal, like Terraform's) or markdown (a pull-request comment).

Pure functions: they take a plan and return a string; the CLI prints it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from ..model import LiveTemplate, Template, User
from ..planning.diff import task_details, template_details
from ..planning.plan import SUMMARY_ORDER, AccountFailure, AccountPlan, Action, Change, Plan, Usage

Paint = Callable[[str, str], str]

COLOURS = {
    Action.CREATE: "32",  # green
    Action.UPDATE: "33",  # yellow
    Action.EDIT: "33",
    Action.REPLACE: "35",  # magenta
    Action.DELETE: "31",  # red
    Action.BLOCKED: "31;1",
    Action.DEFERRED: "36",  # cyan
}
SUMMARY_WORDS = {Action.CREATE: "to create", Action.EDIT: "to edit", Action.REPLACE: "to replace",
                 Action.UPDATE: "to update", Action.DELETE: "to delete"}


def summary_line(plan: Plan) -> str:
    counts = plan.counts()
    return "Plan: " + ", ".join(f"{counts[a]} {SUMMARY_WORDS[a]}" for a in SUMMARY_ORDER) + "."


# --- text ----------------------------------------------------------------------------------


def text(plan: Plan, color: bool = False) -> str:
    paint = _painter(color)
    out: list[str] = []
    for account in _in_order(plan):
        out.append(paint(f"Account {account.account} (WABA {account.waba_id})", "1"))
        if isinstance(account, AccountFailure):
            out += [paint(f"  error: {account.error}", "31"), ""]
            continue
        if not account.changes:
            out.append("  No changes.")
        for change in account.changes:
            out.extend(_change_lines(change, account, paint))
        for warning in account.warnings:
            out.append(paint(f"  warning: {warning}", "33"))
        out.append(f"  {_usage_line(account.usage)}")
        waves = _waves_line(account)
        if waves:
            out.append(f"  {waves}")
        out.append("")
    if plan.has_changes():
        out.append(paint(summary_line(plan), "1"))
        stuck = plan.counts()
        if stuck[Action.BLOCKED] or stuck[Action.DEFERRED]:
            out.append(f"{stuck[Action.BLOCKED]} blocked, {stuck[Action.DEFERRED]} deferred: they are not applied (see the reasons above).")
    else:
        out.append(paint(_no_changes(plan), "1"))
    if plan.failures:
        out.append(paint(_failed_line(plan), "31;1"))
    return "\n".join(out) + "\n"


def _in_order(plan: Plan) -> list[AccountPlan | AccountFailure]:
    """Planned and failed accounts together, by name."""
    return sorted([*plan.accounts, *plan.failures], key=lambda account: account.account)


def _no_changes(plan: Plan) -> str:
    if plan.failures:
        return "No changes in the accounts that could be planned."
    return "No changes. Live state matches the configuration."


def _failed_line(plan: Plan) -> str:
    names = ", ".join(failure.account for failure in plan.failures)
    return f"{len(plan.failures)} account(s) could not be planned: {names} (see the errors above)."


def _change_lines(change: Change, account: AccountPlan, paint: Paint) -> list[str]:
    symbol = paint(f"{change.action.symbol:>3}", COLOURS[change.action])
    status = account.statuses.get(change.key)
    head = f"{symbol} {change.key}  {change.action.phrase}"
    if change.reason:
        head += f": {change.reason}"
    if change.not_before:
        wave = f"wave {change.wave}, " if change.wave else ""
        head += f" ({wave}not before {_clock(change.not_before)})"
    if status:
        head += paint(f"  [live: {status}]", "2")
    return [f" {head}"] + [f"        {line}" for line in details(change)]


def details(change: Change) -> list[str]:
    """What differs, field by field; what a new object holds when created."""
    before, after = change.before, change.after
    if isinstance(before, User) or isinstance(after, User):
        return [f"tasks: {line}" for line in task_details(_user(before), _user(after))]
    if isinstance(before, LiveTemplate) and isinstance(after, Template):
        return template_details(before.template, after)
    if isinstance(after, Template) and change.action is Action.CREATE:
        return _outline(after)
    return []


def _user(side: LiveTemplate | Template | User | None) -> User | None:
    return side if isinstance(side, User) else None


def _outline(template: Template) -> list[str]:
    lines = [f"category: {template.category}"]
    if template.parameter_format == "NAMED":
        lines.append("parameter_format: NAMED")
    for component in template.components:
        kind = component.get("type", "")
        if kind == "BUTTONS":
            labels = [b.get("text") or b.get("type") for b in component.get("buttons") or ()]
            lines.append(f"BUTTONS: {', '.join(str(label) for label in labels)}")
        elif component.get("format") and component.get("format") != "TEXT":
            lines.append(f"{kind}: {component['format']}")
        elif component.get("text"):
            lines.append(f"{kind}: {_short(component['text'])}")
        else:
            lines.append(kind)
    return lines


def _usage_line(usage: Usage | None) -> str:
    if usage is None:
        return ""
    return (f"templates: {usage.templates_now}/{usage.template_limit} now, "
            f"{usage.templates_after}/{usage.template_limit} after apply")


def _waves_line(account: AccountPlan) -> str:
    """``creation budget: 100 per hour; wave 1: now, 100 creates; wave 2: not before ...``."""
    waves: dict[int, list[Change]] = {}
    for change in account.changes:
        if change.wave is not None:
            waves.setdefault(change.wave, []).append(change)
    if not waves:
        return ""
    parts = []
    for number, changes in sorted(waves.items()):
        first = changes[0].not_before
        when = f"not before {_clock(first)}" if first else "now"
        parts.append(f"wave {number}: {when}, {len(changes)} create{'s' if len(changes) != 1 else ''}")
    return f"creation budget: {account.limits.creates_per_hour} per hour; " + "; ".join(parts)


def _clock(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _short(value: str, most: int = 70) -> str:
    flat = " ".join(value.split())
    return f'"{flat}"' if len(flat) <= most else f'"{flat[: most - 3]}..."'


def _painter(color: bool) -> Paint:
    def paint(value: str, code: str) -> str:
        return f"\x1b[{code}m{value}\x1b[0m" if color else value

    return paint


# --- markdown ------------------------------------------------------------------------------


def markdown(plan: Plan) -> str:
    out = ["### wabactl plan", ""]
    if plan.has_changes():
        out.append(f"**{summary_line(plan)}**")
    else:
        out.append("**No changes.** Live state matches the configuration." if not plan.failures else f"**{_no_changes(plan)}**")
    counts = plan.counts()
    if counts[Action.BLOCKED] or counts[Action.DEFERRED]:
        out.append(f"\n{counts[Action.BLOCKED]} blocked, {counts[Action.DEFERRED]} deferred.")
    if plan.failures:
        out.append(f"\n**{_failed_line(plan)}**")
    for account in _in_order(plan):
        out += ["", f"#### `{account.account}` (WABA {account.waba_id})", ""]
        if isinstance(account, AccountFailure):
            out.append(f"> **Error:** {_cell(account.error)}")
            continue
        out.append(_usage_line(account.usage))
        if _waves_line(account):
            out += ["", _waves_line(account)]
        if account.changes:
            out += ["", "| | key | action | live status |", "|---|---|---|---|"]
            for change in account.changes:
                phrase = change.action.phrase + (f": {change.reason}" if change.reason else "")
                status = account.statuses.get(change.key, "")
                out.append(f"| `{change.action.symbol}` | `{change.key}` | {_cell(phrase)} | {status} |")
            body = []
            for change in account.changes:
                lines = details(change)
                if lines:
                    body.append(f"{change.action.symbol} {change.key}")
                    body += [f"    {line}" for line in lines]
            if body:
                out += ["", "<details><summary>Details</summary>", "", "```diff", *body, "```", "", "</details>"]
        for warning in account.warnings:
            out += ["", f"> **Warning:** {_cell(warning)}"]
    return "\n".join(out) + "\n"


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")
