"""What moved between a saved plan and the plan wabactl makes now from the same config and live state.

A plan file is an approval, never an instruction: ``apply PLANFILE`` plans again and carries out
the fresh plan only when it decides exactly what the saved one did. Everything that steers apply
is compared: which accounts were planned or failed, the live fingerprint, each change's key,
action, live side and desired side, the template cap and limits, and the token's own user (the
self-lockout guard). What only explains a plan to a person (reasons, waves, times, warnings) is not.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from ..errors import StalePlanError
from ..model import LiveTemplate, Template, User
from .diff import task_details, template_details
from .plan import AccountPlan, Change, Plan

SHOWN = 5  # differences named in the refusal; the rest are counted
CLOCK_SKEW = dt.timedelta(minutes=5)  # Meta's servers may disagree by this much between two answers


def refuse_if_moved(saved: Plan, fresh: Plan) -> None:
    """Raise ``StalePlanError`` naming what moved, unless ``fresh`` decides exactly what ``saved`` did."""
    moved = differences(saved, fresh)
    if moved:
        more = f"\n  ... and {len(moved) - SHOWN} more" if len(moved) > SHOWN else ""
        raise StalePlanError(
            "live state changed since the plan was made, or the plan file was edited; nothing was applied. "
            "Run plan again. What differs from planning now:\n"
            + "\n".join(f"  {line}" for line in moved[:SHOWN]) + more
        )


def refuse_if_older(saved: Plan, fresh: Plan, max_age: dt.timedelta) -> None:
    """Raise ``StalePlanError`` when ``saved`` was made more than ``max_age`` before ``fresh``:
    both times are the Graph API's own, so a runner's clock cannot make an old plan look new."""
    made, now = _moment(saved.created_at), _moment(fresh.created_at)
    if made > now + CLOCK_SKEW:  # a time the Graph API has not reached: an edited file, not a new plan
        raise StalePlanError(f"the plan says it was made at {saved.created_at}, after the Graph API's time now "
                             f"({fresh.created_at}); nothing was applied. Run plan again.")
    age = now - made
    if age > max_age:
        raise StalePlanError(f"the plan was made {describe_duration(age)} ago ({saved.created_at}), longer ago than "
                             f"--max-plan-age {describe_duration(max_age)}; nothing was applied. Run plan again.")


def _moment(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise StalePlanError(f"the plan's created_at is not a time: {text[:40]!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def describe_duration(span: dt.timedelta) -> str:
    """``2d 3h``, ``5m 10s``: the two largest units, for people."""
    seconds = max(0, int(span.total_seconds()))
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts[:2])


def differences(saved: Plan, fresh: Plan) -> list[str]:
    failed_before = {f.fleet for f in saved.fleets_failed}
    moved: list[str] = [f"fleet {f.fleet}: cannot list its WABAs now: {f.error}" for f in fresh.fleets_failed if f.fleet not in failed_before]
    fleets = {f.fleet for f in fresh.fleets} | {f.fleet for f in saved.fleets}
    was = {a.account: a for a in saved.accounts}
    now = {a.account: a for a in fresh.accounts}
    failed_then = {f.account for f in saved.failures}
    failed_now = {f.account: f.error for f in fresh.failures}
    for name in sorted(set(was) | set(now) | failed_then | set(failed_now)):
        if name in failed_now:
            if name not in failed_then:
                moved.append(f"{name}: cannot be planned now: {failed_now[name]}")
        elif name in failed_then:
            moved.append(f"{name}: could not be planned then, can be now")
        elif name not in now:
            fleet = _fleet_of(name, fleets)
            moved.append(f"{name}: in the plan, not found by fleet {fleet} now" if fleet else f"{name}: in the plan, not in the config now")
        elif name not in was:
            fleet = _fleet_of(name, fleets)
            moved.append(f"{name}: found by fleet {fleet} now, not in the plan" if fleet else f"{name}: in the config now, not in the plan")
        else:
            moved += [f"{name}: {line}" for line in _account(was[name], now[name])]
    return moved


def _fleet_of(account: str, fleets: set[str]) -> str | None:
    """The fleet an account name ``<fleet>/<waba_id>`` comes from, if it is one."""
    head = account.rsplit("/", 1)[0] if "/" in account else None
    return head if head in fleets else None


def _account(was: AccountPlan, now: AccountPlan) -> list[str]:
    moved = [f"{label}: {_shown(before)} -> {_shown(after)}" for label, before, after in (
        ("waba_id", was.waba_id, now.waba_id),
        ("business_id", was.business_id, now.business_id),
        ("token_env", was.token_env, now.token_env),
        ("the token's user", was.token_user, now.token_user),
        ("users managed", was.manages_users, now.manages_users),
        ("limits", was.limits, now.limits),
        ("template cap", was.usage, now.usage),
    ) if before != after]
    before = {c.key: c for c in was.changes}
    after = {c.key: c for c in now.changes}
    for key in sorted(set(before) | set(after)):
        if key not in after:
            moved.append(f"{key}: {before[key].action.value} in the plan, not planned now")
        elif key not in before:
            moved.append(f"{key}: {after[key].action.value} planned now, not in the plan")
        else:
            moved += [f"{key}: {line}" for line in _change(before[key], after[key])]
    if was.fingerprint != now.fingerprint and not moved:  # said only when nothing more precise is
        moved.append("live state changed (templates or users added, removed, or changed where the plan acts)")
    return moved


def _change(was: Change, now: Change) -> list[str]:
    if was.action is not now.action:
        return [f"the plan says {was.action.value}, now {now.action.value}"]
    moved = [f"live {line}" for line in _live_differences(was.before, now.before)]
    if was.after != now.after:
        moved.append("desired side: " + "; ".join(_what_differs(was.after, now.after)))
    return moved


def _shown(value: object) -> str:
    """A value for a person: a dataclass as ``name value, ...``, text quoted, none as none."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return ", ".join(f"{f.name.replace('_', ' ')} {getattr(value, f.name)}" for f in dataclasses.fields(value))
    return "none" if value is None else repr(value) if isinstance(value, str) else str(value)


def _live_differences(was: LiveTemplate | User | None, now: LiveTemplate | User | None) -> list[str]:
    """What of the live side that steers apply moved, field by field: a template's id, status and
    content; a user's tasks."""
    if isinstance(was, LiveTemplate) and isinstance(now, LiveTemplate):
        lines = [f"{label}: {before} -> {after}" for label, before, after in (
            ("id", was.id, now.id), ("status", was.status, now.status)) if before != after]
        if was.template != now.template:
            lines += [f"content: {line}" for line in template_details(was.template, now.template)[:3] or ["changed"]]
        return lines
    if isinstance(was, User) or isinstance(now, User):
        if was == now:
            return []
        return [f"tasks {line}" for line in task_details(was if isinstance(was, User) else None, now if isinstance(now, User) else None)]
    return [] if was == now else [f"side: {_describe(was)} -> {_describe(now)}"]


def _describe(side: LiveTemplate | User | None) -> str:
    if isinstance(side, LiveTemplate):
        return f"id {side.id}, {side.status}"
    if isinstance(side, User):
        return f"tasks {sorted(side.tasks)}"
    return "none"


def _what_differs(was: Template | User | None, now: Template | User | None) -> list[str]:
    if isinstance(was, Template) and isinstance(now, Template):
        return template_details(was, now)[:3] or ["name or language"]
    if isinstance(was, User) or isinstance(now, User):
        return [f"tasks {line}" for line in task_details(was if isinstance(was, User) else None, now if isinstance(now, User) else None)]
    return [f"{was!r} -> {now!r}"]
