"""Config files -> DesiredState: YAML with positions, JSON Schema, then the checks Meta would make.

Every problem of every file is collected and reported once, each with file, line and column;
nothing reaches the network before the whole config is valid.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
from collections.abc import Iterable, Iterator
from typing import Any

from ..errors import ConfigError, Problem
from ..model import AccountSettings, DesiredAccount, DesiredState, Template, User
from .content import check_template
from .schema import config_problems
from .yamlfile import Document, load_document

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
        if "accounts" in document.data and not any(len(path) < 2 for path, _ in located):
            broken = {path for path, _ in located}
            problems.extend(_content_problems(document, broken))
        documents.append(document)
    problems.extend(_cross_file_problems(documents))
    if problems:
        raise ConfigError(problems)
    accounts = [
        _account(name, raw, document.data.get("defaults") or {})
        for document in documents
        for name, raw in document.data["accounts"].items()
    ]
    return DesiredState(accounts=tuple(sorted(accounts, key=lambda a: a.name)))


def _content_problems(document: Document, broken: set[tuple[Any, ...]]) -> Iterable[Problem]:
    """Meta's rules, for every template whose shape the schema accepted."""
    # The templates holding a schema problem, by path: a set, for a config may have many of both.
    broken_templates = {path[:4] for path in broken if len(path) >= 4 and path[2] == "templates"}
    for account_name, account in document.data["accounts"].items():
        base = ("accounts", account_name)
        if not isinstance(account, dict) or not isinstance(account.get("templates") or {}, dict):
            continue
        if account.get("users") is not None and not account.get("business_id"):
            yield document.problem(base + ("users",), "users need business_id: Meta lists assigned users per business", at_key=True)
        for name, template in (account.get("templates") or {}).items():
            where_template = base + ("templates", name)
            if where_template in broken_templates:
                continue  # its shape is wrong already; the schema's message says how
            category = template["category"]
            parameter_format = template.get("parameter_format", "POSITIONAL")
            for language, body in template["languages"].items():
                where = base + ("templates", name, "languages", language, "components")
                for path, message in check_template(category, parameter_format, body["components"]):
                    yield document.problem(where + path, f"template {name}[{language}]: {message}")


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


def _settings(raw: dict[str, Any], defaults: dict[str, Any]) -> AccountSettings:
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


def _account(name: str, raw: dict[str, Any], defaults: dict[str, Any]) -> DesiredAccount:
    settings = _settings(raw, defaults)
    templates = []
    overrides = []
    for template_name, template in (raw.get("templates") or {}).items():
        if template.get("on_change"):
            overrides.append((template_name, template["on_change"]))
        for language, body in template["languages"].items():
            templates.append(Template(
                name=template_name,
                language=language,
                category=template["category"].upper(),
                parameter_format=str(template.get("parameter_format", "POSITIONAL")).upper(),
                components=tuple(normalise_component(c) for c in body["components"]),
            ))
    users = None
    if raw.get("users") is not None:
        users = tuple(User(user_id=str(uid), tasks=frozenset(tasks)) for uid, tasks in sorted(raw["users"].items()))
    return DesiredAccount(
        name=name,
        waba_id=raw["waba_id"],
        business_id=raw.get("business_id"),
        token_env=raw.get("token_env") or DEFAULT_TOKEN_ENV,
        settings=settings,
        templates=tuple(sorted(templates, key=lambda t: t.key)),
        users=users,
        template_on_change=tuple(sorted(overrides)),
    )


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
    example = out.get("example")
    if isinstance(example, dict) and isinstance(example.get("body_text"), list):
        example = dict(example, body_text=[[str(v) for v in row] for row in example["body_text"]])
        out["example"] = example
    return out
