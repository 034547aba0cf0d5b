"""The token pre-flight, unit by unit: reading debug_token answers, the rules that refuse or warn,
and their rendering. The token never appears in an error."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from reconciler.errors import GraphAnswerError, GraphError, GraphTransportError, TokenError
from reconciler.graph import GraphClient
from reconciler.graph.auth import TokenInfo, bearer_token, debug_token, parse
from reconciler.model import AccountSettings, DesiredAccount, User
from reconciler.planning.preflight import check, not_checked
from reconciler.render import auth as rendered
from reconciler.schemas import problems

from conftest import BUSINESS, ME, OTHER_WABA, TOKEN, WABA

NOW = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)
ALL = frozenset({"whatsapp_business_management", "whatsapp_business_messaging", "business_management"})
SECRET = "EAAG-very-secret-token"


def account(waba: str = WABA, users: bool = False, business: str | None = BUSINESS, env: str = "ACME_TOKEN") -> DesiredAccount:
    return DesiredAccount(name="acme", waba_id=waba, business_id=business, token_env=env, settings=AccountSettings(),
                          templates=(), users=(User(ME, frozenset({"MANAGE"})),) if users else None)


def info(**changes) -> TokenInfo:
    base = {"is_valid": True, "type": "SYSTEM_USER", "scopes": ALL, "user_id": ME}
    return TokenInfo(**{**base, **changes})


# --- reading debug_token -------------------------------------------------------------------------


def test_parse_reads_meta_answer():
    made = parse({
        "app_id": "1000000000000001", "application": "x", "type": "system_user", "data_access_expires_at": 0,
        "expires_at": 1793523600, "is_valid": True, "issued_at": 1, "user_id": ME,
        "scopes": sorted(ALL),
        "granular_scopes": [
            {"scope": "whatsapp_business_management", "target_ids": [WABA, int(OTHER_WABA)]},
            {"scope": "whatsapp_business_messaging", "target_ids": []},
            {"scope": "business_management"},
        ],
    })
    assert made.is_valid and made.type == "SYSTEM_USER" and made.user_id == ME and made.app_id == "1000000000000001"
    assert made.expires_at == dt.datetime.fromtimestamp(1793523600, dt.UTC)
    assert made.scopes == ALL
    assert made.targets("whatsapp_business_management") == {WABA, OTHER_WABA}
    assert made.targets("whatsapp_business_messaging") is None  # empty: every asset
    assert made.targets("business_management") is None and made.targets("not_granted") is None


def test_parse_of_an_invalid_token_keeps_meta_reason_without_the_token():
    made = parse({"is_valid": False, "scopes": [], "error": {"code": 190, "subcode": 467, "message": f"Bad token {SECRET}."}}, SECRET)
    assert not made.is_valid and made.expires_at is None and made.type is None
    assert made.error == "Bad token [the token]." and (made.error_code, made.error_subcode) == (190, 467)


@pytest.mark.parametrize("data, reason", [
    ({"scopes": []}, "'is_valid' is not true or false"),
    ({"is_valid": "yes"}, "'is_valid' is not true or false"),
    ({"is_valid": True, "scopes": "whatsapp_business_management"}, "'scopes' is not a list of text"),
    ({"is_valid": True, "granular_scopes": {"scope": "x"}}, "'granular_scopes' is not a list of objects"),
    ({"is_valid": True, "granular_scopes": [{"target_ids": [WABA]}]}, "a granular scope has no 'scope'"),
    ({"is_valid": True, "granular_scopes": [{"scope": "x", "target_ids": [SECRET]}]}, "the 'target_ids' of x are not ids"),
    ({"is_valid": True, "expires_at": "tomorrow"}, "'expires_at' is not a unix time"),
    ({"is_valid": True, "expires_at": True}, "'expires_at' is not a unix time"),
    ({"is_valid": True, "type": 3}, "'type' is not text"),
    ({"is_valid": True, "user_id": SECRET}, "'user_id' is not an id"),
    ({"is_valid": False, "error": [SECRET]}, "'error' is not an object"),
])
def test_parse_refuses_a_wrong_shape(data, reason):
    with pytest.raises(GraphAnswerError) as caught:
        parse(data, SECRET)
    assert reason in str(caught.value) and SECRET not in str(caught.value)


def test_debug_token_over_http(load, emulator):
    graph = load()
    client = GraphClient(TOKEN, base_url=emulator.url)
    assert bearer_token(client) == TOKEN
    narrow = debug_token(client, "other-waba-token")
    assert narrow.is_valid and narrow.targets("whatsapp_business_management") == {OTHER_WABA}
    assert "business_management" not in narrow.scopes  # granted for no business: left out
    assert not debug_token(client, "unknown-token").is_valid
    sent = [e for e in graph.log() if e["path"] == "/v26.0/debug_token"]
    assert len(sent) == 2 and all(e["token"] == "header" and e["params"]["input_token"] == "[hidden]" for e in sent)


@pytest.mark.parametrize("fault", [
    {"kind": "error", "status": 500, "code": 2},
    {"kind": "error", "status": 400, "code": 190, "subcode": 463},
    {"kind": "malformed", "raw_body": "<html>no</html>"},
    {"kind": "malformed", "raw_body": json.dumps({"data": [TOKEN]}), "content_type": "application/json"},
    {"kind": "drop_before"},
])
def test_debug_token_errors_never_hold_the_token(load, emulator, fault):
    graph = load()
    graph.control("POST", "faults", {"path": "/debug_token", **fault})
    client = GraphClient(TOKEN, base_url=emulator.url)
    client.retry = type(client.retry)(attempts=1)
    with pytest.raises(GraphError) as caught:
        debug_token(client, TOKEN)
    error = caught.value
    assert TOKEN not in str(error) and TOKEN not in repr(error) and TOKEN not in error.path
    assert "debug_token" in str(error)


# --- the rules ---------------------------------------------------------------------------------

CASES = [
    # (name, token info, account, problems' fragments, warnings' fragments)
    ("all fine", info(), account(users=True), [], []),
    ("invalid", info(is_valid=False, error="Invalid OAuth access token."), account(),
     ["the token in ACME_TOKEN is not valid: Meta says 'Invalid OAuth access token.'"], []),
    ("expired per Meta", info(is_valid=False, expires_at=NOW - dt.timedelta(days=1)), account(),
     ["the token in ACME_TOKEN expired at 2026-10-31 09:00:00 UTC (Graph API time now 2026-11-01 09:00:00 UTC)"], []),
    ("expired by the Graph clock, still called valid", info(expires_at=NOW), account(), ["expired at 2026-11-01 09:00:00 UTC"], []),
    ("expires later", info(expires_at=NOW + dt.timedelta(seconds=1)), account(), [], []),
    ("no management", info(scopes=ALL - {"whatsapp_business_management"}), account(),
     ["lacks the whatsapp_business_management permission, which managing templates needs (it has: business_management, whatsapp_business_messaging)"], []),
    ("no permissions at all", info(scopes=frozenset()), account(), ["(it has: no permissions)"], []),
    ("outside the granular targets", info(granular={"whatsapp_business_management": frozenset({OTHER_WABA})}), account(),
     [f"holds whatsapp_business_management only for WABA {OTHER_WABA}, not for this account's WABA {WABA}"], []),
    ("among the granular targets", info(granular={"whatsapp_business_management": frozenset({WABA, OTHER_WABA})}), account(), [], []),
    ("messaging granular elsewhere does not matter", info(granular={"whatsapp_business_messaging": frozenset({OTHER_WABA})}), account(), [], []),
    ("no business_management, users declared", info(scopes=ALL - {"business_management"}), account(users=True), [],
     ["account acme declares users, and the token in ACME_TOKEN lacks business_management: Meta may refuse to read or assign them"]),
    ("no business_management, users not managed", info(scopes=ALL - {"business_management"}), account(users=False), [], []),
    ("business_management for another business", info(granular={"business_management": frozenset({"222000000000009"})}),
     account(users=True), [], [f"holds business_management only for business 222000000000009, not for {BUSINESS}"]),
    ("invalid: nothing else is judged", info(is_valid=False, scopes=frozenset()), account(users=True), ["is not valid"], []),
    ("two certain problems at once", info(expires_at=NOW - dt.timedelta(hours=1), scopes=frozenset({"business_management"})),
     account(), ["expired at", "lacks the whatsapp_business_management"], []),
]


@pytest.mark.parametrize("name, token, subject, wanted_problems, wanted_warnings", CASES, ids=[c[0] for c in CASES])
def test_preflight_rules(name, token, subject, wanted_problems, wanted_warnings):
    made = check(subject, token, NOW)
    assert len(made.problems) == len(wanted_problems), made.problems
    assert all(fragment in problem for fragment, problem in zip(wanted_problems, made.problems, strict=True))
    assert len(made.warnings) == len(wanted_warnings), made.warnings
    assert all(fragment in warning for fragment, warning in zip(wanted_warnings, made.warnings, strict=True))
    assert made.ok is (not wanted_problems) and made.checked_at == NOW and made.info is token


def test_waba_targeted():
    assert check(account(), info(), NOW).waba_targeted is None
    assert check(account(), info(granular={"whatsapp_business_management": frozenset({WABA})}), NOW).waba_targeted is True
    assert check(account(), info(granular={"whatsapp_business_management": frozenset({OTHER_WABA})}), NOW).waba_targeted is False


@pytest.mark.parametrize("error, problem, warning", [
    (GraphError("GET", "/v26.0/debug_token", 400, 190, 463, "Session has expired"), "the token in ACME_TOKEN has expired: Meta refused it", None),
    (GraphError("GET", "/v26.0/debug_token", 400, 190, 467, "Invalid OAuth access token"), "the token in ACME_TOKEN is invalid: Meta refused it", None),
    (GraphError("GET", "/v26.0/debug_token", 400, 190, None, "Invalid"), "is invalid", None),
    (GraphError("GET", "/v26.0/debug_token", 403, 200, None, "(#200) Permissions error"), None, "the token pre-flight for the token in ACME_TOKEN could not run"),
    (GraphTransportError("GET", "/v26.0/debug_token", "connection refused"), None, "could not run (Graph API error on GET /v26.0/debug_token"),
    (GraphAnswerError("GET", "debug_token", 200, "no 'data' object"), None, "Meta's answers will decide"),
])
def test_a_failed_debug_token(error, problem, warning):
    made = not_checked(account(), error)
    assert made.info is None and made.error == str(error)
    assert [problem in p for p in made.problems] == ([True] if problem else [])
    assert [warning in w for w in made.warnings] == ([True] if warning else [])


def test_token_error_is_a_graph_error_with_a_plain_message():
    error = TokenError("the token in ACME_TOKEN lacks whatsapp_business_management")
    assert isinstance(error, GraphError) and not error.transient and not error.permission_denied
    assert str(error) == "token pre-flight: the token in ACME_TOKEN lacks whatsapp_business_management"


# --- rendering -----------------------------------------------------------------------------------


def test_text_and_json_of_each_kind_of_check():
    checks = [
        check(account(), info(expires_at=NOW + dt.timedelta(days=3, hours=2)), NOW),
        check(account(env="OLD"), info(is_valid=False, expires_at=NOW - dt.timedelta(minutes=5)), NOW),
        not_checked(account(env="GONE"), GraphError("GET", "/v26.0/debug_token", 400, 190, 463, "Session has expired")),
        not_checked(account(env="DOWN"), GraphTransportError("GET", "/v26.0/debug_token", "connection refused")),
        check(account(users=True), info(scopes=ALL - {"business_management"},
                                        granular={"whatsapp_business_management": frozenset({WABA})}), NOW),
    ]
    text = rendered.text(checks, ["fleet f: cannot list"])
    assert "expires:     2026-11-04 11:00:00 UTC (in 3 days)" in text
    assert "expires:     2026-11-01 08:55:00 UTC (5 minutes ago)" in text and "valid:       no, SYSTEM_USER" in text
    assert "valid:       no (Meta refused the token itself)" in text and "Error: the token in GONE has expired" in text
    assert "not checked: Graph API error on GET /v26.0/debug_token: no answer (connection refused)" in text
    assert "WABA:        among the whatsapp_business_management targets" in text
    assert "Error: fleet f: cannot list" in text
    assert text.endswith("5 account(s) checked: 2 refused, 2 with warnings only, 1 could not be checked.\n")
    data = json.loads(rendered.dumps(checks, ["fleet f: cannot list"]))
    assert problems(data, "auth.schema.json") == []
    assert data["summary"] == {"accounts": 5, "refused": 2, "warnings": 2, "unchecked": 1}
    assert data["accounts"][0]["token"]["expires_at"] == "2026-11-04T11:00:00Z"
    assert data["accounts"][4]["waba_targeted"] is True and data["accounts"][4]["token"]["management_targets"] == [WABA]
