"""The YAML reader: values from the parser's events, merge keys, and places found when needed."""

from __future__ import annotations

from reconciler.desired.yamlfile import load_document


def test_merge_keys_bring_in_mappings_and_the_mapping_s_own_keys_win(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("base: &base {a: 1, b: 2}\nmore: &more {b: 3, c: 4}\nuse:\n  <<: [*base, *more]\n  a: own\n")
    document = load_document(str(path))
    assert document.problems == []
    assert document.data["use"] == {"a": "own", "b": 2, "c": 4}  # own key over sources; the first source over later ones


def test_places_are_found_for_values_keys_and_list_items(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("version: 1\naccounts:\n  acme:\n    waba_id: '1'\n    protect: [a, b]\n")
    document = load_document(str(path))
    assert document.position(("accounts", "acme", "waba_id")) == (4, 14)
    assert document.position(("accounts", "acme", "waba_id"), at_key=True) == (4, 5)
    assert document.position(("accounts", "acme", "protect", 1)) == (5, 18)
    assert document.position(("accounts", "acme", "nothing", "here")) == (4, 5)  # the nearest enclosing value: acme's mapping
    assert document.problem(("accounts",), "x").line == 3


def test_a_duplicate_key_names_the_first_line(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("a: 1\nb: 2\na: 3\n")
    document = load_document(str(path))
    assert [p.message for p in document.problems] == ["duplicate key 'a' (first at line 1)"]
    assert document.data == {"a": 1, "b": 2}
