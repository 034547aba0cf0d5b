"""`wabactl drift` end to end against the emulator: finding kinds, exit codes, ignore rules, the
baseline, the JSON schema."""

from __future__ import annotations

import json

from reconciler.schemas import problems

from conftest import WABA, body, seed_with, template, write_config

# Live: one template Meta paused, one it recategorised, one added by hand in WhatsApp Manager.
LIVE = [
    template("order_shipped", status="PAUSED"),
    template("promo", category="MARKETING", previous_category="UTILITY"),
    template("by_hand"),
]


def declared(text: str = "Your order {{1}} ships today.", category: str = "UTILITY") -> dict:
    return {"category": category, "languages": {"en_US": {"components": [body(text, "#1")]}}}


def config(tmp_path, **extra) -> str:
    return write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": {
        "order_shipped": declared(), "promo": declared(), **extra}}})


def test_paused_recategorised_and_added_by_hand_are_three_findings(load, wabactl, tmp_path):
    load(seed_with(LIVE))
    path = config(tmp_path)
    result = wabactl("drift", path)
    assert result.exit_code == 2, result.output
    assert "template.order_shipped[en_US]" in result.stdout and "PAUSED" in result.stdout
    assert "template.promo[en_US]" in result.stdout and "template.by_hand[en_US]" in result.stdout
    as_json = wabactl("drift", path, "--format", "json")
    assert as_json.exit_code == 2
    report = json.loads(as_json.stdout)
    assert problems(report, "drift.schema.json") == []
    kinds = {(f["kind"], f["key"]) for a in report["accounts"] for f in a["findings"]}
    assert kinds == {("status", "template.order_shipped[en_US]"), ("category", "template.promo[en_US]"),
                     ("unmanaged", "template.by_hand[en_US]")}
    ignored = wabactl("drift", path, "--ignore", "status", "--ignore", "category", "--ignore", "unmanaged")
    assert ignored.exit_code == 0, ignored.output


def test_plan_only_counts_unmanaged_objects_drift_names_them(load, wabactl, tmp_path):
    load(seed_with([template("order_shipped"), template("by_hand")]))
    path = config(tmp_path)
    wabactl("apply", path, "--auto-approve")
    planned = wabactl("plan", path, "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output  # plan shows only what it would do
    assert "unmanaged: 1 live object not in the config, left alone" in planned.stdout and "by_hand" not in planned.stdout
    markdown = wabactl("plan", path, "--format", "markdown").stdout
    assert "1 live object in 1 account not in the config, left alone" in markdown
    report = wabactl("drift", path, "--format", "json")
    assert report.exit_code == 2
    assert [(f["kind"], f["key"]) for a in json.loads(report.stdout)["accounts"] for f in a["findings"]] == [
        ("unmanaged", "template.by_hand[en_US]")]
    clean = wabactl("drift", path, "--ignore", "unmanaged")
    assert clean.exit_code == 0 and "No new drift: every finding is ignored (1 finding ignored)." in clean.stdout


def test_quality_and_account_review_are_findings(load, wabactl, tmp_path):
    seed = seed_with([template("order_shipped", quality_score={"score": "RED", "date": 1700000000})])
    seed["wabas"][WABA]["account_review_status"] = "PENDING"
    load(seed)
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": {"order_shipped": declared()}}})
    result = wabactl("drift", path, "--format", "json")
    assert result.exit_code == 2
    findings = {(f["kind"], f["key"], f["summary"]) for a in json.loads(result.stdout)["accounts"] for f in a["findings"]}
    assert findings == {("quality", "template.order_shipped[en_US]", "RED"), ("account", "account", "PENDING")}


def test_a_baselined_template_that_gets_worse_is_reported_again(load, wabactl, tmp_path):
    graph = load(seed_with(LIVE))
    path = config(tmp_path)
    assert wabactl("drift", path, "--baseline").exit_code == 0
    paused = next(t for t in graph.get(f"{WABA}/message_templates").json()["data"] if t["name"] == "order_shipped")
    graph.control("POST", f"templates/{paused['id']}", {"status": "DISABLED"})
    result = wabactl("drift", path, "--format", "json")
    assert result.exit_code == 2
    assert [(f["kind"], f["summary"]) for a in json.loads(result.stdout)["accounts"] for f in a["findings"]] == [("status", "DISABLED")]


def test_baseline_then_only_new_drift_is_reported(load, wabactl, tmp_path):
    graph = load(seed_with(LIVE))
    path = config(tmp_path)
    first = wabactl("drift", path, "--baseline")
    assert first.exit_code == 0, first.output
    ignore_file = tmp_path / ".wabactl-driftignore"
    assert "acme/status/template.order_shipped[en_US] = PAUSED" in ignore_file.read_text()
    assert wabactl("drift", path).exit_code == 0  # yesterday's drift is known
    graph.create("another_by_hand")  # new drift after the baseline
    again = wabactl("drift", path, "--format", "json")
    assert again.exit_code == 2
    report = json.loads(again.stdout)
    assert [f["key"] for a in report["accounts"] for f in a["findings"]] == ["template.another_by_hand[en_US]"]
    assert report["summary"]["ignored"] == 3 and report["ignore_file"] == str(ignore_file)


def test_ignore_file_globs_and_comments(load, wabactl, tmp_path):
    load(seed_with(LIVE))
    path = config(tmp_path)
    (tmp_path / ".wabactl-driftignore").write_text("# */status/*\nacme/*/template.promo[en_US]\n*/unmanaged/*\n")
    result = wabactl("drift", path, "--format", "json")
    assert result.exit_code == 2  # the commented-out rule ignores nothing
    report = json.loads(result.stdout)
    assert [f["kind"] for a in report["accounts"] for f in a["findings"]] == ["status"] and report["summary"]["ignored"] == 2


def test_out_writes_the_report_and_text_still_goes_to_stdout(load, wabactl, tmp_path):
    load(seed_with(LIVE))
    path = config(tmp_path)
    out = tmp_path / "drift.md"
    result = wabactl("drift", path, "--format", "markdown", "--out", str(out))
    assert result.exit_code == 2
    written = out.read_text()
    assert written.startswith("<!-- wabactl:drift -->") and "template.order_shipped[en_US]" in written
    assert "<!-- wabactl:drift -->" not in result.stdout and "template.order_shipped[en_US]" in result.stdout


def test_unreadable_account_exits_1_and_others_are_reported(load, wabactl, tmp_path):
    load(seed_with(LIVE))
    path = write_config(tmp_path / "c.yaml", {
        "acme": {"waba_id": WABA, "templates": {"order_shipped": declared(), "promo": declared()}},
        "gone": {"waba_id": "999999999999999", "templates": {}}})
    result = wabactl("drift", path, "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    by_name = {a["account"]: a for a in report["accounts"]}
    assert by_name["gone"]["error"] and by_name["acme"]["findings"]


def test_drift_writes_nothing(load, wabactl, tmp_path):
    graph = load(seed_with(LIVE))
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": {"brand_new": declared()}}},
                        {"prune": {"templates": True}})
    result = wabactl("drift", path)
    assert result.exit_code == 2
    assert [e for e in graph.log() if e["method"] != "GET"] == []
