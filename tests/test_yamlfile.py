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


def _problem(tmp_path, text):
    import pytest

    from reconciler.errors import ConfigError

    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_document(str(path))
    return caught.value.problems[0]


def test_a_merge_key_bomb_is_refused_before_its_values_are_copied(tmp_path):
    import time

    bomb = "a: &a {" + ", ".join(f"k{i}: 1" for i in range(20000)) + "}\nm: {<<: [" + ", ".join(["*a"] * 2000) + "]}\n"
    started = time.perf_counter()
    problem = _problem(tmp_path, bomb)
    assert "aliases expand this value to 80,000,001 values" in problem.message and (problem.line, problem.column) == (2, 4)
    assert time.perf_counter() - started < 5


def test_an_anchor_name_given_twice_is_refused_at_the_second(tmp_path):
    problem = _problem(tmp_path, "x: &d {a: 1}\ny: &d {b: 2}\n")
    assert "found duplicate anchor 'd'" in problem.message and problem.line == 2


def test_anchors_and_aliases_on_keys(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("&k en: 1\nx: *k\na: &n 5\n*n : y\n")
    assert load_document(str(path)).data == {"en": 1, "x": "en", "a": 5, "5": "y"}


def test_a_duplicate_key_s_place_is_the_first_one_the_kept_one(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("t:\n  c: GOOD\n  d: 1\n  c: BAD\n")
    document = load_document(str(path))
    assert document.data == {"t": {"c": "GOOD", "d": 1}} and document.position(("t", "c")) == (2, 6)
