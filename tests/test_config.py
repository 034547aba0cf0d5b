"""Config loading: one fixture per failure mode, each asserted by place and a distinctive phrase."""

from __future__ import annotations

import dataclasses
import pathlib
import time

import pytest
import yaml

from reconciler.desired import config, yamlfile
from reconciler.errors import ConfigError, Problem
from reconciler.model import AccountSettings
from reconciler.schemas import load_schema

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "config"

# (fixture, line, column, phrase)
FAILURES = [
    ("duplicate_key", 12, 11, "duplicate key 'en_US' (first at line 10)"),
    ("unknown_key", 6, 5, "unknown key 'colour'"),
    ("wrong_type", 4, 14, "expected string, got int"),
    ("wrong_version", 1, 10, "version: must be 1"),
    ("bad_template_name", 7, 7, "name 'Order-Shipped' is not allowed"),
    ("unsupported_language", 10, 11, "name 'english' is not allowed"),
    ("unknown_category", 8, 19, "'TRANSACTIONAL' is not one of AUTHENTICATION, MARKETING, UTILITY"),
    ("unknown_task", 7, 47, "'FLY' is not one of"),
    ("users_without_business", 5, 5, "users need business_id"),
    ("yaml_syntax_error", 5, 1, "YAML syntax"),
    ("body_too_long", 12, 36, "BODY text is at most 1024 characters (has 1025)"),
    ("variables_not_sequential", 12, 36, "numbered from {{1}} without gaps"),
    ("variable_without_example", 12, 17, "every variable needs an example"),
    ("leading_variable", 12, 36, "cannot start or end with a variable"),
    ("too_many_url_buttons", 13, 42, "at most 2 URL buttons (found 3)"),
    ("button_text_too_long", 13, 69, "button text is at most 25 characters"),
    ("no_body", 12, 15, "needs a BODY component"),
    ("authentication_body_text", 12, 36, "authentication bodies have no text"),
    ("named_parameter_without_example", 13, 76, "body_text_named_params for first_name"),
    # numbers out of the range Meta allows
    ("max_templates_above_meta_cap", 5, 29, "max_templates: 6001 is out of range: at most 6000"),
    ("max_templates_zero", 5, 29, "max_templates: 0 is out of range: at least 1"),
    ("creates_per_hour_above_meta_rate", 3, 30, "creates_per_hour: 101 is out of range: at most 100"),
    ("max_deletes_negative", 5, 27, "max_deletes: -1 is out of range: at least 0"),
    ("max_deletes_above_template_cap", 5, 27, "max_deletes: 6001 is out of range: at most 6000"),
    ("max_delete_percent_above_100", 5, 34, "max_delete_percent: 101 is out of range: at most 100"),
    ("code_expiration_above_90", 13, 57, "code_expiration_minutes: 91 is out of range: at most 90"),
    # Meta's lengths and formats
    ("header_text_too_long", 12, 52, "HEADER text is at most 60 characters (has 61)"),
    ("footer_text_too_long", 13, 38, "FOOTER text is at most 60 characters (has 61)"),
    ("url_too_long", 13, 73, "url is at most 2000 characters (has 2003)"),
    ("url_without_scheme", 13, 73, "url must start with https:// or http://"),
    ("phone_number_too_long", 13, 93, "phone_number is at most 20 characters (has 24)"),
    ("phone_number_not_international", 13, 93, "phone_number is in international form"),
    ("copy_code_example_too_long", 13, 70, "copy code example is at most 15 characters (has 16)"),
    ("signature_hash_wrong_length", 13, 118, "signature_hash is exactly 11 characters"),
    # hostile or broken YAML
    ("alias_bomb", 11, 9, "aliases expand this value to 5,380,840 values; at most 2,000,000"),
    ("alias_inside_itself", 5, 14, "an alias (*name) inside the value it names"),
    ("nested_too_deep", 5, 111, "nested deeper than 100 levels"),
    ("merge_key_not_a_mapping", 5, 18, "expected a mapping or list of mappings for merging"),
    ("unknown_yaml_tag", 5, 29, "could not determine a constructor for the tag '!cap'"),
    ("value_not_its_tag", 5, 29, "'many' cannot be read: not a valid int"),
    ("number_too_long", 5, 29, "a number of more than 100 characters"),
    ("control_character", 5, 20, "character #x0000 is not allowed"),
    ("not_utf8", 5, 18, "not UTF-8 text: invalid continuation byte"),
    ("two_documents", 3, 1, "expected a single document in the stream, but found another document"),
    ("key_not_text", 5, 7, "keys must be text, not a list"),
    ("empty_file", 1, 1, "a config file is a mapping with version and accounts"),
    ("top_level_list", 1, 1, "a config file is a mapping with version and accounts"),
]
# libyaml's parser when PyYAML has it, and PyYAML's own (the fallback): both must give the same place.
LOADERS = [pytest.param(yaml.SafeLoader, id="python")]
if hasattr(yaml, "CSafeLoader"):
    LOADERS.append(pytest.param(yaml.CSafeLoader, id="libyaml"))


@pytest.fixture(params=LOADERS)
def loader(request, monkeypatch):
    monkeypatch.setattr(yamlfile, "LOADER", request.param)
    return request.param


@pytest.mark.usefixtures("loader")
@pytest.mark.parametrize("fixture,line,column,phrase", FAILURES, ids=[f[0] for f in FAILURES])
def test_each_failure_mode_is_reported_at_its_place(fixture, line, column, phrase):
    path = str(FIXTURES / f"{fixture}.yaml")
    with pytest.raises(ConfigError) as caught:
        config.load([path])
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.column) == (path, line, column)
    assert phrase in problem.message
    assert f"{path}, line {line}, column {column}: " in str(caught.value)


def test_account_declared_in_two_files():
    first, second = str(FIXTURES / "account_twice_a.yaml"), str(FIXTURES / "account_twice_b.yaml")
    with pytest.raises(ConfigError) as caught:
        config.load([first, second])
    (problem,) = caught.value.problems
    assert problem.file == second and problem.line == 3
    assert f"account 'acme' is declared twice (also in {first})" in problem.message


def test_every_problem_of_every_file_is_listed(tmp_path):
    bad = tmp_path / "many.yaml"
    bad.write_text(
        "version: 1\naccounts:\n  other:\n    waba_id: 5\n    colour: red\n    templates:\n"
        "      ok_name:\n        category: UTILITY\n        languages:\n"
        "          en: {components: [{type: BODY, text: \"Hi {{1}} there\"}]}\n"
    )
    with pytest.raises(ConfigError) as caught:
        config.load([str(bad), str(FIXTURES / "unknown_task.yaml")])
    messages = [p.message for p in caught.value.problems]
    assert len(messages) == 4
    assert any("expected string" in m for m in messages)
    assert any("unknown key 'colour'" in m for m in messages)
    assert any("every variable needs an example" in m for m in messages)
    assert any("'FLY'" in m for m in messages)


def test_directory_is_read_in_name_order(tmp_path):
    (tmp_path / "b.yaml").write_text((FIXTURES / "valid_minimal.yaml").read_text().replace("acme:", "beta:").replace("111000000000001", "111000000000002"))
    (tmp_path / "a.yml").write_text((FIXTURES / "valid_minimal.yaml").read_text())
    (tmp_path / "notes.txt").write_text("not config")
    desired = config.load([str(tmp_path)])
    assert [a.name for a in desired.accounts] == ["acme", "beta"]


def test_empty_directory_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"holds no \.yaml"):
        config.load([str(tmp_path)])
    with pytest.raises(ConfigError, match="cannot read"):
        config.load([str(tmp_path / "absent.yaml")])


def test_same_waba_in_two_accounts(tmp_path):
    text = (FIXTURES / "valid_minimal.yaml").read_text()
    (tmp_path / "a.yaml").write_text(text)
    (tmp_path / "b.yaml").write_text(text.replace("acme:", "acme-copy:"))
    with pytest.raises(ConfigError, match="already managed by account 'acme'"):
        config.load([str(tmp_path)])


def test_defaults_and_overrides_build_the_model(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "version: 1\n"
        "defaults: {on_change: edit, prune: {templates: true}, limits: {max_templates: 100}}\n"
        "accounts:\n"
        "  acme:\n"
        "    waba_id: '1'\n"
        "    business_id: '2'\n"
        "    token_env: ACME_TOKEN\n"
        "    prune: {users: true}\n"
        "    protect: [hello_world]\n"
        "    templates:\n"
        "      welcome:\n"
        "        category: marketing\n"
        "        parameter_format: named\n"
        "        on_change: forbid\n"
        "        languages:\n"
        "          en: {components: [{type: body, text: 'Hi {{name}} there', example: {body_text_named_params: [{param_name: name, example: Ann}]}}]}\n"
        "    users:\n"
        "      10222270944537964: [MANAGE]\n"
    )
    (account,) = config.load([str(path)]).accounts
    assert account.token_env == "ACME_TOKEN"
    assert account.settings.on_change == "edit" and account.on_change_for("welcome") == "forbid"
    assert account.settings.prune_templates and account.settings.prune_users
    assert account.settings.max_templates == 100 and account.settings.protect == {"hello_world"}
    (template,) = account.templates
    assert (template.category, template.parameter_format, template.components[0]["type"]) == ("MARKETING", "NAMED", "BODY")
    assert account.users[0].user_id == "10222270944537964"


def test_example_config_is_valid():
    desired = config.load([str(pathlib.Path(__file__).parent.parent / "examples" / "wabactl.yaml")])
    assert desired.accounts[0].name == "acme-main"


def test_policy_defaults_are_the_model_s_and_the_schema_agrees():
    """The defaults live once, in AccountSettings; the schema's ``default`` annotations (what
    editors show) must say the same, and a config that sets nothing gets exactly them."""
    policy = load_schema("config.schema.json")["$defs"]["policy"]["properties"]
    defaults = AccountSettings()
    documented = {
        "on_change": policy["on_change"]["default"],
        "prune_templates": policy["prune"]["properties"]["templates"]["default"],
        "prune_users": policy["prune"]["properties"]["users"]["default"],
        **{name: policy["limits"]["properties"][name]["default"] for name in policy["limits"]["properties"]},
    }
    assert documented == {name: getattr(defaults, name) for name in documented}
    assert set(documented) == {f.name for f in dataclasses.fields(AccountSettings)} - {"protect"}
    (account,) = config.load([str(FIXTURES / "valid_minimal.yaml")]).accounts
    assert account.settings == defaults


def test_whole_numbers_written_with_a_point_are_whole_numbers(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("version: 1\ndefaults: {limits: {creates_per_hour: 50.0, max_deletes: 0.0}}\naccounts: {acme: {waba_id: '1'}}\n")
    (account,) = config.load([str(path)]).accounts
    assert (account.settings.creates_per_hour, account.settings.max_deletes) == (50, 0)
    assert isinstance(account.settings.creates_per_hour, int)


# --- hostile input: refused quickly, with one problem, never another exception -------------------

SECONDS = 2.0  # the most a refusal may take, reading and every check included
HEAD = 'version: 1\naccounts:\n  acme:\n    waba_id: "111000000000001"\n'
BODY_HEAD = HEAD + "    templates:\n      t:\n        category: UTILITY\n        languages:\n          en:\n            components:\n              - type: BODY\n                text: "


def _bomb(levels: int) -> str:
    lines = [HEAD + '    protect: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"    x{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


# (name, file text, phrase); each made in tmp_path, for they are large or long to read
HOSTILE = [
    ("alias_bomb_30_levels", _bomb(30), "aliases expand this value to 5,380,840 values"),
    ("flow_sequences_10000_deep", HEAD + "    protect: " + "[" * 10_000 + "]" * 10_000 + "\n", "nested deeper than 100 levels"),
    ("flow_mappings_10000_deep", HEAD + "    limits: " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n", "nested deeper than 100 levels"),
    ("block_sequences_10000_deep", HEAD + "    protect:\n      " + "- " * 10_000 + "x\n", "nested deeper than 100 levels"),
    ("body_of_5_mb", BODY_HEAD + '"' + "x" * 5_000_000 + '"\n', "BODY text is at most 1024 characters (has 5000000)"),
    ("body_of_5_mb_of_variables", BODY_HEAD + '"' + "{{1}} " * 833_334 + '"\n', "BODY text is at most 1024 characters (has 5000004)"),
    ("body_of_5_mb_unclosed_variable", BODY_HEAD + '"{{' + " " * 4_999_997 + 'a"\n', "BODY text is at most 1024 characters (has 5000000)"),
    ("body_of_5_mb_of_open_braces", BODY_HEAD + '"' + "{{ " * 1_666_667 + '"\n', "BODY text is at most 1024 characters (has 5000001)"),
]


def _refused_quickly(path: pathlib.Path) -> Problem:
    start = time.perf_counter()
    with pytest.raises(ConfigError) as caught:
        config.load([str(path)])
    assert time.perf_counter() - start < SECONDS
    (problem,) = caught.value.problems
    assert problem.file == str(path)
    return problem


@pytest.mark.parametrize("name,text,phrase", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_input_is_refused_quickly(tmp_path, name, text, phrase):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    problem = _refused_quickly(path)
    assert phrase in problem.message
    assert problem.line > 0 and problem.column > 0


@pytest.mark.parametrize("name", ["alias_bomb_30_levels", "flow_sequences_10000_deep", "flow_mappings_10000_deep", "block_sequences_10000_deep"])
def test_hostile_yaml_is_refused_by_pyyaml_s_own_parser_too(tmp_path, monkeypatch, name):
    """Without libyaml PyYAML's composer recurses once per level: a RecursionError is one problem."""
    monkeypatch.setattr(yamlfile, "LOADER", yaml.SafeLoader)
    ((_, text, phrase),) = [h for h in HOSTILE if h[0] == name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    assert phrase in _refused_quickly(path).message


def test_file_larger_than_the_bound_is_refused_unread(tmp_path):
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as handle:
        handle.truncate(yamlfile.MAX_FILE_BYTES + 1)  # sparse: takes no room, reads as NUL bytes
    problem = _refused_quickly(path)
    assert (problem.line, problem.column) == (0, 0)
    assert "larger than 128 MiB" in problem.message


def test_a_file_writing_too_many_values_is_refused_before_composing(tmp_path, monkeypatch):
    """Counted while parsing, at the first value past the bound (composing would first take
    gigabytes: a 128 MiB file of ``[1,1,1,...`` writes 67 million values)."""
    monkeypatch.setattr(yamlfile, "MAX_VALUES", 1000)
    path = tmp_path / "many.yaml"
    path.write_text("version: 1\naccounts: [" + "1," * 2000 + "1]\n")
    problem = _refused_quickly(path)
    assert (problem.line, problem.column) == (2, 12 + 2 * 995)  # value 1,001: five before the list items, so item 996
    assert "too many values: the config holds more than 1,000" in problem.message


def test_problems_past_a_thousand_are_counted_not_listed(tmp_path):
    path = tmp_path / "wrong.yaml"
    path.write_text(HEAD + "    protect: [" + "1, " * 5000 + "1]\n    templates: {bad: {category: UTILITY, languages: {en: {components: [{type: BODY}]}}}}\n")
    with pytest.raises(ConfigError) as caught:
        config.load([str(path)])
    problems = caught.value.problems
    assert len(problems) == 1001
    assert "more than 1000 problems: the first 1000 are listed" in problems[0].message
    assert not any("BODY needs text" in problem.message for problem in problems)  # content unchecked


def test_a_long_key_or_value_is_shown_cut_short(tmp_path):
    path = tmp_path / "long.yaml"
    path.write_text(HEAD + f"    ? {'k' * 100_000}\n    : 1\n    token_env: '{'-' * 100_000}'\n")
    with pytest.raises(ConfigError) as caught:
        config.load([str(path)])
    assert len(caught.value.problems) == 2
    assert all(len(problem.message) < 300 for problem in caught.value.problems)


def test_phone_numbers_and_urls_in_the_forms_meta_takes(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(
        (FIXTURES / "valid_minimal.yaml").read_text()
        + "              - {type: BUTTONS, buttons: [{type: PHONE_NUMBER, text: Call, phone_number: '+55-0-955-585-95436'},"
        + " {type: URL, text: Open, url: 'HTTP://acme.example/{{1}}', example: ['http://acme.example/1']}]}\n"
    )
    (account,) = config.load([str(path)]).accounts
    assert account.templates[0].components[1]["buttons"][0]["phone_number"] == "+55-0-955-585-95436"


def _realistic(accounts: int, templates: int, shared: bool) -> str:
    """A config as a large business writes it: every account with its own templates in two
    languages, or (``shared``) every account naming the first one's templates through an alias."""
    def template_set() -> list[str]:
        lines = []
        for t in range(templates):
            lines += [f"      order_update_{t}:", "        category: UTILITY", "        languages:"]
            for language in ("en_US", "de"):
                lines += [
                    f"          {language}:",
                    "            components:",
                    "              - {type: BODY, text: 'Hello {{1}}, your order {{2}} ships today.', example: {body_text: [[Ann, '#1234']]}}",
                    "              - {type: FOOTER, text: Acme Shop}",
                    "              - {type: BUTTONS, buttons: [{type: URL, text: Track, url: 'https://acme.example/t/{{1}}', example: ['https://acme.example/t/1']}]}",
                ]
        return lines

    lines = ["version: 1", "defaults: {limits: {max_templates: 6000}}", "accounts:"]
    for a in range(accounts):
        lines += [f"  account-{a}:", f"    waba_id: '{100000 + a}'", f"    business_id: '{900000 + a}'"]
        if shared and a:
            lines.append("    templates: *shared")
        else:
            lines.append("    templates: &shared" if shared else "    templates:")
            lines += template_set()
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("shared", [False, True], ids=["written_out", "shared_through_aliases"])
def test_a_realistic_large_config_loads_and_prints_nothing(tmp_path, capfd, shared):
    """200 accounts x 50 templates x 2 languages: far above a real config, far below every bound."""
    path = tmp_path / "large.yaml"
    path.write_text(_realistic(accounts=200, templates=50, shared=shared))
    desired = config.load([str(path)])
    assert len(desired.accounts) == 200
    assert all(len(account.templates) == 100 for account in desired.accounts)
    assert capfd.readouterr() == ("", "")
