"""Meta's rules end to end through the CLI against the emulator, using its clock control."""

from __future__ import annotations

import json
import threading
import time

from conftest import BUSINESS, ME, PEOPLE, WABA, body, seed_with, template, write_config

HOUR = 3600


def templates(count: int, prefix: str = "bulk") -> dict:
    return {f"{prefix}_{i:03d}": {"category": "UTILITY", "languages": {"en_US": {"components": [
        body(f"Order {{{{1}}}} of batch {i} ships today.", "#1")]}}} for i in range(count)}


def one(text: str = "Your order {{1}} ships today.", category: str = "UTILITY") -> dict:
    return {"category": category, "languages": {"en_US": {"components": [body(text, "#1")]}}}


def writes(graph) -> list[tuple[str, str]]:
    return [(e["method"], e["path"]) for e in graph.calls() if e["method"] in ("POST", "DELETE")]


def test_over_the_cap_is_refused_before_any_write(load, wabactl, tmp_path):
    graph = load(seed_with([template("live_one")]))
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": templates(251)}})
    for command in (["plan", path], ["apply", path, "--auto-approve"]):
        result = wabactl(*command)
        assert result.exit_code == 1, result.output
        assert "account acme: 252 templates after apply, over the cap of 250" in result.stderr
    assert writes(graph) == []


def test_creation_budget_defers_then_the_next_hour_finishes(load, wabactl, tmp_path):
    graph = load()
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": templates(130)}})
    planned = wabactl("plan", path)
    assert "creation budget: 100 per hour; wave 1: now, 100 creates; wave 2: not before" in planned.stdout
    assert "30 creates" in planned.stdout
    first = wabactl("apply", path, "--auto-approve")
    assert first.exit_code == 3, first.output
    assert "Apply partly done: 100 applied, 30 deferred. Run apply again after" in first.stdout
    refused = [e for e in graph.log() if e["method"] == "POST" and e["status"] != 200]
    assert len(writes(graph)) == 101 and [e["code"] for e in refused] == [80008]  # one refusal, then no more calls
    ledger = json.loads((tmp_path / ".wabactl" / "ledger.json").read_text())
    assert len(ledger["accounts"][WABA]["creations"]) == 100
    graph.advance(HOUR + 1)
    second = wabactl("apply", path, "--auto-approve")
    assert second.exit_code == 0, second.output
    assert "Apply complete: 30 change(s) applied." in second.stdout
    assert wabactl("plan", path, "--detailed-exitcode").exit_code == 0


def test_apply_wait_finishes_in_one_run(load, wabactl, tmp_path):
    graph = load()
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": templates(130)}})
    outcome = {}
    runner = threading.Thread(target=lambda: outcome.update(
        result=wabactl("apply", path, "--auto-approve", "--wait", "--poll-interval", "0.05")))
    runner.start()
    deadline = time.monotonic() + 60
    while len(writes(graph)) < 101 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert len(writes(graph)) == 101  # waiting after the one refusal, not hammering
    graph.advance(HOUR + 1)
    runner.join(timeout=60)
    result = outcome["result"]
    assert result.exit_code == 0, result.output
    assert "waiting for the creation window:" in result.stderr
    assert "Apply complete: 130 change(s) applied." in result.stdout
    assert wabactl("plan", path, "--detailed-exitcode").exit_code == 0


def test_changed_approved_template_replace_is_blocked_edit_is_rationed(load, wabactl, tmp_path):
    graph = load(seed_with([template("order_shipped")]))
    replace = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": {"order_shipped": one("Your parcel {{1}} ships today.")}}},
                           {"on_change": "replace"})
    planned = wabactl("plan", replace, "--detailed-exitcode")
    assert planned.exit_code == 2
    assert "! template.order_shipped[en_US]  cannot change: replacing an APPROVED template would lock its name" in planned.stdout
    assert "order_shipped_v2" in planned.stdout and "on_change: edit" in planned.stdout
    assert wabactl("apply", replace, "--auto-approve").exit_code == 1  # blocked for good: a person must act
    assert writes(graph) == []

    edit = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": {"order_shipped": one("Your parcel {{1}} ships today.")}}},
                        {"on_change": "edit"})
    applied = wabactl("apply", edit, "--auto-approve")
    assert applied.exit_code == 0 and "Apply complete: 1 change(s) applied." in applied.stdout
    write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": {"order_shipped": one("Your box {{1}} ships today.")}}},
                 {"on_change": "edit"})
    planned = wabactl("plan", edit)
    assert "> template.order_shipped[en_US]  must wait: edit quota of approved templates spent" in planned.stdout
    again = wabactl("apply", edit, "--auto-approve")
    assert again.exit_code == 3, again.output
    assert len([w for w in writes(graph) if w[0] == "POST"]) == 1
    graph.advance(24 * HOUR + 1)
    assert wabactl("apply", edit, "--auto-approve").exit_code == 0


def test_recategorised_by_meta_warns_and_plans_nothing_twice(load, wabactl, tmp_path):
    graph = load(seed_with(review_rules=[{"outcome": "recategorize", "category": "UTILITY", "body_contains": "discount"}]))
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": {
        "order_news": one("Your order {{1}} has a discount today.")}}})
    assert wabactl("apply", path, "--auto-approve").exit_code == 0
    for _ in range(2):
        result = wabactl("plan", path, "--detailed-exitcode")
        assert result.exit_code == 0, result.output
        assert "Meta approved it as MARKETING (declared UTILITY)" in result.stdout
    assert len(writes(graph)) == 1


def test_recategorised_at_create_is_reported_and_the_next_plan_is_empty(load, wabactl, tmp_path):
    graph = load(seed_with(review_rules=[{"outcome": "recategorize_at_create", "name": "promo_*", "to_category": "MARKETING"}]))
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": {"promo_news": one()}}})
    applied = wabactl("apply", path, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "Meta created it as MARKETING (declared UTILITY)" in applied.stdout
    for _ in range(2):  # no previous_category on the row: the ledger knows
        again = wabactl("plan", path, "--detailed-exitcode")
        assert again.exit_code == 0, again.output
        assert "Meta approved it as MARKETING (declared UTILITY)" in again.stdout
    assert len(writes(graph)) == 1


def test_an_edit_refused_for_its_spent_quota_is_deferred_a_day(load, wabactl, tmp_path):
    graph = load(seed_with([template("order_shipped")]))
    template_id = graph.get(f"{WABA}/message_templates").json()["data"][0]["id"]
    # Someone edits it outside wabactl: Meta approves the edit, and the day's edit is spent.
    assert graph.post(template_id, json={"components": [body("Your parcel {{1}} ships today.", "#1")]}).status_code == 200
    assert graph.get(template_id).json()["status"] == "APPROVED"
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": {"order_shipped": one("Your box {{1}} ships today.")}}},
                        {"on_change": "edit"})
    applied = wabactl("apply", path, "--auto-approve", "--format", "json")
    assert applied.exit_code == 3, applied.output  # only time stands in the way
    change = json.loads(applied.stdout)["accounts"][0]["changes"][0]
    assert change["outcome"] == "deferred" and change["error"] == {"code": 100, "subcode": 2388039}
    assert change["not_before"].startswith("2026-11-02T09:00")
    graph.advance(24 * HOUR + 1)
    assert wabactl("apply", path, "--auto-approve").exit_code == 0


def test_review_statuses_are_shown_as_described(load, wabactl, tmp_path):
    live = [
        template("rejected_same", status="REJECTED", rejected_reason="PROMOTIONAL"),
        template("rejected_changed", status="REJECTED", rejected_reason="INVALID_FORMAT"),
        template("paused_one", status="PAUSED"),
        template("disabled_one", status="DISABLED"),
        template("pending_one", status="PENDING"),
    ]
    load(seed_with(live))
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": {
        "rejected_same": one(), "rejected_changed": one("Your parcel {{1}} ships today."),
        "paused_one": one(), "pending_one": one("Your parcel {{1}} ships today.")}}},
        {"on_change": "edit", "prune": {"templates": True}})
    text = wabactl("plan", path).stdout
    assert "template.rejected_same[en_US]: REJECTED (PROMOTIONAL); sending the same content again would be rejected again" in text
    assert "~ template.rejected_changed[en_US]  will be edited in place  [live: REJECTED]" in text
    assert "template.paused_one[en_US]: PAUSED by Meta" in text
    assert "! template.disabled_one[en_US]  cannot change: DISABLED templates cannot be deleted" in text
    assert "template.pending_one[en_US]: in review (PENDING)" in text


def test_wait_for_review_reports_each_outcome(load, wabactl, tmp_path):
    seed = seed_with(review_delay_seconds=0.5, review_rules=[{"outcome": "reject", "name": "bad_*", "rejected_reason": "SCAM"}])
    seed["clock"]["frozen"] = False  # review time passes as the test runs
    load(seed)
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": {"good_one": one(), "bad_one": one()}}})
    result = wabactl("apply", path, "--auto-approve", "--wait-for-review", "--poll-interval", "0.1", "--timeout", "30")
    assert result.exit_code == 1, result.output
    assert "template.good_one[en_US]: APPROVED" in result.stdout
    assert "template.bad_one[en_US]: REJECTED (SCAM)" in result.stdout
    assert "1 template(s) rejected by Meta's review." in result.stderr


def test_delete_threshold_refuses_with_numbers(load, wabactl, tmp_path):
    graph = load(seed_with([template(f"old_{i:02d}") for i in range(12)]))
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": {}}}, {"prune": {"templates": True}})
    refused = wabactl("plan", path)
    assert refused.exit_code == 1
    assert "account acme would delete 12 of 12 templates (100%); the limit is 10 or 20%" in refused.stderr
    assert "--allow-destroy" in refused.stderr
    assert wabactl("apply", path, "--auto-approve").exit_code == 1
    assert writes(graph) == []
    allowed = wabactl("apply", path, "--auto-approve", "--allow-destroy")
    assert allowed.exit_code == 0, allowed.output
    assert len(writes(graph)) == 12


def test_self_lockout_is_refused(load, wabactl, tmp_path):
    graph = load()
    removed = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "business_id": BUSINESS,
                                                            "users": {PEOPLE[0]: ["VIEW_TEMPLATES"]}}}, {"prune": {"users": True}})
    result = wabactl("apply", removed, "--auto-approve", "--allow-destroy")
    assert result.exit_code == 1
    assert f"would remove user {ME}, the user behind the access token" in result.stderr
    reduced = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "business_id": BUSINESS,
                                                            "users": {ME: ["VIEW_TEMPLATES"]}}})
    result = wabactl("plan", reduced)
    assert result.exit_code == 1 and f"would take MANAGE from user {ME}" in result.stderr
    assert writes(graph) == []


def test_name_lock_met_at_create_is_deferred_until_its_date_and_remembered(load, wabactl, tmp_path):
    graph = load(seed_with([template("order_shipped")]))
    graph.delete(f"{WABA}/message_templates", name="order_shipped")  # someone else deleted it
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": {"order_shipped": one()}}})
    result = wabactl("apply", path, "--auto-approve")
    assert result.exit_code == 3, result.output
    assert "deferred: template.order_shipped[en_US]: name locked by a recent deletion until about 20" in result.stdout
    assert "Run apply again after 2026-12-01" in result.stdout
    planned = wabactl("plan", path)
    assert "> template.order_shipped[en_US]  must wait: name locked until 20" in planned.stdout
    again = wabactl("apply", path, "--auto-approve")  # a lock waits on time: run again later
    assert again.exit_code == 3 and "Nothing can be applied now." in again.stdout


def test_wabactl_remembers_the_locks_it_causes(load, wabactl, tmp_path):
    load(seed_with([template("order_shipped")]))
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": {}}}, {"prune": {"templates": True}})
    assert wabactl("apply", path, "--auto-approve").exit_code == 0
    ledger = json.loads((tmp_path / ".wabactl" / "ledger.json").read_text())
    assert list(ledger["accounts"][WABA]["locks"]) == ["order_shipped[en_US]"]
    write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": {"order_shipped": one()}}})
    planned = wabactl("plan", path, "--detailed-exitcode")
    assert planned.exit_code == 2 and "name locked until" in planned.stdout


def test_corrupt_ledger_is_reported_and_ignored(load, wabactl, tmp_path):
    load()
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": {"order_shipped": one()}}})
    state = tmp_path / ".wabactl"
    state.mkdir()
    (state / "ledger.json").write_text("{not json")
    result = wabactl("plan", path)
    assert result.exit_code == 0, result.output
    assert f"warning: ledger {state / 'ledger.json'} is unreadable and was ignored" in result.stderr
    assert "Traceback" not in result.output
    assert wabactl("apply", path, "--auto-approve").exit_code == 0
    assert json.loads((state / "ledger.json").read_text())["format"] == "wabactl-ledger"
