"""The plan: pure data. Apply executes exactly this and re-decides nothing.

A change is (account, key, action, before, after). ``before`` is the live side: the
``LiveTemplate`` (with the server facts apply needs, its id and status) or the live ``User``;
``after`` is the desired side: the ``Template`` or ``User`` as declared. An absent side is None.
``reason``, ``wave`` and the account's ``statuses`` exist to explain a plan to a person and must
not steer apply; ``not_before`` is shown to a person and tells apply when deferred work may run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from ..model import AccountSettings, LiveTemplate, Template, User


class Action(str, Enum):
    CREATE = "create"
    UPDATE = "update"  # users only: their task set
    EDIT = "edit"  # a template changed in place through Meta's edit endpoint
    REPLACE = "replace"  # delete, then create the same key
    DELETE = "delete"
    BLOCKED = "blocked"  # cannot happen as declared; the reason says the ways out
    DEFERRED = "deferred"  # cannot happen now; not_before says when

    @property
    def symbol(self) -> str:
        return SYMBOLS[self]

    @property
    def phrase(self) -> str:
        return PHRASES[self]

    @property
    def executes(self) -> bool:
        return self not in (Action.BLOCKED, Action.DEFERRED)


SYMBOLS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.EDIT: "~",
    Action.REPLACE: "-/+",
    Action.DELETE: "-",
    Action.BLOCKED: "!",
    Action.DEFERRED: ">",
}
PHRASES = {
    Action.CREATE: "will be created",
    Action.UPDATE: "will be updated",
    Action.EDIT: "will be edited in place",
    Action.REPLACE: "will be replaced (deleted, then created)",
    Action.DELETE: "will be deleted",
    Action.BLOCKED: "cannot change",
    Action.DEFERRED: "must wait",
}
# Apply order: deletes free room under the template cap before anything is created.
PHASES = {
    ("template", Action.DELETE): 0,
    ("template", Action.REPLACE): 1,
    ("template", Action.EDIT): 2,
    ("template", Action.CREATE): 3,
    ("user", Action.CREATE): 4,
    ("user", Action.UPDATE): 4,
    ("user", Action.DELETE): 5,
}
SUMMARY_ORDER = (Action.CREATE, Action.EDIT, Action.REPLACE, Action.UPDATE, Action.DELETE)

Before = LiveTemplate | User
After = Template | User


@dataclass(frozen=True)
class Change:
    account: str
    key: str
    action: Action
    before: Before | None
    after: After | None
    reason: str | None = None  # display only
    # When Meta's limits allow this change: for a deferred edit, from the ledger's quota; for a
    # create, the creation budget's prediction (shown only: apply lets Meta's answer decide).
    not_before: dt.datetime | None = None
    wave: int | None = None  # display only: which creation wave a create falls in

    @property
    def kind(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def creates(self) -> bool:
        """Whether applying it creates a template: each one spends the hourly creation budget."""
        return self.kind == "template" and self.action in (Action.CREATE, Action.REPLACE)

    def sort_key(self) -> tuple[int, str]:
        return PHASES.get((self.kind, self.action), 9), self.key


@dataclass(frozen=True)
class Usage:
    """The template cap of one account, as the plan leaves it."""

    templates_now: int
    templates_after: int
    template_limit: int
    counted_by: str  # "name" (each name once) or "translation" (each language)


@dataclass(frozen=True)
class Limits:
    """The account's limits the plan was made and checked with; apply honours the same."""

    creates_per_hour: int
    max_deletes: int
    max_delete_percent: int

    @classmethod
    def of(cls, settings: AccountSettings) -> Limits:
        return cls(settings.creates_per_hour, settings.max_deletes, settings.max_delete_percent)

    @classmethod
    def default(cls) -> Limits:
        return cls.of(AccountSettings())


@dataclass(frozen=True)
class AccountPlan:
    account: str
    waba_id: str
    business_id: str | None
    token_env: str
    fingerprint: str
    changes: tuple[Change, ...]
    manages_users: bool = False  # whether live users were read (apply re-reads the same)
    token_user: str | None = None  # the token's own user, guarded against self-lockout
    warnings: tuple[str, ...] = ()
    usage: Usage | None = None  # None: not known (a plan made without reading the cap)
    limits: Limits = field(default_factory=Limits.default)
    statuses: dict[str, str] = field(default_factory=dict)  # display only: live status of each key the plan changes
    live_templates: int = 0  # live template languages: what the delete threshold's share is of
    unmanaged: tuple[str, ...] = ()  # display only: live keys the config does not declare and the plan leaves alone
    app_id: str | None = None  # the app that uploads header files (None: WABACTL_APP_ID at apply)

    def __post_init__(self) -> None:
        object.__setattr__(self, "changes", tuple(sorted(self.changes, key=Change.sort_key)))

    @property
    def creates(self) -> int:
        """Template creates in this account's plan: what its hourly creation budget must cover."""
        return sum(1 for change in self.changes if change.creates)


@dataclass(frozen=True)
class AccountFailure:
    """An account that could not be planned: its live state could not be read."""

    account: str
    waba_id: str
    error: str  # one message naming the request that failed


@dataclass(frozen=True)
class FleetFound:
    """What a fleet's discovery found: the accounts made from its business's WABAs, or why its
    listings could not be read (its accounts are then unknown; other accounts go on)."""

    fleet: str
    business_id: str
    accounts: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class Source:
    """The config a plan was made from: the paths as given, each file read with its digest, and
    the accounts chosen with ``--account`` (all when empty). ``apply PLANFILE`` plans again from it."""

    paths: tuple[str, ...]
    files: tuple[tuple[str, str], ...]  # (path, "sha256:...")
    accounts: tuple[str, ...] = ()
    shard: str | None = None  # "I/N" when the plan covers one shard of the accounts


@dataclass(frozen=True)
class Plan:
    accounts: tuple[AccountPlan, ...]
    created_at: str
    failures: tuple[AccountFailure, ...] = ()  # accounts left out of the plan, and why
    source: Source | None = None  # None: made by a program, not from config files
    fleets: tuple[FleetFound, ...] = ()  # what each fleet's discovery found

    @property
    def changes(self) -> list[Change]:
        return [c for a in self.accounts for c in a.changes]

    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def fleets_failed(self) -> list[FleetFound]:
        """Fleets whose listings could not be read: their accounts are unknown."""
        return [fleet for fleet in self.fleets if fleet.error is not None]

    @property
    def names(self) -> list[str]:
        """Every account of the plan, planned or failed."""
        return [a.account for a in self.accounts] + [f.account for f in self.failures]

    def only(self, names: Sequence[str]) -> Plan:
        """The plan of these accounts alone (planned or failed), the rest left out."""
        chosen = set(names)
        return dataclasses.replace(self, accounts=tuple(a for a in self.accounts if a.account in chosen),
                                   failures=tuple(f for f in self.failures if f.account in chosen))

    def counts(self) -> dict[Action, int]:
        counts = {action: 0 for action in Action}
        for change in self.changes:
            counts[change.action] += 1
        return counts
