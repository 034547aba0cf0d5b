"""What Meta accepts, as wabactl checks it before any network call (graph-api-facts.md, 1.7, 2, 4).

``check_template`` returns every problem of one (name, language) with the path inside the config
where it sits, so the config loader can point at file, line and column. These checks are wabactl's
own: the emulator has its own copy of Meta's rules on purpose, so the two cannot share a bug.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterator
from typing import Any

Path = tuple[Any, ...]
Findings = Iterator[tuple[Path, str]]

# Names, languages, categories and tasks are checked by the config's JSON Schema; what follows is
# what a schema cannot say.
LIMITS = {"BODY": 1024, "HEADER": 60, "FOOTER": 60, "button": 25, "url": 2000, "phone": 20, "copy_code": 15}
MOST_OF_KIND = {"URL": 2, "PHONE_NUMBER": 1, "COPY_CODE": 1, "VOICE_CALL": 1, "QUICK_REPLY": 10}
# No lazy quantifier and no \s* around the name: "{{" and megabytes of spaces would make the
# engine retry every split of them (quadratic). Names are stripped by ``variables``.
VARIABLE = re.compile(r"\{\{([^{}]*)\}\}")
# A phone number in international form, once spaces and dashes between digit groups are removed.
PHONE = re.compile(r"^\+?[0-9]{1,20}$")
URL_SCHEMES = ("https://", "http://")
# A text longer than this many times its limit is not a draft to polish: only its length is reported.
ANALYSED_UP_TO = 4
NAMED = re.compile(r"^[a-z_][a-z0-9_]*$")
WHATSAPP_LINK = re.compile(r"^(https?://)?([a-z0-9-]+\.)*(wa\.me|whatsapp\.com)(/|$)", re.I)


def variables(text: str) -> list[str]:
    """The names of the variables in ``text``, in order, repeats included ("{{ 1 }}" is "1")."""
    return [name.strip() for name in VARIABLE.findall(text)]


OFFER_TEXT, OFFER_BODY = 16, 600  # Meta's limited-time offer page
CARDS = (2, 10)  # Meta's carousel page: at least two cards, at most ten


def _card_shape(components: list[Any]) -> tuple[Any, ...]:
    """What must be the same on every card of a carousel."""
    shape: list[Any] = []
    for component in components:
        if not isinstance(component, dict):
            continue
        kind = str(component.get("type", "")).upper()
        if kind == "HEADER":
            shape.append((kind, str(component.get("format", "")).upper()))
        elif kind == "BUTTONS":
            shape.append((kind, tuple(str(b.get("type", "")).upper() for b in component.get("buttons") or [] if isinstance(b, dict))))
        else:
            shape.append((kind,))
    return tuple(sorted(shape, key=repr))


# message_send_ttl_seconds by category (Meta's time-to-live page): -1 means 30 days where allowed.
TTL_RANGES = {"AUTHENTICATION": (30, 900), "UTILITY": (30, 43200), "MARKETING": (43200, 2592000)}


def check_ttl(category: str, ttl: Any) -> str | None:
    """What is wrong with a template's message_send_ttl_seconds, or None."""
    if ttl is None:
        return None
    low, high = TTL_RANGES.get(category.upper(), (30, 2592000))
    if ttl == -1 and category.upper() in ("AUTHENTICATION", "UTILITY"):
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not low <= ttl <= high:
        allowed = f"{low} to {high}" + (", or -1 for 30 days" if category.upper() != "MARKETING" else "")
        return f"message_send_ttl_seconds for {category.upper()} templates is {allowed} seconds"
    return None


def check_template(category: str, parameter_format: str, components: list[Any]) -> list[tuple[Path, str]]:
    """Every problem Meta would refuse this content for, as (path under components, message)."""
    return list(_Checker(category.upper(), parameter_format.upper()).run(components))


class _Checker:
    def __init__(self, category: str, parameter_format: str) -> None:
        self.category = category
        self.named = parameter_format == "NAMED"
        # The check for each component type: authentication templates have a fixed shape of their own.
        self.checks: dict[str, Callable[[dict[str, Any]], Findings]] = (
            {"HEADER": self._auth_header, "BODY": self._auth_body, "FOOTER": self._auth_footer, "BUTTONS": self._auth_buttons}
            if category == "AUTHENTICATION"
            else {"HEADER": self._header, "BODY": self._body, "FOOTER": self._footer, "BUTTONS": self._buttons,
                  "CAROUSEL": self._carousel, "LIMITED_TIME_OFFER": self._offer}
        )

    def run(self, components: list[Any]) -> Findings:
        kinds = [str(c.get("type", "")).upper() for c in components if isinstance(c, dict)]
        for kind in ("HEADER", "BODY", "FOOTER", "BUTTONS", "CAROUSEL", "LIMITED_TIME_OFFER"):
            if kinds.count(kind) > 1:
                yield (), f"at most one {kind} component (found {kinds.count(kind)})"
        if "BODY" not in kinds:
            yield (), "a template needs a BODY component"
        if self.category == "AUTHENTICATION" and "BUTTONS" not in kinds:
            yield (), "authentication templates need a BUTTONS component with one OTP button"
        yield from self._kind_rules(kinds, components)
        for index, component in enumerate(components):
            kind = str(component.get("type", "")).upper()
            check = self.checks.get(kind)
            if check is not None:
                for path, message in check(component):
                    yield (index, *path), message

    # --- ordinary templates ------------------------------------------------------------------

    def _header(self, header: dict[str, Any]) -> Findings:
        header_format = str(header.get("format", "")).upper()
        if header_format == "TEXT":
            text = header.get("text")
            if not isinstance(text, str) or not text:
                yield ("text",), "a TEXT header needs text"
                return
            if (yield from self._length(text, "HEADER")):
                return
            names = variables(text)
            if len(names) > 1:
                yield ("text",), f"a text header has at most one variable (found {len(names)})"
            yield from self._variables(text, names, header.get("example"), "header_text", nested=False)
            if text.strip().startswith("{{"):
                yield ("text",), "text cannot start with a variable"
        elif header_format in ("IMAGE", "VIDEO", "GIF", "DOCUMENT"):
            example = header.get("example") or {}
            if not example.get("header_handle") and not example.get("header_file"):
                yield ("example",), f"a {header_format} header needs example.header_file (a file wabactl uploads) or example.header_handle"
        elif header_format == "LOCATION":
            if self.category not in ("UTILITY", "MARKETING"):
                yield ("format",), "LOCATION headers are for UTILITY and MARKETING templates"
        else:
            yield ("format",), "header format must be TEXT, IMAGE, VIDEO, GIF, DOCUMENT or LOCATION"

    def _body(self, body: dict[str, Any]) -> Findings:
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            yield ("text",), "BODY needs text"
            return
        if (yield from self._length(text, "BODY")):
            return
        names = variables(text)
        yield from self._variables(text, names, body.get("example"), "body_text", nested=True)
        stripped = text.strip()
        if names and (stripped.startswith("{{") or stripped.endswith("}}")):
            yield ("text",), "text cannot start or end with a variable"
        if names and len(VARIABLE.sub(" ", text).split()) < len(set(names)):
            yield ("text",), "too many variables for the length of the text"

    def _footer(self, footer: dict[str, Any]) -> Findings:
        text = footer.get("text")
        if not isinstance(text, str) or not text:
            yield ("text",), "FOOTER needs text"
            return
        if (yield from self._length(text, "FOOTER")):
            return
        if VARIABLE.search(text):
            yield ("text",), "a footer cannot contain variables"

    def _buttons(self, component: dict[str, Any]) -> Findings:
        buttons = component.get("buttons") or []
        if not buttons:
            yield ("buttons",), "BUTTONS needs at least one button"
        if len(buttons) > 10:
            yield ("buttons",), f"at most 10 buttons (found {len(buttons)})"
        kinds = [str(b.get("type", "")).upper() for b in buttons]
        for kind, most in MOST_OF_KIND.items():
            if kinds.count(kind) > most:
                yield ("buttons",), f"at most {most} {kind} button{'s' if most > 1 else ''} (found {kinds.count(kind)})"
        replies = [i for i, kind in enumerate(kinds) if kind == "QUICK_REPLY"]
        if replies and replies[-1] - replies[0] + 1 != len(replies):
            yield ("buttons",), "QUICK_REPLY buttons must stand together, before or after the others"
        for index, button in enumerate(buttons):
            for path, message in self._button(kinds[index], button):
                yield ("buttons", index, *path), message

    def _button(self, kind: str, button: dict[str, Any]) -> Findings:
        if kind == "OTP":
            yield ("type",), "OTP buttons belong to AUTHENTICATION templates"
        text = button.get("text")
        if kind != "COPY_CODE":
            if not text:
                yield (), f"a {kind} button needs text"
            elif len(text) > LIMITS["button"]:
                yield ("text",), f"button text is at most {LIMITS['button']} characters (has {len(text)})"
        if kind == "URL":
            url = str(button.get("url") or "")
            if not url:
                yield (), "a URL button needs url"
            elif len(url) > LIMITS["url"]:
                yield ("url",), f"url is at most {LIMITS['url']} characters (has {len(url)})"
                return
            elif not url.lower().startswith(URL_SCHEMES):
                yield ("url",), "url must start with https:// or http://"
            elif WHATSAPP_LINK.match(url):
                yield ("url",), "links to WhatsApp (wa.me, whatsapp.com) are not allowed in buttons"
            names = variables(url)
            if len(names) > 1 or (names and not url.rstrip().endswith("}}")):
                yield ("url",), "a URL has at most one variable, at its end"
            if names and not button.get("example"):
                yield (), "a URL with a variable needs example: [a full sample URL]"
        elif kind == "PHONE_NUMBER":
            phone = str(button.get("phone_number") or "")
            if not phone:
                yield (), "a PHONE_NUMBER button needs phone_number"
            elif len(phone) > LIMITS["phone"]:
                yield ("phone_number",), f"phone_number is at most {LIMITS['phone']} characters (has {len(phone)})"
            elif not PHONE.match(phone.replace(" ", "").replace("-", "")):
                yield ("phone_number",), "phone_number is in international form: an optional +, then digits (spaces or dashes between them)"
        elif kind == "COPY_CODE":
            example = button.get("example")
            example = example[0] if isinstance(example, list) and example else example
            if not example:
                yield (), "a COPY_CODE button needs example"
            elif len(str(example)) > LIMITS["copy_code"]:
                yield ("example",), f"a copy code example is at most {LIMITS['copy_code']} characters (has {len(str(example))})"

    # --- carousel and limited-time offer (Meta: marketing templates of their own shape) -----------

    def _kind_rules(self, kinds: list[str], components: list[Any]) -> Findings:
        """What a CAROUSEL or LIMITED_TIME_OFFER component, or a CATALOG or MPM button, asks of the
        template around it."""
        buttons = [str(b.get("type", "")).upper() for c in components if isinstance(c, dict) and str(c.get("type", "")).upper() == "BUTTONS"
                   for b in c.get("buttons") or [] if isinstance(b, dict)]
        headers = [str(c.get("format", "")).upper() for c in components if isinstance(c, dict) and str(c.get("type", "")).upper() == "HEADER"]
        for kind in ("CATALOG", "MPM"):
            if kind not in buttons:
                continue
            if self.category != "MARKETING":
                yield (), f"{kind} buttons belong to MARKETING templates"
            if buttons != [kind]:
                yield (), f"a {kind} template has that one button and no other"
            if kind == "CATALOG" and headers:
                yield (), "a catalog template has no header: Meta shows the catalog's thumbnail"
            if kind == "MPM" and headers != ["TEXT"]:
                yield (), "a multi-product template needs a TEXT header"
        for kind in ("CAROUSEL", "LIMITED_TIME_OFFER"):
            if kind in kinds and self.category != "MARKETING":
                yield (), f"{kind} templates are MARKETING templates"
        if "CAROUSEL" in kinds:
            extra = sorted(set(kinds) - {"BODY", "CAROUSEL"})
            if extra:
                yield (), f"a carousel template holds a BODY and the CAROUSEL only (found {', '.join(extra)})"
        if "LIMITED_TIME_OFFER" in kinds:
            if "FOOTER" in kinds:
                yield (), "a limited-time offer has no FOOTER"
            if "BUTTONS" not in kinds:
                yield (), "a limited-time offer needs BUTTONS with a URL button (a COPY_CODE button may come first)"
            for index, component in enumerate(components):
                kind = str(component.get("type", "")).upper() if isinstance(component, dict) else ""
                if kind == "HEADER" and str(component.get("format", "")).upper() not in ("IMAGE", "VIDEO"):
                    yield (index, "format"), "a limited-time offer's header is IMAGE or VIDEO"
                elif kind == "BODY" and isinstance(component.get("text"), str) and len(component["text"]) > OFFER_BODY:
                    yield (index, "text"), f"a limited-time offer's BODY text is at most {OFFER_BODY} characters (has {len(component['text'])})"
                elif kind == "BUTTONS":
                    buttons = [str(b.get("type", "")).upper() for b in component.get("buttons") or [] if isinstance(b, dict)]
                    if buttons not in (["URL"], ["COPY_CODE", "URL"]):
                        found = ", ".join(buttons) or "none"
                        yield (index, "buttons"), f"a limited-time offer's buttons are a URL button, or COPY_CODE then URL (found {found})"

    def _offer(self, component: dict[str, Any]) -> Findings:
        offer = component.get("limited_time_offer")
        if not isinstance(offer, dict) or not isinstance(offer.get("text"), str) or not offer["text"]:
            yield (), "LIMITED_TIME_OFFER needs limited_time_offer: {text: ...}"
        elif len(offer["text"]) > OFFER_TEXT:
            yield ("limited_time_offer", "text"), f"the offer text is at most {OFFER_TEXT} characters (has {len(offer['text'])})"

    def _carousel(self, component: dict[str, Any]) -> Findings:
        cards = component.get("cards")
        if not isinstance(cards, list) or not CARDS[0] <= len(cards) <= CARDS[1]:
            yield ("cards",), f"a carousel has {CARDS[0]} to {CARDS[1]} cards (found {len(cards) if isinstance(cards, list) else 0})"
            return
        shapes = []
        for number, card in enumerate(cards):
            inner = card.get("components") if isinstance(card, dict) else None
            if not isinstance(inner, list):
                continue
            shapes.append(_card_shape(inner))
            yield from (((("cards", number, "components") + path), message) for path, message in self._card(inner))
        if len(set(shapes)) > 1:
            yield ("cards",), "every card has the same components: header format, body or not, and button kinds in order"

    def _card(self, components: list[Any]) -> Findings:
        kinds = [str(c.get("type", "")).upper() for c in components if isinstance(c, dict)]
        for kind in sorted(set(kinds) - {"HEADER", "BODY", "BUTTONS"}):
            yield (), f"a card holds a HEADER, a BODY and BUTTONS only (found {kind})"
        for kind in ("HEADER", "BODY", "BUTTONS"):
            if kinds.count(kind) > 1:
                yield (), f"a card has at most one {kind} (found {kinds.count(kind)})"
        if "HEADER" not in kinds:
            yield (), "every card has an IMAGE or VIDEO header"
        for index, card_component in enumerate(components):
            kind = kinds[index] if index < len(kinds) else ""
            if kind == "HEADER":
                header_format = str(card_component.get("format", "")).upper()
                if header_format not in ("IMAGE", "VIDEO"):
                    yield (index, "format"), "a card's header is IMAGE or VIDEO"
                else:
                    yield from (((index, *path), message) for path, message in self._header(card_component))
            elif kind == "BODY":
                yield from (((index, *path), message) for path, message in self._body(card_component))
            elif kind == "BUTTONS":
                buttons = card_component.get("buttons") or []
                if not 1 <= len(buttons) <= 2:
                    yield (index, "buttons"), f"a card has 1 or 2 buttons (found {len(buttons)})"
                for number, button in enumerate(buttons):
                    button_kind = str(button.get("type", "")).upper()
                    if button_kind not in ("QUICK_REPLY", "URL", "PHONE_NUMBER"):
                        yield (index, "buttons", number, "type"), "a card's buttons are QUICK_REPLY, URL or PHONE_NUMBER"
                    else:
                        yield from (((index, "buttons", number, *path), message) for path, message in self._button(button_kind, button))

    # --- authentication templates ------------------------------------------------------------

    def _auth_header(self, header: dict[str, Any]) -> Findings:
        yield (), "authentication templates have no header"

    def _auth_body(self, body: dict[str, Any]) -> Findings:
        if body.get("text"):
            yield ("text",), "authentication bodies have no text: Meta writes it (use add_security_recommendation)"

    def _auth_footer(self, footer: dict[str, Any]) -> Findings:
        minutes = footer.get("code_expiration_minutes")
        if minutes is not None and not (isinstance(minutes, int) and 1 <= minutes <= 90):
            yield ("code_expiration_minutes",), "code_expiration_minutes is a whole number from 1 to 90"
        if footer.get("text"):
            yield ("text",), "authentication footers have no text: Meta writes it from code_expiration_minutes"

    def _auth_buttons(self, component: dict[str, Any]) -> Findings:
        buttons = component.get("buttons") or []
        if len(buttons) != 1 or str(buttons[0].get("type", "")).upper() != "OTP":
            yield ("buttons",), "authentication templates have exactly one OTP button"
            return
        button = buttons[0]
        otp_type = str(button.get("otp_type", "")).upper()
        if otp_type not in ("COPY_CODE", "ONE_TAP", "ZERO_TAP"):
            yield ("buttons", 0, "otp_type"), "otp_type is COPY_CODE, ONE_TAP or ZERO_TAP"
        elif otp_type != "COPY_CODE" and not button.get("supported_apps") and not (
            button.get("package_name") and button.get("signature_hash")
        ):
            yield ("buttons", 0), f"{otp_type} needs package_name and signature_hash, or supported_apps"
        signature = button.get("signature_hash")
        if signature is not None and len(str(signature)) != 11:
            yield ("buttons", 0, "signature_hash"), "signature_hash is exactly 11 characters"

    # --- shared ------------------------------------------------------------------------------

    def _length(self, text: str, kind: str) -> Generator[tuple[Path, str], None, bool]:
        """The length problem first; True when the text is too long for the rest to be worth checking."""
        if len(text) > LIMITS[kind]:
            yield ("text",), f"{kind} text is at most {LIMITS[kind]} characters (has {len(text)})"
            if len(text) > ANALYSED_UP_TO * LIMITS[kind]:
                return True
        if text.count("{{") != text.count("}}"):
            yield ("text",), "unbalanced {{ }} in text"
        return False

    def _variables(self, text: str, names: list[str], example: Any, field: str, nested: bool) -> Findings:
        if not names:
            return
        if self.named:
            bad = [n for n in names if not NAMED.match(n)]
            if bad:
                yield ("text",), f"named parameters are lowercase letters, digits and underscores: {{{{{bad[0]}}}}}"
                return
            given = (example or {}).get(f"{field}_named_params") if isinstance(example, dict) else None
            covered = {p.get("param_name") for p in given or [] if isinstance(p, dict) and p.get("example") not in (None, "")}
            missing = [n for n in dict.fromkeys(names) if n not in covered]
            if missing:
                yield ("example",), f"every variable needs an example: add {field}_named_params for {', '.join(missing)}"
            return
        if not all(n.isdigit() for n in names):
            yield ("text",), "variables must be {{1}}, {{2}}, ... (or set parameter_format: NAMED)"
            return
        numbers = sorted({int(n) for n in names})
        if numbers != list(range(1, len(numbers) + 1)):
            yield ("text",), "variables must be numbered from {{1}} without gaps"
        values = (example or {}).get(field) if isinstance(example, dict) else None
        if nested:
            values = values[0] if isinstance(values, list) and values and isinstance(values[0], list) else None
        if not isinstance(values, list) or len(values) < len(numbers):
            shape = f"[[{', '.join('...' for _ in numbers)}]]" if nested else f"[{', '.join('...' for _ in numbers)}]"
            yield ("example",), f"every variable needs an example: set example.{field}: {shape}"
