"""Translations that match: what every language of one template must agree on (graph-api-facts.md, 2).

A sender fills a template by name and language with parameters built once for all languages: the
same number and kind of variables per component, the same header format, the same buttons in the
same order. ``translation_gaps`` lists, before any call, each translation that would break such a
sender, and each language a set or account declares that a template lacks. Footers and texts are
free to differ; nothing here reads the network or the config files.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..model import Template
from .content import variables

REFERENCE_LANGUAGE = "en_US"  # the reference when the declared languages do not give one


@dataclass(frozen=True)
class Gap:
    name: str  # template name
    language: str | None  # the language at fault (None: about the template as a whole)
    message: str  # what differs, naming the reference language, readable without the code
    component: str | None = None  # "HEADER", "BODY" or "BUTTONS" when one component differs


@dataclass(frozen=True)
class _Shape:
    """What of one translation a sender depends on."""

    category: str
    parameter_format: str
    header: str | None  # the header's format; None: no header
    header_variables: tuple[str, ...]
    body_variables: tuple[str, ...]
    buttons: tuple[str, ...]  # the buttons' kinds, in order
    url_variables: tuple[tuple[int, tuple[str, ...]], ...]  # (position from 1, variables) per URL button


def translation_gaps(templates: Sequence[Template], languages: Sequence[str] | None = None) -> list[Gap]:
    """Gaps and mismatches among the translations of each template name in ``templates``: every
    name must have each of ``languages`` (when given); every translation must agree with a reference
    translation (the first of ``languages`` when given and present, else en_US when present, else the
    alphabetically first) on: per component (HEADER text variables, BODY variables, button URL variables)
    the number and kind (positional vs named, and for NAMED templates the names) of variables; the
    HEADER format (TEXT/IMAGE/VIDEO/DOCUMENT/LOCATION/none); the buttons' kinds in order; the
    presence of FOOTER is NOT required to agree (Meta does not care); parameter_format and category must agree.

    Ordered by name, then language (None first); within one language, in the order of the checks.
    """
    declared = tuple(dict.fromkeys(languages or ()))
    by_name: dict[str, dict[str, Template]] = {}
    for template in templates:
        by_name.setdefault(template.name, {}).setdefault(template.language, template)
    gaps: list[Gap] = []
    for name in sorted(by_name):
        translations = by_name[name]
        found = [
            Gap(name, language, f"missing language {language} (languages declared: {', '.join(declared)})")
            for language in declared if language not in translations
        ]
        reference = _reference(translations, declared)
        expected = _shape(translations[reference])
        for language in sorted(translations):
            if language != reference:
                found += [Gap(name, language, message, component)
                          for component, message in _differences(_shape(translations[language]), expected, reference)]
        gaps += sorted(found, key=lambda gap: gap.language or "")  # stable: the checks' order is kept
    return gaps


def _reference(translations: dict[str, Template], declared: tuple[str, ...]) -> str:
    if declared and declared[0] in translations:
        return declared[0]
    if REFERENCE_LANGUAGE in translations:
        return REFERENCE_LANGUAGE
    return min(translations)


def _shape(template: Template) -> _Shape:
    components = {_upper(c.get("type")): c for c in reversed(template.components) if isinstance(c, dict)}
    header = components.get("HEADER")
    header_format = _upper(header.get("format")) if header is not None else None
    buttons = [b for b in (components.get("BUTTONS") or {}).get("buttons") or [] if isinstance(b, dict)]
    kinds = tuple(_upper(b.get("type")) for b in buttons)
    return _Shape(
        category=template.category.upper(),
        parameter_format=template.parameter_format.upper(),
        header=header_format,
        header_variables=_variables(header.get("text")) if header is not None and header_format == "TEXT" else (),
        body_variables=_variables((components.get("BODY") or {}).get("text")),
        buttons=kinds,
        url_variables=tuple((i, _variables(b.get("url"))) for i, (kind, b) in enumerate(zip(kinds, buttons, strict=True), 1) if kind == "URL"),
    )


def _differences(shape: _Shape, expected: _Shape, reference: str) -> Iterator[tuple[str | None, str]]:
    """(component, message) for each way ``shape`` differs from the reference translation's."""
    if shape.category != expected.category:
        yield None, f"category {shape.category}, {reference} has {expected.category}"
    same_format = shape.parameter_format == expected.parameter_format
    if not same_format:
        yield None, f"parameter_format {shape.parameter_format}, {reference} has {expected.parameter_format}"
    if shape.header != expected.header:
        yield "HEADER", _either("header format", "no header", shape.header, expected.header, reference)
    elif shape.header == "TEXT":
        yield from _variable_difference("HEADER", "HEADER", shape.header_variables, expected.header_variables, reference, same_format)
    yield from _variable_difference("BODY", "BODY", shape.body_variables, expected.body_variables, reference, same_format)
    if shape.buttons != expected.buttons:
        yield "BUTTONS", _either("buttons", "no buttons", _buttons(shape.buttons), _buttons(expected.buttons), reference)
        return  # the buttons do not line up: their URLs cannot be compared one to one
    for (position, mine), (_, theirs) in zip(shape.url_variables, expected.url_variables, strict=True):
        yield from _variable_difference("BUTTONS", f"button {position} (URL)", mine, theirs, reference, same_format)


def _variable_difference(component: str, label: str, mine: tuple[str, ...], theirs: tuple[str, ...],
                         reference: str, same_format: bool) -> Iterator[tuple[str, str]]:
    """The number, then the kind, then the names; only the number when parameter_format differs
    (that difference is reported on its own and implies the rest)."""
    if len(mine) != len(theirs):
        count = f"{len(theirs)} ({_list(theirs)})" if theirs else "none"
        yield component, f"{label} has {_count(mine)}, {reference} has {count}"
    elif not same_format or set(mine) == set(theirs):
        return
    elif _kind(mine) != _kind(theirs):
        yield component, f"{label} uses {_kind(mine)} variables ({_list(mine)}), {reference} uses {_kind(theirs)} ones ({_list(theirs)})"
    else:
        yield component, f"{label} variables ({_list(mine)}) differ from {reference}'s ({_list(theirs)})"


def _variables(text: Any) -> tuple[str, ...]:
    """The distinct variables of ``text`` (a repeated one is one parameter), numbered ones in order."""
    found = tuple(dict.fromkeys(variables(text) if isinstance(text, str) else ()))
    return tuple(sorted(found, key=int)) if all(v.isdigit() for v in found) else found


def _kind(names: tuple[str, ...]) -> str:
    numbered = sum(n.isdigit() for n in names)
    return "numbered" if numbered == len(names) else "named" if numbered == 0 else "mixed"


def _count(names: tuple[str, ...]) -> str:
    if not names:
        return "no variables"
    return f"{len(names)} variable{'s' if len(names) > 1 else ''} ({_list(names)})"


def _list(names: tuple[str, ...]) -> str:
    return ", ".join(f"{{{{{n}}}}}" for n in names)


def _either(what: str, nothing: str, mine: str | None, theirs: str | None, reference: str) -> str:
    """E.g. 'header format IMAGE, en_US has TEXT', or 'no header, en_US has header format TEXT'."""
    if mine is not None and theirs is not None:
        return f"{what} {mine}, {reference} has {theirs}"
    return f"{nothing if mine is None else f'{what} {mine}'}, {reference} has {nothing if theirs is None else f'{what} {theirs}'}"


def _buttons(kinds: tuple[str, ...]) -> str | None:
    return f"[{', '.join(kinds)}]" if kinds else None


def _upper(value: Any) -> str:
    return str(value or "").upper()
