"""Template kinds beyond plain text end to end (issue 13): a media card carousel, a limited-time
offer, a Flow button, a one-tap OTP and a time to live: each created, planned again with no
change, imported and planned again with no change; and the rules Meta sets for each, checked at
file and line before any call."""

from __future__ import annotations

import shutil

import pytest
import yaml

from conftest import BANNER, BUSINESS, WABA, body, seed_with, template, write_config


@pytest.fixture(autouse=True)
def banner(tmp_path):
    """The header file the configs here name, beside them (a header_file stays in its config's folder)."""
    shutil.copy(BANNER, tmp_path / "banner.png")


def card(text: str, button: dict) -> dict:
    return {"components": [
        {"type": "HEADER", "format": "IMAGE", "example": {"header_file": "banner.png"}},
        {"type": "BODY", "text": text},
        {"type": "BUTTONS", "buttons": [button]},
    ]}


KINDS = {
    "spring_carousel": {"category": "MARKETING", "languages": {"en_US": {"components": [
        body("Hi {{1}}, our spring picks are here.", "Ann"),
        {"type": "CAROUSEL", "cards": [
            card("Rain jackets, light and warm.", {"type": "QUICK_REPLY", "text": "Show jackets"}),
            card("Boots for every puddle.", {"type": "QUICK_REPLY", "text": "Show boots"}),
            card("Umbrellas that survive the wind.", {"type": "QUICK_REPLY", "text": "Show umbrellas"}),
        ]},
    ]}}},
    "flash_offer": {"category": "MARKETING", "languages": {"en_US": {"components": [
        {"type": "HEADER", "format": "IMAGE", "example": {"header_file": "banner.png"}},
        {"type": "LIMITED_TIME_OFFER", "limited_time_offer": {"text": "Ends Sunday!", "has_expiration": True}},
        body("Good news {{1}}: 20% off everything this week.", "Ann"),
        {"type": "BUTTONS", "buttons": [
            {"type": "COPY_CODE", "example": "SPRING20"},
            {"type": "URL", "text": "Shop now", "url": "https://shop.example.com/offer/{{1}}", "example": ["https://shop.example.com/offer/spring"]},
        ]},
    ]}}},
    "book_visit": {"category": "UTILITY", "message_send_ttl_seconds": 3600, "languages": {"en_US": {"components": [
        body("Book your next visit, {{1}}.", "Ann"),
        {"type": "BUTTONS", "buttons": [{"type": "FLOW", "text": "Book now", "flow_id": "1234567890", "flow_action": "NAVIGATE",
                                         "navigate_screen": "WELCOME"}]},
    ]}}},
    "login_code": {"category": "AUTHENTICATION", "message_send_ttl_seconds": 300, "languages": {"en_US": {"components": [
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "FOOTER", "code_expiration_minutes": 10},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "ONE_TAP", "text": "Copy code", "autofill_text": "Autofill",
                                         "supported_apps": [{"package_name": "com.example.app", "signature_hash": "K8a/AINcGX7"}]}]},
    ]}}},
}


def test_each_kind_is_created_then_plans_nothing_and_survives_import(load, wabactl, tmp_path):
    load(seed_with())
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "business_id": BUSINESS, "templates": KINDS}})
    assert wabactl("validate", path).exit_code == 0
    applied = wabactl("apply", path, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "4 change(s) applied" in applied.stdout
    again = wabactl("plan", path, "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    imported = tmp_path / "imported.yaml"
    result = wabactl("import", "--waba", WABA, "--account", "acme", "-o", str(imported))
    assert result.exit_code == 0, result.output
    held = yaml.safe_load(imported.read_text())["accounts"]["acme"]["templates"]
    assert set(KINDS) <= set(held)
    assert held["book_visit"]["message_send_ttl_seconds"] == 3600
    assert [c["type"] for c in held["spring_carousel"]["languages"]["en_US"]["components"]] == ["BODY", "CAROUSEL"]
    assert len(held["spring_carousel"]["languages"]["en_US"]["components"][1]["cards"]) == 3
    replanned = wabactl("plan", str(imported), "--detailed-exitcode")
    assert replanned.exit_code == 0, replanned.output


def test_a_changed_ttl_is_an_edit_and_an_undeclared_one_is_meta_s(load, wabactl, tmp_path):
    load(seed_with())
    kinds = {"book_visit": KINDS["book_visit"]}
    path = acme(tmp_path, kinds, edit=True)
    assert wabactl("apply", path, "--auto-approve").exit_code == 0
    undeclared = {"book_visit": {k: v for k, v in KINDS["book_visit"].items() if k != "message_send_ttl_seconds"}}
    assert wabactl("plan", acme(tmp_path, undeclared, "d.yaml"),
                   "--detailed-exitcode").exit_code == 0
    changed = {"book_visit": {**KINDS["book_visit"], "message_send_ttl_seconds": 7200}}
    planned = wabactl("plan", acme(tmp_path, changed, "e.yaml", edit=True),
                      "--format", "json")
    [change] = [c for a in yaml.safe_load(planned.stdout)["accounts"] for c in a["changes"]]
    assert change["action"] == "edit" and change["after"]["message_send_ttl_seconds"] == 7200


def acme(tmp_path, templates: dict, name: str = "c.yaml", edit: bool = False) -> str:
    """A config of one account holding ``templates`` (``edit``: on_change edit)."""
    return write_config(tmp_path / name, {"acme": {"waba_id": WABA, "templates": templates}}, {"on_change": "edit"} if edit else None)


def with_components(components: list, category: str = "MARKETING", **extra) -> dict:
    return {"category": category, **extra, "languages": {"en_US": {"components": components}}}


CAROUSEL_BODY = body("Hi {{1}}, our spring picks are here.", "Ann")
BAD = {
    "one card": (with_components([CAROUSEL_BODY, {"type": "CAROUSEL", "cards": [card("Only one.", {"type": "QUICK_REPLY", "text": "Go"})]}]),
                 "a carousel has 2 to 10 cards (found 1)"),
    "cards that differ": (with_components([CAROUSEL_BODY, {"type": "CAROUSEL", "cards": [
        card("Jackets.", {"type": "QUICK_REPLY", "text": "Go"}),
        card("Boots.", {"type": "URL", "text": "Go", "url": "https://shop.example.com/boots"})]}]),
        "every card has the same components"),
    "a utility carousel": (with_components([CAROUSEL_BODY, {"type": "CAROUSEL", "cards": [
        card("Jackets.", {"type": "QUICK_REPLY", "text": "Go"}), card("Boots.", {"type": "QUICK_REPLY", "text": "Go"})]}], "UTILITY"),
        "CAROUSEL templates are MARKETING templates"),
    "an offer with a footer": (with_components([
        {"type": "LIMITED_TIME_OFFER", "limited_time_offer": {"text": "Ends Sunday!"}}, body("Good news {{1}}: 20% off.", "Ann"),
        {"type": "FOOTER", "text": "Terms apply"},
        {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Shop", "url": "https://shop.example.com/"}]}]),
        "a limited-time offer has no FOOTER"),
    "an offer text too long": (with_components([
        {"type": "LIMITED_TIME_OFFER", "limited_time_offer": {"text": "This offer ends on Sunday"}}, body("Good news {{1}}: 20% off.", "Ann"),
        {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Shop", "url": "https://shop.example.com/"}]}]),
        "the offer text is at most 16 characters (has 25)"),
    "a catalog with a header": (with_components([{"type": "HEADER", "format": "TEXT", "text": "New in"}, body("Hello {{1}}, see our catalog.", "Ann"),
                                                 {"type": "BUTTONS", "buttons": [{"type": "CATALOG", "text": "View catalog"}]}]),
                                "a catalog template has no header"),
    "a multi-product without its text header": (with_components([body("Hello {{1}}, see these items.", "Ann"),
                                                                  {"type": "BUTTONS", "buttons": [{"type": "MPM", "text": "View items"}]}]),
                                                "a multi-product template needs a TEXT header"),
    "a marketing ttl too short": (with_components([body("Good news {{1}}: 20% off.", "Ann")], message_send_ttl_seconds=600),
                                  "message_send_ttl_seconds for MARKETING templates is 43200 to 2592000 seconds"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_meta_s_rules_for_each_kind_are_checked_at_file_and_line(load, wabactl, tmp_path, case):
    graph = load(seed_with())
    template, message = BAD[case]
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": {"kind": template}}})
    result = wabactl("plan", path)
    assert result.exit_code == 1
    assert message in result.stderr and "c.yaml, line " in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert graph.log() == []  # nothing was asked of the Graph API


LIBRARY = {"delivery_news": {"category": "UTILITY", "library_template_name": "delivery_update_1",
                             "library_template_body_inputs": {"add_track_package_link": True},
                             "languages": {"en_US": {}}}}


def test_a_library_template_is_created_by_name_and_converges_and_imports(load, wabactl, tmp_path):
    graph = load(seed_with())
    path = acme(tmp_path, LIBRARY)
    applied = wabactl("apply", path, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    [create] = [e for e in graph.calls() if e["method"] == "POST" and e["path"].endswith("/message_templates")]
    assert create["params"]["library_template_name"] == "delivery_update_1" and "components" not in create["params"]
    row = graph.get(f"{WABA}/message_templates", fields="name,status,components,library_template_name").json()["data"][0]
    assert row["status"] == "APPROVED" and row["library_template_name"] == "delivery_update_1" and row["components"]
    assert wabactl("plan", path, "--detailed-exitcode").exit_code == 0  # Meta's components are not compared
    changed = {"delivery_news": {**LIBRARY["delivery_news"], "library_template_body_inputs": {"add_track_package_link": False}}}
    planned = wabactl("plan", acme(tmp_path, changed, "d.yaml"), "--format", "json")
    [change] = [c for a in yaml.safe_load(planned.stdout)["accounts"] for c in a["changes"]]
    assert change["action"] == "blocked"  # other inputs: made again, which an APPROVED template's name lock forbids
    imported = tmp_path / "imported.yaml"
    result = wabactl("import", "--waba", WABA, "--account", "acme", "-o", str(imported))
    assert result.exit_code == 0 and "1 template(s) come from Meta's template library" in result.stderr
    held = yaml.safe_load(imported.read_text())["accounts"]["acme"]["templates"]["delivery_news"]
    assert held == {"category": "UTILITY", "library_template_name": "delivery_update_1", "languages": {"en_US": {}}}
    assert wabactl("plan", str(imported), "--detailed-exitcode").exit_code == 0


def test_a_library_template_with_components_or_a_marketing_one_is_refused(load, wabactl, tmp_path):
    graph = load(seed_with())
    bad = {"delivery_news": {**LIBRARY["delivery_news"], "category": "MARKETING",
                             "languages": {"en_US": {"components": [body("Hello {{1}} there.", "Ann")]}}}}
    result = wabactl("plan", acme(tmp_path, bad))
    assert result.exit_code == 1
    assert "templates from Meta's library are UTILITY or AUTHENTICATION" in result.stderr
    assert "a template from Meta's library takes no components" in result.stderr
    assert graph.log() == []


def test_legacy_categories_and_rows_being_deleted_neither_crash_nor_flap(load, wabactl, tmp_path):
    live = [template("hello_world", previous_category="ACCOUNT_UPDATE"),  # a pre-2023 category, kept by Meta in previous_category
            template("old_notice", status="PENDING_DELETION"), template("older_notice", status="DELETED")]
    graph = load(seed_with(live))
    listed = {row["name"] for row in graph.get(f"{WABA}/message_templates").json()["data"]}
    assert listed == {"hello_world", "old_notice"}  # Meta lists a row while its deletion drains
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": {
        "hello_world": {"category": "UTILITY", "languages": {"en_US": {"components": [body("Your order {{1}} ships today.", "#1")]}}}}}},
        {"prune": {"templates": True}})
    for _ in range(2):
        planned = wabactl("plan", path, "--detailed-exitcode")
        assert planned.exit_code == 0, planned.output  # nothing to delete: the rows are gone already
    drift = wabactl("drift", path)
    assert drift.exit_code == 0, drift.output


def test_changed_otp_apps_that_meta_reads_back_are_a_change(load, wabactl, tmp_path):
    load(seed_with())
    login = {"login_code": KINDS["login_code"]}
    path = acme(tmp_path, login, edit=True)
    assert wabactl("apply", path, "--auto-approve").exit_code == 0
    assert wabactl("plan", path, "--detailed-exitcode").exit_code == 0
    button = KINDS["login_code"]["languages"]["en_US"]["components"][2]["buttons"][0]
    moved = {**button, "supported_apps": [{"package_name": "com.example.other", "signature_hash": "K8a/AINcGX7"}]}
    changed = {"login_code": {**KINDS["login_code"], "languages": {"en_US": {"components": [
        *KINDS["login_code"]["languages"]["en_US"]["components"][:2], {"type": "BUTTONS", "buttons": [moved]}]}}}}
    planned = wabactl("plan", acme(tmp_path, changed, "d.yaml", edit=True),
                      "--format", "json")
    [change] = [c for a in yaml.safe_load(planned.stdout)["accounts"] for c in a["changes"]]
    assert change["action"] == "edit" and "a button setting Meta reads back differs" in change["reason"]


def test_a_library_template_s_ttl_is_edited_and_other_inputs_are_blocked_with_the_reason(load, wabactl, tmp_path):
    load(seed_with())
    path = acme(tmp_path, LIBRARY, edit=True)
    assert wabactl("apply", path, "--auto-approve").exit_code == 0
    with_ttl = {"delivery_news": {**LIBRARY["delivery_news"], "message_send_ttl_seconds": 600}}
    ttl_path = acme(tmp_path, with_ttl, "d.yaml", edit=True)
    applied = wabactl("apply", ttl_path, "--auto-approve", "--format", "json")
    assert applied.exit_code == 0, applied.output
    assert [c["action"] for a in yaml.safe_load(applied.stdout)["accounts"] for c in a["changes"]] == ["edit"]
    assert wabactl("plan", ttl_path, "--detailed-exitcode").exit_code == 0
    other = {"delivery_news": {**with_ttl["delivery_news"], "library_template_body_inputs": {"add_contact_number": True}}}
    planned = wabactl("plan", acme(tmp_path, other, "e.yaml", edit=True))
    assert "a template from Meta's library is made again to change its library name or inputs" in planned.stdout


def flow_template(**flow) -> dict:
    return {"book_visit": {"category": "UTILITY", "languages": {"en_US": {"components": [
        body("Book your next visit, {{1}}.", "Ann"),
        {"type": "BUTTONS", "buttons": [{"type": "FLOW", "text": "Book now", "flow_action": "NAVIGATE", **flow}]}]}}}}


def test_a_flow_named_where_meta_reads_back_its_id_is_no_change_and_another_id_is(load, wabactl, tmp_path):
    live = flow_template(flow_id="1234567890")["book_visit"]["languages"]["en_US"]["components"]
    load(seed_with([template("book_visit", components=live)]))
    by_name = acme(tmp_path, flow_template(flow_name="booking"), edit=True)
    planned = wabactl("plan", by_name, "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output  # Meta keeps the Flow's id: a name cannot be told from it
    assert "cannot be compared" in planned.output
    other = acme(tmp_path, flow_template(flow_id="999"), "d.yaml", edit=True)
    changed = wabactl("plan", other, "--format", "json")
    [change] = [c for a in yaml.safe_load(changed.stdout)["accounts"] for c in a["changes"]]
    assert change["action"] == "edit" and "the Flow's id" in change["reason"]
