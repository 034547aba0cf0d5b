"""The components array of a template, and the HEADER, BODY and FOOTER components in it."""

from __future__ import annotations

import hashlib
from typing import Any

from .. import errors
from ..errors import invalid_parameter
from .authentication import authentication_component
from .buttons import check_buttons
from .variables import VARIABLE_RE, component_text, refuse_leading_or_trailing, require_examples, variable_names

HEADER_FORMATS = ("TEXT", "IMAGE", "VIDEO", "GIF", "DOCUMENT", "LOCATION")
CDN = "https://scontent.whatsapp.net/v/t61.29466-34"  # where Meta's reads point; the server passes its own
BODY_MAX, HEADER_TEXT_MAX, FOOTER_MAX = 1024, 60, 60


def check_components(
    components: Any, category: str, parameter_format: str, media_base: str = CDN
) -> list[dict[str, Any]]:
    """Validate a components array and return it as Meta stores it."""
    if not isinstance(components, list) or not components:
        raise invalid_parameter("Param components must be a non-empty array.")
    by_type: dict[str, dict[str, Any]] = {}
    for component in components:
        if not isinstance(component, dict) or not isinstance(component.get("type"), str):
            raise invalid_parameter("Each component must be an object with a type.")
        kind = component["type"].upper()
        if kind not in ("HEADER", "BODY", "FOOTER", "BUTTONS", "CAROUSEL", "LIMITED_TIME_OFFER"):
            raise invalid_parameter(f"Unsupported component type {component['type']!r}.")
        if kind in by_type:
            subcode = errors.BODY_FORMAT if kind == "BODY" else None
            raise invalid_parameter(f"A template has at most one {kind} component.", subcode)
        by_type[kind] = component
    if "BODY" not in by_type:
        raise invalid_parameter(
            "A template needs exactly one BODY component.", errors.BODY_FORMAT, "Body format incorrect"
        )
    authentication = category == "AUTHENTICATION"
    _marketing_shapes(by_type, category)
    stored: list[dict[str, Any]] = []
    for component in components:
        kind = component["type"].upper()
        if authentication:
            stored.append(authentication_component(kind, component))
        elif kind == "CAROUSEL":
            stored.append(_carousel(component, category, parameter_format, media_base))
        elif kind == "LIMITED_TIME_OFFER":
            stored.append(_offer(component))
        elif kind == "HEADER":
            stored.append(_header(component, category, parameter_format, media_base))
        elif kind == "BODY":
            stored.append(_body(component, parameter_format))
        elif kind == "FOOTER":
            stored.append(_footer(component))
        else:
            stored.append(_buttons(component))
    if authentication and "BUTTONS" not in by_type:
        raise invalid_parameter(
            "Authentication templates need a BUTTONS component with one OTP button.",
            errors.MISSING_FIELD,
        )
    return stored


def body_text(components: list[dict[str, Any]]) -> str:
    for component in components:
        if component.get("type") == "BODY":
            return str(component.get("text") or "")
    return ""


# --- one function per component kind -------------------------------------------------------


def _header(component: dict[str, Any], category: str, parameter_format: str, media_base: str = CDN) -> dict[str, Any]:
    stored = _upper(component, "type", "format")
    header_format = stored.get("format")
    if header_format not in HEADER_FORMATS:
        raise invalid_parameter(
            f"HEADER format must be one of {', '.join(HEADER_FORMATS)}.",
            errors.HEADER_FORMAT,
            "Header format incorrect",
        )
    if header_format == "TEXT":
        text = component_text(component, "HEADER", HEADER_TEXT_MAX)
        names = variable_names(text, "HEADER", parameter_format, errors.HEADER_FORMAT)
        if len(names) > 1:
            raise invalid_parameter(
                "A text header has at most one variable.", errors.HEADER_FORMAT, "Header format incorrect"
            )
        if names:
            refuse_leading_or_trailing(text, "HEADER", allow_trailing=True)
            require_examples(component.get("example"), names, parameter_format, "header_text", nested=False)
    elif header_format == "LOCATION":
        if category not in ("UTILITY", "MARKETING"):
            raise invalid_parameter(
                "Location headers are for UTILITY and MARKETING templates.", errors.HEADER_FORMAT
            )
    else:
        handles = (component.get("example") or {}).get("header_handle")
        if not isinstance(handles, list) or not handles or not all(isinstance(h, str) for h in handles):
            raise invalid_parameter(
                f"A {header_format} header needs example.header_handle (an upload handle).",
                errors.MISSING_FIELD,
            )
        # Meta keeps the media and answers reads with a CDN URL, never the handle sent.
        stored["example"] = {"header_handle": [cdn_url(h, header_format, media_base) for h in handles]}
    return stored


def _body(component: dict[str, Any], parameter_format: str) -> dict[str, Any]:
    text = component_text(component, "BODY", BODY_MAX)
    names = variable_names(text, "BODY", parameter_format, errors.BODY_FORMAT)
    if names:
        refuse_leading_or_trailing(text, "BODY", allow_trailing=False)
        words = len(VARIABLE_RE.sub(" ", text).split())
        if words < len(set(names)):
            raise invalid_parameter(
                "This template has too many variables for its length.",
                errors.PARAM_RATIO,
                "Too many variables",
            )
        require_examples(component.get("example"), names, parameter_format, "body_text", nested=True)
    return _upper(component, "type")


def _footer(component: dict[str, Any]) -> dict[str, Any]:
    text = component_text(component, "FOOTER", FOOTER_MAX)
    if VARIABLE_RE.search(text):
        raise invalid_parameter(
            "A footer cannot contain variables.", errors.FOOTER_FORMAT, "Footer format incorrect"
        )
    return _upper(component, "type")


def _buttons(component: dict[str, Any]) -> dict[str, Any]:
    stored = _upper(component, "type")
    stored["buttons"] = check_buttons(component.get("buttons"))
    return stored


# --- carousel and limited-time offer (Meta's marketing template pages) ------------------------

CARDS_MIN, CARDS_MAX, CARD_BUTTONS_MAX = 2, 10, 2
CARD_BUTTONS = ("QUICK_REPLY", "URL", "PHONE_NUMBER")
OFFER_TEXT_MAX, OFFER_BODY_MAX = 16, 600


def _marketing_shapes(by_type: dict[str, dict[str, Any]], category: str) -> None:
    """The template around a CAROUSEL or LIMITED_TIME_OFFER component: MARKETING only; a carousel
    is a BODY and the cards; an offer has no footer, an image or video header if any, a body of
    at most 600 characters and a URL button (a COPY_CODE one may come first)."""
    for kind in ("CAROUSEL", "LIMITED_TIME_OFFER"):
        if kind in by_type and category != "MARKETING":
            raise invalid_parameter(f"{kind} templates must be in the MARKETING category.")
    # Catalog and multi-product templates (Meta's pages): MARKETING, that one button alone; a
    # catalog has no header (Meta shows the catalog), a multi-product one a TEXT header.
    buttons = [str(b.get("type", "")).upper() for b in by_type.get("BUTTONS", {}).get("buttons") or [] if isinstance(b, dict)]
    for kind in ("CATALOG", "MPM"):
        if kind in buttons:
            if category != "MARKETING" or buttons != [kind]:
                raise invalid_parameter(f"A {kind} button is the only button of a MARKETING template.")
            header = by_type.get("HEADER")
            if kind == "CATALOG" and header is not None:
                raise invalid_parameter("A catalog template has no header.", errors.HEADER_FORMAT)
            if kind == "MPM" and (header is None or str(header.get("format", "")).upper() != "TEXT"):
                raise invalid_parameter("A multi-product template needs a TEXT header.", errors.HEADER_FORMAT)
    if "CAROUSEL" in by_type and set(by_type) - {"BODY", "CAROUSEL"}:
        raise invalid_parameter("A carousel template holds a BODY and a CAROUSEL component only.")
    if "LIMITED_TIME_OFFER" not in by_type:
        return
    if "FOOTER" in by_type:
        raise invalid_parameter("Limited-time offer templates don't support a footer.", errors.FOOTER_FORMAT)
    header = by_type.get("HEADER")
    if header is not None and str(header.get("format", "")).upper() not in ("IMAGE", "VIDEO"):
        raise invalid_parameter("A limited-time offer's header must be IMAGE or VIDEO.", errors.HEADER_FORMAT)
    if len(str(by_type["BODY"].get("text") or "")) > OFFER_BODY_MAX:
        raise invalid_parameter(f"A limited-time offer's body is at most {OFFER_BODY_MAX} characters.", errors.TOO_LONG)
    buttons = by_type.get("BUTTONS", {}).get("buttons") or []
    kinds = [str(b.get("type", "")).upper() for b in buttons if isinstance(b, dict)]
    if kinds not in (["URL"], ["COPY_CODE", "URL"]):
        raise invalid_parameter("A limited-time offer needs a URL button, optionally after one COPY_CODE button.")


def _offer(component: dict[str, Any]) -> dict[str, Any]:
    offer = component.get("limited_time_offer")
    if not isinstance(offer, dict) or not isinstance(offer.get("text"), str) or not offer["text"]:
        raise invalid_parameter("limited_time_offer.text is required.", errors.MISSING_FIELD)
    if len(offer["text"]) > OFFER_TEXT_MAX:
        raise invalid_parameter(f"limited_time_offer.text is at most {OFFER_TEXT_MAX} characters.", errors.TOO_LONG)
    if "has_expiration" in offer and not isinstance(offer["has_expiration"], bool):
        raise invalid_parameter("limited_time_offer.has_expiration must be true or false.")
    stored = _upper(component, "type")
    stored["limited_time_offer"] = {k: offer[k] for k in ("text", "has_expiration") if k in offer}
    return stored


def _carousel(component: dict[str, Any], category: str, parameter_format: str, media_base: str) -> dict[str, Any]:
    cards = component.get("cards")
    if not isinstance(cards, list) or not CARDS_MIN <= len(cards) <= CARDS_MAX:
        raise invalid_parameter(f"A carousel has {CARDS_MIN} to {CARDS_MAX} cards.")
    stored_cards = []
    shapes = set()
    for card in cards:
        inner = card.get("components") if isinstance(card, dict) else None
        if not isinstance(inner, list) or not inner or not all(isinstance(c, dict) and isinstance(c.get("type"), str) for c in inner):
            raise invalid_parameter("Each card needs a components array of objects with a type.")
        kinds = [c["type"].upper() for c in inner]
        if set(kinds) - {"HEADER", "BODY", "BUTTONS"} or len(kinds) != len(set(kinds)) or "HEADER" not in kinds:
            raise invalid_parameter("A card holds one HEADER (IMAGE or VIDEO), at most one BODY and at most one BUTTONS.")
        stored_inner = []
        for card_component in inner:
            kind = card_component["type"].upper()
            if kind == "HEADER":
                if str(card_component.get("format", "")).upper() not in ("IMAGE", "VIDEO"):
                    raise invalid_parameter("A card's header must be IMAGE or VIDEO.", errors.HEADER_FORMAT)
                stored_inner.append(_header(card_component, category, parameter_format, media_base))
            elif kind == "BODY":
                stored_inner.append(_body(card_component, parameter_format))
            else:
                buttons = card_component.get("buttons")
                if not isinstance(buttons, list) or not 1 <= len(buttons) <= CARD_BUTTONS_MAX:
                    raise invalid_parameter(f"A card has 1 to {CARD_BUTTONS_MAX} buttons.")
                if any(not isinstance(b, dict) or str(b.get("type", "")).upper() not in CARD_BUTTONS for b in buttons):
                    raise invalid_parameter(f"A card's buttons are {', '.join(CARD_BUTTONS)}.")
                stored_inner.append(_buttons(card_component))
        shapes.add(tuple(sorted(_shape(c) for c in stored_inner)))
        stored_cards.append({"components": stored_inner})
    if len(shapes) > 1:
        raise invalid_parameter("All cards of a carousel must have the same components.")
    stored = _upper(component, "type")
    stored["cards"] = stored_cards
    return stored


def _shape(component: dict[str, Any]) -> str:
    kind = component["type"]
    if kind == "HEADER":
        return f"HEADER:{component.get('format')}"
    if kind == "BUTTONS":
        return "BUTTONS:" + ",".join(str(b.get("type")) for b in component.get("buttons") or [])
    return str(kind)


# --- shared helpers --------------------------------------------------------------------------


def _upper(component: dict[str, Any], *keys: str) -> dict[str, Any]:
    stored = dict(component)
    for key in keys:
        if isinstance(stored.get(key), str):
            stored[key] = stored[key].upper()
    return stored


def cdn_url(handle: str, header_format: str, media_base: str = CDN) -> str:
    """Where Meta's reads say the media is: a URL under ``media_base`` named by the handle's
    digest (``media_name``); the emulator serves the uploaded bytes there."""
    if handle.startswith("https://"):
        return handle
    return f"{media_base}/{media_name(handle, header_format)}"


def media_name(handle: str, header_format: str) -> str:
    digest = hashlib.sha256(handle.encode()).hexdigest()[:32]
    extension = {"IMAGE": "jpg", "VIDEO": "mp4", "GIF": "mp4", "DOCUMENT": "pdf"}[header_format]
    return f"{digest}.{extension}"
