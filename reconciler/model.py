"""The canonical model both sides are mapped into before any comparison.

YAML (desired) and Graph JSON (live) become the same ``Template`` and ``User`` values. What Meta
rewrites is normalised away here, so that the diff never shows a change that is not one: enum
case, the default positional ``parameter_format``, the order of components, media header
handles (sent as upload handles, read back as CDN URLs), the texts Meta writes itself into
authentication templates. Server-only facts (id, status, quality) live beside the content in
``LiveTemplate`` and are never compared.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

Value = TypeVar("Value")

COMPONENT_ORDER = {"HEADER": 0, "LIMITED_TIME_OFFER": 1, "BODY": 2, "FOOTER": 3, "BUTTONS": 4, "CAROUSEL": 5}
BUTTON_KEYS = (
    "type", "text", "url", "phone_number", "example", "otp_type", "autofill_text",
    "package_name", "signature_hash", "supported_apps", "zero_tap_terms_accepted", "flow_id",
    "flow_name", "flow_action", "navigate_screen",
)
# Template statuses by what they allow (graph-api-facts.md 1.4, 1.5, 1.7).
IN_REVIEW = frozenset({"PENDING", "IN_APPEAL"})  # Meta is deciding: nothing can change meanwhile
EDITABLE = frozenset({"APPROVED", "REJECTED", "PAUSED"})  # Meta's edit endpoint accepts these
DELETED_STATUSES = frozenset({"DELETED", "PENDING_DELETION"})  # gone, whatever a listing shows


def canonical_inputs(inputs: dict[str, Any]) -> str | None:
    """Library template inputs as one canonical JSON text (how a Template holds them), or None."""
    return json.dumps(inputs, sort_keys=True, separators=(",", ":")) if inputs else None


def template_key(name: str, language: str) -> str:
    return f"template.{name}[{language}]"


def user_key(user_id: str) -> str:
    return f"user.{user_id}"


@dataclass(frozen=True)
class Template:
    """One (name, language): Meta's unit of identity, review and status."""

    name: str
    language: str
    category: str
    components: tuple[dict[str, Any], ...]
    parameter_format: str = "POSITIONAL"
    # The template set it came from (None: declared by the account itself). Shown in plans and
    # drift reports; never compared, since where a declaration lives is not what Meta holds.
    origin: str | None = field(default=None, compare=False)
    # message_send_ttl_seconds; None: not declared (Meta's default for the category applies).
    ttl: int | None = None
    # From Meta's template library: its name, and (declared side only: Meta does not read them
    # back) the inputs, as a JSON text. Meta writes the components, so they are not compared.
    library: str | None = None
    library_inputs: str | None = None
    # What is worked out once per Template (a fleet's accounts share their declarations). Not
    # functools.cached_property: before Python 3.12 it holds one lock for every instance, and
    # the planning threads would queue on it.
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False, init=False)

    @property
    def rewritten_buttons(self) -> bool:
        """Whether it has a button Meta rewrites (OTP, FLOW)."""
        return self._remembered("rewritten_buttons", lambda: any(otp_type_of(b) or str(b.get("type", "")).upper() == "FLOW" for b in _buttons(self.components)))

    def _remembered(self, name: str, work: Callable[[], Value]) -> Value:
        """``work()``, done once; a race between threads only does it twice, with one result."""
        if name not in self._memo:
            self._memo[name] = work()
        value: Value = self._memo[name]
        return value

    @property
    def unread_digest(self) -> str | None:
        return self._remembered("unread_digest", self._unread_digest)

    def _unread_digest(self) -> str | None:
        """One digest over what is declared and Meta does not read back (None: nothing): the
        header files it names (Meta answers a CDN URL) and library inputs. Compared through the
        ledger's record of what wabactl last sent, never with live state."""
        digests = [str(example["header_file_sha256"]) for component in media_headers(self.components)
                   if isinstance(example := component.get("example"), dict) and example.get("header_file_sha256")]
        if self.library_inputs:
            digests.append(hashlib.sha256(self.library_inputs.encode()).hexdigest())
        flows = [{k: b.get(k) for k in ("flow_name", "flow_json")} for b in _buttons(self.components)
                 if str(b.get("type", "")).upper() == "FLOW" and (b.get("flow_name") or b.get("flow_json"))]
        if flows:  # Meta reads back the Flow's id, not the name or JSON that chose it
            digests.append(hashlib.sha256(json.dumps(flows, sort_keys=True).encode()).hexdigest())
        return hashlib.sha256("\n".join(digests).encode()).hexdigest() if digests else None

    @property
    def key(self) -> str:
        return template_key(self.name, self.language)

    def content(self) -> dict[str, Any]:
        """What is compared: the canonical form of everything a user declares. Worked out once
        per Template (a fleet's accounts share their declarations); read it, never change it."""
        return self._remembered("content", self._content)

    def _content(self) -> dict[str, Any]:
        # A TTL only where there is one: a digest over content (a saved plan's fingerprint) stays
        # what it was for templates without one.
        ttl = {"message_send_ttl_seconds": self.ttl} if self.ttl is not None else {}
        if self.library is not None:
            return {"category": self.category, "library_template_name": self.library, **ttl}
        return {
            "category": self.category,
            "parameter_format": self.parameter_format,
            "components": canonical_components(self.components, self.category),
            **ttl,
        }

    def payload(self) -> dict[str, Any]:
        """What is sent to Meta to create it; media handles exactly as declared."""
        return {
            "name": self.name,
            "language": self.language,
            "category": self.category,
            "parameter_format": self.parameter_format,
            "components": [dict(c) for c in self.components],
        } | ({"message_send_ttl_seconds": self.ttl} if self.ttl is not None else {}) | self._library_fields()

    def _library_fields(self) -> dict[str, Any]:
        if self.library is None:
            return {}
        return {"library_template_name": self.library, **(json.loads(self.library_inputs) if self.library_inputs else {})}

    def create_request(self) -> dict[str, Any]:
        """The create call's body: positional, Meta's default, is left unsaid; a library
        template sends its name and inputs, and no components (Meta writes them)."""
        body = self.payload()
        if self.parameter_format == "POSITIONAL":
            del body["parameter_format"]
        if self.library is not None:
            del body["components"]
        return body


@dataclass(frozen=True)
class LiveTemplate:
    template: Template
    id: str
    status: str
    rejected_reason: str | None = None
    previous_category: str | None = None
    correct_category: str | None = None
    quality: str | None = None

    @property
    def key(self) -> str:
        return self.template.key


@dataclass(frozen=True)
class User:
    user_id: str
    tasks: frozenset[str]
    name: str | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        return user_key(self.user_id)


@dataclass(frozen=True)
class AccountSettings:
    """An account's policy. These defaults are the only ones: the config schema's ``default``
    annotations must agree with them (a test checks it)."""

    on_change: str = "replace"  # replace | edit | forbid
    prune_templates: bool = False
    prune_users: bool = False
    max_templates: int = 250
    creates_per_hour: int = 100
    count_by: str = "name"  # name | translation: how the cap counts when Meta's summary is silent
    max_deletes: int = 10  # a plan deleting more templates than this is refused without --allow-destroy
    max_delete_percent: int = 20  # ... or more than this share of an account of 10 or more templates
    protect: frozenset[str] = frozenset()


@dataclass(frozen=True)
class DesiredAccount:
    name: str
    waba_id: str
    business_id: str | None
    token_env: str
    settings: AccountSettings
    templates: tuple[Template, ...]
    users: tuple[User, ...] | None  # None: users are not managed for this account
    template_on_change: tuple[tuple[str, str], ...] = ()  # (template name, on_change) overrides
    app_id: str | None = None  # the Meta app that uploads header files; None: WABACTL_APP_ID

    def on_change_for(self, name: str) -> str:
        return dict(self.template_on_change).get(name, self.settings.on_change)


@dataclass(frozen=True)
class WabaFilter:
    """Which WABAs of a listing a fleet keeps: by id, or by a glob on the WABA's name."""

    ids: frozenset[str] = frozenset()
    names: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.ids and not self.names


@dataclass(frozen=True)
class Fleet:
    """Accounts discovered from a business's WABA listings; each kept WABA becomes an account named
    ``<fleet>/<waba_id>`` built from ``account`` (whose name and waba_id are placeholders)."""

    name: str
    business_id: str
    listings: tuple[str, ...]  # "owned", "client"
    include: WabaFilter
    exclude: WabaFilter
    account: DesiredAccount

    def account_for(self, waba_id: str) -> DesiredAccount:
        return dataclasses.replace(self.account, name=f"{self.name}/{waba_id}", waba_id=waba_id)


@dataclass(frozen=True)
class DesiredState:
    accounts: tuple[DesiredAccount, ...]
    fleets: tuple[Fleet, ...] = ()
    warnings: tuple[str, ...] = field(default=(), compare=False)  # for the person: e.g. translations that differ


@dataclass(frozen=True)
class LiveAccount:
    waba_id: str
    templates: tuple[LiveTemplate, ...]
    users: tuple[User, ...] | None
    template_count: int | None = None  # from the listing's summary, when Meta gives it
    template_limit: int | None = None
    token_user: str | None = None  # the user behind the token (/me), read when users are managed
    observed_at: dt.datetime | None = None  # the API's time when this was read
    # Rows Meta lists as DELETED or PENDING_DELETION: gone for planning, shown by drift.
    deleted: tuple[LiveTemplate, ...] = ()
    review_status: str | None = None  # the WABA's account_review_status, when it was read (drift)

    def now(self) -> dt.datetime:
        return self.observed_at or dt.datetime.now(dt.UTC)

    def fingerprint(self, touched: frozenset[str] | None = None) -> str:
        """A digest of the live state a plan depends on; apply refuses when it moved.

        It covers which templates and users exist (with their ids), and the content and status of
        those the plan changes (``touched``; all when None). A review that ends elsewhere in the
        account between plan and apply does not make the plan stale; one that ends on a template
        the plan changes does, since the status decides what Meta allows.
        """
        def counts(key: str) -> bool:
            return touched is None or key in touched

        templates = sorted(
            [t.key, t.id] + ([t.status, t.template.content()] if counts(t.key) else []) for t in self.templates
        )
        users = None if self.users is None else sorted(
            [u.user_id] + (sorted(u.tasks) if counts(u.key) else []) for u in self.users
        )
        text = json.dumps({"templates": templates, "users": users}, sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


# --- canonical form of components -------------------------------------------------------------


MEDIA_FORMATS = frozenset({"IMAGE", "VIDEO", "GIF", "DOCUMENT"})
OTP_PAGE = "whatsapp.com/otp/code"  # where Meta points an authentication template's OTP button
OTP_READ_BACK = ("text", "supported_apps")  # an OTP button's settings compared where a read gives them back


def media_headers(components: tuple[dict[str, Any], ...] | list[Any]) -> list[dict[str, Any]]:
    """Every media HEADER component, carousel cards' included, in order."""
    found: list[dict[str, Any]] = []
    for component in components:
        if not isinstance(component, dict):
            continue
        kind = str(component.get("type", "")).upper()
        if kind == "HEADER" and str(component.get("format", "")).upper() in MEDIA_FORMATS:
            found.append(component)
        elif kind == "CAROUSEL":
            for card in component.get("cards") or []:
                if isinstance(card, dict):
                    found.extend(media_headers(card.get("components") or []))
    return found


def canonical_components(components: tuple[dict[str, Any], ...] | list[dict[str, Any]], category: str) -> list[dict[str, Any]]:
    canonical = [_component(c, category) for c in components]
    return sorted(canonical, key=lambda c: COMPONENT_ORDER.get(c["type"], 9))


def _component(component: dict[str, Any], category: str) -> dict[str, Any]:
    kind = str(component.get("type", "")).upper()
    if category == "AUTHENTICATION":
        # Meta writes the body and footer texts of authentication templates itself, and reads the
        # OTP button back as a URL button to its code page: compared by what is declared.
        if kind == "BODY":
            return {"type": kind, "add_security_recommendation": bool(component.get("add_security_recommendation", False))}
        if kind == "FOOTER":
            return _compact({"type": kind, "code_expiration_minutes": component.get("code_expiration_minutes")})
        if kind == "BUTTONS":
            return {"type": kind, "buttons": [{"type": "OTP", "otp_type": otp} if (otp := otp_type_of(b)) else _button(b)
                                              for b in component.get("buttons") or [] if isinstance(b, dict)]}
    if kind == "HEADER":
        header_format = str(component.get("format", "")).upper()
        if header_format != "TEXT":
            # Media is compared by format only: the handle sent comes back as a CDN URL.
            return {"type": kind, "format": header_format}
        return _compact({
            "type": kind,
            "format": header_format,
            "text": component.get("text"),
            "example": _example(component.get("example"), "header_text", nested=False),
        })
    if kind in ("BODY", "FOOTER"):
        return _compact({
            "type": kind,
            "text": component.get("text"),
            "example": _example(component.get("example"), "body_text", nested=True) if kind == "BODY" else None,
        })
    if kind == "BUTTONS":
        return {"type": kind, "buttons": [_button(b) for b in component.get("buttons") or []]}
    if kind == "CAROUSEL":
        cards = [card for card in component.get("cards") or [] if isinstance(card, dict)]
        return {"type": kind, "cards": [{"components": canonical_components(card.get("components") or [], category)} for card in cards]}
    if kind == "LIMITED_TIME_OFFER":
        given = component.get("limited_time_offer")
        offer: dict[str, Any] = given if isinstance(given, dict) else {}
        return {"type": kind, "limited_time_offer": {"text": offer.get("text"), "has_expiration": bool(offer.get("has_expiration", False))}}
    return _compact(dict(component, type=kind))


def otp_type_of(button: dict[str, Any]) -> str | None:
    """The OTP type of an authentication button: declared (type OTP) or as Meta reads it back (a
    URL button to its code page, the type in the URL's query); None for any other button."""
    if str(button.get("type", "")).upper() == "OTP":
        return str(button.get("otp_type") or "").upper() or None
    url = str(button.get("url") or "")
    if str(button.get("type", "")).upper() == "URL" and OTP_PAGE in url:
        found = re.search(r"[?&]otp_type=([A-Za-z_]+)", url)
        return found.group(1).upper() if found else None
    return None


def read_back_settings_differ(declared: Template, live: Template) -> bool:
    """Whether a button declares a setting other than the one Meta reads back, compared only where
    both sides give it (Meta rewrites these buttons, and says nothing of reading all of it back):
    an authentication template's OTP button's text and supported apps, a Flow button's Flow id."""
    if not declared.rewritten_buttons:
        return False
    otp = declared.category == "AUTHENTICATION" and any(
        key in mine and key in theirs and _settled(mine[key]) != _settled(theirs[key])
        for mine, theirs in zip(_otp_buttons(declared.components), _otp_buttons(live.components), strict=False) for key in OTP_READ_BACK)
    flows = zip([b for b in _buttons(declared.components) if str(b.get("type", "")).upper() == "FLOW"],
                [b for b in _buttons(live.components) if str(b.get("type", "")).upper() == "FLOW"], strict=False)
    return otp or any(mine.get("flow_id") and theirs.get("flow_id") and str(mine["flow_id"]) != str(theirs["flow_id"]) for mine, theirs in flows)


def _buttons(components: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    return [b for c in components if isinstance(c, dict) and str(c.get("type", "")).upper() == "BUTTONS"
            for b in c.get("buttons") or [] if isinstance(b, dict)]


def _otp_buttons(components: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    return [b for b in _buttons(components) if otp_type_of(b)]


def _settled(value: Any) -> Any:
    """A setting in a comparable form: apps in package order, text as given."""
    if isinstance(value, list):
        return sorted(json.dumps(v, sort_keys=True) for v in value)
    return value


def _example(example: Any, field: str, nested: bool) -> dict[str, Any] | None:
    if not isinstance(example, dict):
        return None
    out: dict[str, Any] = {}
    values = example.get(field)
    if values:
        if nested:
            out[field] = [[str(v) for v in row] for row in values if isinstance(row, list)]
        else:
            out[field] = [str(v) for v in values]
    named = example.get(f"{field}_named_params")
    if named:
        out[f"{field}_named_params"] = [
            {"param_name": str(p.get("param_name")), "example": str(p.get("example"))}
            for p in named if isinstance(p, dict)
        ]
    return out or None


def _button(button: dict[str, Any]) -> dict[str, Any]:
    out = {k: button.get(k) for k in BUTTON_KEYS}
    if str(out["type"] or "").upper() == "FLOW":
        # Meta keeps a Flow button's Flow by id, whatever named it (id, name or JSON): which Flow
        # is compared where both sides give an id (flow_settings_differ), a name or JSON through
        # the ledger (unread_digest).
        out["flow_id"] = out["flow_name"] = None
    out["type"] = str(out["type"] or "").upper()
    if out["otp_type"]:
        out["otp_type"] = str(out["otp_type"]).upper()
    example = out["example"]
    if out["type"] == "COPY_CODE" and isinstance(example, list) and len(example) == 1:
        out["example"] = str(example[0])
    elif out["type"] == "URL" and isinstance(example, str):
        out["example"] = [example]
    return _compact(out)


def _compact(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None and v != [] and v != {}}
