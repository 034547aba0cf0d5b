"""The applier executes exactly the plan, in order; a failure stops only its own account."""

from __future__ import annotations

import copy
import threading
from concurrent.futures import ThreadPoolExecutor

from reconciler.applying import applier
from reconciler.applying.applier import Options, apply_plan
from reconciler.applying.result import Outcome
from reconciler.endpoint import Target
from reconciler.graph import GraphClient
from reconciler.inputs import load_desired
from reconciler.ledger import Ledger
from reconciler.model import Template
from reconciler.planning.plan import AccountPlan, Action, Change, Plan
from reconciler.session import Session

from conftest import BASE_SEED, TOKEN, WABA, body, seed_with, template, write_config

BODY = ({"type": "BODY", "text": "Your order {{1}} ships today.", "example": {"body_text": [["#1"]]}},)
APPLIED, DEFERRED, NOT_ATTEMPTED, BLOCKED = Outcome.APPLIED, Outcome.DEFERRED, Outcome.NOT_ATTEMPTED, Outcome.BLOCKED


def create(name):
    return Change("acme", f"template.{name}[en_US]", Action.CREATE, None, Template(name, "en_US", "UTILITY", BODY))


def one_account(*changes):
    return Plan((AccountPlan("acme", WABA, None, "WABACTL_TOKEN", "sha256:" + "1" * 64, tuple(changes)),), "now")


def test_executes_exactly_the_plan_and_skips_blocked(load, emulator):
    graph = load()
    blocked = Change("acme", "template.x[en_US]", Action.BLOCKED, None, None, reason="no")
    result = apply_plan(one_account(create("a"), blocked, create("b")), {"acme": GraphClient("test-token", base_url=emulator.url)})
    assert [(r.key, r.outcome) for r in result.results] == [
        ("template.a[en_US]", APPLIED), ("template.b[en_US]", APPLIED), ("template.x[en_US]", BLOCKED)]
    assert [e["method"] for e in graph.log()] == ["POST", "POST"]


def test_creation_budget_spent_defers_the_remaining_creates(load, emulator):
    load(seed_with(creates_per_hour=2))
    result = apply_plan(one_account(*(create(f"t{i}") for i in range(4))), {"acme": GraphClient("test-token", base_url=emulator.url)})
    assert [r.outcome for r in result.results] == [APPLIED, APPLIED, DEFERRED, DEFERRED]
    assert result.waiting and not result.stopped
    emulator_now = emulator.world.clock.now()
    assert abs(result.retry_at.timestamp() - (emulator_now + 3600)) < 5


def test_failure_stops_everything_after_it(load, emulator):
    load(seed_with([template("a")]))
    result = apply_plan(one_account(create("a"), create("b")), {"acme": GraphClient("test-token", base_url=emulator.url)})
    assert [r.outcome for r in result.results] == [Outcome.FAILED, NOT_ATTEMPTED]
    assert "subcode 2388024" in result.results[0].detail


def test_a_failure_stops_its_own_account_only(load, emulator):
    load(seed_with([template("a")]))
    second = AccountPlan("partner", WABA, None, "WABACTL_TOKEN", "sha256:" + "1" * 64,
                         (Change("partner", "template.c[en_US]", Action.CREATE, None, Template("c", "en_US", "UTILITY", BODY)),))
    plan = Plan((one_account(create("a"), create("b")).accounts[0], second), "now")
    client = GraphClient("test-token", base_url=emulator.url)
    result = apply_plan(plan, {"acme": client, "partner": client})
    assert [(r.account, r.key, r.outcome) for r in result.results] == [
        ("acme", "template.a[en_US]", Outcome.FAILED), ("acme", "template.b[en_US]", NOT_ATTEMPTED),
        ("partner", "template.c[en_US]", APPLIED)]


def test_accounts_applied_at_once_keep_each_account_s_order_and_every_ledger_record(load, emulator):
    seed = seed_with()
    wabas = [f"55500000000{i:04d}" for i in range(6)]
    seed["wabas"].update({waba: {"name": waba} for waba in wabas})
    load(seed)
    accounts = tuple(AccountPlan(f"a{i}", waba, None, "WABACTL_TOKEN", "sha256:" + "1" * 64,
                                 tuple(Change(f"a{i}", f"template.t{j}[en_US]", Action.CREATE, None, Template(f"t{j}", "en_US", "UTILITY", BODY))
                                       for j in range(5)))
                     for i, waba in enumerate(wabas))
    client = GraphClient("test-token", base_url=emulator.url)
    book = Ledger(None)
    seen = []
    result = apply_plan(Plan(accounts, "now"), {a.account: client for a in accounts}, book,
                        Options(parallelism=4, recorded=lambda: seen.append(book.size()["creations"])))
    assert [(r.account, r.key) for r in result.results] == [(a.account, c.key) for a in accounts for c in a.changes]
    assert all(r.outcome is APPLIED for r in result.results)
    assert [len(book.account(waba).creations) for waba in wabas] == [5] * 6
    assert max(seen) == 30


def test_after_an_interrupt_no_account_goes_on_to_its_next_change(load, emulator):
    from reconciler.applying.applier import _Run

    graph = load()
    plan = one_account(create("a"), create("b"))
    run = _Run(plan, {"acme": GraphClient("test-token", base_url=emulator.url)}, Ledger(None), Options(parallelism=4))
    run.interrupted.set()  # what Ctrl-C sets while accounts run at once
    run.account(plan.accounts[0])
    assert [r.outcome for r in run.result.results] == [NOT_ATTEMPTED, NOT_ATTEMPTED]
    assert [e for e in graph.log() if e["method"] == "POST"] == []


def test_ctrl_c_while_writes_wait_for_a_slot_sends_none_of_them(load, emulator, tmp_path):
    """Six accounts under way on two write slots: when Ctrl-C comes, the two writes in flight
    finish and the accounts waiting for a slot send nothing more."""
    seed = copy.deepcopy(BASE_SEED)
    wabas = [f"55500000000{i:04d}" for i in range(6)]
    seed["wabas"].update({waba: {"name": f"Shop {i}"} for i, waba in enumerate(wabas)})
    wanted = {f"t{j}": {"category": "UTILITY", "languages": {"en_US": {"components": [body(f"Order {{{{1}}}} step {j}.", "#1")]}}} for j in range(2)}
    path = write_config(tmp_path / "c.yaml", {f"shop{i}": {"waba_id": waba, "templates": wanted} for i, waba in enumerate(wabas)})
    graph = load(seed)
    run = Session(Target(emulator.url), Ledger(None), {"WABACTL_TOKEN": TOKEN}, 2)
    try:
        made = run.plan(load_desired([path]))
        graph.control("DELETE", "requests")
        graph.control("POST", "faults", {"kind": "latency", "latency_ms": 400, "method": "POST"})
        runner = applier._Run(made, run.clients, Ledger(None), applier.Options(parallelism=2))
        threading.Timer(0.2, runner.interrupted.set).start()  # what apply_plan does on Ctrl-C
        with ThreadPoolExecutor(max_workers=len(made.accounts)) as pool:
            list(pool.map(runner.account, made.accounts))
    finally:
        run.close()
    creates = [e for e in graph.calls() if e["method"] == "POST" and e["path"].endswith("/message_templates")]
    assert len(creates) == 2
    outcomes = [r.outcome for r in runner.result.results]
    assert outcomes.count(Outcome.APPLIED) == 2 and outcomes.count(Outcome.NOT_ATTEMPTED) == 10


def test_an_edit_refused_because_the_template_went_into_review_is_blocked(load, emulator, tmp_path):
    graph = load(seed_with([template("order_shipped")]))
    wanted = {"order_shipped": {"category": "UTILITY", "languages": {"en_US": {"components": [body("Your box {{1}} ships today.", "#1")]}}}}
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": wanted}}, {"on_change": "edit"})
    run = Session(Target(emulator.url), Ledger(None), {"WABACTL_TOKEN": TOKEN}, 1)
    try:
        made = run.plan(load_desired([path]))
        assert [c.action for c in made.changes] == [Action.EDIT]
        template_id = made.changes[0].before.id
        graph.control("POST", f"templates/{template_id}", {"status": "IN_APPEAL"})  # between plan and apply
        result = apply_plan(made, run.clients, Ledger(None))
    finally:
        run.close()
    [outcome] = result.results
    assert outcome.outcome is Outcome.BLOCKED and "IN_APPEAL" in outcome.detail
    assert (outcome.error_code, outcome.error_subcode) == (100, 2388039)
