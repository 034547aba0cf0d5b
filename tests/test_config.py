"""Config loading: one fixture per failure mode, each asserted by place and a distinctive phrase."""

from __future__ import annotations

import dataclasses
import pathlib

import pytest

from reconciler.desired import config
from reconciler.errors import ConfigError
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
]


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
