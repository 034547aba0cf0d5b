"""Safety valves on a plan, checked before anything is written; each refusal names its numbers.

- The template cap: a plan that would end above it is refused outright (Meta would refuse the
  creates half-way).
- Mass deletion: more template deletions than ``max_deletes`` (10), or than
  ``max_delete_percent`` (20%) of an account holding 10 or more, is refused unless
  ``--allow-destroy``.
- Self-lockout: a plan that removes the token's own user or takes MANAGE from it is refused: the
  next run could not repair it.
"""

from __future__ import annotations

from ..errors import PlanError, UnsafePlanError
from ..model import User, user_key
from .plan import AccountPlan, Action, Plan

MIN_ACCOUNT_FOR_PERCENT = 10


def check(plan: Plan, allow_destroy: bool = False) -> None:
    over_cap = [message for account in plan.accounts if (message := _over_cap(account))]
    if over_cap:
        raise PlanError("; ".join(over_cap) + ". Nothing was changed.")
    unsafe = [message for account in plan.accounts for message in _unsafe(account, allow_destroy)]
    if unsafe:
        raise UnsafePlanError("unsafe plan refused: " + "; ".join(unsafe) + ".")


def _over_cap(account: AccountPlan) -> str | None:
    usage = account.usage
    if usage is None or usage.templates_after <= usage.template_limit:
        return None
    rule = "each name once" if usage.counted_by == "name" else "each language"
    return (f"account {account.account}: {usage.templates_after} templates after apply, over the cap of "
            f"{usage.template_limit} (counting {rule}; {usage.templates_now} now)")


def _unsafe(account: AccountPlan, allow_destroy: bool) -> list[str]:
    problems = []
    deletes = sum(1 for c in account.changes if c.kind == "template" and c.action in (Action.DELETE, Action.REPLACE))
    live = account.live_templates
    most, percent = account.limits.max_deletes, account.limits.max_delete_percent
    share = 100.0 * deletes / live if live else 0.0
    too_many = deletes > most or (live >= MIN_ACCOUNT_FOR_PERCENT and share > percent)
    if too_many and not allow_destroy:
        problems.append(
            f"account {account.account} would delete {deletes} of {live} templates ({share:.0f}%); "
            f"the limit is {most} or {percent}%. Check the plan, then run again with --allow-destroy"
        )
    me = account.token_user
    for change in account.changes:
        if me is None or change.key != user_key(me) or not isinstance(change.before, User):
            continue
        had_manage = "MANAGE" in change.before.tasks
        keeps_manage = isinstance(change.after, User) and "MANAGE" in change.after.tasks
        if had_manage and not keeps_manage:
            what = "remove" if change.action is Action.DELETE else "take MANAGE from"
            problems.append(
                f"account {account.account} would {what} user {me}, the user behind the access token "
                "(no self-lockout); keep MANAGE in its tasks"
            )
    return problems
