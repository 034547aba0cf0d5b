"""Fleets end to end: template sets with per-account variables, translations that must match,
account discovery from a business's WABA listings, and shards for CI job matrices."""

from __future__ import annotations

import copy
import functools
import json
import operator

import pytest
import yaml

from conftest import BASE_SEED, BUSINESS, WABA, body, template

FLEET_BUSINESS = "333000000000001"


def waba_id(i: int) -> str:
    return f"44400000000{i:04d}"


def fleet_seed(count: int = 5) -> dict:
    seed = copy.deepcopy(BASE_SEED)
    names = {i: ("Test Shop" if i == 4 else f"Shop {i}") for i in range(count)}  # the fifth is a test WABA
    seed["wabas"].update({waba_id(i): {"name": names[i], "creation_time": 1700000000 + i} for i in range(count)})
    seed["businesses"][FLEET_BUSINESS] = {"name": "Partner", "owned_wabas": [], "client_wabas": [waba_id(i) for i in range(count)]}
    return seed


def greeting(text: str = "Hi {{1}}, welcome to ${brand}.") -> dict:
    return {"category": "UTILITY", "languages": {"en_US": {"components": [body(text, "Ann")]}}}


def write(path, data: dict) -> str:
    path.write_text(yaml.safe_dump({"version": 1, **data}, sort_keys=False))
    return str(path)


def three_brands(tmp_path, text: str = "Hi {{1}}, welcome to ${brand}.") -> str:
    return write(tmp_path / "c.yaml", {
        "template_sets": {"core": {"templates": {"welcome": greeting(text)}}},
        "accounts": {name: {"waba_id": waba_id(i), "use": ["core"], "vars": {"brand": brand}}
                     for i, (name, brand) in enumerate((("acme", "Acme"), ("globex", "Globex"), ("initech", "Initech")))},
    })


def live_bodies(graph, waba: str) -> dict[str, str]:
    rows = graph.get(f"{waba}/message_templates", fields="name,components").json()["data"]
    return {row["name"]: row["components"][0]["text"] for row in rows}


def test_a_set_with_variables_expands_per_account_and_converges(load, wabactl, tmp_path):
    graph = load(fleet_seed())
    path = three_brands(tmp_path)
    assert wabactl("validate", path).exit_code == 0
    planned = wabactl("plan", path)
    assert planned.exit_code == 0 and 'BODY: "Hi {{1}}, welcome to Globex."' in planned.stdout and "from set: core" in planned.stdout
    assert wabactl("apply", path, "--auto-approve").exit_code == 0
    assert [live_bodies(graph, waba_id(i))["welcome"] for i in range(3)] == [
        "Hi {{1}}, welcome to Acme.", "Hi {{1}}, welcome to Globex.", "Hi {{1}}, welcome to Initech."]
    assert wabactl("plan", path, "--detailed-exitcode").exit_code == 0
    changed = three_brands(tmp_path, "Hello {{1}}, this is ${brand}.")
    again = wabactl("plan", changed, "--format", "json")
    edits = [(a["account"], c["key"], c["after"]["set"]) for a in json.loads(again.stdout)["accounts"] for c in a["changes"]]
    assert edits == [(name, "template.welcome[en_US]", "core") for name in ("acme", "globex", "initech")]


@pytest.mark.parametrize(("accounts", "message"), [
    ({"acme": {"waba_id": WABA, "use": ["core"]}}, "template welcome: ${brand} has no value in account acme's vars"),
    ({"acme": {"waba_id": WABA, "use": ["nope"]}}, "unknown template set 'nope'"),
    ({"acme": {"waba_id": WABA, "use": ["core", "other"], "vars": {"brand": "A"}}}, "template welcome is defined by both set core and set other"),
])
def test_set_problems_name_the_file_and_line(wabactl, tmp_path, accounts, message):
    path = write(tmp_path / "c.yaml", {"template_sets": {"core": {"templates": {"welcome": greeting()}},
                                                         "other": {"templates": {"welcome": greeting("Hi {{1}}.")}}},
                                       "accounts": accounts})
    result = wabactl("validate", path)
    assert result.exit_code == 1 and message in result.stderr and f"{path}, line " in result.stderr, result.stderr


def test_sets_using_each_other_in_a_cycle_are_an_error(wabactl, tmp_path):
    path = write(tmp_path / "c.yaml", {"template_sets": {"a": {"use": ["b"], "templates": {}}, "b": {"use": ["a"], "templates": {}}},
                                       "accounts": {"acme": {"waba_id": WABA, "use": ["a"]}}})
    result = wabactl("validate", path)
    assert result.exit_code == 1 and "template sets use each other in a cycle: a -> b -> a" in result.stderr


def test_an_account_s_own_template_overrides_the_set_s(load, wabactl, tmp_path):
    load(fleet_seed())
    path = write(tmp_path / "c.yaml", {"template_sets": {"core": {"templates": {"welcome": greeting("Hi {{1}}.")}}},
                                       "accounts": {"acme": {"waba_id": waba_id(0), "use": ["core"],
                                                             "templates": {"welcome": greeting("Hello {{1}}, from us.")}}}})
    planned = wabactl("plan", path)
    assert 'BODY: "Hello {{1}}, from us."' in planned.stdout and "from set" not in planned.stdout


def test_translations_that_do_not_match_are_listed_before_any_call(load, wabactl, tmp_path):
    graph = load(fleet_seed())
    path = write(tmp_path / "c.yaml", {
        "template_sets": {"core": {"languages": ["en_US", "es"], "templates": {
            "only_english": {"category": "UTILITY", "languages": {"en_US": {"components": [body("Hi {{1}}.", "Ann")]}}},
            "short_spanish": {"category": "UTILITY", "languages": {
                "en_US": {"components": [body("Order {{1}} ships {{2}}.", "#1", "today")]},
                "es": {"components": [body("Pedido {{1}} sale hoy.", "#1")]}}}}}},
        "accounts": {"acme": {"waba_id": waba_id(0), "use": ["core"]}}})
    result = wabactl("validate", path)
    assert result.exit_code == 1
    assert "template only_english" in result.stderr and "es" in result.stderr
    assert "template short_spanish[es]" in result.stderr
    assert wabactl("plan", path).exit_code == 1
    assert graph.log() == []


def fleet_config(tmp_path, **extra) -> str:
    return write(tmp_path / "c.yaml", {
        "template_sets": {"core": {"templates": {"welcome": greeting("Hi {{1}}, welcome.")}}},
        "fleets": {"partners": {"business_id": FLEET_BUSINESS, "listings": ["client"], "use": ["core"],
                                "exclude": {"names": ["Test *"]}, **extra}}})


def test_a_fleet_covers_the_wabas_its_filters_keep_and_finds_new_ones(load, wabactl, tmp_path):
    graph = load(fleet_seed(5))
    path = fleet_config(tmp_path)
    planned = wabactl("plan", path, "--format", "json")
    assert planned.exit_code == 0, planned.stderr
    data = json.loads(planned.stdout)
    expected = [f"partners/{waba_id(i)}" for i in range(4)]
    assert [a["account"] for a in data["accounts"]] == expected
    assert data["fleets"] == [{"fleet": "partners", "business_id": FLEET_BUSINESS, "accounts": expected, "error": None}]
    text = wabactl("plan", path).stdout
    assert f"Fleet partners (business {FLEET_BUSINESS}): 4 accounts: partners/{waba_id(0)}" in text
    assert wabactl("apply", path, "--auto-approve").exit_code == 0
    assert wabactl("plan", path, "--detailed-exitcode").exit_code == 0
    seed = fleet_seed(6)  # a sixth WABA joins the business; the others keep what apply made
    for i in range(5):
        seed["wabas"][waba_id(i)]["templates"] = [template("welcome", components=[body("Hi {{1}}, welcome.", "Ann")])]
    graph.control("POST", "reset", {"seed": seed})
    sixth = json.loads(wabactl("plan", path, "--format", "json").stdout)
    assert [(a["account"], [c["key"] for c in a["changes"]]) for a in sixth["accounts"] if a["changes"]] == [
        (f"partners/{waba_id(5)}", ["template.welcome[en_US]"])]


def test_an_explicit_account_wins_over_a_fleet_match(load, wabactl, tmp_path):
    load(fleet_seed(3))
    data = yaml.safe_load(open(fleet_config(tmp_path)))
    data["accounts"] = {"flagship": {"waba_id": waba_id(1), "templates": {}}}
    path = write(tmp_path / "c.yaml", data)
    accounts = [a["account"] for a in json.loads(wabactl("plan", path, "--format", "json").stdout)["accounts"]]
    assert accounts == ["flagship", f"partners/{waba_id(0)}", f"partners/{waba_id(2)}"]  # not partners/{waba_id(1)}


def test_a_fleet_whose_listing_is_refused_does_not_stop_explicit_accounts(load, wabactl, tmp_path):
    graph = load(fleet_seed(3))
    data = yaml.safe_load(open(fleet_config(tmp_path)))
    data["accounts"] = {"flagship": {"waba_id": WABA, "templates": {"welcome": greeting("Hi {{1}}, welcome.")}}}
    path = write(tmp_path / "c.yaml", data)
    graph.control("POST", "faults", {"kind": "error", "path": f"/{FLEET_BUSINESS}/*", "status": 403, "code": 200})
    result = wabactl("plan", path)
    assert result.exit_code == 1
    assert f"Fleet partners (business {FLEET_BUSINESS}): error: cannot list the WABAs of business {FLEET_BUSINESS}" in result.stdout
    assert "Account flagship" in result.stdout and "+ template.welcome[en_US]" in result.stdout


def test_shards_cover_every_account_exactly_once(load, wabactl, tmp_path):
    load(fleet_seed(12))
    path = fleet_config(tmp_path, exclude={"ids": []})
    everyone = [a["account"] for a in json.loads(wabactl("plan", path, "--format", "json").stdout)["accounts"]]
    assert len(everyone) == 12
    shards = [[a["account"] for a in json.loads(wabactl("plan", path, "--format", "json", "--shard", f"{i}/3").stdout)["accounts"]]
              for i in (1, 2, 3)]
    assert sorted(functools.reduce(operator.iadd, shards, [])) == sorted(everyone) and all(shards)


@pytest.mark.parametrize("shard", ["3/2", "0/0", "0/3", "a/b", "1"])
def test_a_bad_shard_is_one_clear_error(wabactl, tmp_path, shard):
    result = wabactl("plan", str(tmp_path / "c.yaml"), "--shard", shard)
    assert result.exit_code == 1 and "--shard" in result.output and "Traceback" not in result.output


def test_drift_names_the_set_a_template_came_from(load, wabactl, tmp_path):
    graph = load(fleet_seed())
    path = three_brands(tmp_path)
    wabactl("apply", path, "--auto-approve")
    live = graph.get(f"{waba_id(0)}/message_templates").json()["data"][0]
    graph.control("POST", f"templates/{live['id']}", {"status": "PAUSED"})
    result = wabactl("drift", path, "--format", "json")
    assert result.exit_code == 2
    findings = [(a["account"], f["kind"], f["set"]) for a in json.loads(result.stdout)["accounts"] for f in a["findings"]]
    assert findings == [("acme", "status", "core")]
    assert "status template.welcome[en_US]: PAUSED" in wabactl("drift", path).stdout and "(set core)" in wabactl("drift", path).stdout


def test_a_saved_plan_is_stale_when_the_fleet_finds_another_wabas(load, wabactl, tmp_path):
    graph = load(fleet_seed(5))
    path = fleet_config(tmp_path)
    saved = tmp_path / "plan.json"
    assert wabactl("plan", path, "--out", str(saved)).exit_code == 0
    graph.control("POST", "reset", {"seed": fleet_seed(6)})
    result = wabactl("apply", str(saved))
    assert result.exit_code == 1 and f"partners/{waba_id(5)}: found by fleet partners now, not in the plan" in result.stderr
    assert [e for e in graph.calls() if e["method"] in ("POST", "DELETE")] == []


def test_apply_honours_shard_from_configs_and_from_a_plan_file(load, wabactl, tmp_path):
    graph = load(fleet_seed(12))
    path = fleet_config(tmp_path, exclude={"ids": []})
    first = [a["account"] for a in json.loads(wabactl("plan", path, "--format", "json", "--shard", "1/3").stdout)["accounts"]]
    assert wabactl("apply", path, "--auto-approve", "--shard", "1/3").exit_code == 0
    touched = {e["path"].split("/")[2] for e in graph.calls() if e["method"] == "POST"}
    assert touched == {name.split("/")[1] for name in first}
    saved = tmp_path / "plan.json"
    assert wabactl("plan", path, "--out", str(saved)).exit_code == 0
    graph.control("DELETE", "requests")
    assert wabactl("apply", str(saved), "--shard", "2/3").exit_code == 0
    second = [a["account"] for a in json.loads(wabactl("plan", path, "--format", "json", "--shard", "2/3").stdout)["accounts"]]
    assert {e["path"].split("/")[2] for e in graph.calls() if e["method"] == "POST"} == {name.split("/")[1] for name in second}


def test_a_waba_two_fleets_keep_is_left_alone(load, wabactl, tmp_path):
    graph = load(fleet_seed(3))
    path = write(tmp_path / "c.yaml", {
        "template_sets": {"core": {"templates": {"welcome": greeting("Hi {{1}}, welcome.")}}},
        "fleets": {"a": {"business_id": FLEET_BUSINESS, "use": ["core"], "include": {"names": ["Shop *"]}},
                   "b": {"business_id": FLEET_BUSINESS, "use": ["core"], "include": {"ids": [waba_id(1)]}}}})
    result = wabactl("apply", path, "--auto-approve")
    assert result.exit_code == 1
    assert f"WABA {waba_id(1)} (Shop 1) is kept by fleets a, b" in result.stdout
    assert {e["path"].split("/")[2] for e in graph.calls() if e["method"] == "POST"} == {waba_id(0), waba_id(2)}


def test_a_refused_listing_keeps_other_fleets_off_the_wabas_it_would_keep(load, wabactl, tmp_path):
    graph = load(fleet_seed(3))
    path = write(tmp_path / "c.yaml", {
        "template_sets": {"core": {"templates": {"welcome": greeting("Hi {{1}}, welcome.")}}},
        "fleets": {"a": {"business_id": BUSINESS, "use": ["core"]},
                   "b": {"business_id": FLEET_BUSINESS, "use": ["core"], "include": {"ids": [waba_id(0)]}}}})
    graph.control("POST", "faults", {"kind": "error", "path": f"/{BUSINESS}/*", "status": 403, "code": 200})
    result = wabactl("apply", path, "--auto-approve")
    assert result.exit_code == 1 and "fleet a could not list its WABAs" in result.stdout
    assert [e for e in graph.calls() if e["method"] == "POST"] == []


def test_explicit_accounts_can_be_chosen_while_a_fleet_is_refused(load, wabactl, tmp_path):
    graph = load(fleet_seed(3))
    data = yaml.safe_load(open(fleet_config(tmp_path)))
    data["accounts"] = {"flagship": {"waba_id": WABA, "templates": {"welcome": greeting("Hi {{1}}, welcome.")}}}
    path = write(tmp_path / "c.yaml", data)
    graph.control("POST", "faults", {"kind": "error", "path": f"/{FLEET_BUSINESS}/*", "status": 403, "code": 200})
    assert wabactl("apply", path, "--auto-approve").exit_code == 1  # the fleet failing is an error
    saved = tmp_path / "plan.json"
    assert wabactl("plan", path, "--account", "flagship", "--out", str(saved)).exit_code == 0 and saved.exists()


def test_an_account_outside_the_shard_is_named(load, wabactl, tmp_path):
    load(fleet_seed(12))
    path = fleet_config(tmp_path, exclude={"ids": []})
    one = json.loads(wabactl("plan", path, "--format", "json", "--shard", "1/3").stdout)["accounts"][0]["account"]
    result = wabactl("plan", path, "--account", one, "--shard", "2/3")
    assert result.exit_code == 1 and "not in shard 2/3" in result.stderr


def test_translations_that_differ_without_declared_languages_are_a_warning(load, wabactl, tmp_path):
    load(fleet_seed())
    path = write(tmp_path / "c.yaml", {"accounts": {"acme": {"waba_id": waba_id(0), "templates": {"order": {
        "category": "UTILITY", "languages": {"en_US": {"components": [body("Order {{1}} ships {{2}}.", "#1", "today")]},
                                             "es": {"components": [body("Pedido {{1}} sale hoy.", "#1")]}}}}}}})
    result = wabactl("validate", path)
    assert result.exit_code == 0 and "warning:" in result.stderr and "template order[es]: BODY has 1 variable" in result.stderr


@pytest.mark.parametrize("languages", [5, True, "en_US"])
def test_languages_that_are_not_a_list_is_one_problem(wabactl, tmp_path, languages):
    path = write(tmp_path / "c.yaml", {"template_sets": {"core": {"languages": languages, "templates": {"welcome": greeting("Hi {{1}}.")}}},
                                       "accounts": {"acme": {"waba_id": WABA, "use": ["core"]}}})
    result = wabactl("validate", path)
    assert result.exit_code == 1 and "languages" in result.stderr and "Traceback" not in result.output
