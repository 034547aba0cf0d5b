"""Meta's content rules on template create, through HTTP: each case asserts code and subcode."""

from __future__ import annotations

import pathlib

import pytest
import requests

from conftest import BANNER, WABA, body, error_of

LONG = "word " * 220  # 1100 characters

CARD = {"components": [{"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::aW1hZ2U=:ARb"]}},
                       {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Go"}]}]}
OFFER_BUTTONS = {"type": "BUTTONS", "buttons": [{"type": "COPY_CODE", "example": "SPRING"}, {"type": "URL", "text": "Shop", "url": "https://e.com/shop"}]}

# (case id, create payload overrides, expected (code, subcode))
REFUSED = [
    ("name-uppercase", {"name": "Order_Shipped"}, (100, None)),
    ("name-too-long", {"name": "a" * 513}, (100, None)),
    ("name-missing", {"name": ""}, (100, None)),
    ("category-unknown", {"category": "TRANSACTIONAL"}, (100, None)),
    ("language-unknown", {"language": "xx_XX"}, (100, None)),
    ("no-body", {"components": [{"type": "FOOTER", "text": "Acme"}]}, (100, 2388072)),
    ("two-bodies", {"components": [body("Hello there friend"), body("Hello again friend")]}, (100, 2388072)),
    ("body-too-long", {"components": [body(LONG)]}, (100, 2388040)),
    ("header-text-too-long", {"components": [{"type": "HEADER", "format": "TEXT", "text": "h" * 61}, body("Hello there friend")]}, (100, 2388040)),
    ("header-format-unknown", {"components": [{"type": "HEADER", "format": "AUDIO"}, body("Hello there friend")]}, (100, 2388047)),
    ("header-two-variables", {"components": [{"type": "HEADER", "format": "TEXT", "text": "Hi {{1}} {{2}}", "example": {"header_text": ["a", "b"]}}, body("Hello there friend")]}, (100, 2388047)),
    ("media-header-without-handle", {"components": [{"type": "HEADER", "format": "IMAGE"}, body("Hello there friend")]}, (100, 2388043)),
    ("footer-too-long", {"components": [body("Hello there friend"), {"type": "FOOTER", "text": "f" * 61}]}, (100, 2388040)),
    ("footer-variable", {"components": [body("Hello there friend"), {"type": "FOOTER", "text": "Bye {{1}} now"}]}, (100, 2388073)),
    ("variables-not-sequential", {"components": [body("Order {{1}} ships {{3}} soon.", "a", "b")]}, (100, 2388072)),
    ("variables-not-from-one", {"components": [body("Order {{2}} ships soon.", "a")]}, (100, 2388072)),
    ("variable-without-example", {"components": [body("Your order {{1}} ships today.")]}, (100, 2388043)),
    ("leading-variable", {"components": [body("{{1}} is your order number.", "a")]}, (100, 2388299)),
    ("trailing-variable", {"components": [body("Your order number is {{1}}", "a")]}, (100, 2388299)),
    ("too-many-variables", {"components": [body("Hi {{1}} {{2}} {{3}} ok.", "a", "b", "c")]}, (100, 2388293)),
    ("mismatched-braces", {"components": [body("Your order {{1} ships today.")]}, (100, 2388072)),
    ("named-variable-in-positional", {"components": [body("Hello {{name}} and welcome.", "a")]}, (100, 2388072)),
    ("positional-variable-in-named", {"parameter_format": "named", "components": [body("Hello {{1}} and welcome.", "a")]}, (100, 2388072)),
    ("named-without-named-example", {"parameter_format": "NAMED", "components": [body("Hello {{first_name}} and welcome.", "a")]}, (100, 2388043)),
    ("parameter-format-unknown", {"parameter_format": "mixed"}, (100, None)),
    ("button-text-too-long", {"components": [body("Hello there friend"), {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "b" * 26}]}]}, (100, 2388040)),
    ("url-too-long", {"components": [body("Hello there friend"), {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Go", "url": "https://e.com/" + "u" * 2000}]}]}, (100, 2388040)),
    ("url-to-whatsapp", {"components": [body("Hello there friend"), {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Chat", "url": "https://wa.me/15551234567"}]}]}, (100, 2388081)),
    ("url-variable-without-example", {"components": [body("Hello there friend"), {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Track", "url": "https://e.com/t/{{1}}"}]}]}, (100, 2388043)),
    ("url-variable-not-at-end", {"components": [body("Hello there friend"), {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Track", "url": "https://e.com/{{1}}/x", "example": ["a"]}]}]}, (100, None)),
    ("three-url-buttons", {"components": [body("Hello there friend"), {"type": "BUTTONS", "buttons": [{"type": "URL", "text": f"Go {i}", "url": f"https://e.com/{i}"} for i in range(3)]}]}, (100, None)),
    ("two-phone-buttons", {"components": [body("Hello there friend"), {"type": "BUTTONS", "buttons": [{"type": "PHONE_NUMBER", "text": f"Call {i}", "phone_number": "+15551234567"} for i in range(2)]}]}, (100, None)),
    ("eleven-buttons", {"components": [body("Hello there friend"), {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": f"Reply {i}"} for i in range(11)]}]}, (100, None)),
    ("quick-replies-split", {"components": [body("Hello there friend"), {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Yes"}, {"type": "URL", "text": "Go", "url": "https://e.com"}, {"type": "QUICK_REPLY", "text": "No"}]}]}, (100, None)),
    ("phone-too-long", {"components": [body("Hello there friend"), {"type": "BUTTONS", "buttons": [{"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+1" + "5" * 20}]}]}, (100, 2388040)),
    ("copy-code-too-long", {"components": [body("Hello there friend"), {"type": "BUTTONS", "buttons": [{"type": "COPY_CODE", "example": "C" * 16}]}]}, (100, 2388040)),
    ("auth-with-body-text", {"category": "AUTHENTICATION", "components": [body("Your code is here ok"), {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]}]}, (100, 2388072)),
    ("auth-with-header", {"category": "AUTHENTICATION", "components": [{"type": "HEADER", "format": "TEXT", "text": "Code"}, {"type": "BODY"}, {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]}]}, (100, 2388047)),
    ("auth-without-otp", {"category": "AUTHENTICATION", "components": [{"type": "BODY", "add_security_recommendation": True}]}, (100, 2388043)),
    ("auth-expiry-out-of-range", {"category": "AUTHENTICATION", "components": [{"type": "BODY"}, {"type": "FOOTER", "code_expiration_minutes": 91}, {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]}]}, (100, None)),
    ("auth-one-tap-without-app", {"category": "AUTHENTICATION", "components": [{"type": "BODY"}, {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "ONE_TAP"}]}]}, (100, 2388043)),
    ("location-header-in-auth", {"category": "AUTHENTICATION", "components": [{"type": "HEADER", "format": "LOCATION"}, {"type": "BODY"}, {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]}]}, (100, 2388047)),
    ("components-not-a-list", {"components": {"type": "BODY", "text": "Hello there friend"}}, (100, None)),
    ("carousel-one-card", {"category": "MARKETING", "components": [body("Hello there friend"), {"type": "CAROUSEL", "cards": [CARD]}]}, (100, None)),
    ("carousel-eleven-cards", {"category": "MARKETING", "components": [body("Hello there friend"), {"type": "CAROUSEL", "cards": [CARD] * 11}]}, (100, None)),
    ("carousel-in-utility", {"category": "UTILITY", "components": [body("Hello there friend"), {"type": "CAROUSEL", "cards": [CARD, CARD]}]}, (100, None)),
    ("carousel-with-footer", {"category": "MARKETING", "components": [body("Hello there friend"), {"type": "FOOTER", "text": "Acme"}, {"type": "CAROUSEL", "cards": [CARD, CARD]}]}, (100, None)),
    ("carousel-cards-differ", {"category": "MARKETING", "components": [body("Hello there friend"), {"type": "CAROUSEL", "cards": [CARD, {"components": CARD["components"][:1] + [{"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Go", "url": "https://e.com"}]}]}]}]}, (100, None)),
    ("carousel-text-header", {"category": "MARKETING", "components": [body("Hello there friend"), {"type": "CAROUSEL", "cards": [{"components": [{"type": "HEADER", "format": "TEXT", "text": "Hi"}, {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Go"}]}]}] * 2}]}, (100, 2388047)),
    ("offer-text-too-long", {"category": "MARKETING", "components": [{"type": "LIMITED_TIME_OFFER", "limited_time_offer": {"text": "x" * 17}}, body("Hello there friend"), OFFER_BUTTONS]}, (100, 2388040)),
    ("offer-with-footer", {"category": "MARKETING", "components": [{"type": "LIMITED_TIME_OFFER", "limited_time_offer": {"text": "Soon"}}, body("Hello there friend"), {"type": "FOOTER", "text": "Acme"}, OFFER_BUTTONS]}, (100, 2388073)),
    ("offer-text-header", {"category": "MARKETING", "components": [{"type": "HEADER", "format": "TEXT", "text": "Hi"}, {"type": "LIMITED_TIME_OFFER", "limited_time_offer": {"text": "Soon"}}, body("Hello there friend"), OFFER_BUTTONS]}, (100, 2388047)),
    ("offer-without-url", {"category": "MARKETING", "components": [{"type": "LIMITED_TIME_OFFER", "limited_time_offer": {"text": "Soon"}}, body("Hello there friend"), {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Go"}]}]}, (100, None)),
    ("offer-in-utility", {"components": [{"type": "LIMITED_TIME_OFFER", "limited_time_offer": {"text": "Soon"}}, body("Hello there friend"), OFFER_BUTTONS]}, (100, None)),
    ("catalog-in-utility", {"components": [body("Hello there friend"), {"type": "BUTTONS", "buttons": [{"type": "CATALOG", "text": "View catalog"}]}]}, (100, None)),
    ("catalog-with-header", {"category": "MARKETING", "components": [{"type": "HEADER", "format": "TEXT", "text": "Hi"}, body("Hello there friend"), {"type": "BUTTONS", "buttons": [{"type": "CATALOG", "text": "View catalog"}]}]}, (100, 2388047)),
    ("catalog-with-another-button", {"category": "MARKETING", "components": [body("Hello there friend"), {"type": "BUTTONS", "buttons": [{"type": "CATALOG", "text": "View catalog"}, {"type": "QUICK_REPLY", "text": "Stop"}]}]}, (100, None)),
    ("mpm-without-text-header", {"category": "MARKETING", "components": [body("Hello there friend"), {"type": "BUTTONS", "buttons": [{"type": "MPM", "text": "View items"}]}]}, (100, 2388047)),
    ("ttl-below-utility-range", {"message_send_ttl_seconds": 10}, (100, None)),
    ("ttl-above-utility-range", {"message_send_ttl_seconds": 43201}, (100, None)),
    ("ttl-marketing-short", {"category": "MARKETING", "message_send_ttl_seconds": 600}, (100, None)),
    ("component-type-unknown", {"components": [body("Hello there friend"), {"type": "SIDEBAR"}]}, (100, None)),
]


@pytest.mark.parametrize("case,overrides,expected", REFUSED, ids=[c[0] for c in REFUSED])
def test_create_refuses_what_meta_refuses(graph, case, overrides, expected):
    payload = {"name": "order_shipped", "language": "en_US", "category": "UTILITY",
               "components": [body("Your order {{1}} ships today.", "#1")]}
    payload.update(overrides)
    response = graph.post(f"{WABA}/message_templates", json=payload)
    assert error_of(response) == expected
    assert graph.get(f"{WABA}/message_templates").json()["data"] == []


def test_full_featured_template_is_accepted_and_normalised(graph):
    handle = graph.upload()
    components = [
        {"type": "header", "format": "image", "example": {"header_handle": [handle]}},
        {"type": "body", "text": "Hi {{first_name}}, your code {{code}} is ready.",
         "example": {"body_text_named_params": [{"param_name": "first_name", "example": "Ann"},
                                                {"param_name": "code", "example": "X1"}]}},
        {"type": "footer", "text": "Acme"},
        {"type": "buttons", "buttons": [
            {"type": "quick_reply", "text": "Stop"}, {"type": "quick_reply", "text": "More"},
            {"type": "url", "text": "Open", "url": "https://e.com/o/{{1}}", "example": ["https://e.com/o/1"]},
            {"type": "phone_number", "text": "Call", "phone_number": "+15551234567"},
        ]},
    ]
    created = graph.create("welcome", category="marketing", parameter_format="named", components=components)
    assert created.status_code == 200, created.text
    assert created.json()["status"] == "PENDING" and created.json()["category"] == "MARKETING"
    stored = graph.get(created.json()["id"]).json()
    assert stored["parameter_format"] == "NAMED"
    assert [c["type"] for c in stored["components"]] == ["HEADER", "BODY", "FOOTER", "BUTTONS"]
    assert stored["components"][0]["format"] == "IMAGE"
    # Meta answers with a CDN URL, never the upload handle that was sent; the emulator's CDN
    # serves the uploaded bytes there, without a token.
    url = stored["components"][0]["example"]["header_handle"][0]
    assert url.startswith(f"{graph.url}/_media/") and url != handle
    assert requests.get(url, timeout=10).content == pathlib.Path(BANNER).read_bytes()
    assert stored["components"][3]["buttons"][0]["type"] == "QUICK_REPLY"


def test_authentication_template_gets_meta_text(graph):
    components = [{"type": "BODY", "add_security_recommendation": True},
                  {"type": "FOOTER", "code_expiration_minutes": 5},
                  {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy"}]}]
    created = graph.create("login_code", category="AUTHENTICATION", components=components)
    assert created.status_code == 200, created.text
    stored = graph.get(created.json()["id"]).json()
    assert "verification code" in stored["components"][0]["text"]
    assert stored["components"][1]["text"] == "This code expires in 5 minutes."
    # Meta's guide: the OTP button is read back as a URL button to its code page.
    [button] = stored["components"][2]["buttons"]
    assert button["type"] == "URL" and button["url"].startswith("https://www.whatsapp.com/otp/code/?otp_type=COPY_CODE")
