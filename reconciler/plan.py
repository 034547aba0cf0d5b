"""The plan: pure data. Apply executes exactly this and re-decides nothing.

A change is (account, key, action, before, after). ``before`` is the live side (with the server
facts apply needs: template id and status), ``after`` the desired side; an absent side is None.
``reason`` and ``not_before`` exist to explain a plan to a person and must not steer apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


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


@dataclass(frozen=True)
class Change:
    account: str
    key: str
    action: Action
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None = None  # display only
    # ISO time before which Meta's limits forbid this change: for a deferred edit, from the
    # ledger's quota; for a create, the creation budget's prediction (display only: apply
    # lets Meta's answer decide).
    not_before: str | None = None
    wave: int | None = None  # display only: which creation wave a create falls in

    @property
    def kind(self) -> str:
        return self.key.split(".", 1)[0]

    def sort_key(self) -> tuple[int, str]:
        return PHASES.get((self.kind, self.action), 9), self.key


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
    usage: dict[str, Any] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)  # display only: live status per key

    def __post_init__(self) -> None:
        object.__setattr__(self, "changes", tuple(sorted(self.changes, key=Change.sort_key)))


@dataclass(frozen=True)
class Plan:
    accounts: tuple[AccountPlan, ...]
    created_at: str

    @property
    def changes(self) -> list[Change]:
        return [c for a in self.accounts for c in a.changes]

    def has_changes(self) -> bool:
        return bool(self.changes)

    def counts(self) -> dict[Action, int]:
        counts = {action: 0 for action in Action}
        for change in self.changes:
            counts[change.action] += 1
        return counts
