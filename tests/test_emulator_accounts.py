"""Tokens, the WABA node, business listings, /me, /debug_token and assigned users, over HTTP."""

from __future__ import annotations

import json

import requests

from conftest import BUSINESS, ME, OTHER_WABA, PEOPLE, WABA, error_of, seed_with


def test_missing_or_unknown_token_is_190(load):
    graph = load(token=None)
    assert error_of(graph.get(WABA)) == (190, None)
    assert error_of(load(token="nonsense").get(WABA)) == (190, None)


def test_token_without_access_is_200_with_403(load):
    graph = load(token="other-waba-token")
    refused = graph.get(f"{WABA}/message_templates")
    assert refused.status_code == 403 and error_of(refused) == (200, None)
    assert error_of(graph.get(f"{BUSINESS}/owned_whatsapp_business_accounts")) == (200, None)
    assert graph.get(OTHER_WABA).status_code == 200


def test_messaging_only_token_can_neither_read_nor_write_templates(load):
    # Meta: whatsapp_business_management is required for everything on a WABA, reads included.
    graph = load(token="messaging-only-token")
    refused = graph.get(f"{WABA}/message_templates")
    assert error_of(refused) == (200, None) and "whatsapp_business_management" in refused.json()["error"]["message"]
    assert error_of(graph.get(WABA)) == (200, None)
    assert error_of(graph.create("order_shipped")) == (200, None)
    assert error_of(graph.delete(f"{WABA}/message_templates", name="x")) == (200, None)


def test_an_assigned_user_needs_a_task_that_covers_the_call(load):
    seed = seed_with()
    seed["wabas"][WABA]["assigned_users"] = {ME: ["VIEW_COST"]}
    graph = load(seed)
    assert error_of(graph.get(f"{WABA}/message_templates")) == (200, None)
    seed["wabas"][WABA]["assigned_users"] = {ME: ["VIEW_TEMPLATES"]}
    graph = load(seed)
    assert graph.get(f"{WABA}/message_templates").status_code == 200
    assert error_of(graph.create("order_shipped")) == (200, None)  # viewing is not managing
    assert error_of(graph.get(f"{WABA}/assigned_users", business=BUSINESS)) == (200, None)
    seed["wabas"][WABA]["assigned_users"] = {ME: ["MANAGE_TEMPLATES"]}
    graph = load(seed)
    assert graph.create("order_shipped").status_code == 200


def test_a_user_not_assigned_to_the_waba_is_not_limited_by_tasks(load):
    graph = load()  # the token's user is not among OTHER_WABA's assigned users
    assert graph.get(f"{OTHER_WABA}/message_templates").status_code == 200


def test_business_management_for_assigned_users_is_a_setting(load):
    seed = seed_with()
    seed["tokens"].append({"token": "no-business", "user": ME, "scopes": ["whatsapp_business_management"]})
    graph = load(seed, token="no-business")
    assert graph.get(f"{WABA}/assigned_users", business=BUSINESS).status_code == 200
    graph.control("POST", "settings", {"users_need_business_management": True})
    refused = graph.get(f"{WABA}/assigned_users", business=BUSINESS)
    assert error_of(refused) == (200, None) and "business_management" in refused.json()["error"]["message"]
    assert graph.get(f"{WABA}/message_templates").status_code == 200


def test_an_edge_the_waba_does_not_have_is_code_100(graph):
    assert error_of(graph.get(f"{WABA}/no_such_edge")) == (100, None)


def test_waba_node_fields_with_trailing_slash(graph):
    response = graph.session.get(f"{graph.url}/v26.0/{WABA}/", params={"fields": "name,timezone_id,currency"}, timeout=10)
    assert response.json() == {"id": WABA, "name": "Acme Main", "timezone_id": "1", "currency": "USD"}
    default = graph.get(WABA).json()
    assert {"id", "name", "timezone_id", "message_template_namespace"} <= set(default)
    assert error_of(graph.get(WABA, fields="nickname")) == (100, None)


def test_any_version_prefix_is_served(graph):
    for version in ("v19.0", "v23.0", "v26.0"):
        assert graph.session.get(f"{graph.url}/{version}/{WABA}", timeout=10).status_code == 200


def test_business_waba_listings_filter_and_sort(graph):
    owned = graph.get(f"{BUSINESS}/owned_whatsapp_business_accounts").json()
    assert [w["id"] for w in owned["data"]] == [WABA]
    client = graph.get(f"{BUSINESS}/client_whatsapp_business_accounts").json()
    assert [w["id"] for w in client["data"]] == [OTHER_WABA]
    graph.control("POST", "reset", {"seed": _two_owned()})
    listing = graph.get(f"{BUSINESS}/owned_whatsapp_business_accounts", sort="creation_time_descending").json()
    assert [w["id"] for w in listing["data"]] == [OTHER_WABA, WABA]
    newer = graph.get(f"{BUSINESS}/owned_whatsapp_business_accounts",
                      filtering=json.dumps([{"field": "creation_time", "operator": "GREATER_THAN", "value": "1705000000"}])).json()
    assert [w["id"] for w in newer["data"]] == [OTHER_WABA]
    assert error_of(graph.get(f"{BUSINESS}/owned_whatsapp_business_accounts", sort="name")) == (100, None)
    assert error_of(graph.get(f"{BUSINESS}/owned_whatsapp_business_accounts", filtering="[{}]")) == (100, None)


def _two_owned():
    seed = seed_with()
    seed["businesses"][BUSINESS].update(owned_wabas=[WABA, OTHER_WABA], client_wabas=[])
    return seed


def test_me_and_debug_token(graph):
    assert graph.get("me").json() == {"id": ME, "name": "wabactl CI"}
    data = graph.get("debug_token", input_token="other-waba-token").json()["data"]
    assert data["is_valid"] is True and data["type"] == "SYSTEM_USER" and data["user_id"] == ME
    management = next(s for s in data["granular_scopes"] if s["scope"] == "whatsapp_business_management")
    assert management["target_ids"] == [OTHER_WABA]
    everything = graph.get("debug_token", input_token="test-token").json()["data"]
    assert all("target_ids" not in s for s in everything["granular_scopes"])
    assert graph.get("debug_token", input_token="unknown").json()["data"]["is_valid"] is False
    assert error_of(graph.get("debug_token")) == (100, None)


def test_assigned_users_need_business(graph):
    assert error_of(graph.get(f"{WABA}/assigned_users")) == (100, None)
    assert error_of(graph.get(f"{WABA}/assigned_users", business="424242")) == (100, None)
    listing = graph.get(f"{WABA}/assigned_users", business=BUSINESS).json()
    assert listing["data"] == [{"id": ME, "name": "wabactl CI", "tasks": ["MANAGE"]}]


def test_assign_replaces_tasks_and_unassign_removes(graph):
    person = PEOPLE[0]
    assert graph.post(f"{WABA}/assigned_users", data={"user": person, "tasks": '["MANAGE_TEMPLATES","VIEW_TEMPLATES"]'}).json() == {"success": True}
    assert graph.post(f"{WABA}/assigned_users", json={"user": person, "tasks": ["VIEW_COST"]}).status_code == 200
    rows = {u["id"]: u["tasks"] for u in graph.get(f"{WABA}/assigned_users", business=BUSINESS).json()["data"]}
    assert rows[person] == ["VIEW_COST"]
    # Meta's own example puts Python-style quotes in the query string.
    assert graph.session.post(f"{graph.url}/v26.0/{WABA}/assigned_users",
                              params={"user": person, "tasks": "['MESSAGING']"}, timeout=10).status_code == 200
    assert graph.delete(f"{WABA}/assigned_users", user=person).json() == {"success": True}
    rows = {u["id"] for u in graph.get(f"{WABA}/assigned_users", business=BUSINESS).json()["data"]}
    assert person not in rows


def test_assign_refuses_bad_tasks_unknown_users_and_missing_params(graph):
    assert error_of(graph.post(f"{WABA}/assigned_users", json={"user": PEOPLE[0], "tasks": ["FLY"]})) == (100, None)
    assert error_of(graph.post(f"{WABA}/assigned_users", json={"user": "31337", "tasks": ["MANAGE"]})) == (100, None)
    assert error_of(graph.post(f"{WABA}/assigned_users", json={"user": PEOPLE[0]})) == (100, None)
    assert error_of(graph.post(f"{WABA}/assigned_users", json={"tasks": ["MANAGE"]})) == (100, None)
    assert error_of(graph.post(f"{WABA}/assigned_users", json={"user": PEOPLE[0], "tasks": {"a": 1}})) == (100, None)


def test_assign_existing_can_be_an_error(load):
    graph = load(seed_with(assign_existing="error"))
    assert error_of(graph.post(f"{WABA}/assigned_users", json={"user": ME, "tasks": ["MANAGE"]})) == (100, None)


def test_users_page_by_cursor(load):
    graph = load(seed_with(page_max=2))
    for person in PEOPLE:
        graph.post(f"{WABA}/assigned_users", json={"user": person, "tasks": ["MESSAGING"]})
    seen, page = [], graph.get(f"{WABA}/assigned_users", business=BUSINESS).json()
    while True:
        seen += [u["id"] for u in page["data"]]
        if "next" not in page["paging"]:
            break
        page = requests.get(page["paging"]["next"], headers=graph.session.headers, timeout=10).json()
    assert sorted(seen) == sorted([ME, *PEOPLE])
