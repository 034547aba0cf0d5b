"""Translations that match: one case per rule of ``translation_gaps``, with the exact gaps expected."""

from __future__ import annotations

import pytest

from reconciler.desired.translations import Gap, translation_gaps
from reconciler.model import Template


def body(text="Your order {{1}} ships on {{2}}."):
    return {"type": "BODY", "text": text}


def header(fmt="TEXT", text=None):
    return {"type": "HEADER", "format": fmt, **({"text": text} if text is not None else {})}


def buttons(*kinds, url="https://example.com/track/{{1}}"):
    made = {"URL": {"type": "URL", "text": "Track", "url": url},
            "QUICK_REPLY": {"type": "QUICK_REPLY", "text": "Stop"},
            "PHONE_NUMBER": {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+15550100"}}
    return {"type": "BUTTONS", "buttons": [made[k] for k in kinds]}


FOOTER = {"type": "FOOTER", "text": "Thanks"}
STANDARD = (header("TEXT", "Order {{1}}"), body(), FOOTER, buttons("QUICK_REPLY", "URL"))


def t(language, components=STANDARD, name="order", category="UTILITY", parameter_format="POSITIONAL"):
    return Template(name, language, category, tuple(components), parameter_format)


def named(language, text="Hello {{first_name}}, order {{order_id}} is ready."):
    return t(language, (body(text),), parameter_format="NAMED")


# (case, templates, declared languages, expected gaps)
CASES = [
    ("all agree, footer free to differ",
     [t("en_US"), t("es", (header("TEXT", "Pedido {{1}}"), body("Su pedido {{2}} llega el {{1}}."), buttons("QUICK_REPLY", "URL")))],
     ["en_US", "es"], []),
    ("missing language",
     [t("en_US")], ["en_US", "es"],
     [Gap("order", "es", "missing language es (languages declared: en_US, es)")]),
    ("extra language is fine",
     [t("en_US"), t("es"), t("fr")], ["en_US", "es"], []),
    ("variable count",
     [t("en_US"), t("es", (header("TEXT", "Order {{1}}"), body("Su pedido {{1}} llega hoy."), buttons("QUICK_REPLY", "URL")))],
     None,
     [Gap("order", "es", "BODY has 1 variable ({{1}}), en_US has 2 ({{1}}, {{2}})", "BODY")]),
    ("a repeated variable is one parameter",
     [t("en_US"), t("es", (header("TEXT", "Order {{1}}"), body("{{1}}: {{2}} y {{2}} otra vez."), buttons("QUICK_REPLY", "URL")))],
     None, []),
    ("positional vs named",
     [t("en_US", (body("Hello {{1}}."),)), t("es", (body("Hola {{name}}."),))], None,
     [Gap("order", "es", "BODY uses named variables ({{name}}), en_US uses numbered ones ({{1}})", "BODY")]),
    ("named param names differ",
     [named("en_US"), named("es", "Hola {{first_name}}, el pedido {{order_number}} está listo.")], None,
     [Gap("order", "es", "BODY variables ({{first_name}}, {{order_number}}) differ from en_US's ({{first_name}}, {{order_id}})", "BODY")]),
    ("named params in another order are fine",
     [named("en_US"), named("es", "El pedido {{order_id}} de {{first_name}} está listo.")], None, []),
    ("parameter_format differs: said once, counts still compared",
     [t("en_US", (body("Hello {{1}}."),)), named("es", "Hola {{first_name}}, pedido {{order_id}}.")], None,
     [Gap("order", "es", "parameter_format NAMED, en_US has POSITIONAL"),
      Gap("order", "es", "BODY has 2 variables ({{first_name}}, {{order_id}}), en_US has 1 ({{1}})", "BODY")]),
    ("header format",
     [t("en_US"), t("es", (header("IMAGE"), body(), buttons("QUICK_REPLY", "URL")))], None,
     [Gap("order", "es", "header format IMAGE, en_US has TEXT", "HEADER")]),
    ("header missing",
     [t("en_US"), t("es", (body(), buttons("QUICK_REPLY", "URL")))], None,
     [Gap("order", "es", "no header, en_US has header format TEXT", "HEADER")]),
    ("header text variable count",
     [t("en_US"), t("es", (header("TEXT", "Su pedido"), body(), buttons("QUICK_REPLY", "URL")))], None,
     [Gap("order", "es", "HEADER has no variables, en_US has 1 ({{1}})", "HEADER")]),
    ("button kinds order",
     [t("en_US"), t("es", (header("TEXT", "Order {{1}}"), body(), buttons("URL", "QUICK_REPLY")))], None,
     [Gap("order", "es", "buttons [URL, QUICK_REPLY], en_US has [QUICK_REPLY, URL]", "BUTTONS")]),
    ("buttons missing",
     [t("en_US"), t("es", (header("TEXT", "Order {{1}}"), body()))], None,
     [Gap("order", "es", "no buttons, en_US has buttons [QUICK_REPLY, URL]", "BUTTONS")]),
    ("URL button variable",
     [t("en_US"), t("es", (header("TEXT", "Order {{1}}"), body(), buttons("QUICK_REPLY", "URL", url="https://example.com/es")))],
     None,
     [Gap("order", "es", "button 2 (URL) has no variables, en_US has 1 ({{1}})", "BUTTONS")]),
    ("category differs",
     [t("en_US"), t("es", category="MARKETING")], None,
     [Gap("order", "es", "category MARKETING, en_US has UTILITY")]),
    ("reference is the first declared language",
     [t("en_US"), t("es", (body(),))], ["es", "en_US"],
     [Gap("order", "en_US", "header format TEXT, es has no header", "HEADER"),
      Gap("order", "en_US", "buttons [QUICK_REPLY, URL], es has no buttons", "BUTTONS")]),
    ("reference is en_US when the first declared is missing",
     [t("de", (body(),)), t("en_US"), t("fr")], ["pt_BR", "fr"],
     [Gap("order", "de", "no header, en_US has header format TEXT", "HEADER"),
      Gap("order", "de", "no buttons, en_US has buttons [QUICK_REPLY, URL]", "BUTTONS"),
      Gap("order", "pt_BR", "missing language pt_BR (languages declared: pt_BR, fr)")]),
    ("reference is alphabetically first without en_US",
     [t("pt_BR"), t("es", (body(),)), t("fr")], None,
     [Gap("order", "fr", "header format TEXT, es has no header", "HEADER"),
      Gap("order", "fr", "buttons [QUICK_REPLY, URL], es has no buttons", "BUTTONS"),
      Gap("order", "pt_BR", "header format TEXT, es has no header", "HEADER"),
      Gap("order", "pt_BR", "buttons [QUICK_REPLY, URL], es has no buttons", "BUTTONS")]),
]


@pytest.mark.parametrize(("templates", "languages", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_translation_gaps(templates, languages, expected):
    assert translation_gaps(templates, languages) == expected


def test_acceptance_both_named_in_order():
    """One template lacks es, another's es body has one variable fewer: both, by name then language."""
    templates = [
        t("en_US", name="welcome"), t("es", (header("TEXT", "Order {{1}}"), body("Hola {{1}}."), buttons("QUICK_REPLY", "URL")), name="welcome"),
        t("en_US", name="shipped"),
    ]
    assert translation_gaps(templates, ["en_US", "es"]) == [
        Gap("shipped", "es", "missing language es (languages declared: en_US, es)"),
        Gap("welcome", "es", "BODY has 1 variable ({{1}}), en_US has 2 ({{1}}, {{2}})", "BODY"),
    ]


def test_no_templates_no_gaps():
    assert translation_gaps([], ["en_US", "es"]) == []
