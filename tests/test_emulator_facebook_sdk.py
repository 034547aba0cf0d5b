"""Meta's own Python SDK (facebook-business) driven against the emulator.

It sends the token as a query parameter, form bodies with JSON-string values, reads nodes with a
trailing slash and pages by re-sending the query with ``after=`` (facts sheet, section 9).
"""

from __future__ import annotations

import pytest

from conftest import BUSINESS, PEOPLE, WABA, body, seed_with, template

facebook_business = pytest.importorskip("facebook_business")

from facebook_business.adobjects.whatsappbusinessaccount import WhatsAppBusinessAccount  # noqa: E402
from facebook_business.api import FacebookAdsApi  # noqa: E402
from facebook_business.exceptions import FacebookRequestError  # noqa: E402
from facebook_business.session import FacebookSession  # noqa: E402


@pytest.fixture
def waba(load):
    graph = load(seed_with([template(f"seeded_{i:02d}") for i in range(7)], page_max=3))
    session = FacebookSession(access_token="test-token")
    session.GRAPH = graph.url  # instance attribute; FacebookAdsApi.init() would phone home
    api = FacebookAdsApi(session, api_version="v26.0")
    account = WhatsAppBusinessAccount(WABA, api=api)
    account.graph = graph
    return account


def test_facebook_business_scenario(waba):
    graph = waba.graph
    node = waba.api_get(fields=["name", "timezone_id", "message_template_namespace"])
    assert node["name"] == "Acme Main" and node["timezone_id"] == "1"

    for language, text in (("en_US", "Your order {{1}} ships today."), ("es", "Tu pedido {{1}} sale hoy."),
                           ("pt_BR", "Seu pedido {{1}} sai hoje.")):
        created = waba.create_message_template(params={
            "name": "order_shipped", "language": language, "category": "UTILITY",
            "components": [body(text, "#1")],
        })
        assert created["status"] == "PENDING" and created["id"]

    rows = list(waba.get_message_templates(fields=["name", "language", "status"], params={"limit": 3}))
    assert len(rows) == 10  # seven seeded and three created, over four pages of three
    assert {r["language"] for r in rows if r["name"] == "order_shipped"} == {"en_US", "es", "pt_BR"}

    spanish = next(r for r in rows if r["name"] == "order_shipped" and r["language"] == "es")
    # The SDK's parser drops {"success": true}; what the deletes did shows in the listing.
    waba.delete_message_templates(params={"name": "order_shipped", "hsm_id": spanish["id"]})
    waba.delete_message_templates(params={"name": "seeded_00"})
    left = {(r["name"], r["language"]) for r in waba.get_message_templates(fields=["name", "language"])}
    assert ("order_shipped", "es") not in left and ("order_shipped", "en_US") in left
    assert not any(name == "seeded_00" for name, _ in left)

    waba.create_assigned_user(params={"user": PEOPLE[0], "tasks": ["MANAGE_TEMPLATES", "VIEW_TEMPLATES"]})
    users = {u["id"]: u["tasks"] for u in waba.get_assigned_users(fields=["id", "name", "tasks"], params={"business": BUSINESS})}
    assert users[PEOPLE[0]] == ["MANAGE_TEMPLATES", "VIEW_TEMPLATES"]
    waba.delete_assigned_users(params={"user": PEOPLE[0]})
    users = {u["id"] for u in waba.get_assigned_users(params={"business": BUSINESS})}
    assert PEOPLE[0] not in users
    log = graph.log()
    assert {e["token"] for e in log} == {"query"}
    assert [e["status"] for e in log if e["method"] != "GET"] == [200] * 7


def test_facebook_business_sees_graph_errors_with_their_codes(waba):
    with pytest.raises(FacebookRequestError) as duplicate:
        for _ in range(2):
            waba.create_message_template(params={
                "name": "twice", "language": "en_US", "category": "UTILITY",
                "components": [body("Your order {{1}} ships today.", "#1")]})
    assert duplicate.value.api_error_code() == 100
    assert duplicate.value.api_error_subcode() == 2388024
    assert duplicate.value.http_status() == 400

    with pytest.raises(FacebookRequestError) as missing:
        waba.delete_message_templates(params={"name": "nothing_here"})
    assert (missing.value.api_error_code(), missing.value.api_error_subcode()) == (100, 2593002)

    stranger = WhatsAppBusinessAccount(WABA, api=FacebookAdsApi(_session(waba.graph.url, "bogus"), api_version="v26.0"))
    with pytest.raises(FacebookRequestError) as unknown_token:
        stranger.api_get(fields=["name"])
    assert unknown_token.value.api_error_code() == 190


def _session(url: str, token: str) -> FacebookSession:
    session = FacebookSession(access_token=token)
    session.GRAPH = url
    return session
