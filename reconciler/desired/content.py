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
            else {"HEADER": self._header, "BODY": self._body, "FOOTER": self._footer, "BUTTONS": self._buttons}
        )

    def run(self, components: list[Any]) -> Findings:
        kinds = [str(c.get("type", "")).upper() for c in components if isinstance(c, dict)]
        for kind in ("HEADER", "BODY", "FOOTER", "BUTTONS"):
            if kinds.count(kind) > 1:
                yield (), f"at most one {kind} component (found {kinds.count(kind)})"
        if "BODY" not in kinds:
            yield (), "a template needs a BODY component"
        if self.category == "AUTHENTICATION" and "BUTTONS" not in kinds:
            yield (), "authentication templates need a BUTTONS component with one OTP button"
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
            handles = (header.get("example") or {}).get("header_handle")
            if not handles:
                yield ("example",), f"a {header_format} header needs example.header_handle (an upload handle)"
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
