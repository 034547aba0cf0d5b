"""Executes a plan exactly: in the plan's order, one change at a time, a result for each.

Each account is applied on its own: a failure stops the rest of that account's changes (they are
reported not attempted) and never the other accounts. A write that failed transiently has been
tried again by the Graph client, each time after a read-back showed it had not happened; what
reaches the applier as a failure is final (failed), or unknowable (uncertain: neither the answer
nor a read-back came). Meta's limits are not failures:
- a create refused because the hourly creation budget is spent (a rate-limit code) defers it and
  every create after it, without another call; with ``wait``, apply waits until the window
  reopens (Meta's estimate, else the ledger's) and goes on. The ledger's prediction alone never
  skips a create: the Graph API is the source of truth, and one refused call is cheap;
- a create refused because the name is locked after a deletion is deferred until the lock ends;
- an edit refused by the edit quota or the template's status is deferred.
Which Graph answer is which is decided by ``GraphError``. Every write is recorded in the ledger,
so the next plan can predict these limits.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from ..desired import media
from ..errors import GraphError, GraphTransportError
from ..graph import uploads, waba
from ..graph.client import GraphClient
from ..graph.slots import Slots
from ..ledger import LOCK_DAYS, AccountLedger, Ledger, lock_key
from ..model import EDITABLE, IN_REVIEW, LiveTemplate, Template, User
from ..planning.plan import AccountPlan, Action, Change, Plan
from .result import ApplyResult, ChangeResult, Outcome

Value = TypeVar("Value")
UNDER_WAY = 4  # accounts under way per write slot
Progress = Callable[[int, int, ChangeResult], None]
Waiting = Callable[[float, dt.datetime], None]  # seconds left, until when


@dataclass(frozen=True)
class Options:
    wait: bool = False  # wait for the creation window instead of deferring
    poll_seconds: float = 15.0
    progress: Progress | None = None
    waiting: Waiting | None = None
    recorded: Callable[[], None] | None = None  # the ledger changed: keep it (a run may be killed any moment)
    parallelism: int = 1  # writes at once, accounts interleaved; within an account, changes stay in plan order
    app_id: str | None = None  # the app that uploads header files where the plan names none (WABACTL_APP_ID)


def apply_plan(plan: Plan, clients: Mapping[str, GraphClient], ledger: Ledger | None = None,
               options: Options | None = None) -> ApplyResult:
    run = _Run(plan, clients, ledger or Ledger(None), options or Options())
    if run.options.parallelism <= 1 or len(plan.accounts) <= 1:
        for account in plan.accounts:
            run.account(account)
    else:
        # Each account has its own creation budget and ledger entry, so accounts can go at once;
        # what they share (the ledger file, the result, the progress count) is kept under one lock.
        # More accounts are under way than there are slots for writes: each write waits its turn
        # (``Slots`` is first come, first served), so 20 accounts on 8 slots interleave write by
        # write instead of going in waves of 8, 8 and 4 whole accounts.
        pool = ThreadPoolExecutor(max_workers=min(len(plan.accounts), run.options.parallelism * UNDER_WAY))
        try:
            list(pool.map(run.account, plan.accounts))
        except BaseException:  # Ctrl-C: accounts stop at their next change, none starts anew
            run.interrupted.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown()
    order = {account.account: index for index, account in enumerate(plan.accounts)}
    run.result.results.sort(key=lambda r: order.get(r.account, len(order)))  # stable: each account's own order stays
    return run.result


class _Run:
    """One apply: walks the accounts in plan order, keeping the count for progress."""

    def __init__(self, plan: Plan, clients: Mapping[str, GraphClient], ledger: Ledger, options: Options) -> None:
        self.clients = clients
        self.ledger = ledger
        self.options = options
        self.result = ApplyResult()
        self.total = sum(1 for c in plan.changes if c.action.executes)
        self.done = 0
        self.lock = threading.RLock()
        self.interrupted = threading.Event()  # set on Ctrl-C: no account goes on to its next change
        self.slots = Slots(max(1, options.parallelism))  # writes in flight, with their read-backs

    def account(self, account: AccountPlan) -> None:
        client = self.clients[account.account]
        book = self.ledger.account(account.waba_id)
        creates_deferred = False
        stopped = False
        for change in account.changes:
            if not change.action.executes:
                self._keep(change)
                continue
            if stopped or self.interrupted.is_set():
                outcome = _result(change, Outcome.NOT_ATTEMPTED)
            elif change.creates and creates_deferred:
                outcome = _result(change, Outcome.DEFERRED, "creation budget spent")
            else:
                outcome = self._attempt(client, account, book, change)
                creates_deferred = creates_deferred or (outcome.outcome is Outcome.DEFERRED and change.creates)
                stopped = outcome.outcome in (Outcome.FAILED, Outcome.UNCERTAIN)
            with self.lock:
                self.result.results.append(outcome)
                self.done += 1
                if self.options.progress is not None:
                    self.options.progress(self.done, self.total, outcome)
        if not stopped and account.business_id and any(c.kind == "user" and c.action.executes for c in account.changes):
            checked = ApplyResult()
            with self.slots:
                _verify_users(client, account, checked)
            with self.lock:
                self.result.results.extend(checked.results)

    def _keep(self, change: Change) -> None:
        """A change the plan did not let happen: reported as the plan said, never attempted."""
        deferred = change.action is Action.DEFERRED
        outcome = _result(change, Outcome.DEFERRED if deferred else Outcome.BLOCKED, change.reason)
        with self.lock:
            self.result.results.append(dataclasses.replace(outcome, not_before=change.not_before))
            if deferred and change.not_before:
                self.result.later(change.not_before)

    def _attempt(self, client: GraphClient, account: AccountPlan, book: AccountLedger, change: Change) -> ChangeResult:
        outcome = self._try(client, account, book, change)
        return dataclasses.replace(outcome, at=client.server_now())

    def _try(self, client: GraphClient, account: AccountPlan, book: AccountLedger, change: Change) -> ChangeResult:
        while True:
            try:
                # Recorded before the write, so that a run killed mid-write loses no record; taken
                # back when Meta refuses. A lost answer keeps it: the write may well have happened.
                # Recorded before waiting for a slot: the ledger's write (whole, under the run's
                # lock) then holds no slot that another account's write could use.
                undo = self._ledger(functools.partial(_record, client, book, change))
                with self.slots:
                    if self.interrupted.is_set():  # Ctrl-C while this write waited for its turn: nothing is sent
                        self._ledger(undo)
                        return _result(change, Outcome.NOT_ATTEMPTED)
                    template_id, given = _execute(client, account, change, account.app_id or self.options.app_id)
            except GraphTransportError as error:
                return _result(change, Outcome.UNCERTAIN, str(error))
            except GraphError as error:
                self._ledger(undo)
                now = client.server_now()
                if error.rate_limited and change.creates:
                    until = _regained(error, book, now, account.limits.creates_per_hour)
                    self._ledger(functools.partial(book.throttled, until))
                    if self.options.wait:
                        try:
                            self._wait_until(client, until)
                        except GraphError as waited:
                            return _result(change, Outcome.FAILED, f"while waiting for the creation window: {waited}")
                        continue
                    self._later(until)
                    return _result(change, Outcome.DEFERRED, f"creation budget spent (Meta: code {error.code})", error=error, not_before=until)
                if error.name_locked and change.creates and isinstance(change.after, Template):
                    key = lock_key(change.after.name, change.after.language)
                    until = book.lock_until(key, now) or now + LOCK_DAYS
                    self._ledger(functools.partial(book.locked, key, until))
                    self._later(until)
                    return _result(change, Outcome.DEFERRED, f"name locked by a recent deletion until about {until:%Y-%m-%d} "
                                   "(or rename it)", error=error, not_before=until)
                if error.edit_refused and change.action is Action.EDIT:
                    return self._edit_refused(client, account, book, change, error)
                return _result(change, Outcome.FAILED, str(error), error=error)
            detail = None
            # The ledger is written (whole) only when a record changes: most writes change none.
            if isinstance(change.after, Template) and change.action in (Action.CREATE, Action.REPLACE, Action.EDIT):
                template = change.after
                key = lock_key(template.name, template.language)
                if book.media.get(key) != template.unread_digest:
                    self._ledger(functools.partial(book.uploaded, key, template.unread_digest))
                moved = given is not None and given != template.category
                if given is not None and (moved or key in book.recategorised):
                    self._ledger(functools.partial(book.created_as, key, template.category, given))
            elif change.action is Action.DELETE and isinstance(change.before, LiveTemplate):
                key = lock_key(change.before.template.name, change.before.template.language)
                if key in book.media or key in book.recategorised:
                    self._ledger(functools.partial(book.forget, key))
            if given is not None and isinstance(change.after, Template):
                template = change.after
                if given != template.category:
                    detail = f"Meta created it as {given} (declared {template.category}); the next plan leaves that category alone"
            return _result(change, Outcome.APPLIED, detail, template_id=template_id)

    def _edit_refused(self, client: GraphClient, account: AccountPlan, book: AccountLedger, change: Change,
                      error: GraphError) -> ChangeResult:
        """Meta answers both a spent edit quota (wait) and a status that allows no edit (not now,
        not later) with the same code and subcode; only its words differ, and wabactl does not read
        words. The template's status now tells them apart: one that cannot be edited is blocked;
        an APPROVED one has spent its quota and is deferred to the ledger's next edit slot (a day
        after the last edit it knows of, else a day from now)."""
        current = change.before
        assert isinstance(current, LiveTemplate)
        try:
            found = waba.find_template(client, account.waba_id, current.template.name, current.template.language)
        except GraphError:
            found = None
        status = found.status if found is not None else current.status
        if status not in EDITABLE:
            wait = " until Meta has decided; plan again then" if status in IN_REVIEW else ""
            return _result(change, Outcome.BLOCKED, f"Meta refuses edits while the template is {status}{wait}", error=error)
        if status != "APPROVED":
            return _result(change, Outcome.DEFERRED, f"Meta refused the edit of a {status} template (code {error.code}, "
                           f"subcode {error.subcode}); try again later", error=error)
        now = client.server_now()
        slot = book.next_edit(current.id, now)
        until = slot if slot > now else now + dt.timedelta(days=1)
        self._later(until)
        return _result(change, Outcome.DEFERRED, f"the edit quota of this approved template is spent until about {until:%Y-%m-%d %H:%M} UTC",
                       error=error, not_before=until)

    def _ledger(self, change_it: Callable[[], Value]) -> Value:
        """Change the ledger and keep it, under the run's lock: accounts applied at once share
        the ledger file, which is written whole each time."""
        with self.lock:
            value = change_it()
            if self.options.recorded is not None:
                self.options.recorded()
            return value

    def _later(self, moment: dt.datetime) -> None:
        with self.lock:
            self.result.later(moment)

    def _wait_until(self, client: GraphClient, until: dt.datetime) -> None:
        """Sleep until the API's clock reaches ``until``, re-reading that clock as it goes."""
        while True:
            left = (until - client.server_now()).total_seconds()
            if left <= 0:
                return
            if self.options.waiting is not None:
                self.options.waiting(left, until)
            if self.interrupted.wait(min(left, self.options.poll_seconds)):
                raise KeyboardInterrupt  # the run was interrupted while this account waited
            client.get("me", {"fields": "id"})  # refreshes the server time from its Date header


def _regained(error: GraphError, book: AccountLedger, now: dt.datetime, per_hour: int) -> dt.datetime:
    """When creating may go on: Meta's estimate, else the ledger's, else an hour from now."""
    minutes = error.regain_minutes
    until = now + dt.timedelta(minutes=minutes) if minutes else book.next_create_slot(now, per_hour)
    return until if until > now else now + dt.timedelta(hours=1)


def _result(change: Change, outcome: Outcome, detail: str | None = None, template_id: str | None = None,
            error: GraphError | None = None, not_before: dt.datetime | None = None) -> ChangeResult:
    return ChangeResult(change.account, change.key, change.action, outcome, detail, template_id, not_before=not_before,
                        error_code=error.code if error else None, error_subcode=error.subcode if error else None)


def _record(client: GraphClient, book: AccountLedger, change: Change) -> Callable[[], None]:
    """Record what the next plan needs to predict Meta's limits (creations, edits, the locks deletes
    cause); returns how to take back what a refusal shows did not happen. A lock stays: the delete
    of a replace may have happened though its create was refused."""
    now = client.server_now()
    current = change.before
    taken_back: list[Callable[[], None]] = []
    if isinstance(current, LiveTemplate) and current.status == "APPROVED":
        if change.action in (Action.DELETE, Action.REPLACE):
            book.locked(lock_key(current.template.name, current.template.language), now + LOCK_DAYS)
        if change.action is Action.EDIT:
            book.edited(current.id, now)
            taken_back.append(lambda: book.edits[current.id].remove(now))
    if change.creates:
        book.created(now)
        taken_back.append(lambda: book.creations.remove(now))

    def undo() -> None:
        for step in taken_back:
            step()

    return undo


def _execute(client: GraphClient, account: AccountPlan, change: Change, app_id: str | None) -> tuple[str | None, str | None]:
    """One change, through the Graph calls its action needs: the template id it touched, and the
    category Meta gave a template it created. Header files are uploaded first, once per apply of
    the change, and their handles sent in their place."""
    current, wanted, waba_id = change.before, change.after, account.waba_id
    if isinstance(wanted, Template) and wanted.unread_digest is not None:
        wanted = _uploaded(client, wanted, app_id)
    if isinstance(wanted, User):
        waba.assign_user(client, waba_id, account.business_id, wanted)
        return None, None
    if isinstance(current, User):
        waba.unassign_user(client, waba_id, account.business_id, current.user_id)
        return None, None
    if change.action in (Action.DELETE, Action.REPLACE) and isinstance(current, LiveTemplate):
        waba.delete_template(client, waba_id, current)
    if change.action in (Action.CREATE, Action.REPLACE) and isinstance(wanted, Template):
        created = waba.create_template(client, waba_id, wanted)
        return created.id, created.category
    if change.action is Action.EDIT and isinstance(current, LiveTemplate) and isinstance(wanted, Template):
        waba.edit_template(client, waba_id, current, wanted)
        return current.id, None
    return None, None


def _uploaded(client: GraphClient, template: Template, app_id: str | None) -> Template:
    """The template with each header file replaced by the handle of its upload. A file that
    changed since the plan was made is refused: the plan showed other bytes."""
    files = media.files_of(template.components)
    if app_id is None:
        raise GraphError("POST", "/{app-id}/uploads", None, message=f"{template.key} has a header_file to upload and no app names where: "
                         "set app_id in the config or the environment variable WABACTL_APP_ID")
    handles = {}
    for found in files:
        now = media.current_sha256(found.path)
        if now != found.sha256:
            raise GraphError("POST", f"/{app_id}/uploads", None, message=f"header_file {found.path} changed since the plan was made "
                             f"({'it is gone' if now is None else 'other bytes'}); nothing was uploaded. Run plan again")
        try:
            handles[found.sha256] = uploads.upload_file(client, app_id, found.path, found.mime)
        except GraphError as error:  # the template write never went out: a failure, not an uncertainty
            said = error.user_message or error.message or "no message"
            raise GraphError(error.method, error.path, error.status, error.code, error.subcode,
                             f"uploading header_file {found.path} failed: {said}", fbtrace_id=error.fbtrace_id) from None
    return dataclasses.replace(template, components=tuple(media.with_handles(template.components, handles)))


def _verify_users(client: GraphClient, account: AccountPlan, result: ApplyResult) -> None:
    """Meta may merge rather than replace task sets: read back and compare with the plan."""
    assert account.business_id is not None
    try:
        live = {u.user_id: u.tasks for u in waba.fetch_users(client, account.waba_id, account.business_id)}
    except GraphError as error:
        for change in account.changes:
            if change.kind == "user" and change.action.executes:
                result.results.append(_result(change, Outcome.UNCERTAIN, f"could not read the users back: {error}", error=error))
        return
    for change in account.changes:
        if change.kind != "user" or not change.action.executes:
            continue
        user = change.after or change.before
        assert isinstance(user, User)
        wanted = change.after.tasks if isinstance(change.after, User) else None
        if live.get(user.user_id) != wanted:
            got = sorted(live[user.user_id]) if user.user_id in live else "not assigned"
            detail = f"read back {got}, expected {sorted(wanted) if wanted else 'not assigned'}"
            result.results.append(_result(change, Outcome.FAILED, detail))
