"""Plan files: a save/load round trip is exact; anything else is refused with a clear message."""

from __future__ import annotations

import json

import pytest

from reconciler.errors import PlanFileError
from reconciler.planning import planfile

from test_render import sample_plan


def test_round_trip(tmp_path):
    path = tmp_path / "plan.json"
    plan = sample_plan()
    planfile.save(plan, str(path))
    assert planfile.load(str(path)) == plan
    assert planfile.looks_like_plan(str(path))


def test_not_json_not_a_plan_or_tampered(tmp_path):
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{nope")
    with pytest.raises(PlanFileError, match="not a JSON plan file"):
        planfile.load(str(garbage))
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"hello": "world"}))
    with pytest.raises(PlanFileError, match="not a valid wabactl plan"):
        planfile.load(str(other))
    data = planfile.to_dict(sample_plan())
    data["accounts"][0]["changes"][0]["action"] = "teleport"
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(data))
    with pytest.raises(PlanFileError, match="teleport"):
        planfile.load(str(tampered))
    with pytest.raises(PlanFileError, match="cannot read"):
        planfile.load(str(tmp_path / "absent.json"))


def test_config_files_do_not_look_like_plans(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("version: 1\naccounts: {}\n")
    assert not planfile.looks_like_plan(str(config))


def test_a_time_that_is_not_one_is_refused(tmp_path):
    data = planfile.to_dict(sample_plan())
    data["accounts"][0]["changes"][0]["not_before"] = "garbage"
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(data))
    with pytest.raises(PlanFileError, match="not_before is not a time: 'garbage'"):
        planfile.load(str(path))
