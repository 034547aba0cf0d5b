"""Plan -> text (a terminal, like Terraform's) or markdown (a pull-request comment).

Pure functions: they take a plan and return a string; the CLI prints it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from ..model import LiveTemplate, Template, User
from ..planning.diff import show_value, task_details, template_details
from ..planning.plan import SUMMARY_ORDER, AccountFailure, AccountPlan, Action, Change, FleetFound, Plan, Usage
from . import markdown as md

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
    paint = painter(color)
    out: list[str] = [*(paint(line, "31" if fleet.error else "1") for fleet in plan.fleets for line in [fleet_line(fleet)])]
    if plan.fleets:
        out.append("")
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
        if account.unmanaged:
            out.append(f"  {_unmanaged_line(account)}")
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
    if plan.fleets_failed:
        out.append(paint(f"{len(plan.fleets_failed)} fleet(s) could not list their WABAs: "
                         f"{', '.join(f.fleet for f in plan.fleets_failed)} (see the errors above).", "31;1"))
    return "\n".join(out) + "\n"


FLEET_NAMES_SHOWN = 10


def fleet_line(fleet: FleetFound) -> str:
    """``Fleet partners (business 805...): 4 accounts: partners/1, ...``, or why it found none."""
    head = f"Fleet {fleet.fleet} (business {fleet.business_id})"
    if fleet.error is not None:
        return f"{head}: error: {fleet.error}"
    names = list(fleet.accounts[:FLEET_NAMES_SHOWN])
    more = f" and {len(fleet.accounts) - FLEET_NAMES_SHOWN} more" if len(fleet.accounts) > FLEET_NAMES_SHOWN else ""
    found = f": {', '.join(names)}{more}" if names else ""
    return f"{head}: {len(fleet.accounts)} account{'s' if len(fleet.accounts) != 1 else ''}{found}"


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
    return [f" {symbol} {change.key}{_explanation(change, account, paint)}"] + [f"        {line}" for line in details(change)]


def _explanation(change: Change, account: AccountPlan, paint: Paint) -> str:
    """What follows the key: ``  will be created: reason (wave 2, not before ...)  [live: APPROVED]``."""
    status = account.statuses.get(change.key)
    said = f"  {change.action.phrase}"
    if change.reason:
        said += f": {change.reason}"
    if isinstance(change.after, Template) and change.after.origin and change.action is not Action.CREATE:
        said += f" (set {change.after.origin})"
    if change.not_before:
        wave = f"wave {change.wave}, " if change.wave else ""
        said += f" ({wave}not before {_clock(change.not_before)})"
    if status:
        said += paint(f"  [live: {status}]", "2")
    return said


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
    """What a reviewer approves of a template to create: every declared part on a line."""
    lines = [f"category: {template.category}"]
    if template.parameter_format == "NAMED":
        lines.append("parameter_format: NAMED")
    if template.ttl is not None:
        lines.append(f"message_send_ttl_seconds: {template.ttl}")
    if template.library is not None:
        lines.append(f"from Meta's library: {template.library}" + (f" {template.library_inputs}" if template.library_inputs else ""))
    if template.origin:
        lines.append(f"from set: {template.origin}")
    return lines + _component_lines(template.components, "")


def _component_lines(components: tuple[dict[str, Any], ...] | list[Any], prefix: str) -> list[str]:
    lines: list[str] = []
    for component in components:
        if not isinstance(component, dict):
            continue
        kind = f"{prefix}{component.get('type', '')}"
        found = component.get("example")
        example: dict[str, Any] = found if isinstance(found, dict) else {}
        if component.get("type") == "BUTTONS":
            for index, button in enumerate(component.get("buttons") or ()):
                target = button.get("url") or button.get("phone_number") or button.get("flow_id") or button.get("flow_name")
                code = button.get("example") if button.get("type") == "COPY_CODE" else None
                kind_of = " ".join(str(v) for v in (button.get("type", ""), button.get("otp_type")) if v)
                lines.append(f"{kind}[{index}]: {kind_of}" + (f" {show_value(button['text'])}" if button.get("text") else "")
                             + (f" -> {show_value(target)}" if target else "") + (f" (code {show_value(code)})" if code else ""))
        elif component.get("type") == "CAROUSEL":
            for number, card in enumerate(component.get("cards") or ()):
                lines += _component_lines(card.get("components") or [] if isinstance(card, dict) else [], f"CARD[{number}] ")
        elif component.get("type") == "LIMITED_TIME_OFFER":
            given = component.get("limited_time_offer")
            offer: dict[str, Any] = given if isinstance(given, dict) else {}
            lines.append(f"{kind}: {show_value(offer.get('text') or '')}" + (", with expiry" if offer.get("has_expiration") else ""))
        elif component.get("format") and component.get("format") != "TEXT":
            media = example.get("header_file") or (example.get("header_handle") or [None])[0]
            lines.append(f"{kind}: {component['format']}" + (f" {show_value(media)}" if media else ""))
        elif component.get("text"):
            lines.append(f"{kind}: {show_value(component['text'])}")
        else:  # an authentication template's body and footer: Meta writes the text from these
            settings = {k: component[k] for k in ("add_security_recommendation", "code_expiration_minutes") if k in component}
            lines.append(f"{kind}" + (f": {show_value(settings)}" if settings else ""))
    return lines


def _usage_line(usage: Usage | None) -> str:
    if usage is None:
        return ""
    return (f"templates: {usage.templates_now}/{usage.template_limit} now, "
            f"{usage.templates_after}/{usage.template_limit} after apply")


def _unmanaged_line(account: AccountPlan) -> str:
    """A count only: the plan leaves them alone, and `wabactl drift` names them."""
    number = len(account.unmanaged)
    return f"unmanaged: {number} live object{'s' if number != 1 else ''} not in the config, left alone (wabactl drift lists them)"


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


def painter(color: bool) -> Paint:
    """Colour with ANSI codes, or none."""
    def paint(value: str, code: str) -> str:
        return f"\x1b[{code}m{value}\x1b[0m" if color else value

    return paint


# --- markdown ------------------------------------------------------------------------------

# The summary table's count columns, in the order of the one-line totals, then what is not applied.
TABLE_ACTIONS = (*SUMMARY_ORDER, Action.BLOCKED, Action.DEFERRED)
FULL_PLAN = "For the full plan, run `wabactl plan --format json` or `--out plan.json`."


def markdown(plan: Plan, full: str | None = None) -> str:
    """A pull-request comment of at most ``md.LIMIT`` characters: marker, totals, the accounts that
    could not be planned, a summary table of the accounts with changes, the blocked changes, then
    each account's changes in a collapsible section; unchanged items are never listed. When the
    sections do not all fit, ``md.fit`` leaves some out and says so, pointing at ``full`` (where the
    full plan is, such as "the plan file plan.json") or at how to get it."""
    where = f"The full plan: {md.cell(md.clip(full, 300))}." if full else FULL_PLAN
    return md.fit(lambda level: _required(plan, level), _sections(plan), "change", where)


def _required(plan: Plan, level: md.Compaction) -> list[str]:
    fleets = "\n".join(f"- {md.cell(md.clip(fleet_line(fleet), level.width))}" for fleet in plan.fleets)
    return [f"{md.PLAN_MARKER}\n### wabactl plan", _totals(plan), *([fleets] if fleets else []), *_errors(plan, level),
            *_summary(plan, level), *_blocked(plan, level), *_warnings(plan, level)]


def _warnings(plan: Plan, level: md.Compaction) -> list[str]:
    """What Meta did that the reviewer should know (paused, rejected, recategorised; the same
    warning in several accounts grouped when compact), and how many live objects are unmanaged."""
    pairs = [(account.account, warning) for account in sorted(plan.accounts, key=lambda a: a.account) for warning in account.warnings]
    blocks: list[str] = []
    if pairs:
        if level.grouped:
            groups = md.grouped(((md.clip(warning, level.width),), name) for name, warning in pairs)
            rows = [[md.cell(warning), md.accounts_phrase(names, level.names)] for (warning,), names in groups]
            header = ["warning", "accounts"]
        else:
            rows = [[md.code(name, in_table=True), md.cell(md.clip(warning, level.width))] for name, warning in pairs]
            header = ["account", "warning"]
        blocks += [f"**Warnings ({len(pairs):,}):**", *md.bounded_table(header, rows, level, "warnings")]
    unmanaged = [account for account in plan.accounts if account.unmanaged]
    if unmanaged:
        number = sum(len(account.unmanaged) for account in unmanaged)
        blocks.append(f"{md.count(number, 'live object')} in {md.count(len(unmanaged), 'account')} not in the config, left alone "
                      "(`wabactl drift` lists them).")
    return blocks


def _totals(plan: Plan) -> str:
    if not plan.has_changes():
        return "**No changes.** Live state matches the configuration." if not plan.failures else f"**{_no_changes(plan)}**"
    counts = plan.counts()
    return f"**{summary_line(plan)}** {counts[Action.BLOCKED]:,} blocked, {counts[Action.DEFERRED]:,} deferred."


def _errors(plan: Plan, level: md.Compaction) -> list[str]:
    """Every account that could not be planned, with its error."""
    if not plan.failures:
        return []
    failures = [(f.account, f.waba_id, f.error) for f in sorted(plan.failures, key=lambda failure: failure.account)]
    return md.error_list(f"{md.count(len(failures), 'account')} could not be planned:", failures, level)


def _summary(plan: Plan, level: md.Compaction) -> list[str]:
    """One row per account with changes or an error (accounts with the same counts grouped when
    compact), then the accounts with no changes counted."""
    rows = [(account.account, account.waba_id, _counts_row(account)) for account in _in_order(plan)
            if isinstance(account, AccountFailure) or account.changes]
    if level.grouped:
        groups = md.grouped((cells, name) for name, _, cells in rows)
        lines = [[md.accounts_phrase(names, level.names), "—", *cells] for cells, names in groups]
    else:
        lines = [[md.code(name, in_table=True), md.cell(md.clip(waba, level.width)), *cells] for name, waba, cells in rows]
    header = ["account", "WABA", *(action.value for action in TABLE_ACTIONS)]
    blocks = md.bounded_table(header, lines, level, "accounts with changes", numeric_from=2) if lines else []
    unchanged = [account.account for account in plan.accounts if not account.changes]
    if unchanged:
        names = [md.code(name) for name in unchanged]
        blocks.append(f"{md.count(len(unchanged), 'account')} with no changes: {md.listing(names, level.names)}.")
    return blocks


def _counts_row(account: AccountPlan | AccountFailure) -> tuple[str, ...]:
    if isinstance(account, AccountFailure):
        return tuple("error" if index == 0 else "—" for index in range(len(TABLE_ACTIONS)))
    counts = {action: 0 for action in Action}
    for change in account.changes:
        counts[change.action] += 1
    return tuple(f"{counts[action]:,}" for action in TABLE_ACTIONS)


def _blocked(plan: Plan, level: md.Compaction) -> list[str]:
    """Every blocked change with its reason (the same key and reason in several accounts grouped
    when compact)."""
    blocked = [change for account in sorted(plan.accounts, key=lambda a: a.account) for change in account.changes
               if change.action is Action.BLOCKED]
    if not blocked:
        return []
    if level.grouped:
        groups = md.grouped(((change.key, md.clip(change.reason or "", level.width)), change.account) for change in blocked)
        rows = [[md.code(key, in_table=True), md.cell(reason), md.accounts_phrase(names, level.names)] for (key, reason), names in groups]
        header = ["key", "reason", "accounts"]
    else:
        rows = [[md.code(c.account, in_table=True), md.code(c.key, in_table=True), md.cell(md.clip(c.reason or "", level.width))] for c in blocked]
        header = ["account", "key", "reason"]
    return [f"**Blocked ({len(blocked):,}):** these changes cannot happen as declared; the reasons say the ways out.",
            *md.bounded_table(header, rows, level, "blocked changes")]


def _sections(plan: Plan) -> list[md.Section]:
    """One collapsible section per account with changes (warnings are listed above, never cut)."""
    return [md.Section(account.account, len(account.changes), functools.partial(_section, account))
            for account in sorted(plan.accounts, key=lambda a: a.account) if account.changes]


def _section(account: AccountPlan) -> str:
    lines: list[str] = []
    for change in account.changes:
        lines.append(md.one_line(f"{change.action.symbol} {change.key}{_explanation(change, account, _plain)}"))
        # A line break inside a value stays, indented, so it cannot pass for a diff line of its own.
        lines += ["    " + md.LINE_BREAKS.sub("\n      ", line) for line in details(change)]
    blocks = [md.fenced(lines, "diff")] if lines else []
    facts = [line for line in (_usage_line(account.usage), _unmanaged_line(account) if account.unmanaged else "", _waves_line(account)) if line]
    if facts:
        blocks.append("<br>\n".join(md.cell(fact) for fact in facts))
    return md.details(f"{account.account}: {md.count(len(account.changes), 'change')}", *blocks)


def _plain(value: str, code: str) -> str:
    return value
