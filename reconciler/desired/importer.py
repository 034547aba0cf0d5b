"""Live WABAs -> config YAML that, planned again, shows no changes.

One WABA (``config_for``) becomes one account. A whole business (``fleet_import``) becomes one
file per WABA and, when its accounts share templates, ``sets.yaml`` holding ``template_sets:``.

The sharing rule (``share``), chosen to be predictable rather than clever:

1. A template is identified by its name and its canonical content: every language's
   ``Template.content()`` and the set of languages. Two accounts share a template only when the
   name and all of that are identical (what plan would compare, so a media header's handle,
   component order or case never keep two copies apart).
2. Each such (name, content) held by two or more accounts is shared; one held by a single account,
   and every name whose content differs between accounts, stays in the accounts that hold it.
3. Shared templates are grouped by the exact set of accounts holding them: each distinct group of
   accounts becomes one template set with all the templates those accounts (and only those) share,
   so brand A's WABAs get one set and brand B's another, and every account ``use:``s the sets of
   the groups it belongs to. An account never uses two sets defining one name (an account holds a
   name with one content, which sits in exactly one set).
4. Sets are named ``shared``, ``shared_2``, ``shared_3``, ... by size: most accounts first, then most
   templates, then by their account names and template names. A set's templates are written as the
   first account by name holds them.

Account names come from the WABA names (``account_name``); names two WABAs would share get the
WABA id as a suffix. ``${`` in live text is written ``$${`` so that the config's variables
(``${name}``) never change what was imported.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..errors import ReconcilerError
from ..model import BUTTON_KEYS, LiveAccount, LiveTemplate, otp_type_of
from . import media

COMPONENT_KEYS = ("type", "format", "text", "example", "add_security_recommendation", "code_expiration_minutes", "buttons",
                  "cards", "limited_time_offer")
EXAMPLE_KEYS = ("header_text", "header_text_named_params", "header_handle", "header_file", "body_text", "body_text_named_params")
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "video/mp4": "mp4", "application/pdf": "pdf"}
SCHEMA_COMMENT = "# yaml-language-server: $schema=https://wabactl.dev/schemas/config.schema.json\n"
SETS_FILE = "sets.yaml"
SET_PREFIX = "shared"
NAME_MOST = 64  # the config schema's longest account name
REFERENCE = re.compile(r"\$\{[^}]*\}")  # what the config reads as a variable reference


def account_name(waba_name: str | None, waba_id: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", (waba_name or "").lower()).strip("-")[:60]
    return slug or f"waba-{waba_id}"


def unique_names(wabas: Sequence[tuple[str, str | None]]) -> dict[str, str]:
    """Each WABA id's account name: from its name, with ``-<waba id>`` added to every name two
    WABAs would share (and to ``sets``, the shared templates' file). A name no other WABA has
    always stays as it is."""
    names = {waba_id: account_name(name, waba_id) for waba_id, name in wabas}
    counts: dict[str, int] = defaultdict(int)
    for name in names.values():
        counts[name] += 1
    reserved = SETS_FILE.removesuffix(".yaml")
    unique = {waba_id: name for waba_id, name in names.items() if counts[name] == 1 and name != reserved}
    used = set(unique.values())
    for waba_id, name in sorted(names.items()):
        if waba_id in unique:
            continue
        suffix, again = f"-{waba_id}", 2
        candidate = name[:NAME_MOST - len(suffix)].rstrip("-") + suffix
        while candidate in used:  # "Shop" twice (shop-1, shop-2) beside a "Shop 1" (shop-1)
            suffix, again = f"-{waba_id}-{again}", again + 1
            candidate = name[:NAME_MOST - len(suffix)].rstrip("-") + suffix
        unique[waba_id] = candidate
        used.add(candidate)
    return {waba_id: unique[waba_id] for waba_id in sorted(unique)}


def config_for(live: LiveAccount, name: str, business_id: str | None, token_env: str | None = None) -> dict[str, Any]:
    account: dict[str, Any] = {"waba_id": live.waba_id}
    if business_id:
        account["business_id"] = business_id
    if token_env:
        account["token_env"] = token_env
    account["templates"] = _templates(live.templates)
    if live.users is not None:
        account["users"] = {u.user_id: sorted(u.tasks) for u in live.users}
    return {"version": 1, "accounts": {name: account}}


def with_media_files(live: LiveAccount, fetch: Callable[[str], bytes], media_dir: str, relative_to: str) -> tuple[LiveAccount, list[str]]:
    """The live account with each media header's CDN URL replaced by ``header_file``: the media is
    fetched, written into ``media_dir`` (``<name>_<language>[_card<n>].<ext>``) and named relative
    to ``relative_to`` (the folder the config is written to), so the config can be applied to
    another WABA (Meta takes only upload handles, never a URL). Also the files written."""
    os.makedirs(media_dir, exist_ok=True)
    written: list[str] = []

    def saved(components: Sequence[Any], stem: str) -> tuple[dict[str, Any], ...]:
        out = []
        for component in components:
            copied = dict(component) if isinstance(component, dict) else component
            if not isinstance(copied, dict):
                out.append(copied)
                continue
            example = copied.get("example")
            urls = example.get("header_handle") if isinstance(example, dict) else None
            if str(copied.get("type", "")).upper() == "HEADER" and isinstance(urls, list) and urls and isinstance(urls[0], str):
                data = fetch(urls[0])
                kind = media.sniff(data[:16])
                if kind is None:
                    raise ReconcilerError(f"the media of {stem} is not JPEG, PNG, MP4 or PDF; not imported")
                path = os.path.join(media_dir, f"{stem}.{EXTENSIONS[kind]}")
                pathlib.Path(path).write_bytes(data)
                written.append(path)
                copied["example"] = {"header_file": os.path.relpath(path, relative_to)}
            if isinstance(copied.get("cards"), list):
                copied["cards"] = [dict(card, components=list(saved(card.get("components") or [], f"{stem}_card{number + 1}")))
                                   if isinstance(card, dict) else card for number, card in enumerate(copied["cards"])]
            out.append(copied)
        return tuple(out)

    templates = tuple(dataclasses.replace(current, template=dataclasses.replace(
        current.template, components=saved(current.template.components, f"{current.template.name}_{current.template.language}")))
        for current in live.templates)
    return dataclasses.replace(live, templates=templates), written


def to_yaml(config: dict[str, Any]) -> str:
    body = yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)
    return SCHEMA_COMMENT + body


# --- a whole business ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SharedSet:
    """One template set: the accounts that hold all its templates verbatim."""

    name: str
    accounts: tuple[str, ...]
    templates: tuple[str, ...]


@dataclass(frozen=True)
class ImportedFleet:
    """A business's WABAs as config files (file name -> YAML, ``sets.yaml`` first when there is one)."""

    files: dict[str, str]
    accounts: int
    sets: tuple[SharedSet, ...] = ()
    templates: int = 0  # template names kept in the accounts, over all accounts
    languages: int = 0  # template languages over all accounts, shared ones counted in each
    users: int = 0
    kept: dict[str, int] = field(default_factory=dict)  # per account: its own templates

    @property
    def shared(self) -> int:
        """Templates moved into sets (each once)."""
        return sum(len(s.templates) for s in self.sets)

    @property
    def replaced(self) -> int:
        """Account copies of templates that a set now declares instead."""
        return sum(len(s.templates) * len(s.accounts) for s in self.sets)


def share(holdings: Mapping[str, Mapping[str, Hashable]]) -> list[SharedSet]:
    """The template sets for accounts holding templates (account -> template name -> content key),
    by the sharing rule of this module's docstring."""
    holders: dict[tuple[str, Hashable], list[str]] = defaultdict(list)
    for account in sorted(holdings):
        for name, content in holdings[account].items():
            holders[(name, content)].append(account)
    groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for (name, _), accounts in holders.items():
        if len(accounts) >= 2:
            groups[tuple(accounts)].append(name)
    ordered = sorted(((accounts, tuple(sorted(names))) for accounts, names in groups.items()),
                     key=lambda group: (-len(group[0]), -len(group[1]), group[0], group[1]))
    return [SharedSet(SET_PREFIX if index == 1 else f"{SET_PREFIX}_{index}", accounts, names)
            for index, (accounts, names) in enumerate(ordered, 1)]


def content_key(languages: Sequence[LiveTemplate]) -> Hashable:
    """One template name's canonical content over all its languages, as a comparable value."""
    return _frozen({t.template.language: t.template.content() for t in languages})


def _frozen(value: Any) -> Hashable:
    """Mappings and lists as nested tuples, told apart by a mark, mapping keys in order."""
    if isinstance(value, Mapping):
        return ("{", tuple(sorted((str(key), _frozen(item)) for key, item in value.items())))
    if isinstance(value, (list, tuple)):
        return ("[", tuple(_frozen(item) for item in value))
    return value if isinstance(value, Hashable) else repr(value)


def fleet_import(accounts: Sequence[tuple[str, LiveAccount]], business_id: str | None,
                 token_env: str | None = None) -> ImportedFleet:
    """Config files for several live WABAs (each with its account name): templates shared
    verbatim go into template sets (``share``), the rest stay in the accounts."""
    by_name: dict[str, dict[str, list[LiveTemplate]]] = {}
    for name, live in accounts:
        grouped: dict[str, list[LiveTemplate]] = defaultdict(list)
        for current in live.templates:
            grouped[current.template.name].append(current)
        by_name[name] = grouped
    sets = share({account: {name: content_key(languages) for name, languages in grouped.items()}
                  for account, grouped in by_name.items()})
    files: dict[str, str] = {}
    if sets:
        declared = {s.name: {"description": f"imported: the same in {len(s.accounts)} accounts",
                             "templates": _templates(tuple(t for name in s.templates for t in by_name[s.accounts[0]][name]))}
                    for s in sets}
        files[SETS_FILE] = to_yaml({"version": 1, "template_sets": declared})
    kept: dict[str, int] = {}
    for name, live in sorted(accounts, key=lambda pair: pair[0]):
        used = [s for s in sets if name in s.accounts]
        moved = {template for s in used for template in s.templates}
        own = tuple(t for t in live.templates if t.template.name not in moved)
        account: dict[str, Any] = {"waba_id": live.waba_id}
        if business_id:
            account["business_id"] = business_id
        if token_env:
            account["token_env"] = token_env
        if used:
            account["use"] = [s.name for s in used]
        if own or not used:
            account["templates"] = _templates(own)
        if live.users is not None:
            account["users"] = {u.user_id: sorted(u.tasks) for u in live.users}
        files[f"{name}.yaml"] = to_yaml({"version": 1, "accounts": {name: account}})
        kept[name] = len({t.template.name for t in own})
    return ImportedFleet(files, len(accounts), tuple(sets), sum(kept.values()),
                         sum(len(live.templates) for _, live in accounts),
                         sum(len(live.users or ()) for _, live in accounts), kept)


def existing_configs(directory: str) -> list[str]:
    """The config files (.yaml, .yml) already in ``directory``; none when it does not exist."""
    path = pathlib.Path(directory)
    if path.exists() and not path.is_dir():
        raise ReconcilerError(f"{directory} is not a directory: import --business writes one file per WABA into a directory")
    if not path.exists():
        return []
    return sorted(entry.name for entry in path.iterdir() if entry.name.endswith((".yaml", ".yml")))


def refuse_existing(directory: str) -> None:
    """Refuse a directory that already holds config files: planning the directory would read them
    with the imported ones."""
    found = existing_configs(directory)
    if found:
        shown = ", ".join(found[:10]) + (f" and {len(found) - 10} more" if len(found) > 10 else "")
        raise ReconcilerError(f"{directory} already holds config files ({shown}); nothing was written. Import into a new or "
                              f"empty directory (`wabactl plan {directory}` reads every .yaml and .yml file in it)")


def write_files(directory: str, files: Mapping[str, str]) -> list[str]:
    """Write the files into ``directory`` (made when missing), refusing one with config files in it."""
    refuse_existing(directory)
    os.makedirs(directory, exist_ok=True)
    written = []
    for name, text in files.items():
        path = os.path.join(directory, name)
        pathlib.Path(path).write_text(text, encoding="utf-8")
        written.append(path)
    return written


# --- templates --------------------------------------------------------------------------------


def escape(text: str) -> str:
    """``text`` as the config writes it: every ``${...}`` it would read as a variable becomes ``$${...}``."""
    return REFERENCE.sub(lambda match: "$" + match.group(0), text) if "${" in text else text


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, dict):
        return {key: _escaped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_escaped(item) for item in value]
    return value


def _templates(live: Sequence[LiveTemplate]) -> dict[str, Any]:
    """Grouped by name, each with all its languages."""
    out: dict[str, Any] = {}
    ttls: dict[str, set[int | None]] = defaultdict(set)
    for current in live:
        ttls[current.template.name].add(current.template.ttl)
    for current in sorted(live, key=lambda t: (t.template.name, t.template.language)):
        template = current.template
        entry = out.setdefault(template.name, {"category": template.category})
        if template.parameter_format != "POSITIONAL":
            entry["parameter_format"] = template.parameter_format
        if len(ttls[template.name]) == 1 and template.ttl is not None:  # one value for all its languages: the config holds one
            entry["message_send_ttl_seconds"] = template.ttl
        languages = entry.setdefault("languages", {})
        if template.library is not None:  # Meta writes its components from the library; its inputs are not read back
            entry["library_template_name"] = template.library
            languages[template.language] = {}
            continue
        languages[template.language] = {
            "components": [_escaped(_component(c, template.category)) for c in template.components]
        }
    return out


def _otp_button(button: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "OTP", "otp_type": otp_type_of(button)}
    for key in ("text", "autofill_text", "supported_apps", "zero_tap_terms_accepted"):
        if button.get(key) not in (None, "", []):
            out[key] = button[key]
    if out["otp_type"] == "ZERO_TAP":
        out["zero_tap_terms_accepted"] = True  # Meta creates no zero-tap template without it
    return out


def _component(component: dict[str, Any], category: str) -> dict[str, Any]:
    kind = str(component.get("type", "")).upper()
    if category == "AUTHENTICATION" and kind in ("BODY", "FOOTER"):
        # Meta writes these texts itself and refuses them on create.
        keep = ("type", "add_security_recommendation") if kind == "BODY" else ("type", "code_expiration_minutes")
        return {k: component[k] for k in keep if component.get(k) is not None} | {"type": kind}
    if category == "AUTHENTICATION" and kind == "BUTTONS":
        # Read back as a URL button to Meta's code page; declared (and created) as the OTP button it is.
        return {"type": kind, "buttons": [_otp_button(b) if otp_type_of(b) else {k: b[k] for k in BUTTON_KEYS if b.get(k) not in (None, "")}
                                          for b in component.get("buttons") or [] if isinstance(b, dict)]}
    out = {k: component[k] for k in COMPONENT_KEYS if component.get(k) not in (None, "", [], {})}
    out["type"] = kind
    if isinstance(out.get("example"), dict):
        out["example"] = {k: v for k, v in out["example"].items() if k in EXAMPLE_KEYS}
    if isinstance(out.get("buttons"), list):
        out["buttons"] = [{k: b[k] for k in BUTTON_KEYS if b.get(k) not in (None, "")} for b in out["buttons"]]
    if isinstance(out.get("cards"), list):
        out["cards"] = [{"components": [_component(c, category) for c in card.get("components") or [] if isinstance(c, dict)]}
                        for card in out["cards"] if isinstance(card, dict)]
    if isinstance(out.get("limited_time_offer"), dict):
        out["limited_time_offer"] = {k: v for k, v in out["limited_time_offer"].items() if k in ("text", "has_expiration")}
    return out
