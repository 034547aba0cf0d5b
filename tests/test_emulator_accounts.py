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


# --- WABA fields and edges real clients ask for ----------------------------------------------


def _with_numbers_and_apps():
    seed = seed_with()
    seed["apps"] = {"1000000000000001": {"name": "wabactl CI app"}}
    seed["wabas"][WABA]["phone_numbers"] = [
        {"id": "106540352242922", "display_phone_number": "+1 555-010-0100", "verified_name": "Acme"},
        {"id": "106540352242923", "display_phone_number": "+1 555-010-0101", "quality_rating": "YELLOW",
         "code_verification_status": "NOT_VERIFIED"},
    ]
    seed["wabas"][WABA]["subscribed_apps"] = ["1000000000000002"]
    return seed


def test_ownership_and_on_behalf_of_business_info(load):
    seed = seed_with()
    seed["wabas"][OTHER_WABA]["owner_business"] = "222000000000009"
    seed["businesses"]["222000000000009"] = {"name": "Client Co", "owned_wabas": [OTHER_WABA]}
    graph = load(seed)
    fields = "ownership_type,on_behalf_of_business_info,owner_business_info,account_review_status,business_verification_status"
    own = graph.get(WABA, fields=fields).json()
    assert own["ownership_type"] == "SELF_OWNED" and "on_behalf_of_business_info" not in own
    assert own["owner_business_info"] == {"id": BUSINESS, "name": "Acme"}
    assert own["account_review_status"] == "APPROVED" and own["business_verification_status"] == "verified"
    client = graph.get(OTHER_WABA, fields=fields).json()
    assert client["ownership_type"] == "CLIENT_OWNED"
    assert client["on_behalf_of_business_info"] == {"id": "222000000000009", "name": "Client Co"}
    listed = graph.get(f"{BUSINESS}/client_whatsapp_business_accounts", fields=fields).json()["data"]
    assert [(w["id"], w["ownership_type"], w["on_behalf_of_business_info"]["name"]) for w in listed] == [
        (OTHER_WABA, "CLIENT_OWNED", "Client Co")]
    owned = graph.get(f"{BUSINESS}/owned_whatsapp_business_accounts", fields="ownership_type").json()["data"]
    assert owned == [{"id": WABA, "ownership_type": "SELF_OWNED"}]
    health = graph.get(WABA, fields="health_status").json()["health_status"]
    assert health["can_send_message"] == "AVAILABLE" and health["entities"][0]["id"] == WABA


def test_a_seeded_ownership_type_is_kept(load):
    seed = seed_with()
    seed["wabas"][WABA]["ownership_type"] = "ON_BEHALF_OF"
    graph = load(seed)
    node = graph.get(WABA, fields="ownership_type,on_behalf_of_business_info").json()
    assert node["ownership_type"] == "ON_BEHALF_OF" and node["on_behalf_of_business_info"]["id"] == BUSINESS


def test_phone_numbers_edge(load):
    graph = load(_with_numbers_and_apps())
    listing = graph.get(f"{WABA}/phone_numbers").json()
    assert listing["data"] == [
        {"id": "106540352242922", "display_phone_number": "+1 555-010-0100", "verified_name": "Acme",
         "quality_rating": "GREEN", "code_verification_status": "VERIFIED"},
        {"id": "106540352242923", "display_phone_number": "+1 555-010-0101", "verified_name": "Acme Main",
         "quality_rating": "YELLOW", "code_verification_status": "NOT_VERIFIED"},
    ]
    narrow = graph.get(f"{WABA}/phone_numbers", fields="display_phone_number,platform_type").json()["data"]
    assert narrow[0] == {"id": "106540352242922", "display_phone_number": "+1 555-010-0100", "platform_type": "CLOUD_API"}
    assert error_of(graph.get(f"{WABA}/phone_numbers", fields="colour")) == (100, None)
    assert graph.get(f"{OTHER_WABA}/phone_numbers").json()["data"] == []  # default: none
    assert error_of(graph.post(f"{WABA}/phone_numbers", json={})) == (100, 33)
    assert error_of(load(_with_numbers_and_apps(), token="other-waba-token").get(f"{WABA}/phone_numbers")) == (200, None)
    page = graph.get(f"{WABA}/phone_numbers", limit=1).json()
    assert len(page["data"]) == 1 and "next" in page["paging"]


def test_subscribed_apps_edge_subscribes_and_unsubscribes_the_calling_app(load):
    graph = load(_with_numbers_and_apps())

    def apps():
        return [row["whatsapp_business_api_data"]["id"] for row in graph.get(f"{WABA}/subscribed_apps").json()["data"]]

    assert apps() == ["1000000000000002"]
    assert graph.post(f"{WABA}/subscribed_apps").json() == {"success": True}
    assert graph.post(f"{WABA}/subscribed_apps").json() == {"success": True}  # again: no change
    assert apps() == ["1000000000000002", "1000000000000001"]
    row = graph.get(f"{WABA}/subscribed_apps").json()["data"][1]["whatsapp_business_api_data"]
    assert row["name"] == "wabactl CI app"
    field = graph.get(WABA, fields="subscribed_apps").json()["subscribed_apps"]["data"]
    assert len(field) == 2
    assert graph.delete(f"{WABA}/subscribed_apps").json() == {"success": True}
    assert apps() == ["1000000000000002"]
    messaging = load(_with_numbers_and_apps(), token="messaging-only-token")
    assert error_of(messaging.post(f"{WABA}/subscribed_apps")) == (200, None)


def test_business_listing_sort_accepts_the_bare_field(graph):
    graph.control("POST", "reset", {"seed": _two_owned()})
    listing = graph.get(f"{BUSINESS}/owned_whatsapp_business_accounts", sort="creation_time").json()
    assert [w["id"] for w in listing["data"]] == [WABA, OTHER_WABA]
    older = graph.get(f"{BUSINESS}/owned_whatsapp_business_accounts", sort="creation_time_descending",
                      filtering=json.dumps([{"field": "creation_time", "operator": "LESS_THAN", "value": 1705000000}])).json()
    assert [w["id"] for w in older["data"]] == [WABA]


def test_untidy_paging_on_business_listings_and_users(load):
    seed = seed_with(untidy_paging=True, page_max=2)
    many = [f"1110000000001{i:02d}" for i in range(9)]
    for index, waba_id in enumerate(many):
        seed["wabas"][waba_id] = {"name": f"W{index}", "creation_time": 1700000001 + index}
    seed["businesses"][BUSINESS]["owned_wabas"] = many  # and WABA, by its owner_business
    seed["wabas"][WABA]["assigned_users"] = {ME: ["MANAGE"], **{person: ["MESSAGING"] for person in PEOPLE}}
    graph = load(seed)

    def every(path, **params):
        ids, sizes, page = [], [], graph.get(path, **params).json()
        while True:
            ids += [row["id"] for row in page["data"]]
            sizes.append(len(page["data"]))
            if "next" not in page["paging"]:
                return ids, sizes
            page = graph.session.get(page["paging"]["next"], timeout=10).json()

    ids, sizes = every(f"{BUSINESS}/owned_whatsapp_business_accounts")
    assert ids == [WABA, *many] and 0 in sizes[:-1] and 1 in sizes
    ids, sizes = every(f"{BUSINESS}/owned_whatsapp_business_accounts", sort="creation_time_descending")
    assert ids == [WABA, *many][::-1]
    users, sizes = every(f"{WABA}/assigned_users", business=BUSINESS)
    assert sorted(users) == sorted([ME, *PEOPLE]) and len(users) == 4
