"""The Graph client against the emulator: auth header only, paging, error mapping, retries."""

from __future__ import annotations

import json

import pytest

from reconciler.errors import GraphError, GraphTransportError
from reconciler.graph import GraphClient
from reconciler.graph import waba as graph_waba
from reconciler.graph.retry import RetryPolicy

from conftest import BUSINESS, TOKEN, WABA, body, seed_with, template


@pytest.fixture
def client(emulator):
    made = GraphClient("test-token", base_url=emulator.url, retry=RetryPolicy(backoff=0.01))
    yield made
    made.close()


def test_pages_until_no_next_and_reads_everything(load, client):
    graph = load(seed_with([template(f"t{i:02d}", language) for i in range(20) for language in ("en_US", "es")], page_max=7))
    templates, count, limit = graph_waba.fetch_templates(client, WABA)
    assert len(templates) == 40 and count == 20 and limit == 250
    pages = [e for e in graph.log() if e["path"].endswith("/message_templates")]
    assert len(pages) == 6  # 40 rows, 7 a page


def test_token_only_in_the_authorization_header(load, client):
    graph = load(seed_with([template("a")]))
    graph_waba.fetch_account(client, WABA, BUSINESS, with_users=True)
    graph_waba.create_template(client, WABA, graph_waba.live_template({
        "id": "0", "name": "b", "language": "en_US", "category": "UTILITY", "status": "PENDING",
        "components": [body("Your order {{1}} ships today.", "#1")]}).template)
    log = graph.log()
    assert log and {e["token"] for e in log} == {"header"}
    assert "test-token" not in json.dumps(log)


def test_error_envelope_becomes_a_typed_error(load, client):
    load(seed_with([template("a")]))
    with pytest.raises(GraphError) as caught:
        client.delete(f"{WABA}/message_templates", {"name": "absent"})
    error = caught.value
    assert (error.method, error.status, error.code, error.subcode) == ("DELETE", 400, 100, 2593002)
    assert error.path == f"/v26.0/{WABA}/message_templates" and error.fbtrace_id
    assert "subcode 2593002" in str(error) and "test-token" not in str(error)


def test_transient_reads_are_retried(graph, client):
    graph.control("POST", "faults", {"kind": "error", "method": "GET", "path": f"/{WABA}", "status": 503, "times": 2})
    assert client.get(WABA)["id"] == WABA
    assert [e["status"] for e in graph.log()] == [503, 503, 200]


def test_writes_are_not_retried(graph, client):
    graph.control("POST", "faults", {"kind": "error", "method": "POST", "path": "/*/assigned_users", "status": 503, "times": 1})
    with pytest.raises(GraphError) as caught:
        client.post(f"{WABA}/assigned_users", {"user": "10222270944537964", "tasks": ["MANAGE"]})
    assert caught.value.status == 503 and caught.value.code == 2
    assert len(graph.log()) == 1


def test_waba_rate_limit_is_not_hammered(graph, client):
    graph.control("POST", "faults", {"kind": "throttle", "method": "GET", "path": f"/{WABA}", "regain_minutes": 12})
    with pytest.raises(GraphError) as caught:
        client.get(WABA)
    assert caught.value.code == 80008 and caught.value.rate_limited and caught.value.regain_minutes == 12
    assert len(graph.log()) == 1


def test_dropped_connection_is_a_transport_error(graph, client):
    graph.control("POST", "faults", {"kind": "drop_after", "method": "POST", "path": "/*/assigned_users", "times": 1})
    with pytest.raises(GraphTransportError) as caught:
        client.post(f"{WABA}/assigned_users", {"user": "10222270944537964", "tasks": ["MANAGE"]})
    assert "closed before an answer" in str(caught.value)


def test_refused_connection_is_a_transport_error():
    offline = GraphClient("t", base_url="http://127.0.0.1:9", retry=RetryPolicy(attempts=1))
    with pytest.raises(GraphTransportError):
        offline.get("me")


def test_next_to_another_host_is_not_followed():
    client = GraphClient("t", base_url="http://127.0.0.1:8080")
    assert client._same_origin("http://127.0.0.1:8080/v26.0/x?after=1")
    assert not client._same_origin("https://graph.facebook.com/v26.0/x?after=1")
    assert not client._same_origin("http://127.0.0.1:8081/v26.0/x")


def test_users_need_business_and_read_tasks(load, client):
    load()
    users = graph_waba.fetch_users(client, WABA, BUSINESS)
    assert [(u.user_id, sorted(u.tasks)) for u in users] == [("900000000000001", ["MANAGE"])]


def test_errors_are_classified_by_code_and_subcode(load, emulator):
    load(seed_with([template("a")]))
    limited = GraphClient("messaging-only-token", base_url=emulator.url, retry=RetryPolicy(attempts=1))
    with pytest.raises(GraphError) as caught:
        limited.post(f"{WABA}/message_templates", {"name": "b", "language": "en_US", "category": "UTILITY",
                                                   "components": [body("Your order {{1}} ships today.", "#1")]})
    assert caught.value.code == 200 and caught.value.permission_denied and not caught.value.transient
    cases = {
        (100, 2388023, 400): "name_locked", (100, 2388039, 400): "edit_refused", (80008, None, 400): "rate_limited",
        (2, None, 500): "transient", (1, None, 400): "transient", (10, None, 403): "permission_denied",
    }
    kinds = ("name_locked", "edit_refused", "rate_limited", "transient", "permission_denied")
    for (code, subcode, status), kind in cases.items():
        error = GraphError("POST", "/x", status, code, subcode)
        assert [k for k in kinds if getattr(error, k)] == [kind], (code, subcode)
    assert not GraphError("GET", "/x", 400, 80007).transient  # the WABA rate limit: calling again prolongs it
    assert GraphError("GET", "/x", 400, 100, 2388024).transient is False


def test_a_write_is_tried_again_only_when_the_read_back_shows_it_did_not_happen(load, client):
    graph = load()
    template = graph_waba.live_template({"id": "0", "name": "b", "language": "en_US", "category": "UTILITY", "status": "PENDING",
                                         "components": [body("Your order {{1}} ships today.", "#1")]}).template
    graph.control("POST", "faults", {"kind": "error", "method": "POST", "path": "/*/message_templates", "status": 503, "times": 2})
    created = graph_waba.create_template(client, WABA, template)
    assert created.id and [e["status"] for e in graph.log() if e["method"] == "POST"] == [503, 503, 200]
    reads = [e for e in graph.log() if e["method"] == "GET"]
    assert len(reads) == 2 and {r["params"]["name"] for r in reads} == {"b"}  # one read-back per failed try


def test_a_write_that_keeps_failing_gives_up_naming_the_tries(load, emulator):
    graph = load()
    stubborn = GraphClient("test-token", base_url=emulator.url, retry=RetryPolicy(attempts=3, backoff=0.01))
    graph.control("POST", "faults", {"kind": "error", "method": "DELETE", "path": "/*/assigned_users", "status": 500})
    with pytest.raises(GraphError, match="gave up after 3 tries") as caught:
        graph_waba.unassign_user(stubborn, WABA, BUSINESS, "900000000000001")
    assert not isinstance(caught.value, GraphTransportError)  # known not to have happened: failed, not uncertain
    assert [e["method"] for e in graph.log()] == ["DELETE", "GET", "DELETE", "GET", "DELETE", "GET"]


def test_the_default_worst_case_of_one_request_stays_under_two_minutes():
    """A server that drips forever costs every try its whole deadline; no try starts that would end
    past the budget, so one request, all its tries and waits included, ends within it."""
    client = GraphClient("t", base_url="http://127.0.0.1:9")
    assert max(client.retry.budget, client.deadline) < 120
    assert client.retry.allows(0, 0.5, client.deadline) and not client.retry.allows(90, 0, client.deadline)


@pytest.mark.parametrize("code", [4, 17, 613, 80007, 80008])
def test_a_rate_limited_write_is_not_tried_again(load, client, code):
    graph = load()
    graph.control("POST", "faults", {"kind": "throttle", "method": "POST", "path": "/*/assigned_users", "code": code, "regain_minutes": 1})
    with pytest.raises(GraphError) as caught:
        graph_waba.assign_user(client, WABA, BUSINESS, graph_waba.User("10222270944537964", frozenset({"MANAGE"})))
    assert caught.value.rate_limited and [e["method"] for e in graph.log()] == ["POST"]


def test_a_try_that_lands_late_is_not_mistaken_for_a_refusal(load, emulator):
    graph = load()
    slow = GraphClient("test-token", base_url=emulator.url, deadline=0.3, retry=RetryPolicy(backoff=0.6, jitter=0))
    template = graph_waba.live_template({"id": "0", "name": "late", "language": "en_US", "category": "UTILITY", "status": "PENDING",
                                         "components": [body("Your order {{1}} ships today.", "#1")]}).template
    graph.control("POST", "faults", {"kind": "latency", "method": "POST", "path": "/*/message_templates", "latency_ms": 500, "times": 1})
    created = graph_waba.create_template(slow, WABA, template)  # the first try outlives its deadline, then lands
    posts = [(e["status"], e.get("subcode")) for e in graph.log() if e["method"] == "POST"]
    assert created.id and posts == [(200, None), (400, 2388024)]  # the retry's refusal is the first try's echo
    rows = [r for r in graph.get(f"{WABA}/message_templates").json()["data"] if r["name"] == "late"]
    assert len(rows) == 1 and rows[0]["id"] == created.id


def test_meta_s_error_text_quoting_the_token_is_masked(load, client):
    graph = load()
    quoted = json.dumps({"error": {"message": f"Malformed access token {TOKEN}", "error_user_msg": f"bad {TOKEN}",
                                   "type": "OAuthException", "code": 190, "fbtrace_id": "x"}})
    graph.control("POST", "faults", {"kind": "malformed", "status": 400, "raw_body": quoted, "content_type": "application/json"})
    with pytest.raises(GraphError) as caught:
        client.get(WABA, {"fields": "name"})
    assert caught.value.code == 190 and TOKEN not in str(caught.value) and "[token]" in str(caught.value)
    assert TOKEN not in (caught.value.user_message or "")
