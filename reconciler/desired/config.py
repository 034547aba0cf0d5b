"""Config files -> DesiredState: YAML with positions, JSON Schema, then the checks Meta would make.

Every problem of every file is collected and reported once, each with file, line and column;
nothing reaches the network before the whole config is valid.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError, Problem
from ..model import AccountSettings, DesiredAccount, DesiredState, Fleet, Template, User, WabaFilter, canonical_inputs, media_headers
from . import media
from . import sets as sets_of
from .content import check_template, check_ttl
from .schema import config_problems
from .translations import translation_gaps
from .yamlfile import Document, Path, load_document

DEFAULT_TOKEN_ENV = "WABACTL_TOKEN"
LIMIT_KEYS = ("max_templates", "creates_per_hour", "count_by", "max_deletes", "max_delete_percent")  # as in limits:
CONFIG_SUFFIXES = (".yaml", ".yml")


def config_files(paths: Iterable[str]) -> list[str]:
    """The files named, with each directory replaced by its YAML files in name order."""
    files: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            found = sorted(
                os.path.join(path, name) for name in os.listdir(path) if name.endswith(CONFIG_SUFFIXES)
            )
            if not found:
                raise ConfigError([Problem(path, 0, 0, "directory holds no .yaml or .yml files")])
            files.extend(found)
        else:
            files.append(path)
    return files


def looks_like_config(path: str) -> bool:
    """A config file is YAML with a top-level ``accounts:`` (or ``version:``) key."""
    try:
        with open(path, encoding="utf-8") as handle:
            head = handle.read(65536)
    except (OSError, UnicodeDecodeError):
        return False
    return re.search(r"^(accounts|version)\s*:", head, re.MULTILINE) is not None


def load(paths: Iterable[str]) -> DesiredState:
    """Steps: read each file; schema; Meta's content rules; cross-file rules; build the model."""
    with _collector_paused():
        return _load(paths)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a config is read and checked. Its nodes and values are
    millions of long-lived objects without cycles, and each collection walks all made so far: with
    it on, a 12 MB config takes 13 s to compose instead of 1.4 s, and 13.5 s to load instead of 10.6."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _load(paths: Iterable[str]) -> DesiredState:
    problems: list[Problem] = []
    documents: list[Document] = []
    broken: set[tuple[str, Path]] = set()  # (file, path) of templates holding a schema problem
    for path in config_files(paths):
        try:
            document = load_document(path)
        except ConfigError as error:
            problems.extend(error.problems)
            continue
        if not isinstance(document.data, dict):
            problems.append(document.problem((), "a config file is a mapping with version and accounts"))
            continue
        located = config_problems(document)
        problems.extend(document.problems + [problem for _, problem in located])
        if any(len(where) < 2 for where, _ in located):
            continue  # its top level is the wrong shape: nothing in it can be read further
        broken |= {(document.file, where[:4]) for where, _ in located if len(where) >= 4 and where[2] == "templates"}
        documents.append(document)
    problems.extend(_cross_file_problems(documents))
    sets = _declared(documents, "template_sets", problems)
    owners = [d for kind in ("accounts", "fleets") for d in _declared(documents, kind, problems).values()]
    expander = _Expander(broken)
    resolved = {}
    for owner in owners:
        entries, found = sets_of.resolve(owner, sets)
        problems.extend(found)
        overrides = tuple(sorted((e.name, str(e.raw["on_change"])) for e in entries if isinstance(e.raw, dict) and e.raw.get("on_change")))
        resolved[owner.path] = Resolved(tuple(expander.templates(owner, entries)), overrides)
        problems.extend(_owner_problems(owner))
    problems.extend(expander.problems)
    warnings: list[Problem] = list(expander.warnings)
    for source in [*sets.values(), *owners]:
        found_gaps = list(_translation_problems(source, broken))
        # Declared languages make agreement a rule; without them Meta accepts translations that
        # differ (an import of a live WABA must load), so the mismatches are warnings.
        (problems if isinstance(source.raw.get("languages"), list) else warnings).extend(found_gaps)
    if problems:
        raise ConfigError(problems)
    accounts = [_account(str(owner.path[1]), owner.raw, owner.document.data.get("defaults") or {}, resolved[owner.path])
                for owner in owners if owner.path[0] == "accounts"]
    fleets = [_fleet(owner, resolved[owner.path]) for owner in owners if owner.path[0] == "fleets"]
    more = [f"and {expander.url_handles - WARNED} more media example(s) given as URLs"] if expander.url_handles > WARNED else []
    return DesiredState(accounts=tuple(sorted(accounts, key=lambda a: a.name)), fleets=tuple(sorted(fleets, key=lambda f: f.name)),
                        warnings=tuple(str(w) for w in sorted(set(warnings))) + tuple(more))


def _declared(documents: list[Document], kind: str, problems: list[Problem]) -> dict[str, sets_of.Declared]:
    """Every set, account or fleet of every file, by name; a name declared twice is a problem
    (accounts: reported by the cross-file check)."""
    found: dict[str, sets_of.Declared] = {}
    for document in documents:
        for name, raw in (document.data.get(kind) or {}).items():
            if not isinstance(raw, dict):
                continue
            if name in found:
                if kind != "accounts":
                    label = {"template_sets": "template set", "fleets": "fleet"}[kind]
                    problems.append(document.problem((kind, name), f"{label} '{name}' is declared twice (also in {found[name].document.file})",
                                                     at_key=True))
                continue
            found[name] = sets_of.Declared(document, (kind, name), raw)
    return found


def _owner_problems(owner: sets_of.Declared) -> Iterable[Problem]:
    if owner.path[0] == "accounts" and owner.raw.get("users") is not None and not owner.raw.get("business_id"):
        yield owner.problem("users", message="users need business_id: Meta lists assigned users per business", at_key=True)


class _Expander:
    """Each owner's templates as the model holds them: variables expanded, Meta's content rules
    checked at the place each template is declared. A template is expanded, checked and built
    once per distinct value of the variables it names (once in all, when it names none), and its
    Template objects are shared by every owner that gets the same: 1,000 accounts using one set
    cost one check per template, not 1,000."""

    def __init__(self, broken: set[tuple[str, Path]]) -> None:
        self.broken = broken
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.url_handles = 0  # media examples given as URLs (each a warning, the first WARNED of them placed)
        self._names: dict[tuple[str, Path], tuple[str, ...]] = {}  # the variables each template names
        self._built: dict[tuple[Any, ...], list[Template]] = {}
        self._by_content: dict[bytes, tuple[list[tuple[Path, str]], Template]] = {}  # by a digest of what decides both

    def templates(self, owner: sets_of.Declared, entries: list[sets_of.Entry]) -> list[Template]:
        given = owner.raw.get("vars")
        values = {str(k): str(v) for k, v in given.items()} if isinstance(given, dict) else {}
        built: list[Template] = []
        for entry in entries:
            where = (entry.source.document.file, entry.path)
            if where in self.broken:
                continue  # its shape is wrong already; the schema's message says how
            names = self._names.get(where)
            if names is None:
                names = self._names[where] = tuple(sorted(set(sets_of.references(entry.raw))))
            key = (where, tuple(values.get(name) for name in names))
            if key in self._built:
                built += self._built[key]
                continue
            raw, undefined = sets_of.expand(dict(entry.raw), values)
            for missing in undefined:
                what = f"${{{missing.variable}}}" if sets_of.VARIABLE_NAME.fullmatch(missing.variable) else f"${{{missing.variable}}} (not a variable name)"
                self.problems.append(entry.source.document.problem(entry.path + missing.path, (
                    f"template {entry.name}: {what} has no value in {sets_of.owner_label(owner)}'s vars"
                    f" (write $${{ for a literal ${{)")))
            templates = self._checked(entry, raw)
            if not undefined:  # a problem names the owner: each owner lacking a value is told
                self._built[key] = templates
            built += templates
        return built

    def _checked(self, entry: sets_of.Entry, raw: dict[str, Any]) -> list[Template]:
        """The template's languages checked and built; identical content (the same template
        declared in full by many accounts) is checked and built once, its problems placed at
        each declaration, its Template objects shared."""
        category = str(raw["category"])
        parameter_format = str(raw.get("parameter_format", "POSITIONAL"))
        ttl = raw.get("message_send_ttl_seconds")
        library, library_inputs = _library(entry, raw, self.problems)
        wrong_ttl = check_ttl(category, ttl)
        if wrong_ttl is not None:
            self.problems.append(entry.source.document.problem(entry.path + ("message_send_ttl_seconds",), f"template {entry.name}: {wrong_ttl}"))
        templates = []
        folder = os.path.dirname(entry.source.document.file)
        for language, body in raw["languages"].items():
            declared = body.get("components") or []
            key = hashlib.blake2b(repr((entry.name, language, category, parameter_format, entry.origin, ttl, folder, library, library_inputs,
                                        declared)).encode(), digest_size=16).digest()
            known = self._by_content.get(key)
            if known is None:
                components, media_problems = _with_media(declared, folder)
                found = media_problems + (_library_problems(declared) if library else
                                          check_template(category, parameter_format, components) if declared else
                                          [((), "give components (or library_template_name, for a template from Meta's library)")])
                known = self._by_content[key] = (found, Template(
                    name=entry.name,
                    language=language,
                    category=category.upper(),
                    parameter_format=parameter_format.upper(),
                    components=tuple(normalise_component(c) for c in components),
                    origin=entry.origin,
                    ttl=ttl,
                    library=library,
                    library_inputs=library_inputs,
                ))
            found, template = known
            where = entry.path + ("languages", language, "components")
            for path, message in found:
                self.problems.append(entry.source.document.problem(where + path, f"template {entry.name}[{language}]: {message}"))
            if any(url_handle(c) for c in media_headers(template.components)):
                self.url_handles += 1
                if self.url_handles <= WARNED:
                    self.warnings.append(entry.source.document.problem(where, f"template {entry.name}[{language}]: a media example is a URL "
                                                                       "(as a live template reads back); Meta refuses it in a create or "
                                                                       "edit: use header_file (`wabactl import --media-dir` writes it)"))
            templates.append(template)
        return templates


WARNED = 20  # warnings placed at file and line for one kind; the rest are counted


def url_handle(component: dict[str, Any]) -> bool:
    """Whether a media header's example is a URL (what a read gives back) rather than a handle."""
    example = component.get("example")
    handles = example.get("header_handle") if isinstance(example, dict) else None
    return isinstance(handles, list) and any(isinstance(h, str) and h.lower().startswith(("http://", "https://")) for h in handles)


LIBRARY_INPUTS = ("library_template_body_inputs", "library_template_button_inputs")


def _library(entry: sets_of.Entry, raw: Mapping[str, Any], problems: list[Problem]) -> tuple[str | None, str | None]:
    """A template from Meta's library: its name, and its inputs as one canonical JSON text."""
    name = raw.get("library_template_name")
    if name is None:
        for key in LIBRARY_INPUTS:
            if key in raw:
                problems.append(entry.source.document.problem(entry.path + (key,), f"template {entry.name}: {key} needs library_template_name"))
        return None, None
    if str(raw["category"]).upper() not in ("UTILITY", "AUTHENTICATION"):
        problems.append(entry.source.document.problem(entry.path + ("category",),
                                                      f"template {entry.name}: templates from Meta's library are UTILITY or AUTHENTICATION"))
    inputs = {key: raw[key] for key in LIBRARY_INPUTS if key in raw}
    return str(name), canonical_inputs(inputs)


def _library_problems(components: list[Any]) -> list[tuple[Path, str]]:
    return [((), "a template from Meta's library takes no components: Meta writes them from the library and the inputs")] if components else []


def _with_media(components: list[Any], folder: str) -> tuple[list[Any], list[tuple[Path, str]]]:
    """The components with each media header's ``header_file`` resolved (relative to the config
    file's folder, as the config's own path was given), checked against Meta's limits and hashed;
    and the problems found, each at its place under the components."""
    problems: list[tuple[Path, str]] = []

    def resolved(items: list[Any], where: Path) -> list[Any]:
        out: list[Any] = []
        for index, component in enumerate(items):
            if not isinstance(component, dict):
                out.append(component)
                continue
            copied = dict(component)
            example = copied.get("example")
            if isinstance(example, dict) and example.get(media.FILE_KEY) is not None:
                copied["example"] = _media_example(example, str(copied.get("format", "")).upper(), folder, where + (index, "example"), problems)
            if isinstance(copied.get("cards"), list):
                copied["cards"] = [dict(card, components=resolved(card["components"], where + (index, "cards", number, "components")))
                                   if isinstance(card, dict) and isinstance(card.get("components"), list) else card
                                   for number, card in enumerate(copied["cards"])]
            out.append(copied)
        return out

    return resolved(components, ()), problems


def _media_example(example: dict[str, Any], header_format: str, folder: str, where: Path, problems: list[tuple[Path, str]]) -> dict[str, Any]:
    if example.get("header_handle"):
        problems.append((where, "give header_file or header_handle, not both"))
        return example
    if header_format not in media.ALLOWED:
        problems.append((where + (media.FILE_KEY,), f"header_file belongs to IMAGE, VIDEO, GIF or DOCUMENT headers (format is {header_format or 'missing'})"))
        return example
    declared = str(example[media.FILE_KEY])
    path = os.path.normpath(os.path.join(folder, declared))
    home = os.path.realpath(folder or ".")
    if os.path.isabs(declared) or os.path.commonpath([home, os.path.realpath(path)]) != home:
        # A config (from a pull request, say) must not upload files from elsewhere on the runner.
        problems.append((where + (media.FILE_KEY,), f"header_file {declared} is outside the folder of its config file; "
                                                    "give a path inside it (relative, without leaving it)"))
        return example
    found = media.read_media(path, header_format)
    if isinstance(found, str):
        problems.append((where + (media.FILE_KEY,), found))
        return example
    return {media.FILE_KEY: path, media.DIGEST_KEY: found.sha256, media.TYPE_KEY: found.mime}


def _translation_problems(source: sets_of.Declared, broken: set[tuple[str, Path]]) -> Iterable[Problem]:
    """The translations declared in one set or account: each declared language present, and every
    translation of a template agreeing with the others where Meta's sending code depends on it."""
    declared = sets_of.templates_of(source)
    templates = [
        Template(name, language, str(raw["category"]).upper(), tuple(normalise_component(c) for c in body.get("components") or []),
                 str(raw.get("parameter_format", "POSITIONAL")).upper())
        for name, raw in declared.items() if (source.document.file, source.path + ("templates", name)) not in broken
        for language, body in raw["languages"].items()
    ]
    languages = source.raw.get("languages")
    for gap in translation_gaps(templates, languages if isinstance(languages, list) else None):
        where: tuple[Any, ...] = ("templates", gap.name, "languages")
        if gap.language is not None and gap.language in (declared.get(gap.name) or {}).get("languages", {}):
            where += (gap.language,)
        language = f"[{gap.language}]" if gap.language else ""
        yield source.problem(*where, message=f"template {gap.name}{language}: {gap.message}")


def _cross_file_problems(documents: list[Document]) -> Iterable[Problem]:
    """An account declared twice, or two accounts managing the same WABA."""
    accounts: dict[str, str] = {}
    wabas: dict[str, str] = {}
    for document in documents:
        declared = document.data.get("accounts")
        for name, account in (declared if isinstance(declared, dict) else {}).items():
            if not isinstance(account, dict):
                continue
            if name in accounts:
                yield document.problem(("accounts", name), f"account '{name}' is declared twice (also in {accounts[name]})", at_key=True)
            accounts.setdefault(name, document.file)
            waba = account.get("waba_id")
            if isinstance(waba, str) and waba in wabas and wabas[waba] != name:
                yield document.problem(("accounts", name, "waba_id"), f"WABA {waba} is already managed by account '{wabas[waba]}'")
            if isinstance(waba, str):
                wabas.setdefault(waba, name)


def _settings(raw: Mapping[str, Any], defaults: dict[str, Any]) -> AccountSettings:
    """The account's policy: what it says, else the file's defaults, else ``AccountSettings``'s own."""
    prune = {**(defaults.get("prune") or {}), **(raw.get("prune") or {})}
    limits = {**(defaults.get("limits") or {}), **(raw.get("limits") or {})}
    given = {
        "on_change": raw.get("on_change") or defaults.get("on_change"),
        "prune_templates": prune.get("templates"),
        "prune_users": prune.get("users"),
        **{name: limits.get(name) for name in LIMIT_KEYS},
    }
    # JSON Schema's "integer" admits 100.0: counts are held as whole numbers.
    given = {k: int(v) if isinstance(v, float) else v for k, v in given.items()}
    return AccountSettings(protect=frozenset(raw.get("protect") or ()), **{k: v for k, v in given.items() if v is not None})


@dataclass(frozen=True)
class Resolved:
    """What an account or fleet gets from its sets and its own templates."""

    templates: tuple[Template, ...]
    on_change: tuple[tuple[str, str], ...]  # (template name, on_change) where a template says


def _account(name: str, raw: Mapping[str, Any], defaults: dict[str, Any], resolved: Resolved, waba_id: str | None = None) -> DesiredAccount:
    settings = _settings(raw, defaults)
    users = None
    if raw.get("users") is not None:
        users = tuple(User(user_id=str(uid), tasks=frozenset(tasks)) for uid, tasks in sorted(raw["users"].items()))
    return DesiredAccount(
        name=name,
        waba_id=waba_id if waba_id is not None else raw["waba_id"],
        business_id=raw.get("business_id"),
        token_env=raw.get("token_env") or DEFAULT_TOKEN_ENV,
        settings=settings,
        templates=tuple(sorted(resolved.templates, key=lambda t: t.key)),
        users=users,
        template_on_change=resolved.on_change,
        app_id=raw.get("app_id") or defaults.get("app_id"),
    )


def _fleet(owner: sets_of.Declared, resolved: Resolved) -> Fleet:
    """A fleet: its discovery rules, and the account each WABA it finds becomes (named and given
    its WABA id at discovery)."""
    raw = owner.raw
    name = str(owner.path[1])
    account = _account(name, raw, owner.document.data.get("defaults") or {}, resolved, waba_id="")
    return Fleet(
        name=name,
        business_id=str(raw["business_id"]),
        listings=tuple(raw.get("listings") or ("owned", "client")),
        include=_filter(raw.get("include")),
        exclude=_filter(raw.get("exclude")),
        account=account,
    )


def _filter(raw: Mapping[str, Any] | None) -> WabaFilter:
    raw = raw or {}
    return WabaFilter(frozenset(str(i) for i in raw.get("ids") or ()), tuple(str(n) for n in raw.get("names") or ()))


def normalise_component(component: dict[str, Any]) -> dict[str, Any]:
    """Enum case as Meta answers it, so that plans and payloads read the same as live state."""
    out = dict(component)
    for key in ("type", "format"):
        if isinstance(out.get(key), str):
            out[key] = out[key].upper()
    if isinstance(out.get("buttons"), list):
        out["buttons"] = [
            {**b, **{k: b[k].upper() for k in ("type", "otp_type", "flow_action") if isinstance(b.get(k), str)}}
            for b in out["buttons"]
        ]
    if isinstance(out.get("cards"), list):
        out["cards"] = [{**card, "components": [normalise_component(c) for c in card["components"]]}
                        if isinstance(card, dict) and isinstance(card.get("components"), list) else card for card in out["cards"]]
    example = out.get("example")
    if isinstance(example, dict) and isinstance(example.get("body_text"), list):
        example = dict(example, body_text=[[str(v) for v in row] for row in example["body_text"]])
        out["example"] = example
    return out
