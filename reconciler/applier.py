"""Executes a plan exactly: in the plan's order, one change at a time, a result for each.

It stops at the first failure and says what was applied, what failed (or is uncertain: a write
whose answer never came) and what was not attempted. Meta's limits are not failures:
- a create refused because the hourly creation budget is spent (a rate-limit code) defers it and
  every create after it, without another call; with ``wait``, apply waits until the window
  reopens (Meta's estimate, else the ledger's) and goes on. The ledger's prediction alone never
  skips a create: the Graph API is the source of truth, and one refused call is cheap;
- a create refused because the name is locked after a deletion (100/2388023) is blocked, with
  the date the lock ends;
- an edit refused by the edit quota or the template's status (100/2388039) is deferred.
Every write is recorded in the ledger, so the next plan can predict these limits.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .errors import GraphError, GraphTransportError, StalePlanError
from .graph import waba
from .graph.client import GraphClient
from .ledger import LOCK_DAYS, AccountLedger, Ledger
from .model import Template
from .plan import AccountPlan, Action, Change, Plan
from .planner import lock_key

APPLIED, FAILED, UNCERTAIN, NOT_ATTEMPTED, DEFERRED, BLOCKED, SKIPPED = (
    "applied", "failed", "uncertain", "not attempted", "deferred", "blocked", "skipped")
LANGUAGE_BEING_DELETED = 2388023
STATUS_CANNOT_CHANGE = 2388039


@dataclass(frozen=True)
class ChangeResult:
    account: str
    key: str
    action: Action
    outcome: str
    detail: str | None = None
    template_id: str | None = None  # of a created or edited template, for --wait-for-review


@dataclass
class ApplyResult:
    results: list[ChangeResult] = field(default_factory=list)
    retry_at: dt.datetime | None = None  # when deferred creates may run

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def stopped(self) -> bool:
        return self.count(FAILED) + self.count(UNCERTAIN) > 0

    @property
    def deferred(self) -> bool:
        return self.count(DEFERRED) + self.count(BLOCKED) > 0

    def later(self, moment: dt.datetime) -> None:
        self.retry_at = moment if self.retry_at is None else min(self.retry_at, moment)


Progress = Callable[[int, int, ChangeResult], None]
Waiting = Callable[[float, dt.datetime], None]  # seconds left, until when


@dataclass(frozen=True)
class Options:
    wait: bool = False  # wait for the creation window instead of deferring
    poll_seconds: float = 15.0
    progress: Progress | None = None
    waiting: Waiting | None = None


def refuse_if_stale(plan: Plan, fingerprints: Mapping[str, str]) -> None:
    moved = [a.account for a in plan.accounts if fingerprints.get(a.account) != a.fingerprint]
    if moved:
        raise StalePlanError(
            f"live state changed since the plan was made (account{'s' if len(moved) > 1 else ''}: "
            f"{', '.join(moved)}); nothing was applied. Run plan again."
        )


def apply_plan(plan: Plan, clients: Mapping[str, GraphClient], ledger: Ledger | None = None,
               options: Options | None = None) -> ApplyResult:
    ledger = ledger or Ledger(None)
    run = _Run(plan, clients, ledger, options or Options())
    run.all()
    return run.result


class _Run:
    """One apply: walks the accounts in plan order, keeping the count for progress."""

    def __init__(self, plan: Plan, clients: Mapping[str, GraphClient], ledger: Ledger, options: Options) -> None:
        self.plan = plan
        self.clients = clients
        self.ledger = ledger
        self.options = options
        self.result = ApplyResult()
        self.total = sum(1 for c in plan.changes if c.action.executes)
        self.done = 0
        self.stop = False

    def all(self) -> None:
        for account in self.plan.accounts:
            self.account(account)

    def account(self, account: AccountPlan) -> None:
        client = self.clients[account.account]
        book = self.ledger.account(account.waba_id)
        per_hour = int(account.usage.get("creates_per_hour", 100))
        creates_deferred = False
        for change in account.changes:
            if not change.action.executes:
                kept = DEFERRED if change.action is Action.DEFERRED else SKIPPED
                self.result.results.append(ChangeResult(account.account, change.key, change.action, kept, change.reason))
                if change.action is Action.DEFERRED and change.not_before:
                    self.result.later(dt.datetime.fromisoformat(change.not_before))
                continue
            if self.stop:
                outcome = ChangeResult(account.account, change.key, change.action, NOT_ATTEMPTED)
            elif _creates(change) and creates_deferred:
                outcome = ChangeResult(account.account, change.key, change.action, DEFERRED, "creation budget spent")
            else:
                outcome = self._attempt(client, account, book, change, per_hour)
                creates_deferred = creates_deferred or (outcome.outcome == DEFERRED and _creates(change))
                self.stop = outcome.outcome in (FAILED, UNCERTAIN)
            self.result.results.append(outcome)
            self.done += 1
            if self.options.progress is not None:
                self.options.progress(self.done, self.total, outcome)
        if not self.stop and account.business_id and any(c.kind == "user" and c.action.executes for c in account.changes):
            _verify_users(client, account, self.result)
            self.stop = self.result.stopped

    def _attempt(self, client: GraphClient, account: AccountPlan, book: AccountLedger, change: Change,
                 per_hour: int) -> ChangeResult:
        while True:
            try:
                template_id = _execute(client, account, change)
            except GraphTransportError as error:
                return self._outcome(account, change, UNCERTAIN, str(error))
            except GraphError as error:
                now = client.server_now()
                if error.rate_limited and _creates(change):
                    minutes = error.regain_minutes()
                    until = now + dt.timedelta(minutes=minutes) if minutes else book.next_create_slot(now, per_hour)
                    if until <= now:
                        until = now + dt.timedelta(hours=1)  # Meta gave no estimate and the ledger knows none
                    book.throttled(until)
                    if self.options.wait:
                        self._wait_until(client, until)
                        continue
                    self.result.later(until)
                    return self._outcome(account, change, DEFERRED, f"creation budget spent (Meta: code {error.code})")
                if error.code == 100 and error.subcode == LANGUAGE_BEING_DELETED and _creates(change):
                    key = lock_key(change.after["name"], change.after["language"])  # type: ignore[index]
                    until = book.lock_until(key, now) or now + LOCK_DAYS
                    book.locked(key, until)
                    return self._outcome(account, change, BLOCKED,
                                         f"name locked by a recent deletion until about {until:%Y-%m-%d}; rename it")
                if error.code == 100 and error.subcode == STATUS_CANNOT_CHANGE and change.action is Action.EDIT:
                    return self._outcome(account, change, DEFERRED, "Meta refused the edit now (edit quota or review status)")
                return self._outcome(account, change, FAILED, str(error))
            self._record(client, book, change, template_id)
            return self._outcome(account, change, APPLIED, template_id=template_id)

    def _record(self, client: GraphClient, book: AccountLedger, change: Change, template_id: str | None) -> None:
        now = client.server_now()
        if change.kind != "template":
            return
        before = change.before or {}
        if change.action in (Action.DELETE, Action.REPLACE) and before.get("status") == "APPROVED":
            book.locked(lock_key(before["name"], before["language"]), now + LOCK_DAYS)
        if _creates(change):
            book.created(now)
        if change.action is Action.EDIT and before.get("status") == "APPROVED":
            book.edited(before["id"], now)

    def _wait_until(self, client: GraphClient, until: dt.datetime) -> None:
        """Sleep until the API's clock reaches ``until``, re-reading that clock as it goes."""
        while True:
            left = (until - client.server_now()).total_seconds()
            if left <= 0:
                return
            if self.options.waiting is not None:
                self.options.waiting(left, until)
            time.sleep(min(left, self.options.poll_seconds))
            client.get("me", {"fields": "id"})  # refreshes the server time from its Date header

    def _outcome(self, account: AccountPlan, change: Change, outcome: str, detail: str | None = None,
                 template_id: str | None = None) -> ChangeResult:
        return ChangeResult(account.account, change.key, change.action, outcome, detail, template_id)


def _creates(change: Change) -> bool:
    return change.kind == "template" and change.action in (Action.CREATE, Action.REPLACE)


def _execute(client: GraphClient, account: AccountPlan, change: Change) -> str | None:
    """One change, through the Graph calls its action needs; the template id it touched."""
    before, after = change.before or {}, change.after or {}
    if change.kind == "user":
        if change.action is Action.DELETE:
            waba.unassign_user(client, account.waba_id, before["user_id"])
        else:
            waba.assign_user(client, account.waba_id, after["user_id"], frozenset(after["tasks"]))
        return None
    if change.action in (Action.DELETE, Action.REPLACE):
        waba.delete_template(client, account.waba_id, before["name"], before["id"])
    if change.action in (Action.CREATE, Action.REPLACE):
        return str(waba.create_template(client, account.waba_id, _template(after)).get("id") or "") or None
    if change.action is Action.EDIT:
        waba.edit_template(client, before["id"], _template(after),
                           with_category=after["category"] != before["category"],
                           with_parameter_format=after["parameter_format"] != before["parameter_format"])
        return before["id"]
    return None


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
