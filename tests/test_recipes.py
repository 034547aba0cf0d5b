"""The CI recipes in examples/ci/ (GitHub workflows and composite action, GitLab CI), proven.

Schemas: each file validates, offline, against the JSON Schema check-jsonschema vendors for it
(github-workflows, github-actions, gitlab-ci); a broken copy of each fails, so the check can fail.

Runs: each recipe's own shell steps run with bash, in order, in a temporary workspace holding a
copy of tests/fixtures/recipes/wabactl.yaml, with the real wabactl of this venv against the Graph
API emulator on 127.0.0.1. Stubbed, because they belong to the CI platform and not to wabactl:
- ``gh``, ``curl`` and ``pip``: tests/fixtures/recipes/forge_stub.py, first on PATH. ``gh`` and
  ``curl`` act on an imitation forge (one pull/merge request's comments, the issues) that the
  tests inspect; ``gh --jq`` filters run in the ``jq`` package; ``pip`` only
  records what it was asked to install.
- Third-party actions (checkout, setup-python, cache, upload-artifact) are skipped: the workspace
  persists between runs as the cache would keep .wabactl/. Our composite action is expanded, its
  inputs given as env the way GitHub does.
- ``${{ }}`` expressions take values from GITHUB_CONTEXT (besides env., inputs. and steps.*.outputs);
  one not in the table fails the test, as does a GitLab ``rules: if:`` missing from GITLAB_RULES.
  A GitLab job's before_script and script run as one bash script, as the runner does.
"""

from __future__ import annotations

import copy
import importlib.resources
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema.validators import validator_for
from referencing import Registry
from ruamel.yaml import YAML

from conftest import BUSINESS, TOKEN, WABA, seed_with, template

REPO = Path(__file__).resolve().parents[1]
CI = REPO / "examples" / "ci"
ACTION = CI / "github" / "action.yml"
WORKFLOW = {kind: CI / "github" / "workflows" / f"wabactl-{kind}.yml" for kind in ("plan", "apply", "drift")}
GITLAB_CI = CI / "gitlab" / ".gitlab-ci.yml"
FIXTURES = Path(__file__).parent / "fixtures" / "recipes"
GH_TOKEN, GITLAB_TOKEN, REPOSITORY = "ghs-stub-token", "glpat-stub-token", "acme/waba-config"  # as forge_stub.py
MARKER = {kind: f"<!-- wabactl:{kind} -->" for kind in ("plan", "apply", "drift")}
SEED = seed_with([template("order_shipped")])  # live: order_shipped[en_US], as the fixture config declares it
THIRD_PARTY = {"actions/checkout", "actions/setup-python", "actions/cache/restore", "actions/cache/save", "actions/upload-artifact"}

GITHUB_CONTEXT: dict[str, str | bool] = {  # every ${{ }} the recipes may use, with its value here
    "secrets.WABACTL_TOKEN": TOKEN, "github.token": GH_TOKEN, "github.repository": REPOSITORY,
    "github.run_id": "4242", "github.run_attempt": "1", "github.event.pull_request.number": "7",
    "github.event.pull_request.head.repo.full_name == github.repository": True,  # not from a fork
}
GITHUB_EVENT = {"plan": "pull_request", "apply": "push", "drift": "schedule"}
GITLAB_VARIABLES = {  # predefined and project CI/CD variables, as GitLab would set them
    "CI_API_V4_URL": "https://gitlab.example.com/api/v4", "CI_PROJECT_ID": "42", "CI_MERGE_REQUEST_IID": "7",
    "CI_JOB_URL": "https://gitlab.example.com/acme/waba-config/-/jobs/99", "CI_DEFAULT_BRANCH": "main",
    "WABACTL_TOKEN": TOKEN, "GITLAB_API_TOKEN": GITLAB_TOKEN,
}
GITLAB_RULES = {  # every `rules: if:` the recipe may use, with the events it matches
    '$CI_PIPELINE_SOURCE == "merge_request_event"': {"merge request"},
    '$CI_PIPELINE_SOURCE == "schedule"': {"schedule"},
    "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH": {"push to main", "run on main", "schedule"},
    '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE == "push"': {"push to main"},
    '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE == "web"': {"run on main"},
}
GITLAB_JOB = {"plan": ("merge request", "wabactl-plan"), "apply": ("push to main", "wabactl-apply"), "drift": ("schedule", "wabactl-drift")}
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def load_yaml(path: Path) -> Any:
    """As GitHub and GitLab read YAML (1.2: `on` is a key, not true)."""
    return YAML(typ="safe", pure=True).load(path.read_text())


# --- schemas -------------------------------------------------------------------------------------

SCHEMA_OF = {ACTION: "github-actions", GITLAB_CI: "gitlab-ci", **{path: "github-workflows" for path in WORKFLOW.values()}}


def refuse_remote(uri: str) -> Any:
    raise AssertionError(f"the schema refers to {uri}: validating would need the network")


def schema_errors(document: Any, name: str) -> list[str]:
    schema = json.loads(importlib.resources.files("check_jsonschema.builtin_schemas.vendor").joinpath(f"{name}.json").read_text())
    validator = validator_for(schema)(schema, registry=Registry(retrieve=refuse_remote))
    return [f"{list(error.absolute_path)}: {error.message[:200]}" for error in validator.iter_errors(document)]


@pytest.mark.parametrize("path", list(SCHEMA_OF), ids=lambda path: str(path.relative_to(CI)))
def test_recipe_is_valid_by_its_schema(path):
    assert schema_errors(load_yaml(path), SCHEMA_OF[path]) == []


BREAKAGES = {  # one likely mistake per schema
    "workflow permission that does not exist": (WORKFLOW["apply"], lambda doc: doc["permissions"].update(contents="readwrite")),
    "composite run step without shell": (ACTION, lambda doc: doc["runs"]["steps"][-1].pop("shell")),
    "cache kept 'sometimes'": (GITLAB_CI, lambda doc: doc["wabactl-apply"].update(cache={**doc["wabactl-apply"]["cache"], "when": "sometimes"})),
}


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_broken_recipe_is_invalid(breakage):
    path, damage = BREAKAGES[breakage]
    document = copy.deepcopy(load_yaml(path))
    damage(document)
    assert schema_errors(document, SCHEMA_OF[path]) != []


def test_no_expression_inside_a_run_script():
    """Expressions go through env: only, so no value can inject shell code (the runner relies on it)."""
    steps = load_yaml(ACTION)["runs"]["steps"] + [s for path in WORKFLOW.values() for job in load_yaml(path)["jobs"].values() for s in job["steps"]]
    assert [step["run"] for step in steps if "${{" in step.get("run", "")] == []


def test_github_permissions_and_concurrency_are_the_least_needed():
    plan, apply, drift = (load_yaml(WORKFLOW[kind]) for kind in ("plan", "apply", "drift"))
    assert [plan["permissions"], apply["permissions"], drift["permissions"]] == [
        {"contents": "read", "pull-requests": "write"}, {"contents": "read"}, {"contents": "read", "issues": "write"}]
    assert apply["on"]["push"] == {"branches": ["main"]} and apply["concurrency"] == {"group": "wabactl-apply", "cancel-in-progress": False}
    gitlab = load_yaml(GITLAB_CI)
    assert gitlab["wabactl-apply"]["resource_group"] == "wabactl-apply"
    assert gitlab["wabactl-apply"]["cache"] == {"key": "wabactl-ledger", "paths": [".wabactl/"], "when": "always"}


# --- running the recipes -------------------------------------------------------------------------


@dataclass
class Outcome:
    passed: bool  # the job's status
    code: int  # wabactl's exit code as the job saw it (the action's output; GitLab: the job's exit code)
    warned: bool  # visible without failing: a ::warning:: annotation, or GitLab's "passed with warnings"
    log: str


class Workspace:
    """One CI job's world: the checkout (a copy of the fixture config), stubs first on PATH, the forge."""

    platform = ""  # github | gitlab; subclasses add run(kind) -> Outcome and assert_pinned_install()

    def __init__(self, root: Path, graph_url: str) -> None:
        self.root, self.work, self.stubs, self.bin = root, root / "work", root / "stubs", root / "bin"
        for folder in (self.work, self.stubs, self.bin):
            folder.mkdir()
        self.config = self.work / "wabactl.yaml"
        shutil.copy(FIXTURES / "wabactl.yaml", self.config)
        for tool in ("gh", "curl", "pip"):
            wrapper = self.bin / tool
            wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FIXTURES / "forge_stub.py"}" {tool} "{self.stubs}" "$@"\n')
            wrapper.chmod(0o755)
        (self.stubs / "forge.json").write_text(json.dumps({"comments": [], "issues": [], "labels": [], "ops": []}))
        self.env = {"PATH": f"{self.bin}:{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(root), "LANG": "C.UTF-8", "CI": "true",
                    "WABACTL_GRAPH_URL": graph_url, "WABACTL_RETRY_BACKOFF": "0.01"}
        self.scripts = 0

    def bash(self, script: str, env: dict[str, str]) -> tuple[int, str]:
        self.scripts += 1
        (path := self.root / f"script-{self.scripts}.sh").write_text(script)
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)], cwd=self.work, env=env, capture_output=True, text=True, timeout=60)
        return done.returncode, f"$ {script}\n{done.stdout}{done.stderr}"

    def forge(self) -> dict[str, Any]:
        return json.loads((self.stubs / "forge.json").read_text())

    def add_comments(self, bodies: list[str]) -> None:
        forge = self.forge()
        forge["comments"] += [{"id": i, "body": body, "user": {"login": "octocat"}} for i, body in enumerate(bodies, len(forge["comments"]) + 1)]
        (self.stubs / "forge.json").write_text(json.dumps(forge))

    def ops(self) -> list[str]:
        return [op["op"] for op in self.forge()["ops"]]

    def installed(self) -> str:
        """What the recipe asked pip to install (each install the same)."""
        calls = [call for call in map(json.loads, (self.stubs / "calls.jsonl").read_text().splitlines()) if call["tool"] == "pip"]
        assert calls and all(call["args"][0] == "install" for call in calls) and len({call["args"][-1] for call in calls}) == 1, calls
        return calls[0]["args"][-1]


def lookup(expression: str, scope: dict[str, dict[str, Any]]) -> Any:
    """The value of a GitHub expression: from the table, or the env, inputs and step outputs in scope."""
    if expression in GITHUB_CONTEXT:
        return GITHUB_CONTEXT[expression]
    context, _, name = expression.partition(".")
    step, _, output = name.partition(".outputs.")
    if context in ("env", "inputs") and name in scope.get(context, {}):
        return scope[context][name]
    if context == "steps" and step in scope.get("steps", {}):
        return scope["steps"][step].get(output, "")
    pytest.fail(f"${{{{ {expression} }}}} is not in the test's table of CI values")


def resolve(value: Any, scope: dict[str, dict[str, Any]]) -> str:
    return EXPRESSION.sub(lambda match: str(lookup(match[1], scope)), str(value))


def condition(text: str, failed: bool, scope: dict[str, dict[str, Any]]) -> bool:
    """A step's or job's `if:`; without a status function it implies success()."""
    match = EXPRESSION.fullmatch(text.strip())
    expression = match[1] if match else text.strip()
    status = {"success()": not failed, "always()": True, "failure()": failed}
    if expression in status:
        return status[expression]
    value = lookup(expression, scope)
    assert isinstance(value, bool), expression
    return value and not failed


class GitHubRecipes(Workspace):
    platform = "github"

    def run(self, kind: str) -> Outcome:
        workflow = load_yaml(WORKFLOW[kind])
        assert GITHUB_EVENT[kind] in workflow["on"] and workflow["defaults"]["run"]["shell"] == "bash"
        (job,) = workflow["jobs"].values()
        self.log: list[str] = []
        self.action_codes: list[str] = []
        env = {**self.env, "GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_SERVER_URL": "https://github.com",
               "GITHUB_RUN_ID": "4242", "GITHUB_WORKSPACE": str(self.work), "RUNNER_TEMP": str(self.root),
               "GITHUB_STEP_SUMMARY": str(self.root / "summary.md")}
        (self.root / "summary.md").write_text("")
        for level in (workflow, job):
            env |= {name: resolve(value, {"env": env}) for name, value in level.get("env", {}).items()}
        assert condition(job.get("if", "success()"), False, {"env": env})
        code, _ = self.steps(job["steps"], env)
        (wabactl_code,) = self.action_codes
        log = "\n".join(self.log)
        return Outcome(code == 0, int(wabactl_code), re.search(r"^::warning", log, re.M) is not None, log)

    def summary(self) -> str:
        return (self.root / "summary.md").read_text()

    def steps(self, steps: list[dict[str, Any]], env: dict[str, str], inputs: dict[str, str] | None = None) -> tuple[int, dict]:
        code, outputs = 0, {}
        scope = {"env": env, "inputs": inputs or {}, "steps": outputs}
        for step in steps:
            if not condition(step.get("if", "success()"), code != 0, scope):
                continue
            step_env = env | {name: resolve(value, scope) for name, value in step.get("env", {}).items()}
            given = {name: resolve(value, scope) for name, value in step.get("with", {}).items()}
            uses = step.get("uses", "").split("@")[0]
            if "run" in step:
                assert "${{" not in step["run"] and step.get("shell", "bash") == "bash", step
                step_code, step_outputs = self.run_script(step["run"], step_env)
            elif uses.endswith("/examples/ci/github"):
                step_code, step_outputs = self.action(given, step_env)
            else:
                assert uses in THIRD_PARTY, f"a third-party action the test does not know: {uses}"
                step_code, step_outputs = 0, {}
            outputs[step.get("id", "")] = step_outputs
            code = code or step_code
        return code, outputs

    def run_script(self, script: str, env: dict[str, str]) -> tuple[int, dict[str, str]]:
        output_file = self.root / f"output-{self.scripts}"
        output_file.write_text("")
        code, log = self.bash(script, env | {"GITHUB_OUTPUT": str(output_file)})
        self.log.append(log)
        return code, dict(line.split("=", 1) for line in output_file.read_text().splitlines())

    def action(self, given: dict[str, str], env: dict[str, str]) -> tuple[int, dict[str, str]]:
        action = load_yaml(ACTION)
        assert set(given) <= set(action["inputs"]), given
        assert all(name in given for name, spec in action["inputs"].items() if spec.get("required")), given
        inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()} | given
        code, outputs = self.steps(action["runs"]["steps"], env | {"GITHUB_ACTION_PATH": str(ACTION.parent)}, inputs)
        values = {name: resolve(spec["value"], {"env": env, "inputs": inputs, "steps": outputs}) for name, spec in action["outputs"].items()}
        self.action_codes.append(values["exit-code"])
        return code, values

    def assert_pinned_install(self) -> None:
        assert Path(self.installed()).resolve() == REPO  # the action's own checkout: its ref pins wabactl


class GitLabRecipes(Workspace):
    platform = "gitlab"

    def jobs_for(self, config: dict[str, Any], event: str) -> list[str]:
        def matches(rules: list[dict[str, str]]) -> bool:
            unknown = [rule["if"] for rule in rules if rule["if"] not in GITLAB_RULES]
            assert not unknown, f"rules the test's table does not know: {unknown}"
            return any(event in GITLAB_RULES[rule["if"]] for rule in rules)

        jobs = [name for name, job in config.items() if not name.startswith(".") and isinstance(job, dict) and "script" in job]
        return [name for name in jobs if matches(config["workflow"]["rules"]) and matches(config[name]["rules"])]

    def run(self, kind: str) -> Outcome:
        config = load_yaml(GITLAB_CI)
        event, name = GITLAB_JOB[kind]
        assert self.jobs_for(config, event) == [name]
        job = config[name]
        env = self.env | GITLAB_VARIABLES | {"CI_PROJECT_DIR": str(self.work)} | config["variables"] | job.get("variables", {})
        code, log = self.bash("\n".join(job.get("before_script", config["default"]["before_script"]) + job["script"]), env)
        allowed = job.get("allow_failure", {}).get("exit_codes", []) if isinstance(job.get("allow_failure"), dict) else []
        return Outcome(code == 0 or code in allowed, code, code in allowed and code != 0, log)

    def assert_pinned_install(self) -> None:
        assert self.installed() == f"wabactl=={load_yaml(GITLAB_CI)['variables']['WABACTL_VERSION']}"


@pytest.fixture(params=[GitHubRecipes, GitLabRecipes], ids=["github", "gitlab"])
def ci(request, emulator, tmp_path) -> Workspace:
    return request.param(tmp_path, emulator.url)


def assert_token_kept_secret(ci: Workspace, *outcomes: Outcome) -> None:
    """The Meta token reaches wabactl through the environment only: never a log, a call or a post."""
    places = [o.log for o in outcomes] + [path.read_text() for path in ci.stubs.iterdir()] + [path.read_text() for path in ci.work.glob("*.md")]
    assert not [place for place in places if TOKEN in place]


def big_config(names: int = 160) -> str:
    """A config whose plan (3 creates a name) is longer than a GitHub comment may be."""
    templates = {f"notice_{i:03d}": {"category": "UTILITY", "languages": {language: {"components": [
        {"type": "BODY", "text": f"Notice {i}: your order {{{{1}}}} ships soon.", "example": {"body_text": [["#1"]]}}]}
        for language in ("en_US", "es", "pt_BR")}} for i in range(names)}
    return yaml.safe_dump({"version": 1, "accounts": {"acme": {"waba_id": WABA, "business_id": BUSINESS, "templates": templates}}})


def set_status(graph, status: str) -> None:
    """What Meta does on its own: order_shipped[en_US] paused, or approved again."""
    (row,) = [t for t in graph.get(f"{WABA}/message_templates").json()["data"] if (t["name"], t["language"]) == ("order_shipped", "en_US")]
    graph.control("POST", f"templates/{row['id']}", {"status": status})


def plan_comments(ci: Workspace) -> list[str]:
    return [c["body"] for c in ci.forge()["comments"] if c["body"].startswith(MARKER["plan"])]


def test_plan_posts_one_comment_then_updates_it(ci, load):
    load(SEED)
    ci.add_comments(["Looks good to me.", "<!-- another-bot -->\nnot ours"])
    first = ci.run("plan")
    assert first.passed, first.log
    assert ci.ops() == ["comment.create"]
    (comment,) = plan_comments(ci)
    assert comment.startswith(MARKER["plan"] + "\n") and "2 to create" in comment, comment

    ci.add_comments([f"review remark {i}" for i in range(120)])  # the plan comment is now pages away
    ci.config.write_text(big_config())
    second = ci.run("plan")
    assert second.passed, second.log
    assert ci.ops() == ["comment.create", "comment.update"]  # updated in place, never a second comment
    (comment,) = plan_comments(ci)
    assert comment.startswith(MARKER["plan"] + "\n") and "480 to create" in comment
    assert len(comment) <= 65_536 and "Details cut to fit in one comment" in comment  # ~78,000 characters uncut
    assert (ci.work / "plan.json").is_file()  # the whole plan, kept as an artifact
    ci.assert_pinned_install()
    assert_token_kept_secret(ci, first, second)


def test_apply_converges_and_keeps_its_report_and_ledger(ci, load, wabactl):
    load(SEED)
    applied = ci.run("apply")
    assert applied.passed and applied.code == 0 and not applied.warned, applied.log
    assert wabactl("plan", str(ci.config), "--detailed-exitcode").exit_code == 0
    markdown = (ci.work / "apply.md").read_text()
    assert markdown.startswith(MARKER["apply"] + "\n"), markdown
    if ci.platform == "github":
        assert ci.summary() == markdown
    report = json.loads((ci.work / "apply-report.json").read_text())
    assert report["format"] == "wabactl-apply-report" and report["exit_code"] == 0 and report["summary"], report
    assert (ci.work / ".wabactl" / "ledger.json").is_file()  # what the ledger cache keeps
    ci.assert_pinned_install()
    assert_token_kept_secret(ci, applied)


def test_apply_waiting_on_the_creation_budget_passes_with_a_warning_then_finishes(ci, load, wabactl):
    graph = load(seed_with([template("order_shipped")], creates_per_hour=1))
    first = ci.run("apply")
    assert first.passed and first.code == 3 and first.warned, first.log
    report = json.loads((ci.work / "apply-report.json").read_text())
    assert report["exit_code"] == 3 and f"again after {report['retry_at']}." in first.log  # says when
    graph.advance(3600)
    second = ci.run("apply")
    assert second.passed and second.code == 0 and not second.warned, second.log
    assert wabactl("plan", str(ci.config), "--detailed-exitcode").exit_code == 0


def test_drift_opens_one_issue_updates_it_and_closes_it_when_clean(ci, load, wabactl):
    graph = load(SEED)
    assert wabactl("apply", str(ci.config), "--auto-approve").exit_code == 0
    clean = ci.run("drift")
    assert clean.passed and ci.ops() == [], clean.log

    set_status(graph, "PAUSED")
    found = [ci.run("drift") for _ in range(2)]
    assert all(outcome.passed for outcome in found), found[-1].log
    (issue,) = ci.forge()["issues"]
    assert ci.forge()["ops"] == [{"op": "issue.create", "number": issue["number"]}, {"op": "issue.update", "number": issue["number"]}]
    assert issue["state"] == "open" and issue["labels"] == ["wabactl-drift"]
    assert issue["body"].startswith(MARKER["drift"] + "\n") and "PAUSED" in issue["body"], issue["body"]

    set_status(graph, "APPROVED")
    fixed = ci.run("drift")
    assert fixed.passed, fixed.log
    (issue,) = ci.forge()["issues"]
    assert ci.ops()[-1] == "issue.close" and issue["state"] == "closed" and len(issue["comments"]) == 1

    ci.config.write_text("version: 1\naccounts: []\n")  # exit 1: the job fails, the issue is left as it is
    broken = ci.run("drift")
    assert not broken.passed and ci.ops()[-1] == "issue.close", broken.log
    assert_token_kept_secret(ci, clean, *found, fixed, broken)
