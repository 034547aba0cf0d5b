"""The emulator's HTTP plumbing: batch, bad input, faults, controls, state file, CLI, isolation."""

from __future__ import annotations

import ast
import json
import pathlib
import socket
import subprocess
import sys
import time

import pytest
import requests

from reconciler.emulator import Emulator

from conftest import BASE_SEED, WABA, body, error_of, seed_with, template

EMULATOR_DIR = pathlib.Path(__file__).parent.parent / "reconciler" / "emulator"


# --- batch ----------------------------------------------------------------------------------


def test_batch_answers_in_request_order(graph):
    batch = [
        {"method": "GET", "relative_url": "me"},
        {"method": "POST", "relative_url": f"{WABA}/message_templates",
         "body": "name=from_batch&language=en_US&category=UTILITY&components="
                 + requests.utils.quote(json.dumps([body("Your order {{1}} ships today.", "#1")]))},
        {"method": "GET", "relative_url": f"{WABA}/message_templates?fields=name"},
        {"method": "DELETE", "relative_url": f"{WABA}/message_templates?name=absent"},
    ]
    answers = graph.session.post(f"{graph.url}/", data={"batch": json.dumps(batch)}, timeout=10).json()
    assert [a["code"] for a in answers] == [200, 200, 200, 400]
    assert json.loads(answers[0]["body"])["name"] == "wabactl CI"
    assert [r["name"] for r in json.loads(answers[2]["body"])["data"]] == ["from_batch"]
    assert json.loads(answers[3]["body"])["error"]["error_subcode"] == 2593002
    assert all(isinstance(a["headers"], list) for a in answers)


def test_batch_over_fifty_is_refused(graph):
    batch = [{"method": "GET", "relative_url": "me"}] * 51
    refused = graph.post("", data={"batch": json.dumps(batch)})
    assert error_of(refused) == (100, None)
    assert refused.json()["error"]["type"] == "GraphBatchException"


def test_a_fault_on_an_item_s_path_answers_that_item_only(graph):
    graph.control("POST", "faults", {"kind": "error", "status": 503, "path": f"/{WABA}/message_templates"})
    batch = [{"method": "GET", "relative_url": "me"}, {"method": "GET", "relative_url": f"{WABA}/message_templates"}]
    answers = graph.post("", data={"batch": json.dumps(batch)}).json()
    assert [a["code"] for a in answers] == [200, 503]
    assert json.loads(answers[1]["body"])["error"]["code"] == 2
    items = [e for e in graph.log() if e.get("note") == "batch item"]
    assert [e["path"] for e in items] == ["/v26.0/me", f"/v26.0/{WABA}/message_templates"]  # relative to the batch's version


def test_a_batch_lasts_as_long_as_its_slowest_item_and_a_cut_item_cuts_it(graph):
    graph.control("POST", "faults", {"kind": "latency", "latency_ms": 300, "path": "/me"})
    started = time.monotonic()
    answers = graph.post("", data={"batch": json.dumps([{"method": "GET", "relative_url": "me"}] * 2)}).json()
    assert [a["code"] for a in answers] == [200, 200] and time.monotonic() - started >= 0.3
    graph.control("DELETE", "faults")
    graph.control("POST", "faults", {"kind": "drop_before", "path": "/me", "times": 1})
    with pytest.raises(requests.ConnectionError):
        graph.post("", data={"batch": json.dumps([{"method": "GET", "relative_url": "me"}])})


# --- bad input ------------------------------------------------------------------------------


def test_bad_input_gets_graph_errors_and_the_server_survives(graph):
    url = f"{graph.url}/v26.0/{WABA}/message_templates"
    headers = dict(graph.session.headers)
    malformed = requests.post(url, data=b"{not json", headers={**headers, "Content-Type": "application/json"}, timeout=10)
    assert error_of(malformed) == (100, None)
    not_object = requests.post(url, data=b"[1,2]", headers={**headers, "Content-Type": "application/json"}, timeout=10)
    assert error_of(not_object) == (100, None)
    oversized = requests.post(url, data=b"x" * 1_000_001, headers=headers, timeout=10)
    assert oversized.status_code == 413 and oversized.json()["error"]["code"] == 100
    assert error_of(graph.get(f"{WABA}/phone_books")) == (100, None)  # an edge the node lacks: 100, as Meta answers
    assert error_of(graph.get("a/b/c")) == (2500, None)
    assert error_of(graph.session.put(url, timeout=10)) == (100, 33)
    assert error_of(graph.delete(WABA)) == (100, 33)
    assert error_of(graph.post(f"{WABA}/message_templates", json={"name": 5, "language": ["en"], "category": None})) == (100, None)
    assert error_of(graph.post(f"{WABA}/message_templates", json={"name": "x", "language": "en", "category": "UTILITY", "components": "nope"})) == (100, None)
    assert graph.get(WABA).status_code == 200


def test_wrongly_typed_waba_update_is_refused(graph):
    response = graph.post(WABA, json={"is_enabled_for_insights": "maybe"})
    assert error_of(response) == (100, None)
    assert graph.get(WABA).status_code == 200


# --- faults ---------------------------------------------------------------------------------


def test_injected_5xx_then_recovery(graph):
    graph.control("POST", "faults", {"kind": "error", "method": "GET", "path": "/*/message_templates", "status": 503, "times": 2})
    first = graph.get(f"{WABA}/message_templates")
    assert first.status_code == 503 and first.json()["error"]["is_transient"] is True
    assert graph.get(f"{WABA}/message_templates").status_code == 503
    assert graph.get(f"{WABA}/message_templates").status_code == 200
    assert graph.get(WABA).status_code == 200


def test_injected_throttle_names_regain_time(graph):
    graph.control("POST", "faults", {"kind": "throttle", "method": "POST", "path": "/*/message_templates", "regain_minutes": 7})
    refused = graph.create("order_shipped")
    assert error_of(refused) == (80008, None)
    usage = json.loads(refused.headers["X-Business-Use-Case-Usage"])
    assert next(iter(usage.values()))[0]["estimated_time_to_regain_access"] == 7


def test_error_rate_is_a_fraction_of_calls(graph):
    graph.control("POST", "faults", {"kind": "error", "path": f"/{WABA}", "rate": 0.5, "status": 500})
    statuses = [graph.get(WABA).status_code for _ in range(60)]
    assert 10 < statuses.count(500) < 50 and statuses.count(200) + statuses.count(500) == 60


def test_added_latency(graph):
    graph.control("POST", "faults", {"kind": "latency", "path": f"/{WABA}", "latency_ms": 200, "times": 1})
    started = time.monotonic()
    assert graph.get(WABA).status_code == 200
    assert time.monotonic() - started >= 0.2


def test_drop_before_commit_changes_nothing(graph):
    graph.control("POST", "faults", {"kind": "drop_before", "method": "POST", "path": "/*/message_templates", "times": 1})
    with pytest.raises(requests.ConnectionError):
        graph.create("order_shipped")
    assert graph.get(f"{WABA}/message_templates").json()["data"] == []


def test_drop_after_commit_keeps_the_change(graph):
    graph.control("POST", "faults", {"kind": "drop_after", "method": "POST", "path": "/*/message_templates", "times": 1})
    with pytest.raises(requests.ConnectionError):
        graph.create("order_shipped")
    assert [r["name"] for r in graph.get(f"{WABA}/message_templates").json()["data"]] == ["order_shipped"]
    assert graph.control("GET", "faults")["data"] == []


def test_bad_fault_is_refused(graph):
    response = requests.post(f"{graph.url}/_emulator/faults", json={"kind": "meteor"}, timeout=10)
    assert response.status_code == 400


# --- controls -------------------------------------------------------------------------------


def test_request_log_says_how_the_token_came_never_what_it_is(graph):
    graph.control("DELETE", "requests")
    graph.get(WABA)
    requests.get(f"{graph.url}/v26.0/{WABA}", params={"access_token": "test-token"}, timeout=10)
    requests.post(f"{graph.url}/v26.0/{WABA}/assigned_users", data={"access_token": "test-token", "user": "1"}, timeout=10)
    requests.get(f"{graph.url}/v26.0/{WABA}", timeout=10)
    log = graph.log()
    assert [e["token"] for e in log] == ["header", "query", "body", None]
    assert [e["method"] for e in log] == ["GET", "GET", "POST", "GET"]
    assert log[2]["params"] == {"user": "1"} and log[3]["code"] == 190
    assert "test-token" not in json.dumps(log)


def test_clock_state_dump_reset_and_meta_actions(load):
    graph = load(seed_with([template("order_shipped")]))
    before = graph.control("GET", "clock")["now"]
    assert graph.control("POST", "clock", {"advance": 3600})["now"] == pytest.approx(before + 3600)
    state = graph.control("GET", "state")
    (template_id, stored), = state["templates"].items()
    assert stored["name"] == "order_shipped" and stored["waba_id"] == WABA
    assert "tokens" not in state and "test-token" not in json.dumps(state)
    graph.control("POST", f"templates/{template_id}", {"status": "PAUSED"})
    assert graph.get(template_id, fields="status").json()["status"] == "PAUSED"
    graph.create("another")
    graph.control("POST", "reset")
    assert [r["name"] for r in graph.get(f"{WABA}/message_templates").json()["data"]] == ["order_shipped"]
    settings = graph.control("POST", "settings", {"page_max": 7})
    assert settings["page_max"] == 7


def test_reset_with_a_bad_seed_is_refused(graph):
    response = requests.post(f"{graph.url}/_emulator/reset", json={"seed": {"wabas": {"1": {"templates": [{"name": "X"}]}}}}, timeout=10)
    assert response.status_code == 400


def test_state_file_survives_a_restart(tmp_path):
    state_file = tmp_path / "state.json"
    with Emulator(BASE_SEED, state_file=str(state_file)) as first:
        session = requests.Session()
        session.headers["Authorization"] = "Bearer test-token"
        created = session.post(f"{first.url}/v26.0/{WABA}/message_templates", json={
            "name": "kept", "language": "en_US", "category": "UTILITY",
            "components": [body("Your order {{1}} ships today.", "#1")]}, timeout=10)
        assert created.status_code == 200
    assert "test-token" not in state_file.read_text()
    with Emulator(BASE_SEED, state_file=str(state_file)) as second:
        rows = requests.get(f"{second.url}/v26.0/{WABA}/message_templates",
                            headers={"Authorization": "Bearer test-token"}, timeout=10).json()["data"]
        assert [r["name"] for r in rows] == ["kept"]


def test_only_loopback():
    with pytest.raises(ValueError):
        Emulator(BASE_SEED, host="0.0.0.0")


def test_cli_serves_the_example_seed():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    seed = pathlib.Path(__file__).parent.parent / "examples" / "seed.yaml"
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "emulator", "--seed", str(seed), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = process.stdout.readline()
        assert f"http://127.0.0.1:{port}" in line
        rows = requests.get(f"http://127.0.0.1:{port}/v26.0/102290129340398/message_templates",
                            headers={"Authorization": "Bearer emulator-token"}, timeout=10).json()["data"]
        assert "order_shipped" in {r["name"] for r in rows}
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_cli_reports_a_bad_seed_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("wabas: {'1': {templates: [{name: Bad, language: en, category: UTILITY}]}}\n")
    result = subprocess.run([sys.executable, "-m", "reconciler", "emulator", "--seed", str(bad)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "wabas.1.templates[0]" in result.stderr and "Traceback" not in result.stderr


def test_emulator_imports_nothing_from_the_rest_of_reconciler():
    for name, source in _emulator_modules().items():
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                target = _import_target(name, source.name == "__init__.py", node)
                inside = target == EMULATOR or target.startswith(f"{EMULATOR}.")
                assert inside or not node.level, f"{source.name} reaches outside the emulator: {ast.unparse(node)}"
                assert node.level or not target.startswith("reconciler"), f"{source.name}: {ast.unparse(node)}"
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("reconciler") for a in node.names), source.name


EMULATOR = "reconciler.emulator"


def _emulator_modules() -> dict[str, pathlib.Path]:
    """Every module of the emulator, subpackages included, by its dotted name."""
    modules = {}
    for source in sorted(EMULATOR_DIR.rglob("*.py")):
        parts = source.relative_to(EMULATOR_DIR).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join((EMULATOR, *parts))] = source
    return modules


def _import_target(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The dotted name ``from X import ...`` names, relative imports resolved from ``module``."""
    if not node.level:
        return node.module or ""
    base = (module if is_package else module.rpartition(".")[0]).split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))
