"""End to end through the CLI against the emulator: validate, plan, apply, import, exit codes."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from conftest import BANNER, BUSINESS, ME, OTHER_WABA, PEOPLE, TOKEN, WABA, body, seed_with, template, write_config

LANGUAGES = ("en_US", "es", "pt_BR")


@pytest.fixture(autouse=True)
def banner(tmp_path):
    """The header file the configs here name, beside them (a header_file stays in its config's folder)."""
    shutil.copy(BANNER, tmp_path / "banner.png")


def rich_components(i: int, language: str, text_variant: str = "", seeded: bool = False) -> tuple[list[dict], str]:
    """Components with media headers, buttons and named parameters spread over the set."""
    named = i % 5 == 0
    if named:
        text = f"Hi {{{{first_name}}}}, order {i}{text_variant} in {language} is ready for {{{{place}}}} today."
        main = {"type": "BODY", "text": text, "example": {"body_text_named_params": [
            {"param_name": "first_name", "example": "Ann"}, {"param_name": "place", "example": "Lisbon"}]}}
    else:
        main = body(f"Order {{{{1}}}} number {i}{text_variant} in {language} ships soon.", "#1")
    components = []
    if i % 3 == 0:
        components.append({"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::seeded"]} if seeded else {"header_file": "banner.png"}})
    components.append(main)
    if i % 4 == 0:
        components.append({"type": "BUTTONS", "buttons": [
            {"type": "URL", "text": "Track", "url": "https://shop.example.com/t/{{1}}", "example": ["https://shop.example.com/t/1"]},
            {"type": "QUICK_REPLY", "text": "Stop"}]})
    return components, "NAMED" if named else "POSITIONAL"


def declared_templates(count: int = 25, languages=LANGUAGES) -> dict:
    templates = {}
    for i in range(count):
        entry: dict = {"category": "MARKETING" if i % 2 else "UTILITY", "languages": {}}
        for language in languages:
            components, parameter_format = rich_components(i, language)
            entry["languages"][language] = {"components": components}
            if parameter_format == "NAMED":
                entry["parameter_format"] = "NAMED"
        templates[f"template_{i:02d}"] = entry
    return templates


def live_seed():
    """30 of the 75 declared languages live (some changed), 3 undeclared, users to converge."""
    rows = []
    for i in range(10):
        for language in LANGUAGES:
            variant = " (old)" if i % 3 == 1 else ""
            components, parameter_format = rich_components(i, language, variant, seeded=True)
            rows.append(template(f"template_{i:02d}", language, status="REJECTED" if i == 7 else "APPROVED",
                                 category="MARKETING" if i % 2 else "UTILITY", components=components,
                                 parameter_format=parameter_format))
    rows += [template(f"leftover_{i}") for i in range(3)]
    seed = seed_with(rows, page_max=7)
    seed["wabas"][WABA]["assigned_users"] = {ME: ["MANAGE"], PEOPLE[0]: ["VIEW_TEMPLATES"], PEOPLE[2]: ["MESSAGING"]}
    return seed


def account(templates, **extra):
    return {"acme": {"waba_id": WABA, "business_id": BUSINESS, "templates": templates,
                     "users": {ME: ["MANAGE"], PEOPLE[0]: ["MANAGE_TEMPLATES", "VIEW_TEMPLATES"], PEOPLE[1]: ["VIEW_COST"]},
                     **extra}}


DEFAULTS = {"on_change": "edit", "prune": {"templates": True, "users": True}}


def test_apply_then_plan_is_empty_then_import_round_trips(load, wabactl, tmp_path):
    graph = load(live_seed())
    path = write_config(tmp_path / "acme.yaml", account(declared_templates()), DEFAULTS)

    planned = wabactl("plan", path, "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    assert "Plan: 46 to create, 9 to edit, 0 to replace, 1 to update, 4 to delete." in planned.stdout
    assert [e for e in graph.log() if e["method"] != "GET"] == []  # plan writes nothing

    applied = wabactl("apply", path, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "Apply complete: 60 change(s) applied." in applied.stdout
    assert "[60/60]" in applied.stderr

    again = wabactl("plan", path, "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes." in again.stdout

    imported = tmp_path / "imported.yaml"
    result = wabactl("import", "--waba", WABA, "--business", BUSINESS, "--account", "acme", "-o", str(imported))
    assert result.exit_code == 0, result.output
    assert "75 language(s)" in result.stderr
    round_trip = wabactl("plan", str(imported), "--detailed-exitcode")
    assert round_trip.exit_code == 0, round_trip.output


def test_removing_one_language_deletes_that_language_only(load, wabactl, tmp_path):
    load(live_seed())
    templates = declared_templates()
    path = write_config(tmp_path / "acme.yaml", account(templates), DEFAULTS)
    assert wabactl("apply", path, "--auto-approve").exit_code == 0
    del templates["template_03"]["languages"]["es"]
    write_config(tmp_path / "acme.yaml", account(templates), DEFAULTS)
    planned = wabactl("plan", path, "--format", "json")
    data = json.loads(planned.stdout)
    assert [(c["key"], c["action"]) for c in data["accounts"][0]["changes"]] == [("template.template_03[es]", "delete")]
    assert wabactl("apply", path, "--auto-approve").exit_code == 0
    graph_rows = yaml.safe_load(wabactl("import", "--waba", WABA).stdout)
    languages = graph_rows["accounts"]["acme-main"]["templates"]["template_03"]["languages"]
    assert sorted(languages) == ["en_US", "pt_BR"]


def test_users_tasks_converge(load, wabactl, tmp_path):
    graph = load(live_seed())
    path = write_config(tmp_path / "acme.yaml", account({}), {"prune": {"users": True}})
    result = wabactl("apply", path, "--auto-approve")
    assert result.exit_code == 0, result.output
    listing = graph.get(f"{WABA}/assigned_users", business=BUSINESS).json()["data"]
    assert {u["id"]: sorted(u["tasks"]) for u in listing} == {
        ME: ["MANAGE"], PEOPLE[0]: ["MANAGE_TEMPLATES", "VIEW_TEMPLATES"], PEOPLE[1]: ["VIEW_COST"]}
    assert wabactl("plan", path, "--detailed-exitcode").exit_code == 0


def test_invalid_config_changes_nothing_and_calls_nothing(load, wabactl, tmp_path):
    graph = load(live_seed())
    path = tmp_path / "bad.yaml"
    path.write_text(f"version: 1\naccounts:\n  acme:\n    waba_id: '{WABA}'\n    templates:\n      Bad:\n        category: UTILITY\n"
                    "        languages: {en: {components: [{type: BODY, text: 'Hi {{1}} there'}]}}\n")
    for command in (["validate", str(path)], ["plan", str(path)], ["apply", str(path), "--auto-approve"]):
        result = wabactl(*command)
        assert result.exit_code == 1
        assert f"{path}, line 6, column 7: name 'Bad' is not allowed" in result.stderr
        assert f"{path}, line 8, column 39" in result.stderr and "every variable needs an example" in result.stderr
        assert "Traceback" not in result.output
    assert graph.log() == []


def test_missing_token_names_the_variable(load, wabactl, tmp_path):
    graph = load()
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "token_env": "ACME_TOKEN"}})
    result = wabactl("plan", path, env={"WABACTL_TOKEN": ""})
    assert result.exit_code == 1
    assert "set the environment variable ACME_TOKEN" in result.stderr
    assert graph.log() == []


def test_graph_error_is_one_line_without_traceback_unless_debug(load, wabactl, tmp_path):
    load()
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": "999"}})
    result = wabactl("plan", path)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: account acme: Graph API error on GET /v26.0/999/message_templates")
    assert "code 100, subcode 33" in result.stderr and "Traceback" not in result.stderr
    assert TOKEN not in result.output
    debug = wabactl("--debug", "plan", path)
    assert "Traceback" in debug.stderr


def test_saved_plan_applies_once_then_is_stale(load, wabactl, tmp_path):
    graph = load(seed_with([template("old_one")]))
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": {"order_shipped": {
        "category": "UTILITY", "languages": {"en_US": {"components": [body("Your order {{1}} ships today.", "#1")]}}}}}},
        {"prune": {"templates": True}})
    planfile = tmp_path / "plan.json"
    assert wabactl("plan", path, "--out", str(planfile)).exit_code == 0
    saved = planfile.read_text()
    assert TOKEN not in saved and json.loads(saved)["format"] == "wabactl-plan"
    applied = wabactl("apply", str(planfile))
    assert applied.exit_code == 0, applied.output
    writes = [(e["method"], e["path"].rsplit("/", 1)[-1]) for e in graph.log() if e["method"] != "GET"]
    assert writes == [("DELETE", "message_templates"), ("POST", "message_templates")]
    stale = wabactl("apply", str(planfile))
    assert stale.exit_code == 1 and "live state changed since the plan was made" in stale.stderr


def test_apply_asks_and_only_yes_proceeds(load, wabactl, tmp_path):
    graph = load()
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": {"order_shipped": {
        "category": "UTILITY", "languages": {"en_US": {"components": [body("Your order {{1}} ships today.", "#1")]}}}}}})
    refused = wabactl("apply", path, input="no\n")
    assert refused.exit_code == 1 and "nothing was changed" in refused.stderr
    assert [e for e in graph.log() if e["method"] == "POST"] == []
    accepted = wabactl("apply", path, input="yes\n")
    assert accepted.exit_code == 0, accepted.output
    assert len([e for e in graph.log() if e["method"] == "POST"]) == 1


def three_templates(tmp_path, graph) -> str:
    templates = {f"t{i}": {"category": "UTILITY", "languages": {"en_US": {"components": [body("Your order {{1}} ships today.", "#1")]}}}
                 for i in range(3)}
    graph.create("t0")  # t0 is live already: the plan starts with t1
    return write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": templates}})


def test_a_write_whose_answer_was_lost_is_read_back_and_reported_applied(load, wabactl, tmp_path):
    graph = load()
    path = three_templates(tmp_path, graph)
    graph.control("POST", "faults", {"kind": "drop_after", "method": "POST", "path": "/*/message_templates", "times": 1})
    result = wabactl("apply", path, "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "Apply complete: 2 change(s) applied." in result.stdout
    names = [r["name"] for r in graph.get(f"{WABA}/message_templates", limit=100).json()["data"]]
    assert sorted(names) == ["t0", "t1", "t2"]
    posts = [e["status"] for e in graph.log() if e["method"] == "POST"]
    assert posts == [200, 200, 200]  # t0 (set up), then t1 (its answer lost, read back: it happened) and t2, once each
    assert wabactl("plan", path, "--detailed-exitcode").exit_code == 0


def test_a_final_failure_stops_the_account_and_reports_each_change(load, wabactl, tmp_path):
    graph = load()
    path = three_templates(tmp_path, graph)
    graph.control("POST", "faults", {"kind": "error", "method": "POST", "path": "/*/message_templates", "status": 400,
                                     "code": 100, "subcode": 2388040, "times": 1})
    result = wabactl("apply", path, "--auto-approve")
    assert result.exit_code == 1
    assert "failed (1):" in result.stderr and "template.t1[en_US]" in result.stderr
    assert "not attempted (1):" in result.stderr and "template.t2[en_US]" in result.stderr
    retried = wabactl("apply", path, "--auto-approve")
    assert retried.exit_code == 0 and "Apply complete: 2 change(s) applied." in retried.stdout


def test_failed_change_is_reported_with_its_graph_error(load, wabactl, tmp_path):
    graph = load()
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": {"t0": {
        "category": "UTILITY", "languages": {"en_US": {"components": [body("Your order {{1}} ships today.", "#1")]}}}}}})
    graph.control("POST", "faults", {"kind": "error", "method": "POST", "path": "/*/message_templates", "status": 400, "code": 100, "subcode": 2388040})
    result = wabactl("apply", path, "--auto-approve")
    assert result.exit_code == 1
    assert "failed (1):" in result.stderr and "code 100, subcode 2388040" in result.stderr


def test_formats_markdown_and_json(load, wabactl, tmp_path):
    load(seed_with([template("gone")]))
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": {}}}, {"prune": {"templates": True}})
    markdown = wabactl("plan", path, "--format", "markdown").stdout
    assert markdown.startswith("<!-- wabactl:plan -->\n### wabactl plan")
    assert f"| `acme` | {WABA} | 0 | 0 | 0 | 0 | 1 | 0 | 0 |" in markdown
    assert "- template.gone[en_US]  will be deleted  [live: APPROVED]" in markdown
    data = json.loads(wabactl("plan", path, "--format", "json").stdout)
    assert data["summary"]["delete"] == 1 and data["accounts"][0]["fingerprint"].startswith("sha256:")


def test_quickstart_command_works_with_the_in_process_emulator(wabactl):
    result = wabactl("plan", "examples/wabactl.yaml", "--emulator", "examples/seed.yaml",
                     env={"WABACTL_GRAPH_URL": "", "WABACTL_TOKEN": ""})
    assert result.exit_code == 0, result.output
    assert "Plan: 3 to create, 1 to edit, 0 to replace, 1 to update, 1 to delete." in result.stdout


def _plan_to_replace_mine(load, wabactl, tmp_path):
    graph = load(seed_with([template("elsewhere", status="PENDING"), template("mine", status="REJECTED")]))
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": {"mine": {
        "category": "UTILITY", "languages": {"en_US": {"components": [body("Your parcel {{1}} ships today.", "#1")]}}}}}},
        {"on_change": "replace"})
    planfile = tmp_path / "plan.json"
    assert wabactl("plan", path, "--out", str(planfile)).exit_code == 0
    ids = {r["name"]: r["id"] for r in graph.get(f"{WABA}/message_templates").json()["data"]}
    return graph, planfile, ids


def test_saved_plan_survives_a_review_ending_elsewhere(load, wabactl, tmp_path):
    graph, planfile, ids = _plan_to_replace_mine(load, wabactl, tmp_path)
    graph.control("POST", f"templates/{ids['elsewhere']}", {"status": "APPROVED"})
    applied = wabactl("apply", str(planfile))
    assert applied.exit_code == 0, applied.output


def test_saved_plan_is_stale_when_its_own_template_changed_status(load, wabactl, tmp_path):
    graph, planfile, ids = _plan_to_replace_mine(load, wabactl, tmp_path)
    graph.control("POST", f"templates/{ids['mine']}", {"status": "APPROVED"})  # replacing it now would lock the name
    stale = wabactl("apply", str(planfile))
    assert stale.exit_code == 1 and "live state changed since the plan was made" in stale.stderr
    assert [e for e in graph.log() if e["method"] in ("POST", "DELETE")] == []


def test_emulator_run_never_sends_a_real_token(wabactl):
    result = wabactl("plan", "examples/wabactl.yaml", "--emulator", "examples/seed.yaml",
                     env={"WABACTL_GRAPH_URL": "", "WABACTL_TOKEN": "EAAG-a-real-looking-token"})
    assert result.exit_code == 0, result.output
    assert "EAAG-a-real-looking-token" not in result.output


def test_unwritable_plan_file_is_one_message(load, wabactl, tmp_path):
    load()
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA}})
    result = wabactl("plan", path, "--out", str(tmp_path / "missing" / "plan.json"))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: No such file or directory") and "Traceback" not in result.stderr


def test_a_plan_file_is_applied_alone(load, wabactl, tmp_path):
    graph = load()
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA}})
    planfile = tmp_path / "plan.json"
    assert wabactl("plan", path, "--out", str(planfile)).exit_code == 0
    result = wabactl("apply", str(planfile), path)
    assert result.exit_code == 1 and "is a plan file: apply takes one plan file, or config files, not both" in result.stderr
    assert "Traceback" not in result.output and [e for e in graph.log() if e["method"] != "GET"] == []


def test_usage_errors_exit_1_not_2(wabactl):
    for args in (["plan", "--no-such-flag", "x.yaml"], ["no-such-command"], ["plan", "--parallelism", "0", "x.yaml"], ["apply"]):
        result = wabactl(*args)
        assert result.exit_code == 1, (args, result.output)
        assert "Error:" in result.output and "Traceback" not in result.output
    assert wabactl("--help").exit_code == 0


def test_one_account_refused_does_not_stop_the_others(load, wabactl, tmp_path):
    graph = load()
    wanted = {"order_shipped": {"category": "UTILITY", "languages": {"en_US": {"components": [body("Your order {{1}} ships today.", "#1")]}}}}
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": wanted},
                                              "partner": {"waba_id": OTHER_WABA, "templates": wanted}})
    graph.control("POST", "faults", {"kind": "error", "path": f"/{OTHER_WABA}*", "status": 403, "code": 200})
    planned = wabactl("plan", path)
    assert planned.exit_code == 1
    assert "+ template.order_shipped[en_US]  will be created" in planned.stdout
    assert "Account partner (WABA 111000000000002)\n  error: Graph API error on GET" in planned.stdout and "code 200" in planned.stdout
    assert "1 account(s) could not be planned: partner" in planned.stdout
    assert "Error: account partner: Graph API error" in planned.stderr and "Traceback" not in planned.output
    data = json.loads(wabactl("plan", path, "--format", "json").stdout)
    assert [a["account"] for a in data["accounts"]] == ["acme"] and data["failures"][0]["account"] == "partner"
    applied = wabactl("apply", path, "--auto-approve")
    assert applied.exit_code == 1
    assert "[1/1] acme: + template.order_shipped[en_US] applied" in applied.stderr
    assert "Error: account partner:" in applied.stderr
    assert [r["name"] for r in graph.get(f"{WABA}/message_templates").json()["data"]] == ["order_shipped"]
    assert [e for e in graph.log() if e["method"] != "GET" and OTHER_WABA in e["path"]] == []
