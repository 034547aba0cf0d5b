"""Faults that imitate a broken or hostile server: a dripped body, HTML instead of JSON, paging
that never ends, Retry-After, absurd throttles; and the refusal of nonsense faults."""

from __future__ import annotations

import json
import time
import urllib.parse

import pytest
import requests

from conftest import WABA, error_of

LISTING = f"{WABA}/message_templates"


def _drip_note(graph, path: str, deadline: float = 2.0) -> str:
    """The log note of the drip on ``path``, once the drip has stopped (the entry is written then)."""
    ends = time.monotonic() + deadline
    while time.monotonic() < ends:
        notes = [e["note"] for e in graph.log() if e["path"] == path and e.get("note", "").startswith("dripped")]
        if notes:
            return notes[0]
        time.sleep(0.02)
    raise AssertionError(f"the drip on {path} did not stop within {deadline} s")


# --- drip -----------------------------------------------------------------------------------


def test_drip_sends_a_byte_at_a_time_serves_others_and_stops_when_the_client_leaves(graph):
    graph.control("POST", "faults", {"kind": "drip", "path": f"/{LISTING}", "drip_interval_ms": 20, "times": 1})
    started = time.monotonic()
    dripping = requests.Session().get(f"{graph.url}/v26.0/{LISTING}", headers=graph.session.headers, stream=True, timeout=(2, 2))
    assert dripping.status_code == 200 and dripping.headers["Content-Type"] == "application/json"
    assert dripping.headers["Content-Length"] == "10000000"
    assert dripping.raw.read(3) == b'{"d'
    assert time.monotonic() - started >= 0.04  # three bytes, two intervals apart
    served = time.monotonic()
    assert graph.get(WABA).status_code == 200 and graph.create("order_shipped").status_code == 200
    assert time.monotonic() - served < 0.5  # no lock held while dripping
    dripping.close()
    note = _drip_note(graph, f"/v26.0/{LISTING}")
    assert "the client closed the connection" in note and "of 10000000 bytes" in note


def test_drip_outlasts_a_read_timeout_and_ends_after_drip_seconds(graph):
    graph.control("POST", "faults", {"kind": "drip", "method": "GET", "drip_interval_ms": 50, "drip_seconds": 0.4})
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ChunkedEncodingError):  # cut short, not a ReadTimeout
        graph.session.get(f"{graph.url}/v26.0/{WABA}", timeout=(2, 0.3))
    assert time.monotonic() - started >= 0.4
    assert "the server closed the connection" in _drip_note(graph, f"/v26.0/{WABA}")


# --- malformed ------------------------------------------------------------------------------


def test_malformed_answer_replaces_the_request_which_changes_nothing(graph):
    graph.control("POST", "faults", {"kind": "malformed", "method": "POST", "path": "/*/message_templates", "times": 1})
    answered = graph.create("order_shipped")
    assert answered.status_code == 200 and answered.headers["Content-Type"] == "text/html"
    assert answered.text == "<html><body>Bad gateway</body></html>"
    assert graph.get(LISTING).json()["data"] == []


def test_malformed_answer_sends_its_body_status_and_content_type_verbatim(graph):
    graph.control("POST", "faults", {"kind": "malformed", "path": f"/{WABA}", "status": 502,
                                     "raw_body": '{"data": [', "content_type": "application/json"})
    answered = graph.get(WABA)
    assert answered.status_code == 502 and answered.headers["Content-Type"] == "application/json"
    assert answered.content == b'{"data": ['


def test_malformed_answer_after_processing_keeps_the_write(graph):
    graph.control("POST", "faults", {"kind": "malformed", "method": "POST", "path": "/*/message_templates", "after": True, "times": 1})
    answered = graph.create("order_shipped")
    assert answered.status_code == 200 and answered.text.startswith("<html>")
    assert [r["name"] for r in graph.get(LISTING).json()["data"]] == ["order_shipped"]


# --- endless paging -------------------------------------------------------------------------


def test_endless_paging_repeats_the_same_next_link(graph):
    graph.control("POST", "faults", {"kind": "endless_paging", "path": "/*/message_templates"})
    first = graph.get(LISTING, fields="name").json()
    assert first["data"] == [] and first["paging"]["next"].startswith(f"{graph.url}/v26.0/{LISTING}?")
    again = graph.session.get(first["paging"]["next"], timeout=10).json()
    assert again["paging"]["next"] == first["paging"]["next"]
    assert again["paging"]["cursors"] == first["paging"]["cursors"]


def test_endless_paging_advances_to_a_new_link_every_time(graph):
    graph.control("POST", "faults", {"kind": "endless_paging", "path": "/*/message_templates", "paging": "advance"})
    links = [graph.get(LISTING, fields="name").json()["paging"]["next"]]
    for _ in range(4):
        links.append(graph.session.get(links[-1], timeout=10).json()["paging"]["next"])
    assert len(set(links)) == 5
    assert all(urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["fields"] == ["name"] for link in links)


def test_endless_paging_leaves_writes_alone(graph):
    graph.control("POST", "faults", {"kind": "endless_paging", "path": "/*/message_templates", "times": 1})
    assert graph.create("order_shipped").status_code == 200
    assert graph.get(LISTING).json()["data"] == []  # the fault fires on this GET, not on the POST


# --- error and throttle ---------------------------------------------------------------------


def test_retry_after_header_on_error_and_throttle(graph):
    graph.control("POST", "faults", {"faults": [
        {"kind": "error", "path": f"/{WABA}", "status": 503, "retry_after": 3, "times": 1},
        {"kind": "throttle", "path": "/*/message_templates", "retry_after": 0, "times": 1},
        {"kind": "error", "path": "/*/assigned_users", "times": 1},
    ]})
    assert graph.get(WABA).headers["Retry-After"] == "3"
    assert graph.get(LISTING).headers["Retry-After"] == "0"
    assert "Retry-After" not in graph.get(f"{WABA}/assigned_users").headers


def test_throttle_takes_absurd_regain_minutes(graph):
    graph.control("POST", "faults", {"kind": "throttle", "path": f"/{WABA}", "regain_minutes": 10**12})
    refused = graph.get(WABA)
    assert error_of(refused) == (80008, None)
    usage = json.loads(refused.headers["X-Business-Use-Case-Usage"])
    assert next(iter(usage.values()))[0]["estimated_time_to_regain_access"] == 10**12


@pytest.mark.parametrize("status", [400, 418, 429, 501, 599])
def test_error_takes_any_status_from_400_to_599(graph, status):
    graph.control("POST", "faults", {"kind": "error", "path": f"/{WABA}", "status": status})
    answered = graph.get(WABA)
    assert answered.status_code == status
    assert answered.json()["error"]["is_transient"] is (status >= 500)


def test_fault_listing_shows_the_status_each_kind_sends(graph):
    listed = graph.control("POST", "faults", {"faults": [{"kind": "error"}, {"kind": "malformed"}]})["data"]
    assert [f["status"] for f in listed] == [500, 200]


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(("fault", "phrase"), [
    ({"kind": "drip", "drip_interval_ms": -1}, "drip_interval_ms must be a whole number at least 1"),
    ({"kind": "drip", "drip_interval_ms": 0}, "drip_interval_ms must be a whole number at least 1"),
    ({"kind": "drip", "drip_seconds": -0.5}, "drip_seconds must be a number of seconds"),
    ({"kind": "latency", "latency_ms": -10}, "latency_ms must be a whole number at least 0"),
    ({"kind": "endless_paging", "paging": "sideways"}, "paging must be one of repeat, advance"),
    ({"kind": "endless_paging", "method": "POST"}, "answers GET requests only"),
    ({"kind": "error", "status": 600}, "status must be a whole number between 400 and 599"),
    ({"kind": "error", "status": 302}, "status must be a whole number between 400 and 599"),
    ({"kind": "malformed", "status": 101}, "status must be a whole number between 200 and 599"),
    ({"kind": "malformed", "content_type": "text/html\r\nX-Evil: 1"}, "content_type must be a non-empty string on one line"),
    ({"kind": "malformed", "raw_body": 5}, "raw_body must be a string"),
    ({"kind": "malformed", "after": "yes"}, "after must be true or false"),
    ({"kind": "throttle", "regain_minutes": -1}, "regain_minutes must be a whole number at least 0"),
    ({"kind": "throttle", "regain_minutes": "5"}, "regain_minutes must be a whole number at least 0"),
    ({"kind": "error", "retry_after": -1}, "retry_after must be a whole number at least 0"),
    ({"kind": "latency", "retry_after": 3}, "retry_after applies to kinds error and throttle only"),
])
def test_nonsense_fault_is_refused(graph, fault, phrase):
    response = requests.post(f"{graph.url}/_emulator/faults", json=fault, timeout=10)
    assert response.status_code == 400 and phrase in response.json()["error"]["message"]
    assert graph.control("GET", "faults")["data"] == []
