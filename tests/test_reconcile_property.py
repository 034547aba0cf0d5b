"""Property: for generated desired and live states, applying the plan to the emulator and planning
again leaves nothing to do except what the first plan already said was blocked."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.applying.applier import apply_plan
from reconciler.applying.result import Outcome
from reconciler.graph import GraphClient
from reconciler.graph import waba as graph_waba
from reconciler.graph.retry import RetryPolicy
from reconciler.model import AccountSettings, DesiredAccount, Template, User
from reconciler.planning.plan import Action, Plan
from reconciler.planning.planner import plan_account

from conftest import BUSINESS, ME, PEOPLE, WABA, Graph, seed_with

NAMES = [f"notice_{i}" for i in range(6)]
LANGUAGES = ["en_US", "es", "pt_BR"]
TASKS = ["MANAGE_TEMPLATES", "VIEW_TEMPLATES", "MESSAGING", "VIEW_COST"]
STATUSES = ["APPROVED", "REJECTED", "PAUSED"]


def components(name: str, variant: int, language: str, handle: str = "4::seeded") -> list[dict]:
    body = {"type": "BODY", "text": f"Notice {{{{1}}}} for {name} in {language}, version {variant}.",
            "example": {"body_text": [["#1"]]}}
    if variant == 2:
        return [{"type": "HEADER", "format": "IMAGE", "example": {"header_handle": [handle]}}, body,
                {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Stop"}]}]
    return [body]


def category(name: str) -> str:
    return "MARKETING" if int(name[-1]) % 2 else "UTILITY"


keys = st.tuples(st.sampled_from(NAMES), st.sampled_from(LANGUAGES))
desired_templates = st.dictionaries(keys, st.integers(0, 2), max_size=10)
live_templates = st.dictionaries(keys, st.tuples(st.integers(0, 2), st.sampled_from(STATUSES)), max_size=10)
task_sets = st.frozensets(st.sampled_from(TASKS), min_size=1)
people = st.dictionaries(st.sampled_from(list(PEOPLE)), task_sets)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(wanted=desired_templates, current=live_templates, wanted_users=people, current_users=people,
       on_change=st.sampled_from(["edit", "replace"]))
def test_apply_then_plan_converges(emulator, wanted, current, wanted_users, current_users, on_change):
    seed = seed_with([
        {"name": name, "language": language, "status": status, "category": category(name),
         "components": components(name, variant, language)}
        for (name, language), (variant, status) in sorted(current.items())
    ])
    seed["wabas"][WABA]["assigned_users"] = {ME: ["MANAGE"], **{p: sorted(t) for p, t in current_users.items()}}
    graph = Graph(emulator.url)
    graph.control("POST", "reset", {"seed": seed})
    handle = graph.upload()  # a media header's example is a handle Meta gave out
    desired = DesiredAccount(
        name="acme", waba_id=WABA, business_id=BUSINESS, token_env="WABACTL_TOKEN",
        settings=AccountSettings(on_change=on_change, prune_templates=True, prune_users=True),
        templates=tuple(Template(name, language, category(name), tuple(components(name, variant, language, handle)))
                        for (name, language), variant in sorted(wanted.items())),
        users=tuple(User(p, t) for p, t in sorted({ME: frozenset({"MANAGE"}), **wanted_users}.items())),
    )
    client = GraphClient("test-token", base_url=emulator.url, retry=RetryPolicy(backoff=0.01))

    def plan():
        return plan_account(desired, graph_waba.fetch_account(client, WABA, BUSINESS, with_users=True))

    first = plan()

    result = apply_plan(Plan((first,), "now"), {"acme": client})
    assert all(r.outcome is Outcome.APPLIED for r in result.results if r.action.executes), result.results
    second = plan()
    blocked = {(c.key, c.action) for c in first.changes if c.action is Action.BLOCKED}
    assert {(c.key, c.action) for c in second.changes} == blocked
    if on_change == "edit":
        assert second.changes == ()
