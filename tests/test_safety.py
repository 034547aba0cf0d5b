"""Safety valves: the template cap, mass deletion, self-lockout; each refusal gives its numbers."""

from __future__ import annotations

import pytest

from reconciler.errors import PlanError, UnsafePlanError
from reconciler.model import LiveTemplate, Template, User
from reconciler.planning import safety
from reconciler.planning.plan import AccountPlan, Action, Change, Limits, Plan, Usage


def account(changes=(), live=0, after=1, limit=250, token_user=None):
    return Plan((AccountPlan("acme", "1", "2", "T", "sha256:" + "0" * 64, tuple(changes), usage=Usage(live, after, limit, "name"),
                             limits=Limits(creates_per_hour=100, max_deletes=10, max_delete_percent=20),
                             live_templates=live, token_user=token_user),), "now")


def deletes(n):
    body = ({"type": "BODY", "text": "Hi"},)
    return [Change("acme", f"template.t{i}[en]", Action.DELETE, LiveTemplate(Template(f"t{i}", "en", "UTILITY", body), str(i), "APPROVED"), None)
            for i in range(n)]


def test_cap():
    with pytest.raises(PlanError, match="251 templates after apply, over the cap of 250"):
        safety.check(account(after=251), allow_destroy=True)
    safety.check(account(after=250))


@pytest.mark.parametrize("count,live,refused", [(10, 100, False), (11, 100, True), (2, 9, False), (3, 10, True), (2, 10, False)])
def test_delete_threshold(count, live, refused):
    plan = account(deletes(count), live=live)
    if refused:
        with pytest.raises(UnsafePlanError, match=f"would delete {count} of {live} templates"):
            safety.check(plan)
        safety.check(plan, allow_destroy=True)
    else:
        safety.check(plan)


def test_self_lockout_cannot_be_overridden():
    remove = Change("acme", "user.9", Action.DELETE, User("9", frozenset({"MANAGE"})), None)
    with pytest.raises(UnsafePlanError, match="would remove user 9"):
        safety.check(account([remove], token_user="9"), allow_destroy=True)
    reduce = Change("acme", "user.9", Action.UPDATE, User("9", frozenset({"MANAGE"})), User("9", frozenset({"VIEW_COST"})))
    with pytest.raises(UnsafePlanError, match="would take MANAGE from user 9"):
        safety.check(account([reduce], token_user="9"))
    other = Change("acme", "user.8", Action.DELETE, User("8", frozenset({"MANAGE"})), None)
    safety.check(account([other], token_user="9"))
