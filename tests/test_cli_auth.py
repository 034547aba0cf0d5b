"""`wabactl auth` and the token pre-flight of plan and apply, end to end against the emulator: an
expired token, one without whatsapp_business_management, one whose granular targets leave the WABA
out, one without business_management on an account with users. The token is never shown."""

from __future__ import annotations

import copy
import json
import re

from reconciler.schemas import problems

from conftest import BUSINESS, ME, OTHER_WABA, TOKEN, WABA, body, seed_with, write_config

EXPIRED_WABA, BARE_WABA, OUTSIDE_WABA = "111000000000003", "111000000000004", "111000000000005"
SECRETS = {
    "EXPIRED_TOKEN": "expired-token-s3cr3t",
    "BARE_TOKEN": "messaging-token-s3cr3t",
    "OUTSIDE_TOKEN": "outside-token-s3cr3t",
    "NO_BUSINESS_TOKEN": "no-business-token-s3cr3t",
}
ENV = {**SECRETS}


def seed() -> dict:
    made = seed_with()
    made["tokens"] += [
        {"token": SECRETS["EXPIRED_TOKEN"], "user": ME, "expires_at": 1761987600},  # 2025-11-01, a year before the clock
        {"token": SECRETS["BARE_TOKEN"], "user": ME, "scopes": ["whatsapp_business_messaging", "business_management"]},
        {"token": SECRETS["OUTSIDE_TOKEN"], "user": ME, "wabas": [WABA, OTHER_WABA]},
        {"token": SECRETS["NO_BUSINESS_TOKEN"], "user": ME, "scopes": ["whatsapp_business_management", "whatsapp_business_messaging"]},
    ]
    for number, waba in enumerate((EXPIRED_WABA, BARE_WABA, OUTSIDE_WABA)):
        made["wabas"][waba] = {"name": f"Acme {number}", "owner_business": BUSINESS, "creation_time": 1700000100 + number}
        made["businesses"][BUSINESS]["owned_wabas"].append(waba)
    return made


def declared() -> dict:
    return {"order_shipped": {"category": "UTILITY", "languages": {"en_US": {"components": [body("Your order {{1}} ships today.", "#1")]}}}}


def config(tmp_path) -> str:
    return write_config(tmp_path / "c.yaml", {
        "good": {"waba_id": WABA, "templates": declared()},
        "expired": {"waba_id": EXPIRED_WABA, "token_env": "EXPIRED_TOKEN", "templates": declared()},
        "bare": {"waba_id": BARE_WABA, "token_env": "BARE_TOKEN", "templates": declared()},
        "outside": {"waba_id": OUTSIDE_WABA, "token_env": "OUTSIDE_TOKEN", "templates": declared()},
        "people": {"waba_id": OTHER_WABA, "business_id": BUSINESS, "token_env": "NO_BUSINESS_TOKEN",
                   "templates": declared(), "users": {ME: ["MANAGE"]}},
    })


def no_secret(text: str) -> None:
    for secret in (*SECRETS.values(), TOKEN):
        assert secret not in text


def test_auth_names_the_three_refusals_and_warns_of_the_fourth(load, wabactl, tmp_path):
    graph = load(seed())
    path = config(tmp_path)
    result = wabactl("auth", path, env=ENV)
    assert result.exit_code == 1, result.output
    out = result.stdout
    no_secret(result.output)
    blocks = {block.split()[0]: block for block in re.split(r"^account ", out, flags=re.M)[1:]}
    assert "Error: the token in EXPIRED_TOKEN has expired" in blocks["expired"] and "code 190, subcode 463" in blocks["expired"]
    assert "valid:       no (Meta refused the token itself)" in blocks["expired"]
    assert "lacks the whatsapp_business_management permission" in blocks["bare"] and "BARE_TOKEN" in blocks["bare"]
    assert f"not for this account's WABA {OUTSIDE_WABA}" in blocks["outside"]
    assert "NOT among the whatsapp_business_management targets" in blocks["outside"]
    assert "warning: account people declares users" in blocks["people"] and "lacks business_management" in blocks["people"]
    assert "Error" not in blocks["people"] and "Error" not in blocks["good"] and "warning" not in blocks["good"]
    assert "valid:       yes, SYSTEM_USER" in blocks["good"] and "expires:     never" in blocks["good"]
    assert "5 account(s) checked: 3 refused, 1 with warnings only." in out
    # One debug_token per distinct token, and nothing else: no template request at all.
    paths = [entry["path"] for entry in graph.log()]
    assert paths == ["/v26.0/debug_token"] * 5
    assert all(entry["params"]["input_token"] == "[hidden]" for entry in graph.log())


def test_auth_json_matches_its_schema(load, wabactl, tmp_path):
    load(seed())
    result = wabactl("auth", config(tmp_path), "--format", "json", env=ENV)
    assert result.exit_code == 1, result.output
    no_secret(result.output)
    report = json.loads(result.stdout)
    assert problems(report, "auth.schema.json") == []
    by_name = {a["account"]: a for a in report["accounts"]}
    assert report["summary"] == {"accounts": 5, "refused": 3, "warnings": 1, "unchecked": 0}
    assert by_name["outside"]["waba_targeted"] is False and by_name["outside"]["token"]["management_targets"] == sorted([WABA, OTHER_WABA])
    assert by_name["good"]["waba_targeted"] is None and by_name["good"]["problems"] == []
    assert by_name["people"]["warnings"] and not by_name["people"]["problems"]
    assert by_name["expired"]["token"] is None or by_name["expired"]["token"]["valid"] is False


def test_auth_exits_0_with_warnings_only(load, wabactl, tmp_path):
    load(seed())
    result = wabactl("auth", config(tmp_path), "--account", "people", "--account", "good", env=ENV)
    assert result.exit_code == 0, result.output
    assert "warning: account people declares users" in result.stdout


def test_plan_fails_only_the_refused_accounts_before_any_template_request(load, wabactl, tmp_path):
    graph = load(seed())
    result = wabactl("plan", config(tmp_path), env=ENV)
    assert result.exit_code == 1, result.output
    no_secret(result.output)
    err = result.stderr
    assert "Error: account expired: token pre-flight: the token in EXPIRED_TOKEN" in err
    assert "Error: account bare: token pre-flight: the token in BARE_TOKEN lacks the whatsapp_business_management" in err
    assert f"Error: account outside: token pre-flight: the token in OUTSIDE_TOKEN holds whatsapp_business_management only for WABA {WABA}, {OTHER_WABA}" in err
    assert "warning: account people declares users, and the token in NO_BUSINESS_TOKEN lacks business_management" in err
    assert "account good" not in err and "Error: account people" not in err
    # The two accounts that pass are planned: each creates its template.
    assert "good" in result.stdout and "people" in result.stdout and "order_shipped" in result.stdout
    log = graph.calls()
    first_account_request = min(i for i, e in enumerate(log) if e["path"] != "/v26.0/debug_token")
    assert all(e["path"] != "/v26.0/debug_token" for e in log[first_account_request:])  # every pre-flight came first
    assert len([e for e in log if e["path"] == "/v26.0/debug_token"]) == 5
    touched = {e["path"].split("/")[2] for e in log if e["path"].endswith("/message_templates")}
    assert touched == {WABA, OTHER_WABA}


def test_apply_refuses_the_same_accounts_and_applies_the_others(load, wabactl, tmp_path):
    graph = load(seed())
    result = wabactl("apply", config(tmp_path), "--auto-approve", env=ENV)
    assert result.exit_code == 1, result.output
    no_secret(result.output)
    assert "Error: account expired: token pre-flight" in result.stderr
    created = {e["path"].split("/")[2] for e in graph.calls() if e["method"] == "POST" and e["path"].endswith("/message_templates")}
    assert created == {WABA, OTHER_WABA}


def test_without_the_pre_flight_a_missing_permission_fails_its_account_from_meta_s_answer(load, wabactl, tmp_path):
    """debug_token cannot run, so nothing is refused up front: the account whose token lacks
    whatsapp_business_management fails on Meta's own answer, named; the other is applied."""
    graph = load(seed())
    graph.control("POST", "faults", {"kind": "error", "method": "GET", "path": "/debug_token", "status": 500, "code": 1})
    path = write_config(tmp_path / "c.yaml", {
        "good": {"waba_id": WABA, "templates": declared()},
        "bare": {"waba_id": BARE_WABA, "token_env": "BARE_TOKEN", "templates": declared()},
    })
    result = wabactl("apply", path, "--auto-approve", env=ENV)
    assert result.exit_code == 1, result.output
    no_secret(result.output)
    assert "Error: account bare:" in result.stderr and "code 200" in result.stderr
    assert "needs the whatsapp_business_management permission" in result.stderr
    refused = [e for e in graph.calls() if e["path"] == f"/v26.0/{BARE_WABA}/message_templates" and e["method"] == "GET"]
    assert refused and {e.get("code") for e in refused} == {200}  # Meta was asked, and said no
    created = {e["path"].split("/")[2] for e in graph.calls() if e["method"] == "POST" and e["path"].endswith("/message_templates")}
    assert created == {WABA}


def test_one_debug_token_per_distinct_token(load, wabactl, tmp_path):
    """Two accounts under one token (and a second variable holding the same token) ask once."""
    graph = load(seed())
    path = write_config(tmp_path / "c.yaml", {
        "one": {"waba_id": WABA, "templates": declared()},
        "two": {"waba_id": OTHER_WABA, "token_env": "SAME_TOKEN", "templates": declared()},
    })
    result = wabactl("plan", path, env={"SAME_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    assert [e["path"] for e in graph.log()].count("/v26.0/debug_token") == 1


def test_a_failing_debug_token_is_a_warning_and_never_shows_the_token(load, wabactl, tmp_path):
    graph = load(seed())
    graph.control("POST", "faults", {"kind": "error", "method": "GET", "path": "/debug_token", "status": 403, "code": 200})
    path = write_config(tmp_path / "c.yaml", {"good": {"waba_id": WABA, "templates": declared()}})
    planned = wabactl("plan", path)
    assert planned.exit_code == 0, planned.output
    assert "warning: the token pre-flight for the token in WABACTL_TOKEN could not run" in planned.stderr
    assert "GET /v26.0/debug_token" in planned.stderr and "code 200" in planned.stderr
    no_secret(planned.output)
    checked = wabactl("auth", path)
    assert checked.exit_code == 1, checked.output  # auth's own job could not be done
    assert "not checked:" in checked.stdout and "could not run" in checked.stdout
    no_secret(checked.output)


def test_a_malformed_debug_token_answer_names_no_token(load, wabactl, tmp_path):
    graph = load(seed())
    graph.control("POST", "faults", {"kind": "malformed", "path": "/debug_token", "status": 200,
                                     "raw_body": json.dumps({"data": {"is_valid": "yes", "error": TOKEN}}),
                                     "content_type": "application/json"})
    path = write_config(tmp_path / "c.yaml", {"good": {"waba_id": WABA, "templates": declared()}})
    result = wabactl("auth", path)
    assert result.exit_code == 1
    assert "unusable answer: 'is_valid' is not true or false" in result.stdout
    no_secret(result.output)


def test_expired_token_is_refused_with_190_on_every_call(load):
    graph = load(seed(), token=SECRETS["EXPIRED_TOKEN"])
    answer = graph.get(f"{EXPIRED_WABA}/message_templates")
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["code"], error["error_subcode"]) == (190, 463) and "Session has expired" in error["message"]
    asked = load(seed()).get("debug_token", input_token=SECRETS["EXPIRED_TOKEN"]).json()["data"]
    assert asked["is_valid"] is False and asked["expires_at"] == 1761987600
    assert (asked["error"]["code"], asked["error"]["subcode"]) == (190, 463)


def test_debug_token_leaves_out_a_scope_granted_for_nothing(load):
    """other-waba-token may see no business: business_management is not reported as covering all."""
    data = load(copy.deepcopy(seed())).get("debug_token", input_token="other-waba-token").json()["data"]
    assert "business_management" not in data["scopes"]
    assert all(s["scope"] != "business_management" for s in data["granular_scopes"])


def test_a_token_missing_from_the_environment_is_that_account_s_problem(load, wabactl, tmp_path):
    load(seed())
    path = config(tmp_path)
    missing = {name: value for name, value in ENV.items() if name != "BARE_TOKEN"}
    result = wabactl("auth", path, env={**missing, "BARE_TOKEN": ""})
    assert result.exit_code == 1, result.output
    blocks = {block.split()[0]: block for block in re.split(r"^account ", result.stdout, flags=re.M)[1:]}
    assert "no access token: set the environment variable BARE_TOKEN" in blocks["bare"]
    assert "valid:       yes, SYSTEM_USER" in blocks["good"]  # the others are still checked
    no_secret(result.output)
