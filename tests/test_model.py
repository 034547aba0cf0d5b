"""The canonical form: what Meta rewrites never shows as a change; what users change always does."""

from __future__ import annotations

import pytest

from reconciler.model import LiveAccount, LiveTemplate, Template, User

BODY = {"type": "BODY", "text": "Your order {{1}} ships today.", "example": {"body_text": [["#1"]]}}


def make(components, category="UTILITY", parameter_format="POSITIONAL"):
    return Template("t", "en_US", category, tuple(components), parameter_format)


SAME = [
    ("enum case", [{"type": "body", "text": BODY["text"], "example": BODY["example"]}], [BODY]),
    ("component order", [{"type": "FOOTER", "text": "Acme"}, BODY], [BODY, {"type": "FOOTER", "text": "Acme"}]),
    ("media handle read back as a CDN URL",
     [{"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::aW1h:ARb"]}}, BODY],
     [{"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["https://scontent.whatsapp.net/v/x.jpg"]}}, BODY]),
    ("numbers in examples", [{"type": "BODY", "text": BODY["text"], "example": {"body_text": [[1]]}}],
     [{"type": "BODY", "text": BODY["text"], "example": {"body_text": [["1"]]}}]),
    ("URL example as a string", [BODY, {"type": "BUTTONS", "buttons": [{"type": "url", "text": "Go", "url": "https://e.com/{{1}}", "example": "https://e.com/1"}]}],
     [BODY, {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Go", "url": "https://e.com/{{1}}", "example": ["https://e.com/1"]}]}]),
    ("copy code example as a list", [BODY, {"type": "BUTTONS", "buttons": [{"type": "COPY_CODE", "example": ["SAVE10"]}]}],
     [BODY, {"type": "BUTTONS", "buttons": [{"type": "COPY_CODE", "example": "SAVE10"}]}]),
    ("server-only keys on a button", [BODY, {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Yes", "id": "7"}]}],
     [BODY, {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Yes"}]}]),
]

DIFFERENT = [
    ("body text", [BODY], [dict(BODY, text="Your parcel {{1}} ships today.")]),
    ("example value", [BODY], [dict(BODY, example={"body_text": [["#2"]]})]),
    ("media format", [{"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["h"]}}, BODY],
     [{"type": "HEADER", "format": "VIDEO", "example": {"header_handle": ["h"]}}, BODY]),
    ("button order", [BODY, {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "A"}, {"type": "QUICK_REPLY", "text": "B"}]}],
     [BODY, {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "B"}, {"type": "QUICK_REPLY", "text": "A"}]}]),
    ("footer added", [BODY], [BODY, {"type": "FOOTER", "text": "Acme"}]),
]


@pytest.mark.parametrize("case,declared,live", SAME, ids=[c[0] for c in SAME])
def test_rewrites_are_not_changes(case, declared, live):
    assert make(declared).content() == make(live).content()


@pytest.mark.parametrize("case,declared,live", DIFFERENT, ids=[c[0] for c in DIFFERENT])
def test_real_changes_are_changes(case, declared, live):
    assert make(declared).content() != make(live).content()


def test_authentication_texts_written_by_meta_are_not_changes():
    declared = [{"type": "BODY", "add_security_recommendation": True}, {"type": "FOOTER", "code_expiration_minutes": 5},
                {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy"}]}]
    live = [{"type": "BODY", "text": "*{{1}}* is your verification code. For your security, do not share this code.",
             "add_security_recommendation": True},
            {"type": "FOOTER", "text": "This code expires in 5 minutes.", "code_expiration_minutes": 5},
            {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "copy_code", "text": "Copy"}]}]
    assert make(declared, "AUTHENTICATION").content() == make(live, "AUTHENTICATION").content()
    changed = [dict(declared[0], add_security_recommendation=False)] + declared[1:]
    assert make(changed, "AUTHENTICATION").content() != make(live, "AUTHENTICATION").content()


def test_parameter_format_and_category_are_compared():
    assert make([BODY]).content() != make([BODY], category="MARKETING").content()
    assert make([BODY]).content() != make([BODY], parameter_format="NAMED").content()


def test_keys():
    assert make([BODY]).key == "template.t[en_US]"
    assert User("42", frozenset({"MANAGE"})).key == "user.42"


def test_fingerprint_follows_content_status_and_users_but_not_order():
    first = LiveTemplate(make([BODY]), "1", "APPROVED")
    second = LiveTemplate(Template("u", "es", "UTILITY", (BODY,)), "2", "APPROVED")
    base = LiveAccount("w", (first, second), (User("9", frozenset({"MANAGE"})),))
    assert base.fingerprint() == LiveAccount("w", (second, first), base.users).fingerprint()
    assert base.fingerprint() != LiveAccount("w", (first, LiveTemplate(second.template, "2", "PAUSED")), base.users).fingerprint()
    assert base.fingerprint() != LiveAccount("w", (first, second), (User("9", frozenset({"VIEW_COST"})),)).fingerprint()
    assert base.fingerprint() != LiveAccount("w", (first, second), None).fingerprint()


def test_fingerprint_ignores_status_and_content_of_untouched_templates():
    first = LiveTemplate(make([BODY]), "1", "APPROVED")
    second = LiveTemplate(Template("u", "es", "UTILITY", (BODY,)), "2", "PENDING")
    reviewed = LiveTemplate(second.template, "2", "APPROVED")
    touched = frozenset({first.key})
    before = LiveAccount("w", (first, second), None).fingerprint(touched)
    assert LiveAccount("w", (first, reviewed), None).fingerprint(touched) == before
    assert LiveAccount("w", (LiveTemplate(first.template, "1", "PAUSED"), second), None).fingerprint(touched) != before
    assert LiveAccount("w", (first,), None).fingerprint(touched) != before  # a template vanished
