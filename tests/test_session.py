"""The run layer against the emulator: clients from the environment, parallel reads, plan, saved
plans, apply and the ledger; results come back as data."""

from __future__ import annotations

import json

import pytest

from reconciler.applying.result import Outcome
from reconciler.endpoint import Target
from reconciler.errors import CredentialsError, ReconcilerError, StalePlanError
from reconciler.inputs import load_desired
from reconciler.ledger import Ledger
from reconciler.planning import planfile
from reconciler.session import Session, open_session

from conftest import OTHER_WABA, TOKEN, WABA, body, seed_with, template, write_config

ENV = {"WABACTL_TOKEN": TOKEN}


def two_accounts(tmp_path, token_env: str = "WABACTL_TOKEN") -> str:
    wanted = {"order_shipped": {"category": "UTILITY", "languages": {"en_US": {"components": [body("Your order {{1}} ships today.", "#1")]}}}}
    return write_config(tmp_path / "c.yaml", {
        "acme": {"waba_id": WABA, "templates": wanted},
        "partner": {"waba_id": OTHER_WABA, "token_env": token_env, "templates": wanted},
    })


def test_plans_the_same_one_account_at_a_time_or_in_parallel(load, emulator, tmp_path):
    seed = seed_with([template(f"t{i}") for i in range(5)])
    seed["wabas"][OTHER_WABA]["templates"] = [template("order_shipped")]
    load(seed)
    desired = load_desired([two_accounts(tmp_path)])
    plans = []
    for parallelism in (1, 4):
        run = Session(Target(emulator.url), Ledger(None), ENV, parallelism)
        plans.append(run.plan(desired))
        run.close()
    assert plans[0] == plans[1]
    assert [a.account for a in plans[0].accounts] == ["acme", "partner"]
    assert [(c.account, c.key) for c in plans[0].changes] == [("acme", "template.order_shipped[en_US]")]


def test_every_token_is_found_before_any_request(load, emulator, tmp_path):
    graph = load()
    desired = load_desired([two_accounts(tmp_path, token_env="PARTNER_TOKEN")])
    run = Session(Target(emulator.url), Ledger(None), ENV)
    with pytest.raises(CredentialsError, match="PARTNER_TOKEN"):
        run.plan(desired)
    assert graph.log() == []


def test_an_emulator_run_sends_the_seed_token_not_the_environment_s(load, emulator, tmp_path):
    graph = load()
    desired = load_desired([two_accounts(tmp_path)])
    run = Session(Target(emulator.url, (TOKEN,)), Ledger(None), {"WABACTL_TOKEN": "EAAG-real"})
    run.plan(desired)
    assert {e["status"] for e in graph.log()} == {200}


def test_apply_records_the_ledger_and_a_saved_plan_applies_once(load, emulator, tmp_path):
    load()
    path = two_accounts(tmp_path)
    environ = {**ENV, "WABACTL_GRAPH_URL": emulator.url}
    with open_session(path, environ=environ) as run:
        made = run.plan_config([path], ["acme"])
    saved = tmp_path / "plan.json"
    planfile.save(made, str(saved))
    with open_session(path, environ=environ) as run:
        result = run.apply(run.verify_saved(planfile.load(str(saved))))
    assert [(r.key, r.outcome) for r in result.results] == [("template.order_shipped[en_US]", Outcome.APPLIED)]
    ledger = json.loads((tmp_path / ".wabactl" / "ledger.json").read_text())
    assert len(ledger["accounts"][WABA]["creations"]) == 1
    with open_session(path, environ=environ) as run, pytest.raises(StalePlanError, match=r"acme: template\.order_shipped"):
        run.verify_saved(planfile.load(str(saved)))


def test_a_broken_ledger_is_a_warning_not_an_error(tmp_path, emulator):
    state = tmp_path / ".wabactl"
    state.mkdir()
    (state / "ledger.json").write_text("[]")
    with open_session(str(tmp_path / "c.yaml"), environ={"WABACTL_GRAPH_URL": emulator.url}) as run:
        assert len(run.warnings) == 1 and "is not a wabactl ledger" in run.warnings[0]
    with open_session(None, environ={"WABACTL_GRAPH_URL": emulator.url}) as run:
        assert run.ledger.path is None and run.warnings == []


def test_unknown_account_names_the_known_ones(tmp_path):
    with pytest.raises(ReconcilerError, match=r"no such account: nope \(known: acme, partner\)"):
        load_desired([two_accounts(tmp_path)], ["nope"])


def test_import_counts_what_it_wrote(load, emulator):
    load(seed_with([template("a"), template("a", "es"), template("b")]))
    run = Session(Target(emulator.url), Ledger(None), ENV)
    imported = run.import_account(WABA, None, "acme")
    assert (imported.templates, imported.languages, imported.users) == (2, 3, 0)
    assert "acme:" in imported.text


@pytest.mark.parametrize("name,value", [("WABACTL_REQUEST_TIMEOUT", "-1"), ("WABACTL_REQUEST_TIMEOUT", "forever"), ("WABACTL_RETRY_BACKOFF", "999")])
def test_bad_network_settings_are_one_message(load, emulator, tmp_path, name, value):
    graph = load()
    run = Session(Target(emulator.url), Ledger(None), {**ENV, name: value})
    with pytest.raises(ReconcilerError, match=f"{name} must be a number of seconds"):
        run.plan(load_desired([two_accounts(tmp_path)]))
    assert graph.log() == []


@pytest.mark.parametrize("fault,phrase", [
    ({"kind": "drip", "drip_interval_ms": 50, "drip_seconds": 30}, "no complete answer within 0.5 s"),
    ({"kind": "endless_paging", "paging": "repeat"}, "paging repeated a link after 2 pages; stopped"),
    ({"kind": "malformed"}, "not JSON (text/html"),
    ({"kind": "malformed", "raw_body": '{"data": [{"id": "1", "name": 5}]}', "content_type": "application/json"}, "'name' is not text"),
])
def test_a_hostile_server_is_one_clear_error_per_account(load, emulator, tmp_path, fault, phrase):
    graph = load()
    graph.control("POST", "faults", {**fault, "method": "GET", "path": f"/{OTHER_WABA}/*"})
    run = Session(Target(emulator.url), Ledger(None), {**ENV, "WABACTL_REQUEST_TIMEOUT": "0.5", "WABACTL_RETRY_BACKOFF": "0"})
    made = run.plan(load_desired([two_accounts(tmp_path)]))
    assert [a.account for a in made.accounts] == ["acme"]
    (failure,) = made.failures
    assert failure.account == "partner" and phrase in failure.error, failure.error


def test_apply_of_a_plan_file_keeps_the_ledger_beside_the_config(load, wabactl, tmp_path):
    load()
    (tmp_path / "config").mkdir()
    (tmp_path / "plans").mkdir()
    path = two_accounts(tmp_path / "config")
    saved = tmp_path / "plans" / "plan.json"
    assert wabactl("plan", path, "--account", "acme", "--out", str(saved)).exit_code == 0
    assert wabactl("apply", str(saved)).exit_code == 0
    assert (tmp_path / "config" / ".wabactl" / "ledger.json").exists()
    assert not (tmp_path / "plans" / ".wabactl").exists()
