"""What an apply did, as data: one outcome per change, from a closed set.

The outcomes are shared by the applier (which decides them), the renderer (which words them) and
the CLI (which maps them to exit codes):

    applied         the write took effect
    failed          Meta refused it; apply stopped there
    uncertain       the write's answer never came: it may or may not have happened
    deferred        Meta's limits allow it later (creation budget, edit quota, a name lock after
                    a deletion): a later run can do it
    blocked         the plan blocked it: it waits on a change to the config, not on time
    not_attempted   apply had stopped at a failure before reaching it
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum

from ..planning.plan import Action


class Outcome(str, Enum):
    APPLIED = "applied"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    DEFERRED = "deferred"
    BLOCKED = "blocked"
    NOT_ATTEMPTED = "not_attempted"

    @property
    def phrase(self) -> str:
        return self.value.replace("_", " ")


@dataclass(frozen=True)
class ChangeResult:
    account: str
    key: str
    action: Action  # as planned
    outcome: Outcome
    detail: str | None = None
    template_id: str | None = None  # of a created or edited template, for --wait-for-review
    at: dt.datetime | None = None  # the Graph API's time when the outcome was known (attempted changes)
    not_before: dt.datetime | None = None  # deferred or locked: when a later run may do it
    error_code: int | None = None  # Meta's error code and subcode, when Meta refused it
    error_subcode: int | None = None

    @property
    def waits_on_time(self) -> bool:
        """Deferred: a later run can do it. A change the plan blocked waits on a person instead."""
        return self.outcome is Outcome.DEFERRED


@dataclass
class ApplyResult:
    results: list[ChangeResult] = field(default_factory=list)
    retry_at: dt.datetime | None = None  # when deferred work may run
    ledger_error: str | None = None  # the ledger could not be written: what this apply did is not remembered

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    def of(self, outcome: Outcome) -> list[ChangeResult]:
        return [r for r in self.results if r.outcome is outcome]

    @property
    def stopped(self) -> bool:
        """A write failed or its answer was lost: apply stopped there."""
        return self.count(Outcome.FAILED) + self.count(Outcome.UNCERTAIN) > 0

    @property
    def blocked(self) -> bool:
        """Something the plan blocked is left: it waits on a person changing the config."""
        return self.count(Outcome.BLOCKED) > 0

    @property
    def waiting(self) -> bool:
        """Something is left that a later run can do."""
        return any(r.waits_on_time for r in self.results)

    def later(self, moment: dt.datetime) -> None:
        self.retry_at = moment if self.retry_at is None else min(self.retry_at, moment)
