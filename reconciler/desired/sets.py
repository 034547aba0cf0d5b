"""Template sets and variables: what an account's ``use:`` brings in, and ``${name}`` expansion.

A set is declared once (``template_sets:`` in any of the config files given together) and used by
accounts and fleets. Resolving an account's templates:

1. its ``use:`` list, depth first through sets that ``use`` other sets: an unknown name, a name
   listed twice or a cycle is a problem at that ``use`` entry;
2. the templates of every set reached, by name; two sets defining one name is a problem naming
   both;
3. the account's own ``templates:``, which override a set's template of the same name.

Each template keeps where it was declared (its document and path, for problems at file, line and
column) and which set it came from (shown in plans). ``${name}`` in any template string takes the
value from the account's ``vars:``; ``$${`` writes a literal ``${``. Meta's ``{{1}}`` is untouched.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import Problem
from .yamlfile import Document, Path

REFERENCE = re.compile(r"\$(\$?)\{([^}]*)\}")
VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


@dataclass(frozen=True)
class Declared:
    """One set, account or fleet as written: the document it is in and its path there."""

    document: Document
    path: Path  # ("template_sets", name) | ("accounts", name) | ("fleets", name)
    raw: Mapping[str, Any]

    def problem(self, *within: Any, message: str, at_key: bool = False) -> Problem:
        return self.document.problem(self.path + tuple(within), message, at_key=at_key)


@dataclass(frozen=True)
class Entry:
    """A template name as an account gets it: its raw declaration, where it stands, and its set."""

    name: str
    raw: Mapping[str, Any]
    source: Declared
    origin: str | None  # the set's name; None for the account's own

    @property
    def path(self) -> Path:
        return self.source.path + ("templates", self.name)


def resolve(owner: Declared, sets: Mapping[str, Declared]) -> tuple[list[Entry], list[Problem]]:
    """The templates ``owner`` (an account or a fleet) gets, by name, and what is wrong on the way."""
    problems: list[Problem] = []
    reached: list[str] = []
    _walk(owner, sets, [], reached, problems)
    chosen: dict[str, Entry] = {}
    for set_name in reached:
        declared = sets[set_name]
        for name, raw in templates_of(declared).items():
            earlier = chosen.get(name)
            if earlier is not None and earlier.origin != set_name:
                problems.append(declared.problem("templates", name, at_key=True, message=(
                    f"template {name} is defined by both set {earlier.origin} and set {set_name}, "
                    f"which {owner_label(owner)} uses; keep it in one set, or declare it in the account to choose")))
                continue
            chosen[name] = Entry(name, raw, declared, set_name)
    for name, raw in templates_of(owner).items():
        chosen[name] = Entry(name, raw, owner, None)
    return [chosen[name] for name in sorted(chosen)], problems


def _walk(declared: Declared, sets: Mapping[str, Declared], stack: list[str], reached: list[str], problems: list[Problem]) -> None:
    """Depth first through ``use``, recording each set once, in first-reached order."""
    use = declared.raw.get("use")
    for index, name in enumerate(use if isinstance(use, list) else ()):
        if not isinstance(name, str):
            continue  # the schema says what is wrong with it
        if name not in sets:
            known = ", ".join(sorted(sets)) or "none are declared"
            problems.append(declared.problem("use", index, message=f"unknown template set {name!r} (known: {known})"))
        elif name in stack or name == _own_name(declared):
            cycle = " -> ".join([*stack, name]) if name in stack else f"{name} -> {name}"
            problems.append(declared.problem("use", index, message=f"template sets use each other in a cycle: {cycle}"))
        elif name not in reached:
            reached.append(name)
            _walk(sets[name], sets, [*stack, name], reached, problems)


def templates_of(declared: Declared) -> Mapping[str, Any]:
    """The templates declared there, each a mapping (the schema reports any other shape)."""
    templates = declared.raw.get("templates")
    return {k: v for k, v in templates.items() if isinstance(v, dict)} if isinstance(templates, dict) else {}


def _own_name(declared: Declared) -> str | None:
    return str(declared.path[1]) if declared.path[0] == "template_sets" else None


def owner_label(owner: Declared) -> str:
    kind = {"accounts": "account", "fleets": "fleet", "template_sets": "set"}[str(owner.path[0])]
    return f"{kind} {owner.path[1]}"


# --- variables -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Undefined:
    """A ``${name}`` with no value, at the path of the string that holds it."""

    path: Path
    variable: str


def expand(value: Any, values: Mapping[str, str], path: Path = ()) -> tuple[Any, list[Undefined]]:
    """``value`` with every ``${name}`` in its strings replaced; the references that had no value
    (or are not a name) are left as written and listed. Mapping keys are never expanded."""
    missing: list[Undefined] = []
    return _expand(value, values, path, missing), missing


def _expand(value: Any, values: Mapping[str, str], path: Path, missing: list[Undefined]) -> Any:
    if isinstance(value, str):
        return _expand_text(value, values, path, missing) if "${" in value else value
    if isinstance(value, dict):
        return {key: _expand(item, values, path + (key,), missing) for key, item in value.items()}
    if isinstance(value, list):
        return [_expand(item, values, path + (index,), missing) for index, item in enumerate(value)]
    return value


def _expand_text(text: str, values: Mapping[str, str], path: Path, missing: list[Undefined]) -> str:
    def replace(match: re.Match[str]) -> str:
        escaped, name = match.group(1), match.group(2)
        if escaped:
            return "${" + name + "}"
        if VARIABLE_NAME.fullmatch(name) and name in values:
            return values[name]
        missing.append(Undefined(path, name))
        return match.group(0)

    return REFERENCE.sub(replace, text)


def references(value: Any) -> Iterator[str]:
    """Every ``${name}`` named in the strings of ``value`` (escaped ones excluded)."""
    if isinstance(value, str):
        for match in REFERENCE.finditer(value):
            if not match.group(1):
                yield match.group(2)
    elif isinstance(value, dict):
        for item in value.values():
            yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)
