"""Template sets without HTTP: what ``use`` brings in, in which order, and ``${name}`` expansion."""

from __future__ import annotations

import pytest

from reconciler.desired.sets import Declared, expand, references, resolve
from reconciler.desired.yamlfile import Document


def declared(kind: str, name: str, **raw) -> Declared:
    return Declared(Document("c.yaml", {}), (kind, name), raw)


T = {"category": "UTILITY", "languages": {}}


def test_use_brings_in_sets_depth_first_and_the_account_overrides():
    sets = {"base": declared("template_sets", "base", templates={"a": T, "b": T}),
            "extra": declared("template_sets", "extra", use=["base"], templates={"c": T})}
    account = declared("accounts", "acme", use=["extra"], templates={"b": {"category": "MARKETING", "languages": {}}})
    entries, problems = resolve(account, sets)
    assert problems == []
    assert [(e.name, e.origin) for e in entries] == [("a", "base"), ("b", None), ("c", "extra")]


@pytest.mark.parametrize(("sets", "use", "message"), [
    ({}, ["nope"], "unknown template set 'nope'"),
    ({"a": {"use": ["b"], "templates": {}}, "b": {"use": ["a"], "templates": {}}}, ["a"], "cycle: a -> b -> a"),
    ({"a": {"use": ["a"], "templates": {}}}, ["a"], "cycle: a -> a"),
    ({"a": {"templates": {"x": T}}, "b": {"templates": {"x": T}}}, ["a", "b"], "template x is defined by both set a and set b"),
])
def test_use_problems(sets, use, message):
    known = {name: declared("template_sets", name, **raw) for name, raw in sets.items()}
    _, problems = resolve(declared("accounts", "acme", use=use), known)
    assert any(message in p.message for p in problems), [p.message for p in problems]


def test_a_broken_shape_is_skipped_not_a_crash():
    entries, problems = resolve(declared("accounts", "acme", use=[5, "a"], templates=["not", "a", "map"]),
                                {"a": declared("template_sets", "a", templates={"x": "not a template"})})
    assert entries == [] and problems == []


def test_expand_fills_values_keeps_meta_variables_and_escapes():
    value, missing = expand({"text": "Hi {{1}} from ${brand} ($${brand})", "list": ["${brand}"]}, {"brand": "Acme"})
    assert value == {"text": "Hi {{1}} from Acme (${brand})", "list": ["Acme"]} and missing == []


def test_expand_lists_what_has_no_value_with_its_path():
    _, missing = expand({"components": [{"text": "${brand} ${ bad }"}]}, {})
    assert [(m.path, m.variable) for m in missing] == [(("components", 0, "text"), "brand"), (("components", 0, "text"), " bad ")]


def test_references_names_what_a_value_uses_not_escapes():
    assert sorted(set(references({"a": ["${x}", "$${y}", {"b": "${z}"}]}))) == ["x", "z"]
