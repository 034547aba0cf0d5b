"""The saved plan's lifecycle and apply's results end to end: `apply PLANFILE --account`,
`--max-plan-age` in the Graph API's time, `show`, exit codes 0/1/3, `apply --report`."""

from __future__ import annotations

import json

import pytest

from reconciler.schemas import problems

from conftest import OTHER_WABA, WABA, body, seed_with, template, write_config

HOUR = 3600


def one(text: str = "Your order {{1}} ships today.", category: str = "UTILITY") -> dict:
    return {"category": category, "languages": {"en_US": {"components": [body(text, "#1")]}}}


def two_accounts(tmp_path) -> str:
    return write_config(tmp_path / "c.yaml", {"a": {"waba_id": WABA, "templates": {"order_shipped": one()}},
                                              "b": {"waba_id": OTHER_WABA, "templates": {"order_shipped": one()}}})


def writes(graph, waba: str | None = None) -> list[tuple[str, str]]:
    return [(e["method"], e["path"]) for e in graph.calls() if e["method"] in ("POST", "DELETE") and (waba is None or waba in e["path"])]


def test_apply_planfile_account_changes_only_that_account(load, wabactl, tmp_path):
    graph = load()
    path = two_accounts(tmp_path)
    saved = tmp_path / "plan.json"
    assert wabactl("plan", path, "--out", str(saved)).exit_code == 0
    applied = wabactl("apply", str(saved), "--account", "a")
    assert applied.exit_code == 0, applied.output
    assert writes(graph, OTHER_WABA) == [] and len(writes(graph, WABA)) == 1
    rest = wabactl("apply", str(saved), "--account", "b")  # b's part of the plan still holds
    assert rest.exit_code == 0, rest.output
    assert len(writes(graph, OTHER_WABA)) == 1
    assert wabactl("plan", path, "--detailed-exitcode").exit_code == 0


def test_apply_planfile_with_an_account_not_in_the_plan_is_refused(load, wabactl, tmp_path):
    graph = load()
    saved = tmp_path / "plan.json"
    wabactl("plan", two_accounts(tmp_path), "--out", str(saved), "--account", "a")
    result = wabactl("apply", str(saved), "--account", "b")
    assert result.exit_code == 1 and "--account b: not in the plan file" in result.stderr
    assert writes(graph) == []


def test_plan_older_than_max_plan_age_is_refused_in_graph_time(load, wabactl, tmp_path):
    graph = load()
    path = write_config(tmp_path / "c.yaml", {"a": {"waba_id": WABA, "templates": {"order_shipped": one()}}})
    saved = tmp_path / "plan.json"
    wabactl("plan", path, "--out", str(saved))
    graph.advance(2 * HOUR)
    old = wabactl("apply", str(saved), "--max-plan-age", "90m")
    assert old.exit_code == 1 and "longer ago than --max-plan-age 1h 30m" in old.stderr and "2h" in old.stderr
    assert writes(graph) == []
    fine = wabactl("apply", str(saved), "--max-plan-age", "3h")
    assert fine.exit_code == 0, fine.output


def test_default_max_plan_age_is_a_day(load, wabactl, tmp_path):
    graph = load()
    path = write_config(tmp_path / "c.yaml", {"a": {"waba_id": WABA, "templates": {"order_shipped": one()}}})
    saved = tmp_path / "plan.json"
    wabactl("plan", path, "--out", str(saved))
    graph.advance(25 * HOUR)
    result = wabactl("apply", str(saved))
    assert result.exit_code == 1 and "--max-plan-age 1d" in result.stderr


@pytest.mark.parametrize("value", ["soon", "10", "2x", "-5m", "0s", "h", "1.5h", ""])
def test_max_plan_age_that_does_not_parse_is_one_clear_error(wabactl, tmp_path, value):
    result = wabactl("apply", str(tmp_path / "plan.json"), "--max-plan-age", value)
    assert result.exit_code == 1 and "--max-plan-age" in result.output and "Traceback" not in result.output
    assert "is not a duration" in result.output or "longer than zero" in result.output


def test_max_plan_age_with_config_files_is_refused(load, wabactl, tmp_path):
    graph = load()
    path = write_config(tmp_path / "c.yaml", {"a": {"waba_id": WABA, "templates": {"order_shipped": one()}}})
    result = wabactl("apply", path, "--auto-approve", "--max-plan-age", "1h")
    assert result.exit_code == 1 and "--max-plan-age applies to a saved plan" in result.output
    assert writes(graph) == []


def test_stale_plan_names_account_key_field_before_and_after(load, wabactl, tmp_path):
    graph = load(seed_with([template("order_shipped", status="REJECTED")]))
    path = write_config(tmp_path / "c.yaml", {"a": {"waba_id": WABA, "templates": {"order_shipped": one("Your parcel {{1}} ships today.")}}},
                        {"on_change": "edit"})
    saved = tmp_path / "plan.json"
    wabactl("plan", path, "--out", str(saved))
    live_id = graph.get(f"{WABA}/message_templates").json()["data"][0]["id"]
    graph.control("POST", f"templates/{live_id}", {"status": "PAUSED"})
    stale = wabactl("apply", str(saved))
    assert stale.exit_code == 1
    assert "a: template.order_shipped[en_US]: live status: REJECTED -> PAUSED" in stale.stderr
    assert writes(graph) == []


def test_show_renders_a_saved_plan_without_reading_live_state(load, wabactl, tmp_path):
    graph = load()
    saved = tmp_path / "plan.json"
    wabactl("plan", two_accounts(tmp_path), "--out", str(saved))
    graph.control("DELETE", "requests")
    text = wabactl("show", str(saved))
    assert text.exit_code == 0 and "+ template.order_shipped[en_US]  will be created" in text.stdout
    markdown = wabactl("show", str(saved), "--format", "markdown")
    assert markdown.stdout.startswith("<!-- wabactl:plan -->")
    assert json.loads(wabactl("show", str(saved), "--format", "json").stdout) == json.loads(saved.read_text())
    assert graph.log() == []


def test_config_given_to_show_and_plan_file_given_to_plan_are_named(load, wabactl, tmp_path):
    load()
    path = two_accounts(tmp_path)
    saved = tmp_path / "plan.json"
    wabactl("plan", path, "--out", str(saved))
    shown = wabactl("show", path)
    assert shown.exit_code == 1 and f"{path} is a config file, not a plan file" in shown.stderr
    for command in ("plan", "validate", "drift"):
        result = wabactl(command, str(saved))
        assert result.exit_code == 1 and f"{saved} is a plan file, not a config" in result.stderr, command
        assert "Traceback" not in result.output


def test_accounts_written_as_a_list_is_one_clear_error(load, wabactl, tmp_path):
    graph = load()
    path = tmp_path / "c.yaml"
    path.write_text(f"version: 1\naccounts:\n  - name: a\n    waba_id: '{WABA}'\n")
    for command in (["plan", str(path)], ["apply", str(path), "--auto-approve"], ["drift", str(path)]):
        result = wabactl(*command)
        assert result.exit_code == 1 and "line 3" in result.stderr and "Traceback" not in result.output, command
    assert writes(graph) == []


def test_apply_with_only_blocked_changes_exits_1(load, wabactl, tmp_path):
    graph = load(seed_with([template("order_shipped")]))
    path = write_config(tmp_path / "c.yaml", {"a": {"waba_id": WABA, "protect": ["order_shipped"],
                                                    "templates": {"order_shipped": one("Your parcel {{1}} ships today.")}}})
    result = wabactl("apply", path, "--auto-approve", "--report", str(tmp_path / "report.json"))
    assert result.exit_code == 1, result.output
    assert writes(graph) == []
    report = json.loads((tmp_path / "report.json").read_text())
    assert problems(report, "apply-report.schema.json") == []
    assert report["exit_code"] == 1 and report["summary"]["blocked"] == 1


def test_apply_with_only_budget_deferred_changes_exits_3(load, wabactl, tmp_path):
    graph = load()
    many = {f"bulk_{i:03d}": one(f"Order {{{{1}}}} of batch {i} ships today.") for i in range(101)}
    path = write_config(tmp_path / "c.yaml", {"a": {"waba_id": WABA, "templates": many}})
    first = wabactl("apply", path, "--auto-approve")
    assert first.exit_code == 3, first.output
    graph.control("DELETE", "requests")
    second = wabactl("apply", path, "--auto-approve", "--report", str(tmp_path / "report.json"))  # the budget is spent: all deferred
    assert second.exit_code == 3, second.output
    # Meta's answer decides, not the ledger's prediction: one create is tried and refused, no more.
    assert [e["status"] for e in graph.log() if e["method"] == "POST"] == [400]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["exit_code"] == 3 and report["summary"]["deferred"] == 1 and report["accounts"][0]["changes"][0]["not_before"]


def test_apply_report_json_has_outcomes_ids_times_and_error_codes(load, wabactl, tmp_path):
    graph = load()
    path = two_accounts(tmp_path)
    graph.control("POST", "faults", {"kind": "error", "path": f"/{OTHER_WABA}/message_templates", "method": "POST",
                                     "status": 400, "code": 100, "subcode": 2388042})
    result = wabactl("apply", path, "--auto-approve", "--format", "json", "--report", str(tmp_path / "report.json"))
    assert result.exit_code == 1
    printed = json.loads(result.stdout)
    written = json.loads((tmp_path / "report.json").read_text())
    assert printed == written and problems(written, "apply-report.schema.json") == []
    changes = {a["account"]: a["changes"][0] for a in written["accounts"]}
    assert changes["a"]["outcome"] == "applied" and changes["a"]["template_id"] and changes["a"]["at"].startswith("2026-11-01")
    assert changes["b"]["outcome"] == "failed" and changes["b"]["error"] == {"code": 100, "subcode": 2388042}
    assert written["summary"]["applied"] == 1 and written["summary"]["failed"] == 1
    assert {a["account"]: a["summary"]["applied"] for a in written["accounts"]} == {"a": 1, "b": 0}


def test_apply_markdown_report_for_posting_back(load, wabactl, tmp_path):
    load()
    result = wabactl("apply", two_accounts(tmp_path), "--auto-approve", "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<!-- wabactl:apply -->")
    assert "will be created" in result.stderr  # the plan shown before applying goes to stderr


def test_a_plan_dated_in_the_future_is_refused(load, wabactl, tmp_path):
    graph = load()
    path = write_config(tmp_path / "c.yaml", {"a": {"waba_id": WABA, "templates": {"order_shipped": one()}}})
    saved = tmp_path / "plan.json"
    wabactl("plan", path, "--out", str(saved))
    data = json.loads(saved.read_text())
    data["created_at"] = "2099-01-01T00:00:00+00:00"
    saved.write_text(json.dumps(data))
    result = wabactl("apply", str(saved), "--max-plan-age", "1h")
    assert result.exit_code == 1 and "after the Graph API's time now" in result.stderr
    assert writes(graph) == []


def test_options_a_saved_plan_cannot_use_are_refused(load, wabactl, tmp_path):
    graph = load()
    path = write_config(tmp_path / "c.yaml", {"a": {"waba_id": WABA, "templates": {"order_shipped": one()}}})
    saved = tmp_path / "plan.json"
    wabactl("plan", path, "--out", str(saved))
    for args, said in ((["--auto-approve"], "--auto-approve is for config files"),
                       (["--timeout", "60"], "--timeout is how long --wait-for-review waits"),
                       (["--poll-interval", "1"], "--poll-interval paces --wait and --wait-for-review")):
        result = wabactl("apply", str(saved), *args)
        assert result.exit_code == 1 and said in result.output, args
    assert writes(graph) == []


def test_report_and_format_are_written_when_there_is_nothing_to_do(load, wabactl, tmp_path):
    load(seed_with([template("order_shipped")]))
    path = write_config(tmp_path / "c.yaml", {"a": {"waba_id": WABA, "templates": {"order_shipped": one()}}})
    result = wabactl("apply", path, "--auto-approve", "--format", "json", "--report", str(tmp_path / "r.json"))
    assert result.exit_code == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert json.loads(result.stdout) == report and report["exit_code"] == 0 and report["summary"]["applied"] == 0


def test_json_output_stays_json_with_wait_for_review(load, wabactl, tmp_path):
    load()
    path = write_config(tmp_path / "c.yaml", {"a": {"waba_id": WABA, "templates": {"order_shipped": one()}}})
    result = wabactl("apply", path, "--auto-approve", "--format", "json", "--wait-for-review", "--poll-interval", "0.05", "--timeout", "5")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["applied"] == 1 and "Review:" in result.stderr


def test_a_plan_with_an_unreadable_account_is_not_saved(load, wabactl, tmp_path):
    graph = load()
    path = two_accounts(tmp_path)
    graph.control("POST", "faults", {"kind": "error", "path": f"/{OTHER_WABA}*", "status": 403, "code": 200})
    result = wabactl("plan", path, "--out", str(tmp_path / "plan.json"))
    assert result.exit_code == 1 and "Plan not saved" in result.stderr
    assert not (tmp_path / "plan.json").exists()


def test_drift_and_apply_reports_are_named_where_a_plan_or_config_is_expected(load, wabactl, tmp_path):
    load(seed_with([template("by_hand")]))
    path = two_accounts(tmp_path)
    wabactl("drift", path, "--format", "json", "--out", str(tmp_path / "drift.json"))
    shown = wabactl("show", str(tmp_path / "drift.json"))
    assert shown.exit_code == 1 and "is a drift report, not a plan file" in shown.stderr
    planned = wabactl("plan", str(tmp_path / "drift.json"))
    assert planned.exit_code == 1 and "is a drift report wabactl wrote, not a config" in planned.stderr


def test_apply_from_another_folder_says_where_to_run_it(load, wabactl, tmp_path, monkeypatch):
    graph = load()
    folder = tmp_path / "repo"
    folder.mkdir()
    monkeypatch.chdir(folder)
    write_config(folder / "c.yaml", {"a": {"waba_id": WABA, "templates": {"order_shipped": one()}}})
    assert wabactl("plan", "c.yaml", "--out", "plan.json").exit_code == 0
    monkeypatch.chdir(tmp_path)
    result = wabactl("apply", "repo/plan.json")
    assert result.exit_code == 1 and "cannot be found from" in result.stderr and "run apply from the folder plan ran in" in result.stderr
    assert writes(graph) == []
