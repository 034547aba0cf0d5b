"""Pure decisions: which action for which key, given desired and live state.

Explicit rules decide the action; the diff's details are only for display. Meta's rules that a
plan must respect (graph-api-facts.md section 7) are decided here: an approved template's
(name, language) cannot be deleted and created again for 30 days, its category cannot be edited,
templates in review cannot be edited, disabled ones cannot be deleted, and a category Meta chose
itself is not a change to fight over.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from ..ledger import HOUR, AccountLedger, lock_key
from ..model import EDITABLE, IN_REVIEW, DesiredAccount, LiveAccount, LiveTemplate, Template, User, read_back_settings_differ
from .plan import AccountFailure, AccountPlan, Action, Change, Limits, Plan, Usage


def assemble(accounts: Sequence[AccountPlan], moments: Sequence[dt.datetime], failures: tuple[AccountFailure, ...] = ()) -> Plan:
    """The plan of accounts planned one by one (each as soon as it was read, its live state then
    dropped), made at the latest of the Graph API's times they were read at."""
    moment = max(moments, default=dt.datetime.now(dt.UTC))
    return Plan(accounts=tuple(accounts), created_at=moment.isoformat(timespec="seconds"), failures=failures)


def plan_account(desired: DesiredAccount, live: LiveAccount, ledger: AccountLedger | None = None) -> AccountPlan:
    """Steps: decide each template and user; then fit the result into Meta's limits over time."""
    ledger = ledger or AccountLedger()
    now = live.now()
    changes: list[Change] = []
    warnings: list[str] = []
    _plan_templates(desired, live, changes, warnings, ledger)
    if desired.users is not None and live.users is not None:
        changes.extend(_plan_users(desired, live.users))
    changes = _respect_locks_and_edit_quota(changes, ledger, now)
    changes = _creation_waves(changes, ledger, now, desired.settings.creates_per_hour)
    return AccountPlan(
        account=desired.name,
        waba_id=desired.waba_id,
        business_id=desired.business_id,
        token_env=desired.token_env,
        fingerprint=live.fingerprint(frozenset(c.key for c in changes)),
        changes=tuple(changes),
        manages_users=live.users is not None,
        token_user=live.token_user,
        warnings=tuple(warnings),
        usage=_usage(desired, live, changes),
        limits=Limits.of(desired.settings),
        statuses={t.key: t.status for t in live.templates if t.key in {c.key for c in changes}},
        live_templates=len(live.templates),
        unmanaged=_unmanaged(desired, live, changes),
        app_id=desired.app_id,
    )


def _unmanaged(desired: DesiredAccount, live: LiveAccount, changes: list[Change]) -> tuple[str, ...]:
    """Live objects the config does not declare and the plan leaves alone: every template
    language, and the users of an account that declares users."""
    acted_on = {c.key for c in changes}
    declared = {t.key for t in desired.templates}
    keys = [t.key for t in live.templates if t.key not in declared]
    if desired.users is not None and live.users is not None:
        wanted = {u.key for u in desired.users}
        keys += [u.key for u in live.users if u.key not in wanted]
    return tuple(key for key in keys if key not in acted_on)


# --- templates -----------------------------------------------------------------------------


def _plan_templates(desired: DesiredAccount, live: LiveAccount, changes: list[Change], warnings: list[str],
                    ledger: AccountLedger) -> None:
    live_by_key = {t.key: t for t in live.templates}
    desired_by_key = {t.key: t for t in desired.templates}
    for key, wanted in desired_by_key.items():
        current = live_by_key.get(key)
        if current is None:
            changes.append(Change(desired.name, key, Action.CREATE, None, wanted))
        else:
            change = _changed(desired, wanted, current, warnings, ledger)
            if change is not None:
                changes.append(change)
    for key, current in live_by_key.items():
        if key in desired_by_key or not desired.settings.prune_templates:
            continue
        name = current.template.name
        if name in desired.settings.protect:
            continue
        if current.status == "DISABLED":
            changes.append(Change(desired.name, key, Action.BLOCKED, current, None,
                                  reason="DISABLED templates cannot be deleted (Meta refuses); it stays until Meta removes it"))
        else:
            changes.append(Change(desired.name, key, Action.DELETE, current, None))


def _changed(desired: DesiredAccount, wanted: Template, current: LiveTemplate, warnings: list[str],
             ledger: AccountLedger) -> Change | None:
    """The change for a key that exists on both sides, or None (with warnings where due). The
    ledger tells what live state cannot: the category Meta gave it at create, and which header
    files were uploaded for it."""
    key = wanted.key
    lock = lock_key(wanted.name, wanted.language)
    if recategorised_by_meta(wanted.category, current, ledger.recategorised.get(lock)):
        warnings.append(
            f"{key}: Meta approved it as {current.template.category} (declared {wanted.category}); "
            "wabactl leaves the category as Meta set it. Declare the new category, or ask Meta for a review."
        )
        wanted = _with_category(wanted, current.template.category)
    if wanted.ttl is None and current.template.ttl is not None:
        wanted = dataclasses.replace(wanted, ttl=current.template.ttl)  # not declared: Meta's default stands
    same_content = wanted.content() == current.template.content()
    unread_changed = _unread_changed(key, wanted, ledger.media.get(lock), warnings)
    otp_changed = read_back_settings_differ(wanted, current.template)  # OTP text or apps, the Flow's id
    if same_content and not unread_changed and not otp_changed:
        _status_warnings(key, current, warnings)
        return None
    change = _change_for(desired, wanted, current, warnings)
    if change is not None and same_content and change.action in (Action.EDIT, Action.REPLACE):
        return dataclasses.replace(change, reason=OTP_CHANGED if otp_changed and not unread_changed else UNREAD_CHANGED)
    return change


# Why a change whose compared content is the same.
UNREAD_CHANGED = "header file or library inputs changed since wabactl last sent them"
OTP_CHANGED = "a button setting Meta reads back differs: the OTP button's text or apps, or the Flow's id"


def _change_for(desired: DesiredAccount, wanted: Template, current: LiveTemplate, warnings: list[str]) -> Change | None:
    """The change for a key whose declaration differs from what is live (or was last sent)."""
    account = desired.name
    key = wanted.key
    if current.status in IN_REVIEW:
        warnings.append(f"{key}: in review ({current.status}); changes wait until Meta has decided")
        return None
    before, after = current, wanted
    if wanted.name in desired.settings.protect:
        return Change(account, key, Action.BLOCKED, before, after,
                      reason=f"{wanted.name} is protected; remove it from protect to change it")
    on_change = desired.on_change_for(wanted.name)
    library = wanted.library or current.template.library
    if on_change == "edit" and library and not _only_ttl(wanted, current):
        # Meta writes a library template's text: other inputs make it again; only the TTL is edited.
        if current.status == "APPROVED":
            return Change(account, key, Action.BLOCKED, before, after,
                          reason="a template from Meta's library is made again to change its library name or inputs, and replacing "
                                 f"an APPROVED template locks its name for 30 days; declare it under a new name (e.g. {wanted.name}_v2)")
        on_change = "replace"
    if current.status == "DISABLED":
        return Change(account, key, Action.BLOCKED, before, after,
                      reason="DISABLED templates cannot be edited or deleted; declare the content under a new name")
    if on_change == "forbid":
        return Change(account, key, Action.BLOCKED, before, after,
                      reason="on_change is forbid; rename it (a new template) or set on_change to edit or replace")
    category_changed = wanted.category != current.template.category
    if current.status == "APPROVED" and category_changed:
        return Change(account, key, Action.BLOCKED, before, after,
                      reason=f"the category of an APPROVED template cannot change ({current.template.category} -> "
                             f"{wanted.category}); declare it under a new name, e.g. {wanted.name}_v2")
    if on_change == "edit":
        if current.status not in EDITABLE:
            return Change(account, key, Action.BLOCKED, before, after,
                          reason=f"a template in status {current.status} cannot be edited")
        return Change(account, key, Action.EDIT, before, after)
    if current.status == "APPROVED":
        return Change(account, key, Action.BLOCKED, before, after,
                      reason="replacing an APPROVED template would lock its name and language for 30 days "
                             f"(Meta refuses the create); rename it (e.g. {wanted.name}_v2) or set on_change: edit")
    return Change(account, key, Action.REPLACE, before, after)


def _only_ttl(wanted: Template, current: LiveTemplate) -> bool:
    """Whether the declaration differs from the live template in its TTL alone."""
    return wanted.ttl != current.template.ttl and dataclasses.replace(wanted, ttl=current.template.ttl).content() == current.template.content()


def _unread_changed(key: str, wanted: Template, uploaded: str | None, warnings: list[str]) -> bool:
    """Whether the header files differ from those wabactl last uploaded for the template. Without
    a record (made elsewhere, or before wabactl uploaded files) nothing can be compared: the plan
    says so instead of showing a change that may not be one."""
    digest = wanted.unread_digest
    if digest is None:
        return False
    if uploaded is None:
        warnings.append(f"{key}: its header media (or library inputs) cannot be compared: Meta does not read them back and "
                        "wabactl has no record of sending them; assumed unchanged. A change to the template sends them and records it")
        return False
    return uploaded != digest


def recategorised_by_meta(declared: str, current: LiveTemplate, noted: tuple[str, str] | None = None) -> bool:
    """Whether Meta itself moved the template from the ``declared`` category to its live one: it
    says so (``previous_category``, ``correct_category``), or the ledger saw it happen at create
    (``noted``: declared, given)."""
    live_category = current.template.category
    if declared == live_category:
        return False
    return noted == (declared, live_category) or current.previous_category == declared or (
        current.correct_category is not None and current.correct_category == live_category
    )


def _with_category(template: Template, category: str) -> Template:
    return dataclasses.replace(template, category=category)


def _status_warnings(key: str, current: LiveTemplate, warnings: list[str]) -> None:
    if current.status in IN_REVIEW:
        warnings.append(f"{key}: in review ({current.status}); no action until Meta decides")
    elif current.status == "REJECTED":
        reason = current.rejected_reason or "no reason given"
        warnings.append(f"{key}: REJECTED ({reason}); sending the same content again would be rejected again")
    elif current.status == "PAUSED":
        warnings.append(f"{key}: PAUSED by Meta for low quality; it cannot be sent until its quality recovers or it is edited")
    elif current.status == "DISABLED":
        warnings.append(f"{key}: DISABLED by Meta; it cannot be sent, edited or deleted")


# --- users ---------------------------------------------------------------------------------


def _plan_users(desired: DesiredAccount, live_users: tuple[User, ...]) -> list[Change]:
    assert desired.users is not None
    live_by_id = {u.user_id: u for u in live_users}
    changes = []
    for user in desired.users:
        current = live_by_id.get(user.user_id)
        if current is None:
            changes.append(Change(desired.name, user.key, Action.CREATE, None, user))
        elif current.tasks != user.tasks:
            changes.append(Change(desired.name, user.key, Action.UPDATE, current, user))
    if desired.settings.prune_users:
        wanted = {u.user_id for u in desired.users}
        for user_id, current in live_by_id.items():
            if user_id not in wanted:
                changes.append(Change(desired.name, current.key, Action.DELETE, current, None))
    return changes


# --- Meta's limits over time ---------------------------------------------------------------


def _respect_locks_and_edit_quota(changes: list[Change], ledger: AccountLedger, now: dt.datetime) -> list[Change]:
    """Creates of a name wabactl locked by deleting it are deferred until the lock ends; edits of
    approved templates past their quota are deferred until the quota allows them."""
    out = []
    for change in changes:
        wanted, current = change.after, change.before
        if change.action is Action.CREATE and isinstance(wanted, Template):
            until = ledger.lock_until(lock_key(wanted.name, wanted.language), now)
            if until is not None:  # waits on time, not on a person: a later run creates it
                change = dataclasses.replace(
                    change, action=Action.DEFERRED, not_before=_seconds(until),
                    reason=f"name locked until {_when(until)}: wabactl deleted this APPROVED template and Meta "
                           f"refuses to create it again before then; wait, or rename it (e.g. {wanted.name}_v2)",
                )
        elif change.action is Action.EDIT and isinstance(current, LiveTemplate) and current.status == "APPROVED":
            ready = ledger.next_edit(current.id, now)
            if ready > now:
                change = dataclasses.replace(
                    change, action=Action.DEFERRED, not_before=_seconds(ready),
                    reason="edit quota of approved templates spent (1 per 24 hours, 10 per 30 days)",
                )
        out.append(change)
    return out


def _creation_waves(changes: list[Change], ledger: AccountLedger, now: dt.datetime, per_hour: int) -> list[Change]:
    """Give each create the earliest time the rolling hourly budget allows, grouped in waves."""
    stamps = ledger.recent_creations(now)
    throttled = ledger.throttle_until(now) or now
    creates = sorted((c for c in changes if c.creates), key=lambda c: c.key)
    timed: dict[str, Change] = {}
    waves: list[dt.datetime] = []
    for change in creates:
        slot = max(now, throttled)
        window = [t for t in stamps if slot - HOUR < t]
        if len(window) >= per_hour:
            slot = max(slot, window[len(window) - per_hour] + HOUR)
        stamps.append(slot)
        if not waves or waves[-1] != slot:
            waves.append(slot)
        later = slot > now
        timed[change.key] = dataclasses.replace(change, wave=len(waves), not_before=_seconds(slot) if later else None)
    return [timed.get(c.key, c) if c.creates else c for c in changes]


def _seconds(moment: dt.datetime) -> dt.datetime:
    """Whole seconds: a plan names times as people read them, and its file keeps them exactly."""
    return moment.replace(microsecond=0)


def _when(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


# --- usage of limits -----------------------------------------------------------------------


def _usage(desired: DesiredAccount, live: LiveAccount, changes: list[Change]) -> Usage:
    """Template count now and after apply, by the rule Meta's summary shows or the configured one."""
    settings = desired.settings
    rows = {t.key: t.template.name for t in live.templates}
    count_by = settings.count_by
    if live.template_count is not None and len(set(rows.values())) != len(rows):
        # Meta's count tells its own rule: equal to the names, or to the languages.
        if live.template_count == len(set(rows.values())):
            count_by = "name"
        elif live.template_count == len(rows):
            count_by = "translation"
    removed = {c.key for c in changes if c.kind == "template" and c.action is Action.DELETE}
    added = {c.key: c.after.name for c in changes if c.action is Action.CREATE and isinstance(c.after, Template)}
    after_rows = {k: v for k, v in rows.items() if k not in removed} | added

    def count(mapping: dict[str, str]) -> int:
        return len(mapping) if count_by == "translation" else len(set(mapping.values()))

    computed_now = count(rows)
    now = live.template_count if live.template_count is not None else computed_now
    return Usage(
        templates_now=now,
        templates_after=now + count(after_rows) - computed_now,
        template_limit=live.template_limit or settings.max_templates,
        counted_by=count_by,
    )
