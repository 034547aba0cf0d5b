"""Graph batch requests for reads (graph/batch.py): many accounts read at once go in batches of at
most 50 items, plan exactly what one account at a time plans, and a batch that fails in part or as
a whole costs no read."""

from __future__ import annotations

import copy
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from reconciler.endpoint import Target
from reconciler.errors import GraphError
from reconciler.graph import GraphClient
from reconciler.graph.batch import Batcher
from reconciler.graph.slots import Slots
from reconciler.inputs import load_desired
from reconciler.ledger import Ledger
from reconciler.planning import planfile
from reconciler.session import Session

from conftest import BASE_SEED, BUSINESS, TOKEN, body, template, write_config

ENV = {"WABACTL_TOKEN": TOKEN}
COUNT = 12


def waba_id(i: int) -> str:
    return f"55500000000{i:04d}"


def many_seed(count: int = COUNT, rows: int = 3) -> dict:
    seed = copy.deepcopy(BASE_SEED)
    for i in range(count):
        seed["wabas"][waba_id(i)] = {"name": f"Shop {i}", "owner_business": BUSINESS,
                                     "templates": [template(f"t{j}") for j in range(rows)]}
    return seed


def many_config(tmp_path, count: int = COUNT) -> str:
    wanted = {"t0": {"category": "UTILITY", "languages": {"en_US": {"components": [body("Your order {{1}} ships today.", "#1")]}}},
              "fresh": {"category": "UTILITY", "languages": {"en_US": {"components": [body("Welcome {{1}}.", "Ann")]}}}}
    return write_config(tmp_path / "c.yaml", {f"shop{i:02d}": {"waba_id": waba_id(i), "templates": wanted} for i in range(count)})


def plan_json(emulator, path: str, parallelism: int) -> dict:
    run = Session(Target(emulator.url), Ledger(None), ENV, parallelism)
    try:
        made = run.plan(load_desired([path]), allow_destroy=True)
    finally:
        run.close()
    document = json.loads(planfile.dumps(made))
    document.pop("created_at", None)
    return document


def plans_the_same_despite(emulator, graph, path: str, fault: dict) -> None:
    """Planning with reads batched and ``fault`` injected decides what one account at a time does."""
    alone = plan_json(emulator, path, parallelism=1)
    graph.control("DELETE", "requests")
    graph.control("POST", "faults", fault)
    assert plan_json(emulator, path, parallelism=4) == alone


def batches(graph) -> list[list[dict]]:
    return [json.loads(e["params"]["batch"]) for e in graph.log() if e["method"] == "POST" and e["path"] == "/v26.0/"]


def test_many_accounts_are_read_in_batches_and_plan_as_one_at_a_time_does(load, emulator, tmp_path):
    graph = load(many_seed(rows=130))  # two template pages each: the second page's link goes in a batch too
    path = many_config(tmp_path)
    alone = plan_json(emulator, path, parallelism=1)
    assert batches(graph) == []  # one account at a time: nothing to join
    graph.control("DELETE", "requests")
    together = plan_json(emulator, path, parallelism=4)
    assert together == alone
    sent = batches(graph)
    items = [item for batch in sent for item in batch]
    assert sent and all(2 <= len(batch) <= 50 for batch in sent)
    assert all(item["method"] == "GET" and not item["relative_url"].startswith(("/", "v26.0", "http")) for item in items)
    pages = [item for item in items if "/message_templates" in item["relative_url"]]
    assert any("after=" in item["relative_url"] for item in pages)  # followed pages were batched
    assert len(graph.calls()) > len([e for e in graph.log() if e["path"] != "/v26.0/"]) - 1  # items are logged each on its own
    assert TOKEN not in json.dumps(graph.log())


def test_a_transient_item_error_is_tried_again_alone(load, emulator, tmp_path):
    graph = load(many_seed())
    path = many_config(tmp_path)
    plans_the_same_despite(emulator, graph, path, {"kind": "error", "status": 503, "path": f"/{waba_id(3)}/message_templates", "times": 1})
    tries = [e for e in graph.calls() if e["path"] == f"/v26.0/{waba_id(3)}/message_templates"]
    assert [e["status"] for e in tries] == [503, 200]
    assert tries[0].get("note") == "batch item" and tries[1].get("note") is None  # the try again went alone


def test_an_item_refused_for_good_fails_its_account_only(load, emulator, tmp_path):
    load(many_seed())
    path = many_config(tmp_path)
    graph = load(many_seed())
    graph.control("POST", "faults", {"kind": "error", "status": 403, "code": 200, "path": f"/{waba_id(5)}/*"})
    run = Session(Target(emulator.url), Ledger(None), ENV, 4)
    try:
        made = run.plan(load_desired([path]), allow_destroy=True)
    finally:
        run.close()
    assert [f.account for f in made.failures] == ["shop05"]
    assert "code 200" in made.failures[0].error and f"{waba_id(5)}/message_templates" in made.failures[0].error
    assert len(made.accounts) == COUNT - 1
    assert batches(graph)


def test_a_batch_cut_as_a_whole_is_sent_read_by_read(load, emulator, tmp_path):
    graph = load(many_seed())
    path = many_config(tmp_path)
    plans_the_same_despite(emulator, graph, path, {"kind": "drop_before", "method": "POST", "path": "/", "times": 1})
    cut = [e for e in graph.log() if e["path"] == "/v26.0/" and e["status"] is None]
    assert len(cut) == 1 and cut[0]["note"] == "dropped before handling"


def test_an_item_s_connection_fault_cuts_its_batch_and_its_reads_go_alone(load, emulator, tmp_path):
    graph = load(many_seed())
    path = many_config(tmp_path)
    plans_the_same_despite(emulator, graph, path, {"kind": "drop_after", "path": f"/{waba_id(2)}/message_templates", "times": 1})


def test_a_null_item_is_tried_again_alone(load, emulator, tmp_path):
    graph = load(many_seed())
    path = many_config(tmp_path)
    plans_the_same_despite(emulator, graph, path, {"kind": "null_item", "path": f"/{waba_id(7)}/message_templates", "times": 1})
    tries = [e for e in graph.calls() if e["path"] == f"/v26.0/{waba_id(7)}/message_templates"]
    assert [(e["status"], e.get("note")) for e in tries] == [(None, "batch item"), (200, None)]


def test_a_batch_refused_as_a_whole_gives_each_read_its_error_and_the_reads_retry_alone(load, emulator, tmp_path):
    graph = load(many_seed())
    path = many_config(tmp_path)
    plans_the_same_despite(emulator, graph, path, {"kind": "error", "status": 500, "method": "POST", "path": "/", "times": 1})
    refused = [e for e in graph.log() if e["path"] == "/v26.0/" and e["status"] == 500]
    assert len(refused) == 1


# --- the batcher on its own -------------------------------------------------------------------


@pytest.fixture
def batcher(graph, emulator):
    client = GraphClient(TOKEN, base_url=emulator.url)
    with ThreadPoolExecutor(max_workers=2) as senders:
        made = Batcher(client, Slots(2), senders, linger=0.05)
        yield made
        made.close()
    client.close()


def test_reads_sent_at_once_share_a_batch_and_each_gets_its_own_answer(graph, batcher):
    graph.control("DELETE", "requests")
    url = batcher.client._url
    with ThreadPoolExecutor(max_workers=6) as readers:
        answers = list(readers.map(lambda name: batcher.get(url("me"), {"fields": name}), ["id", "id,name", "id", "name", "id", "id"]))
    assert all(isinstance(a, dict) for a in answers) and batcher.batches >= 1
    assert sum(len(b) for b in batches(graph)) + len([e for e in graph.calls() if e.get("note") is None]) == 6


def test_an_item_s_error_is_raised_in_its_own_thread_only(graph, batcher):
    url = batcher.client._url
    with ThreadPoolExecutor(max_workers=2) as readers:
        good = readers.submit(batcher.get, url("me"), {"fields": "id"})
        bad = readers.submit(batcher.get, url("999999999/message_templates"), {})
        assert isinstance(good.result(), dict)
        with pytest.raises(GraphError) as raised:
            bad.result()
    assert raised.value.code == 100


def test_a_null_item_is_a_transient_error(emulator):
    client = GraphClient(TOKEN, base_url=emulator.url)
    try:
        with pytest.raises(GraphError) as raised:
            client.item_answer("/v26.0/me", None)
        assert raised.value.transient
        assert client.relative_url(client._url("1/message_templates"), {"fields": "id,name", "limit": 100}) == \
            "1/message_templates?fields=id%2Cname&limit=100"
        assert client.relative_url(f"{emulator.url}/v26.0/1/message_templates?after=abc", None) == "1/message_templates?after=abc"
    finally:
        client.close()
