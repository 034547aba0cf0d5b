"""``apply --wait-for-review``: poll the templates an apply created or edited until Meta decides."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..graph.client import GraphClient
from ..model import IN_REVIEW, Template
from ..planning.plan import Action, Plan
from .result import ApplyResult, Outcome

Waiting = Callable[[int, float], None]  # templates still in review, seconds left


@dataclass(frozen=True)
class Verdict:
    account: str
    key: str
    template_id: str
    status: str
    category: str | None = None
    declared_category: str | None = None
    rejected_reason: str | None = None

    @property
    def in_review(self) -> bool:
        return self.status in IN_REVIEW

    def describe(self) -> str:
        if self.status == "REJECTED":
            return f"REJECTED ({self.rejected_reason or 'no reason given'})"
        if self.category and self.declared_category and self.category != self.declared_category:
            return f"{self.status} as {self.category} (declared {self.declared_category})"
        return self.status


def wait_for_review(plan: Plan, result: ApplyResult, clients: Mapping[str, GraphClient], timeout: float,
                    poll_seconds: float, waiting: Waiting | None = None) -> list[Verdict]:
    """Poll until no template of this apply is in review, or ``timeout`` seconds have passed."""
    declared = {(c.account, c.key): c.after.category for c in plan.changes if isinstance(c.after, Template)}
    watched = [(r, r.template_id) for r in result.results
               if r.outcome is Outcome.APPLIED and r.template_id and r.action in (Action.CREATE, Action.REPLACE, Action.EDIT)]
    deadline = time.monotonic() + timeout
    verdicts: dict[str, Verdict] = {}
    while True:
        for outcome, template_id in watched:
            assert template_id is not None
            if template_id in verdicts and not verdicts[template_id].in_review:
                continue
            row = clients[outcome.account].get(template_id, {"fields": "status,category,rejected_reason"})
            verdicts[template_id] = Verdict(
                account=outcome.account, key=outcome.key, template_id=template_id,
                status=str(row.get("status", "")).upper(), category=row.get("category"),
                declared_category=declared.get((outcome.account, outcome.key)),
                rejected_reason=None if row.get("rejected_reason") in (None, "NONE") else row.get("rejected_reason"),
            )
        pending = sum(1 for v in verdicts.values() if v.in_review)
        left = deadline - time.monotonic()
        if pending == 0 or left <= 0:
            return sorted(verdicts.values(), key=lambda v: (v.account, v.key))
        if waiting is not None:
            waiting(pending, left)
        time.sleep(min(poll_seconds, left))
