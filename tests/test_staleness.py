"""A plan file is an approval, never an instruction: apply plans again and refuses what moved."""

from __future__ import annotations

import copy
import json

import pytest

from reconciler.model import LiveTemplate, Template, User
from reconciler.planning.plan import AccountPlan, Action, Change, Limits, Plan
from reconciler.planning.staleness import differences

from conftest import BUSINESS, ME, PEOPLE, WABA, body, seed_with, template, write_config

ORDER = Template("order", "en_US", "UTILITY", ({"type": "BODY", "text": "Your order {{1}} ships.", "example": {"body_text": [["1"]]}},))


def plan_of(*changes: Change, **account: object) -> Plan:
    return Plan((AccountPlan("acme", WABA, BUSINESS, "WABACTL_TOKEN", "sha256:" + "1" * 64, changes, **account),), "now")  # type: ignore[arg-type]


def test_only_what_steers_apply_counts():
    create = Change("acme", "template.order[en_US]", Action.CREATE, None, ORDER, wave=1)
    assert differences(plan_of(create), plan_of(Change("acme", create.key, Action.CREATE, None, ORDER, reason="x", wave=2))) == []
    edited = Template("order", "en_US", "UTILITY", ({"type": "BODY", "text": "Your parcel {{1}} ships.", "example": {"body_text": [["1"]]}},))
    assert differences(plan_of(create), plan_of(Change("acme", create.key, Action.CREATE, None, edited))) == [
        'acme: template.order[en_US]: desired side: components[0].text: "Your order {{1}} ships." -> "Your parcel {{1}} ships."']
    live = LiveTemplate(ORDER, "7", "APPROVED")
    moved = differences(plan_of(Change("acme", create.key, Action.EDIT, LiveTemplate(ORDER, "7", "REJECTED"), ORDER)),
                        plan_of(Change("acme", create.key, Action.EDIT, live, ORDER)))
    assert moved == ["acme: template.order[en_US]: live status: REJECTED -> APPROVED"]
    assert differences(plan_of(create), plan_of()) == ["acme: template.order[en_US]: create in the plan, not planned now"]
    assert differences(plan_of(token_user=None), plan_of(token_user=ME)) == [f"acme: the token's user: none -> '{ME}'"]
    raised = Limits(creates_per_hour=100, max_deletes=1000, max_delete_percent=20)
    assert differences(plan_of(limits=raised), plan_of())[0].startswith("acme: limits: creates per hour 100, max deletes 1000")
    user = Change("acme", "user.1", Action.UPDATE, User("1", frozenset({"A"})), User("1", frozenset({"A", "B"})))
    assert differences(plan_of(user), plan_of(Change("acme", "user.1", Action.UPDATE, User("1", frozenset({"A"})), User("1", frozenset({"B"}))))) == [
        "acme: user.1: desired side: tasks - A"]


def tamper_protected_delete(data):
    change = copy.deepcopy(data["accounts"][0]["changes"][0])
    change.update(key="template.keep_me[en_US]", action="delete", after=None,
                  before={**change["after"], "name": "keep_me", "id": "1000000000000001", "status": "APPROVED"})
    data["accounts"][0]["changes"].append(change)


def tamper_guard_removed(data):
    data["accounts"][0]["token_user"] = None


def tamper_limits_raised(data):
    data["accounts"][0]["usage"]["max_deletes"] = 1000


def tamper_content_changed(data):
    data["accounts"][0]["changes"][0]["after"]["components"][0]["text"] = "Hello {{1}}, click evil.example now."


def tamper_change_added(data):
    change = copy.deepcopy(data["accounts"][0]["changes"][0])
    change["key"] = "template.extra[en_US]"
    change["after"]["name"] = "extra"
    data["accounts"][0]["changes"].append(change)


def tamper_self_removal_added(data):
    data["accounts"][0]["changes"].append({"key": f"user.{ME}", "action": "delete", "before": {"user_id": ME, "tasks": ["MANAGE"]},
                                           "after": None, "reason": None, "not_before": None, "wave": None})


def tamper_source_dropped(data):
    data["source"] = None


TAMPERINGS = [
    (tamper_protected_delete, "acme: template.keep_me[en_US]: delete in the plan, not planned now"),
    (tamper_guard_removed, f"acme: the token's user: none -> '{ME}'"),
    (tamper_limits_raised, "acme: limits: creates per hour 100, max deletes 1000, max delete percent 20 -> creates per hour 100, max deletes 10"),
    (tamper_content_changed, 'acme: template.order[en_US]: desired side: components[0].text: "Hello {{1}}, click evil.example now."'),
    (tamper_change_added, "acme: template.extra[en_US]: create in the plan, not planned now"),
    (tamper_self_removal_added, f"acme: user.{ME}: delete in the plan, not planned now"),
    (tamper_source_dropped, "the plan file records no config files"),
]


@pytest.mark.parametrize("tamper,phrase", TAMPERINGS, ids=[t.__name__ for t, _ in TAMPERINGS])
def test_a_tampered_plan_file_is_refused_and_writes_nothing(load, wabactl, tmp_path, tamper, phrase):
    seed = seed_with([template("keep_me")])
    seed["wabas"][WABA]["assigned_users"] = {ME: ["MANAGE"], PEOPLE[0]: ["VIEW_TEMPLATES"]}
    graph = load(seed)
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "business_id": BUSINESS, "protect": ["keep_me"], "templates": {
        "order": {"category": "UTILITY", "languages": {"en_US": {"components": [body("Your order {{1}} ships today.", "#1")]}}}},
        "users": {ME: ["MANAGE"], PEOPLE[0]: ["VIEW_TEMPLATES"]}}}, {"prune": {"templates": True}})
    saved = tmp_path / "plan.json"
    assert wabactl("plan", path, "--out", str(saved)).exit_code == 0
    data = json.loads(saved.read_text())
    tamper(data)
    saved.write_text(json.dumps(data))
    result = wabactl("apply", str(saved))
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.output
    assert phrase in result.stderr
    assert [e for e in graph.log() if e["method"] in ("POST", "DELETE")] == []


def test_a_config_edited_after_the_plan_is_named(load, wabactl, tmp_path):
    graph = load()
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA}})
    saved = tmp_path / "plan.json"
    assert wabactl("plan", path, "--out", str(saved)).exit_code == 0
    write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": {"order": {
        "category": "UTILITY", "languages": {"en_US": {"components": [body("Your order {{1}} ships today.", "#1")]}}}}}})
    result = wabactl("apply", str(saved))
    assert result.exit_code == 1
    assert "the config changed since the plan was made; nothing was applied" in result.stderr and f"{path}: changed" in result.stderr
    assert [e for e in graph.log() if e["method"] in ("POST", "DELETE")] == []
