"""The bad-input corpus: plan files, environment values and Graph answers that are broken, hostile
or absurd. Each gives exit 1, one message without a traceback, and zero writes (checked in the
emulator's request log). Broken config files have their own corpus in test_config.py."""

from __future__ import annotations

import json

import pytest

from conftest import BUSINESS, ME, OTHER_WABA, TOKEN, WABA, body, seed_with, template, write_config

WANTED = {"order": {"category": "UTILITY", "languages": {"en_US": {"components": [body("Your order {{1}} ships today.", "#1")]}}}}


def config(tmp_path) -> str:
    return write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "business_id": BUSINESS, "templates": WANTED,
                                                       "users": {ME: ["MANAGE"]}}}, {"prune": {"templates": True}})


def one_clear_error(result) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and TOKEN not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr


def writes(graph) -> list:
    return [e for e in graph.calls() if e["method"] in ("POST", "DELETE", "PUT")]


# --- plan files --------------------------------------------------------------------------------


def edit(change):
    def apply_edit(data):
        change(data)
        return json.dumps(data)
    return apply_edit


def account(data):
    return data["accounts"][0]


def created(data):
    return next(c for c in account(data)["changes"] if c["action"] == "create")


PLAN_FILES = {
    "empty file": lambda data: "",
    "not json": lambda data: "{this is not json",
    "a json list": lambda data: "[]",
    "a json string": lambda data: '"wabactl-plan"',
    "binary": lambda data: '{"format": "wabactl-plan"\x00\x01\x02}',
    "deep nesting": lambda data: '{"format": "wabactl-plan", "x": ' + "[" * 100000 + "]" * 100000 + "}",
    "wrong format": edit(lambda d: d.update(format="terraform-plan")),
    "wrong version": edit(lambda d: d.update(version=99)),
    "no accounts": edit(lambda d: d.pop("accounts")),
    "accounts not a list": edit(lambda d: d.update(accounts={"acme": {}})),
    "unknown top-level key": edit(lambda d: d.update(apply_without_checks=True)),
    "summary negative": edit(lambda d: d["summary"].update(create=-1)),
    "unknown action": edit(lambda d: created(d).update(action="teleport")),
    "bad key": edit(lambda d: created(d).update(key="template.../../etc[en_US]")),
    "before a string": edit(lambda d: created(d).update(before="rm -rf")),
    "after without a name": edit(lambda d: created(d)["after"].pop("name")),
    "after with a number for components": edit(lambda d: created(d)["after"].update(components=7)),
    "not_before garbage": edit(lambda d: created(d).update(not_before="yesterday")),
    "not_before without a zone": edit(lambda d: created(d).update(not_before="2026-11-01T09:00:00")),
    "wave zero": edit(lambda d: created(d).update(wave=0)),
    "waba id not digits": edit(lambda d: account(d).update(waba_id="../../me")),
    "token_env with a space": edit(lambda d: account(d).update(token_env="HOME PATH")),
    "fingerprint not sha256": edit(lambda d: account(d).update(fingerprint="md5:abc")),
    "usage as text": edit(lambda d: account(d).update(usage={"templates_now": "many"})),
    "usage limits raised past the schema": edit(lambda d: account(d)["usage"].update(max_delete_percent=1000)),
    "failures wrong shape": edit(lambda d: d.update(failures=[{"account": "x"}])),
    "source without files": edit(lambda d: d["source"].pop("files")),
    "source digest not sha256": edit(lambda d: d["source"]["files"][0].update(sha256="0")),
    "source pointing elsewhere": edit(lambda d: d["source"].update(paths=["/no/such/config.yaml"])),
    "source config edited": edit(lambda d: d["source"]["files"][0].update(sha256="sha256:" + "0" * 64)),
}


@pytest.mark.parametrize("case", sorted(PLAN_FILES))
def test_bad_plan_file(load, wabactl, tmp_path, case):
    graph = load(seed_with([template("old_one")]))
    path = config(tmp_path)
    saved = tmp_path / "plan.json"
    assert wabactl("plan", path, "--out", str(saved)).exit_code == 0
    saved.write_text(PLAN_FILES[case](json.loads(saved.read_text())))
    result = wabactl("apply", str(saved))
    one_clear_error(result)
    assert writes(graph) == []


# --- environment values ------------------------------------------------------------------------

ENVIRONMENT = {
    "graph url over http to another host": {"WABACTL_GRAPH_URL": "http://192.0.2.10:8080"},
    "graph url without a host": {"WABACTL_GRAPH_URL": "https://"},
    "graph url of another scheme": {"WABACTL_GRAPH_URL": "ftp://127.0.0.1/"},
    "graph url garbage": {"WABACTL_GRAPH_URL": "not a url"},
    "graph url with a file scheme": {"WABACTL_GRAPH_URL": "file:///etc/passwd"},
    "token with a space inside": {"WABACTL_TOKEN": "test token"},
    "token with a newline inside": {"WABACTL_TOKEN": "test\ntoken"},
    "token with a control character": {"WABACTL_TOKEN": "test\x07token"},
    "token not ascii": {"WABACTL_TOKEN": "tëst-token"},
    "token of white space only": {"WABACTL_TOKEN": " \n\t"},
    "api version with a path": {"WABACTL_API_VERSION": "v26.0/../../me"},
    "api version garbage": {"WABACTL_API_VERSION": "latest"},
    "request timeout negative": {"WABACTL_REQUEST_TIMEOUT": "-5"},
    "request timeout not a number": {"WABACTL_REQUEST_TIMEOUT": "soon"},
    "request timeout too long": {"WABACTL_REQUEST_TIMEOUT": "100000"},
    "retry backoff not a number": {"WABACTL_RETRY_BACKOFF": "NaN"},
    "retry backoff infinite": {"WABACTL_RETRY_BACKOFF": "inf"},
}


@pytest.mark.parametrize("case", sorted(ENVIRONMENT))
def test_bad_environment_value(load, wabactl, tmp_path, case):
    graph = load()
    result = wabactl("apply", config(tmp_path), "--auto-approve", env=ENVIRONMENT[case])
    one_clear_error(result)
    assert graph.log() == []  # refused before any request


def test_a_token_ending_in_a_newline_works(load, wabactl, tmp_path):
    graph = load()
    result = wabactl("apply", config(tmp_path), "--auto-approve", env={"WABACTL_TOKEN": TOKEN + "\n"})
    assert result.exit_code == 0, result.output
    assert {e["token"] for e in graph.log()} == {"header"} and all(e["status"] < 400 for e in graph.log())


# --- Graph answers -----------------------------------------------------------------------------

TEMPLATES = f"/{WABA}/message_templates"
ROW = {"id": "1000000000000001", "name": "order", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
       "components": [{"type": "BODY", "text": "Hi"}]}


def answer(body: object, path: str = TEMPLATES, status: int = 200, content_type: str = "application/json") -> dict:
    raw = body if isinstance(body, str) else json.dumps(body)
    return {"kind": "malformed", "method": "GET", "path": path, "raw_body": raw, "status": status, "content_type": content_type}


ANSWERS = {
    "html error page": answer("<html><body>502 Bad Gateway</body></html>", status=502, content_type="text/html"),
    "html with status 200": answer("<html>maintenance</html>", content_type="text/html"),
    "empty body": answer(""),
    "truncated json": answer('{"data": [{"id": "1", "na'),
    "a json list": answer([1, 2, 3]),
    "a json number": answer(42),
    "data is text": answer({"data": "templates"}),
    "data holds text": answer({"data": ["order"]}),
    "row without id": answer({"data": [{k: v for k, v in ROW.items() if k != "id"}]}),
    "id not a number": answer({"data": [{**ROW, "id": "abc"}]}),
    "id negative": answer({"data": [{**ROW, "id": -5}]}),
    "name a number": answer({"data": [{**ROW, "name": 5}]}),
    "language missing": answer({"data": [{k: v for k, v in ROW.items() if k != "language"}]}),
    "components text": answer({"data": [{**ROW, "components": "BODY"}]}),
    "components of text": answer({"data": [{**ROW, "components": ["BODY"]}]}),
    "status a list": answer({"data": [{**ROW, "status": ["APPROVED"]}]}),
    "summary text": answer({"data": [], "summary": "lots"}),
    "summary count negative": answer({"data": [], "summary": {"message_template_count": -1}}),
    "summary count absurd": answer({"data": [], "summary": {"message_template_limit": 10**30}}),
    "summary count text": answer({"data": [], "summary": {"message_template_count": "250"}}),
    "paging next a number": answer({"data": [], "paging": {"next": 7}}),
    "paging an array": answer({"data": [], "paging": [1]}),
    "error envelope of text": answer({"error": "nope"}, status=400),
    "error code text": answer({"error": {"code": "bad", "message": "x" * 100000}}, status=400),
    "error with absurd fields": answer({"error": {"code": 10**40, "error_subcode": [], "fbtrace_id": {"x": 1}}}, status=400),
    "deep json": answer('{"data": ' + "[" * 50000 + "]" * 50000 + "}"),
    "users tasks text": answer({"data": [{"id": ME, "tasks": "MANAGE"}]}, path=f"/{WABA}/assigned_users"),
    "users without id": answer({"data": [{"tasks": ["MANAGE"]}]}, path=f"/{WABA}/assigned_users"),
    "me without id": answer({"name": "someone"}, path="/me"),
    "me as a list": answer([ME], path="/me"),
    "endless next, repeating": {"kind": "endless_paging", "path": TEMPLATES, "paging": "repeat"},
    "throttled past any wait": {"kind": "throttle", "method": "GET", "path": TEMPLATES, "regain_minutes": 10**12},
    "retry-after absurd": {"kind": "error", "method": "GET", "path": TEMPLATES, "status": 403, "code": 200, "retry_after": 10**9},
}


@pytest.mark.parametrize("case", sorted(ANSWERS))
def test_bad_graph_answer(load, wabactl, tmp_path, case):
    graph = load(seed_with([template("order")]))
    graph.control("POST", "faults", ANSWERS[case])
    result = wabactl("apply", config(tmp_path), "--auto-approve", env={"WABACTL_REQUEST_TIMEOUT": "2"})
    one_clear_error(result)
    assert "Error: account acme: Graph API error on GET" in result.stderr
    assert writes(graph) == []


def test_a_healthy_account_is_applied_beside_a_hostile_one(load, wabactl, tmp_path):
    graph = load()
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": WANTED},
                                              "partner": {"waba_id": OTHER_WABA, "templates": WANTED}})
    graph.control("POST", "faults", answer("<html>oops</html>", path=f"/{OTHER_WABA}/*", content_type="text/html"))
    result = wabactl("apply", path, "--auto-approve")
    assert result.exit_code == 1 and "Apply complete in the accounts that could be planned: 1 change(s) applied; 1 account(s) could not be planned" in result.stdout
    assert [w["path"] for w in writes(graph)] == [f"/v26.0/{WABA}/message_templates"]


CANARY = "EAAcanary0123456789SECRETtoken"
FAULTS = [
    {"kind": "drop_after", "method": "POST", "times": 1},
    {"kind": "drop_before", "method": "GET", "times": 2},
    {"kind": "error", "method": "POST", "status": 503, "times": 2},
    {"kind": "malformed", "method": "GET", "path": "/me", "times": 1},
    {"kind": "throttle", "method": "POST", "times": 1},
]


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f["kind"])
def test_the_token_appears_nowhere_under_any_fault(load, wabactl, tmp_path, fault):
    seed = seed_with([template("old_one")])
    seed["tokens"].append({"token": CANARY, "user": ME})
    graph = load(seed)
    graph.control("POST", "faults", fault)
    path = config(tmp_path)
    saved = tmp_path / "plan.json"
    runs = [wabactl("--debug", "plan", path, "--out", str(saved), env={"WABACTL_TOKEN": CANARY}),
            wabactl("--debug", "apply", path, "--auto-approve", env={"WABACTL_TOKEN": CANARY}),
            wabactl("--debug", "apply", str(saved), env={"WABACTL_TOKEN": CANARY})]
    for result in runs:
        assert CANARY not in result.output
    log = graph.log()
    assert log and CANARY not in json.dumps(log) and {e["token"] for e in log} <= {"header", None}
    assert CANARY not in json.dumps(graph.control("GET", "state"))
    for written in tmp_path.rglob("*"):
        if written.is_file():
            assert CANARY.encode() not in written.read_bytes(), written
