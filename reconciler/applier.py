"""Executes a plan exactly: in the plan's order, one change at a time, a result for each.

It stops at the first failure and says what was applied, what failed (or is uncertain: a write
whose answer never came) and what was not attempted. A create refused because the account's
creation budget is spent is not a failure: it and the creates after it are deferred (exit 3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

from .errors import GraphError, GraphTransportError, StalePlanError
from .graph import waba
from .graph.client import GraphClient
from .model import Template
from .plan import AccountPlan, Action, Change, Plan

APPLIED, FAILED, UNCERTAIN, NOT_ATTEMPTED, DEFERRED, SKIPPED = (
    "applied", "failed", "uncertain", "not attempted", "deferred", "skipped")


@dataclass(frozen=True)
class ChangeResult:
    account: str
    key: str
    action: Action
    outcome: str
    detail: str | None = None


@dataclass
class ApplyResult:
    results: list[ChangeResult] = field(default_factory=list)
    regain_minutes: int | None = None  # from the rate-limit answer that deferred creates

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def stopped(self) -> bool:
        return self.count(FAILED) + self.count(UNCERTAIN) > 0

    @property
    def deferred(self) -> bool:
        return self.count(DEFERRED) > 0


Progress = Callable[[int, int, ChangeResult], None]


def refuse_if_stale(plan: Plan, fingerprints: Mapping[str, str]) -> None:
    moved = [a.account for a in plan.accounts if fingerprints.get(a.account) != a.fingerprint]
    if moved:
        raise StalePlanError(
            f"live state changed since the plan was made (account{'s' if len(moved) > 1 else ''}: "
            f"{', '.join(moved)}); nothing was applied. Run plan again."
        )


def apply_plan(plan: Plan, clients: Mapping[str, GraphClient], progress: Progress | None = None) -> ApplyResult:
    result = ApplyResult()
    total = sum(1 for c in plan.changes if c.action.executes)
    done = 0
    stop = False
    for account in plan.accounts:
        client = clients[account.account]
        creates_deferred = False
        for change in account.changes:
            if not change.action.executes:
                outcome = DEFERRED if change.action is Action.DEFERRED else SKIPPED
                result.results.append(ChangeResult(account.account, change.key, change.action, outcome, change.reason))
                continue
            if stop:
                outcome = ChangeResult(account.account, change.key, change.action, NOT_ATTEMPTED)
            elif creates_deferred and _creates(change):
                outcome = ChangeResult(account.account, change.key, change.action, DEFERRED, "creation budget spent")
            else:
                outcome = _attempt(client, account, change, result)
                creates_deferred = creates_deferred or (outcome.outcome == DEFERRED)
                stop = outcome.outcome in (FAILED, UNCERTAIN)
            result.results.append(outcome)
            done += 1
            if progress is not None:
                progress(done, total, outcome)
        if not stop and account.business_id and any(c.kind == "user" and c.action.executes for c in account.changes):
            _verify_users(client, account, result)
            stop = result.stopped
    return result


def _creates(change: Change) -> bool:
    return change.kind == "template" and change.action in (Action.CREATE, Action.REPLACE)


def _attempt(client: GraphClient, account: AccountPlan, change: Change, result: ApplyResult) -> ChangeResult:
    try:
        _execute(client, account, change)
    except GraphTransportError as error:
        return ChangeResult(account.account, change.key, change.action, UNCERTAIN, str(error))
    except GraphError as error:
        if error.rate_limited and change.action is Action.CREATE:
            result.regain_minutes = error.regain_minutes()
            return ChangeResult(account.account, change.key, change.action, DEFERRED, "creation budget spent")
        return ChangeResult(account.account, change.key, change.action, FAILED, str(error))
    return ChangeResult(account.account, change.key, change.action, APPLIED)


def _execute(client: GraphClient, account: AccountPlan, change: Change) -> None:
    """One change, through the Graph calls its action needs."""
    before, after = change.before or {}, change.after or {}
    if change.kind == "user":
        if change.action is Action.DELETE:
            waba.unassign_user(client, account.waba_id, before["user_id"])
        else:
            waba.assign_user(client, account.waba_id, after["user_id"], frozenset(after["tasks"]))
        return
    if change.action in (Action.DELETE, Action.REPLACE):
        waba.delete_template(client, account.waba_id, before["name"], before["id"])
    if change.action in (Action.CREATE, Action.REPLACE):
        waba.create_template(client, account.waba_id, _template(after))
    if change.action is Action.EDIT:
        waba.edit_template(client, before["id"], _template(after), with_category=after["category"] != before["category"])


def _template(side: dict) -> Template:
    return Template(side["name"], side["language"], side["category"], tuple(side["components"]), side["parameter_format"])


def _verify_users(client: GraphClient, account: AccountPlan, result: ApplyResult) -> None:
    """Meta may merge rather than replace task sets: read back and compare with the plan."""
    assert account.business_id is not None
    live = {u.user_id: u.tasks for u in waba.fetch_users(client, account.waba_id, account.business_id)}
    for change in account.changes:
        if change.kind != "user" or not change.action.executes:
            continue
        user_id = (change.after or change.before or {})["user_id"]
        wanted = frozenset(change.after["tasks"]) if change.after else None
        if live.get(user_id) != wanted:
            got = sorted(live[user_id]) if user_id in live else "not assigned"
            detail = f"read back {got}, expected {sorted(wanted) if wanted else 'not assigned'}"
            result.results.append(ChangeResult(account.account, change.key, change.action, FAILED, detail))
