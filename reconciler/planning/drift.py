"""Drift: every way live state differs from the config or from health, as findings per account.

A plan says what wabactl would do; drift says what a person should know. Kinds:

    change      anything plan would do (including blocked and deferred changes)
    unmanaged   a live template language, or a user on an account that declares users, that the
                config does not declare (and plan would not delete)
    status      a declared template that is not APPROVED: in review, REJECTED, PAUSED, DISABLED,
                or pending deletion
    category    Meta recategorised a declared template (plan leaves Meta's category alone)
    quality     a declared template's quality score is YELLOW or RED (UNKNOWN is no finding)
    account     the WABA's own review status is not APPROVED

Each finding has a path ``account/kind/key`` that ignore globs match; ``summary`` is the short
fact (``PAUSED``, ``MARKETING -> UTILITY``) that is the same across accounts, so a report can say
"paused in 40 accounts" in one row.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from ..globs import matches
from ..model import IN_REVIEW, DesiredAccount, LiveAccount, LiveTemplate
from .plan import AccountFailure, AccountPlan, Change
from .planner import recategorised_by_meta

ACCOUNT_KEY = "account"  # the key of the account kind: the WABA itself
HEALTHY_QUALITY = frozenset({"GREEN", "UNKNOWN"})


class Kind(str, Enum):
    CHANGE = "change"
    UNMANAGED = "unmanaged"
    STATUS = "status"
    CATEGORY = "category"
    QUALITY = "quality"
    ACCOUNT = "account"


KINDS = tuple(kind.value for kind in Kind)


@dataclass(frozen=True)
class Finding:
    account: str
    kind: Kind
    key: str  # template.<name>[<language>], user.<id>, or "account"
    summary: str  # the short fact, the same wherever it holds: "PAUSED", "create", "MARKETING -> UTILITY"
    detail: str  # one sentence for a person
    origin: str | None = None  # the template set a declared template came from

    @property
    def path(self) -> str:
        """What ignore globs match: ``account/kind/key``."""
        return f"{self.account}/{self.kind.value}/{self.key}"


@dataclass(frozen=True)
class AccountDrift:
    account: str
    waba_id: str
    findings: tuple[Finding, ...] = ()
    ignored: int = 0  # findings an ignore rule or --ignore removed
    error: str | None = None  # the account could not be read; no findings are known


@dataclass(frozen=True)
class DriftReport:
    accounts: tuple[AccountDrift, ...]
    created_at: str  # the Graph API's time of the reads
    ignored_kinds: tuple[str, ...] = ()
    ignore_file: str | None = None  # the ignore file that was read, when there was one

    @property
    def findings(self) -> list[Finding]:
        return [f for a in self.accounts for f in a.findings]

    @property
    def failures(self) -> list[AccountDrift]:
        return [a for a in self.accounts if a.error is not None]

    @property
    def ignored(self) -> int:
        return sum(a.ignored for a in self.accounts)

    def counts(self) -> dict[Kind, int]:
        counts = {kind: 0 for kind in Kind}
        for finding in self.findings:
            counts[finding.kind] += 1
        return counts


# --- finding drift -------------------------------------------------------------------------


@dataclass(frozen=True)
class Observed:
    """One account as drift sees it: what was declared, what is live, and what plan made of it."""

    desired: DesiredAccount
    live: LiveAccount
    plan: AccountPlan


def account_findings(observed: Observed) -> list[Finding]:
    """Every finding of one account, in kind order, then by key."""
    desired, live, plan = observed.desired, observed.live, observed.plan
    found = [_change(change) for change in plan.changes]
    found += _unmanaged(desired, live, plan)
    declared = {t.key for t in desired.templates}
    wanted_category = {t.key: t.category for t in desired.templates}
    for current in live.templates:
        if current.key not in declared:
            continue
        found += _health(desired.name, current, wanted_category[current.key])
    for gone in live.deleted:
        if gone.key in declared:
            found.append(Finding(desired.name, Kind.STATUS, gone.key, gone.status,
                                 f"declared, but Meta lists it as {gone.status}"))
    status = live.review_status
    if status is not None and status != "APPROVED":
        found.append(Finding(desired.name, Kind.ACCOUNT, ACCOUNT_KEY, status,
                             f"the WABA's review status is {status}, not APPROVED: Meta may limit what it can send"))
    origins = {t.key: t.origin for t in desired.templates if t.origin}
    order = {kind: index for index, kind in enumerate(Kind)}
    return sorted((dataclasses.replace(f, origin=origins.get(f.key)) for f in found), key=lambda f: (order[f.kind], f.key))


def _change(change: Change) -> Finding:
    what = change.action.value
    detail = change.action.phrase + (f": {change.reason}" if change.reason else "")
    return Finding(change.account, Kind.CHANGE, change.key, what, detail)


def _unmanaged(desired: DesiredAccount, live: LiveAccount, plan: AccountPlan) -> list[Finding]:
    """The live objects the plan found undeclared and leaves alone, with what they are."""
    templates = {t.key: t for t in live.templates}
    users = {u.key: u for u in live.users or ()}
    found = []
    for key in plan.unmanaged:
        if key in templates:
            t = templates[key]
            found.append(Finding(desired.name, Kind.UNMANAGED, key, "template",
                                 f"live ({t.status or 'no status'}, {t.template.category}) but not in the config"))
        elif key in users:
            tasks = ", ".join(sorted(users[key].tasks)) or "no tasks"
            found.append(Finding(desired.name, Kind.UNMANAGED, key, "user", f"assigned ({tasks}) but not in the config"))
    return found


def _health(account: str, current: LiveTemplate, declared_category: str) -> list[Finding]:
    """What Meta did to a declared template on its own: status, category, quality."""
    found = []
    status = current.status
    if status and status != "APPROVED":
        found.append(Finding(account, Kind.STATUS, current.key, status, _status_detail(current)))
    live_category = current.template.category
    if live_category != declared_category and recategorised_by_meta(declared_category, current):
        found.append(Finding(account, Kind.CATEGORY, current.key, f"{declared_category} -> {live_category}",
                             f"Meta recategorised it from {declared_category} to {live_category}"))
    if current.quality and current.quality not in HEALTHY_QUALITY:
        found.append(Finding(account, Kind.QUALITY, current.key, current.quality,
                             f"quality score {current.quality}"))
    return found


def _status_detail(current: LiveTemplate) -> str:
    status = current.status
    if status in IN_REVIEW:
        return f"in review ({status}); it cannot be sent until Meta decides"
    if status == "REJECTED":
        return f"REJECTED ({current.rejected_reason or 'no reason given'})"
    if status == "PAUSED":
        return "PAUSED by Meta for low quality; it cannot be sent until its quality recovers or it is edited"
    if status == "DISABLED":
        return "DISABLED by Meta; it cannot be sent, edited or deleted"
    return f"status {status}"


# --- noise control -------------------------------------------------------------------------


@dataclass(frozen=True)
class IgnoreRules:
    """Lines of an ignore file: a glob over ``account/kind/key`` (see ``reconciler.globs``: ``*``
    and ``?``; ``[`` is literal), optionally followed by `` = `` and a glob over the finding's
    summary. ``acme/status/template.promo[en_US] = PAUSED`` ignores that template while it is
    paused, and reports it again when it becomes DISABLED: the baseline writes lines of this form,
    so a finding that gets worse is new drift."""

    globs: tuple[str, ...] = ()

    def matches(self, finding: Finding) -> bool:
        for line in self.globs:
            path, _, summary = line.partition(" = ")
            if matches(path.strip(), finding.path) and (not summary or matches(summary.strip(), finding.summary)):
                return True
        return False


def parse_ignore(text: str) -> tuple[str, ...]:
    """The rules of an ignore file: one per line; blank lines and ``#`` comments skipped."""
    rules = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            rules.append(stripped)
    return tuple(rules)


def baseline_line(finding: Finding) -> str:
    """The rule that ignores this finding as it is now, and no worse."""
    return f"{finding.path} = {finding.summary}"


def baseline_text(existing: str, findings: Iterable[Finding], when: str) -> str:
    """The ignore file with today's findings added under a dated comment; lines already there stay."""
    known = set(parse_ignore(existing))
    new = sorted({baseline_line(f) for f in findings} - known)
    if not new:
        return existing
    head = existing if not existing or existing.endswith("\n") else existing + "\n"
    if not head:
        head = ("# wabactl drift ignore rules, one per line: a glob over account/kind/key (* matches anything,\n"
                "# ? one character), then optionally ' = ' and a glob over the finding (PAUSED, create, ...).\n"
                "# Lines below were written by `wabactl drift --baseline`.\n")
    return head + f"\n# baseline {when}: {len(new)} finding(s)\n" + "".join(f"{line}\n" for line in new)


# --- the report ----------------------------------------------------------------------------


def drift_report(found: Sequence[tuple[DesiredAccount, list[Finding]]], failures: Sequence[AccountFailure], created_at: str,
                 ignore_kinds: Sequence[str] = (), rules: IgnoreRules | None = None, ignore_file: str | None = None) -> DriftReport:
    """The findings of every account read (``account_findings`` of each), minus those ignored;
    the accounts that could not be read."""
    rules = rules or IgnoreRules()
    skipped = set(ignore_kinds)
    accounts = []
    for desired, findings in found:
        kept = tuple(f for f in findings if f.kind.value not in skipped and not rules.matches(f))
        accounts.append(AccountDrift(desired.name, desired.waba_id, kept, len(findings) - len(kept)))
    accounts += [AccountDrift(f.account, f.waba_id, error=f.error) for f in failures]
    return DriftReport(tuple(sorted(accounts, key=lambda a: a.account)), created_at, tuple(ignore_kinds), ignore_file)

