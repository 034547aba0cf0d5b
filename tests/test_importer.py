"""Import writes valid config that reproduces live state."""

from __future__ import annotations

import yaml

from reconciler.desired import config, importer
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
