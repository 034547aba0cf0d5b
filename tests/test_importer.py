"""Import writes valid config that reproduces live state."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from reconciler.desired import config, importer
from reconciler.errors import ReconcilerError
from reconciler.model import LiveAccount, LiveTemplate, Template, User

AUTH = (
    {"type": "BODY", "text": "*{{1}}* is your verification code.", "add_security_recommendation": False},
    {"type": "FOOTER", "text": "This code expires in 5 minutes.", "code_expiration_minutes": 5},
    {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy"}]},
)


def test_grouped_by_name_valid_and_equal_in_content(tmp_path):
    body = {"type": "BODY", "text": "Hi {{name}} there", "example": {"body_text_named_params": [{"param_name": "name", "example": "Ann"}]}}
    live = LiveAccount("1", (
        LiveTemplate(Template("welcome", "en_US", "MARKETING", (body,), "NAMED"), "10", "APPROVED"),
        LiveTemplate(Template("welcome", "es", "MARKETING", (body,), "NAMED"), "11", "REJECTED"),
        LiveTemplate(Template("login", "en", "AUTHENTICATION", AUTH), "12", "APPROVED"),
    ), (User("42", frozenset({"MANAGE"})),))
    text = importer.to_yaml(importer.config_for(live, "acme", "2"))
    assert text.startswith("# yaml-language-server: $schema=")
    data = yaml.safe_load(text)
    welcome = data["accounts"]["acme"]["templates"]["welcome"]
    assert sorted(welcome["languages"]) == ["en_US", "es"] and welcome["parameter_format"] == "NAMED"
    login = data["accounts"]["acme"]["templates"]["login"]["languages"]["en"]["components"]
    assert login[0] == {"type": "BODY", "add_security_recommendation": False}
    path = tmp_path / "imported.yaml"
    path.write_text(text)
    (account,) = config.load([str(path)]).accounts
    imported = {t.key: t.content() for t in account.templates}
    assert imported == {t.key: t.template.content() for t in live.templates}
    assert account.users == (User("42", frozenset({"MANAGE"})),)


def test_account_name_from_waba_name():
    assert importer.account_name("Acme Shop (EU)", "1") == "acme-shop-eu"
    assert importer.account_name(None, "123") == "waba-123"


def test_account_names_made_unique_with_the_waba_id():
    names = importer.unique_names([("1", "Shop"), ("2", "Shop"), ("3", "Other"), ("4", "Sets"), ("5", None), ("6", "Shop 1")])
    assert names == {"1": "shop-1-2", "2": "shop-2", "3": "other", "4": "sets-4", "5": "waba-5", "6": "shop-1"}
    long = importer.unique_names([("123456789012345", "x" * 70), ("123456789012346", "x" * 70)])
    assert all(len(name) <= 64 and name.endswith(waba) for waba, name in long.items())


# --- the sharing rule ---------------------------------------------------------------------------


def test_templates_shared_by_the_same_accounts_form_one_set_each_group_its_own():
    common = {"terms": "c1"}
    brand_a = {"a_order": "a1", "a_ship": "a2"}
    brand_b = {"b_order": "b1", "b_ship": "b2"}
    holdings = {
        "a1": {**common, **brand_a, "greeting": "hello-a1"},
        "a2": {**common, **brand_a, "greeting": "hello-a"},
        "a3": {**common, **brand_a, "greeting": "hello-a", "solo": "s"},
        "b1": {**common, **brand_b, "greeting": "hello-b1"},
        "b2": {**common, **brand_b, "greeting": "hello-b2"},
    }
    sets = importer.share(holdings)
    assert [(s.name, s.accounts, s.templates) for s in sets] == [
        ("shared", ("a1", "a2", "a3", "b1", "b2"), ("terms",)),      # most accounts first
        ("shared_2", ("a1", "a2", "a3"), ("a_order", "a_ship")),
        ("shared_3", ("b1", "b2"), ("b_order", "b_ship")),            # two accounts: more templates first
        ("shared_4", ("a2", "a3"), ("greeting",)),                    # same name, same content in a2, a3 only
    ]
    # greeting differs in a1, b1, b2: it stays in them; solo is in one account only
    assert all("solo" not in s.templates for s in sets)


def test_nothing_shared_means_no_set():
    assert importer.share({"a": {"x": 1, "y": 2}, "b": {"x": 3, "z": 2}}) == []
    assert importer.share({"a": {"x": 1}}) == []
    assert importer.share({}) == []


def body(text):
    return {"type": "BODY", "text": text}


def live(waba, *rows):
    return LiveAccount(waba, tuple(LiveTemplate(Template(name, language, "UTILITY", (body(text),)), f"{waba}{i}", "APPROVED")
                                   for i, (name, language, text) in enumerate(rows)), None)


def test_every_language_and_the_language_set_must_match():
    accounts = [
        ("a", live("1", ("t", "en", "Hi"), ("t", "es", "Hola"), ("u", "en", "X"))),
        ("b", live("2", ("t", "en", "Hi"), ("t", "es", "Hola"), ("u", "en", "X"), ("u", "es", "Y"))),  # u: one more language
        ("c", live("3", ("t", "en", "Hi"), ("t", "es", "Ola"), ("u", "en", "X"))),                     # t: es differs
    ]
    fleet = importer.fleet_import(accounts, None)
    assert [(s.name, s.accounts, s.templates) for s in fleet.sets] == [
        ("shared", ("a", "b"), ("t",)), ("shared_2", ("a", "c"), ("u",))]
    assert fleet.shared == 2 and fleet.replaced == 4 and fleet.kept == {"a": 0, "b": 1, "c": 1}


def test_canonical_content_decides_not_how_meta_wrote_it():
    """Component order and enum case do not keep two copies apart."""
    footer = {"type": "footer", "text": "Acme"}
    one = LiveAccount("1", (LiveTemplate(Template("t", "en", "UTILITY", (body("Hi"), footer)), "11", "APPROVED"),), None)
    two = LiveAccount("2", (LiveTemplate(Template("t", "en", "UTILITY", ({"type": "FOOTER", "text": "Acme"}, body("Hi"))), "21", "PAUSED"),), None)
    assert [s.templates for s in importer.fleet_import([("a", one), ("b", two)], None).sets] == [("t",)]


def test_fleet_files_load_back_to_the_live_templates(tmp_path):
    """Whatever the sharing, each account loads back exactly what it holds live; no account uses
    two sets defining one name."""
    accounts = [
        ("a", live("1", ("common", "en", "C"), ("pair", "en", "P"), ("own", "en", "A"), ("greet", "en", "Hi a"))),
        ("b", live("2", ("common", "en", "C"), ("pair", "en", "P"), ("greet", "en", "Hi"))),
        ("c", live("3", ("common", "en", "C"), ("pair", "en", "Q"), ("greet", "en", "Hi"))),
        ("d", live("4")),
    ]
    fleet = importer.fleet_import(accounts, "9", "OTHER_TOKEN")
    assert list(fleet.files) == ["sets.yaml", "a.yaml", "b.yaml", "c.yaml", "d.yaml"]
    written = importer.write_files(str(tmp_path / "out"), fleet.files)
    assert len(written) == 5
    loaded = {a.name: a for a in config.load([str(tmp_path / "out")]).accounts}
    for name, account in accounts:
        assert {t.key: t.content() for t in loaded[name].templates} == {t.key: t.template.content() for t in account.templates}
        assert loaded[name].business_id == "9" and loaded[name].token_env == "OTHER_TOKEN"
    data = yaml.safe_load(fleet.files["b.yaml"])["accounts"]["b"]
    assert data["use"] == ["shared", "shared_2", "shared_3"] and "templates" not in data  # all b has is shared
    assert [(s.accounts, s.templates) for s in fleet.sets] == [
        (("a", "b", "c"), ("common",)), (("a", "b"), ("pair",)), (("b", "c"), ("greet",))]
    assert yaml.safe_load(fleet.files["d.yaml"])["accounts"]["d"] == {"waba_id": "4", "business_id": "9",
                                                                      "token_env": "OTHER_TOKEN", "templates": {}}


def test_no_sets_file_when_nothing_is_shared():
    fleet = importer.fleet_import([("a", live("1", ("x", "en", "A"))), ("b", live("2", ("x", "en", "B")))], None)
    assert list(fleet.files) == ["a.yaml", "b.yaml"] and fleet.sets == ()


def test_write_files_refuses_config_files_already_there(tmp_path):
    (tmp_path / "keep.yml").write_text("version: 1\n")
    with pytest.raises(ReconcilerError, match=r"already holds config files \(keep.yml\)"):
        importer.write_files(str(tmp_path), {"a.yaml": "x"})
    assert not (tmp_path / "a.yaml").exists()
    importer.write_files(str(tmp_path / "new" / "deep"), {"a.yaml": "x"})
    assert (tmp_path / "new" / "deep" / "a.yaml").read_text() == "x"


# --- a literal ${ ---------------------------------------------------------------------------------


@given(st.text(alphabet="${}ab ", max_size=24))
def test_live_text_with_dollar_braces_loads_back_verbatim(text):
    from reconciler.desired import sets

    expanded, missing = sets.expand(importer.escape(text), {"a": "VALUE"})
    assert expanded == text and missing == []


def test_imported_text_with_a_literal_reference_plans_as_live(tmp_path):
    account = live("1", ("t", "en", "Pay in ${currency}, $${raw} or ${a${b} and ${open"))
    path = tmp_path / "a.yaml"
    path.write_text(importer.to_yaml(importer.config_for(account, "acme", None)))
    (loaded,) = config.load([str(path)]).accounts
    assert [t.content() for t in loaded.templates] == [t.template.content() for t in account.templates]
