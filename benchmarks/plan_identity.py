"""Issue 12's "the benchmark's plan JSON is identical before and after the speed work": the plan
JSON of two git refs of wabactl, for the same config against the same emulator, compared.

Each ref is exported with ``git -C REPO archive REF | tar -x -C DIR/REF`` and run as
``python -m reconciler plan CONFIG --format json --out plan-REF.json --parallelism P`` with
``PYTHONPATH`` set to its export, so neither the working tree nor the installed copy is what runs.
One emulator process (the AFTER ref's code) serves both runs; it is reset to its seed between them.

The fleet is ``fleet_plan.py``'s (WABAS WABAs, 250 names x 2 languages, 3 users each), its clock
frozen (so ``created_at``, taken from the Graph API's clock, is the same in both runs) and its
template cap raised to 300 (the fleet holds 250 names, Meta's default cap), and the
config is that benchmark's (``set`` or ``full`` variant) with changes, so the plan is not empty:
CHANGED template names get a new body (every other one with ``on_change: edit``: edits; the rest
keep the default, replace, which the plan blocks for APPROVED templates), NEW names are added (creates), and the first
USER_CHANGES accounts give one user another task set.

Normalised before comparing, and only this: ``wabactl_version`` (it names the build, not the
plan); and one change of the plan file's format made by the speed work itself, to keep a fleet's
plan small: each account's ``statuses`` (display only) now lists the keys the plan changes, not
every live template, and ``live_templates`` counts those instead (what the delete threshold uses).
Both sides are compared as that format: statuses of changed keys only, the count set aside.
Both the JSON on standard output and the saved plan file are compared; the first differences are
listed by JSON path. Prints IDENTICAL and exits 0, or a summary and exits 1.

    python benchmarks/plan_identity.py [--before REF] [--after REF] [--repo DIR] [--wabas N]
        [--variant set|full] [--changed C] [--new K] [--user-changes U] [--parallelism P] [--keep DIR]

Defaults: before 97fdb6e (fleets and template sets, before the speed work), after HEAD, the repo
this file is in, 50 WABAs, set, 10 changed, 5 new, 5 user changes, parallelism 8.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from _emulator import running_emulator
from fleet_plan import LANGUAGES, NAMES, TOKEN, USERS, Dumper, FullDumper, Graph, components, seed, workdir, write_config

NORMALISED = ("wabactl_version",)
FROZEN_AT = "2026-11-01T00:00:00Z"
CHANGED_USER = "100000000000003"


def export(repo: str, ref: str, folder: Path) -> str:
    """The ref exported into ``folder``; its commit id."""
    commit = subprocess.run(["git", "-C", repo, "rev-parse", "--verify", f"{ref}^{{commit}}"], capture_output=True, text=True, check=True).stdout.strip()
    folder.mkdir(parents=True, exist_ok=True)
    archive = subprocess.Popen(["git", "-C", repo, "archive", commit], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(folder)], stdin=archive.stdout, check=True)
    if archive.wait() != 0:
        raise SystemExit(f"git archive {ref} failed")
    return commit


def change_templates(templates: dict[str, Any], changed: int, new: int) -> None:
    for i in range(changed):
        if i % 2 == 0:
            templates[f"notice_{i:03d}"]["on_change"] = "edit"  # the others keep the default, replace: blocked for APPROVED ones
        for language, body in templates[f"notice_{i:03d}"]["languages"].items():
            body["components"][0]["text"] = body["components"][0]["text"].replace(").", ", changed).")
            assert "changed" in body["components"][0]["text"], language
    for i in range(NAMES, NAMES + new):
        templates[f"notice_{i:03d}"] = {"category": "UTILITY", "languages": {lang: {"components": components(i, lang)} for lang in LANGUAGES}}


def write_changed_config(folder: Path, count: int, variant: str, changed: int, new: int, user_changes: int) -> list[Path]:
    """fleet_plan's config, with the changes written in."""
    paths = write_config(folder, count, variant)
    seen = 0
    for path in paths:
        config = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        if variant == "set":
            change_templates(next(iter(config["template_sets"].values()))["templates"], changed, new)
        for account in config["accounts"].values():
            if variant == "full":
                change_templates(account["templates"], changed, new)
            if seen < user_changes:
                account["users"][CHANGED_USER] = ["MANAGE_TEMPLATES", "VIEW_TEMPLATES"]
            seen += 1
        path.write_text(yaml.dump(config, Dumper=FullDumper if variant == "full" else Dumper, width=1000, sort_keys=False), encoding="utf-8")
    return paths


def run_plan(label: str, code_dir: Path, files: list[str], folder: Path, environ: dict[str, str], parallelism: int) -> tuple[Any, Any, float]:
    """The stdout JSON and the saved plan of one ref's ``plan``, and its wall time."""
    out = f"plan-{label}.json"
    command = [sys.executable, "-m", "reconciler", "plan", *files, "--format", "json", "--out", out, "--parallelism", str(parallelism)]
    env = environ | {"PYTHONPATH": str(code_dir)}
    started = time.perf_counter()
    with open(folder / f"plan-{label}.stdout", "w") as stdout, open(folder / f"plan-{label}.stderr", "w") as stderr:
        code = subprocess.run(command, stdout=stdout, stderr=stderr, env=env, cwd=folder).returncode
    wall = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"{label}: plan exited {code}:\n{(folder / f'plan-{label}.stderr').read_text()[-3000:]}")
    return json.loads((folder / f"plan-{label}.stdout").read_text()), json.loads((folder / out).read_text()), wall


def normalise(document: Any) -> tuple[Any, dict[str, tuple[Any, ...]]]:
    """The document without what must differ; what was taken out."""
    removed: dict[str, tuple[Any, ...]] = {}
    if isinstance(document, dict):
        document = dict(document)
        for key in NORMALISED:
            if key in document:
                removed[key] = (document.pop(key),)
        document["accounts"] = [_statuses_of_changes(account) for account in document.get("accounts") or []]
    return document, removed


def _statuses_of_changes(account: Any) -> Any:
    """An account in the plan format after the speed work: statuses of the changed keys only."""
    if not isinstance(account, dict):
        return account
    account = dict(account)
    account.pop("live_templates", None)
    changed = {change.get("key") for change in account.get("changes") or []}
    account["statuses"] = {key: status for key, status in (account.get("statuses") or {}).items() if key in changed}
    return account


def differences(a: Any, b: Any, path: str = "$") -> list[str]:
    if type(a) is not type(b):
        return [f"{path}: {type(a).__name__} {_short(a)} vs {type(b).__name__} {_short(b)}"]
    if isinstance(a, dict):
        found = [f"{path}.{k}: only in before" for k in a if k not in b] + [f"{path}.{k}: only in after" for k in b if k not in a]
        for key in a:
            if key in b:
                found.extend(differences(a[key], b[key], f"{path}.{key}"))
        if not found and list(a) != list(b):
            found.append(f"{path}: same keys in another order")
        return found
    if isinstance(a, list):
        found = []
        if len(a) != len(b):
            found.append(f"{path}: {len(a)} items vs {len(b)}")
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            found.extend(differences(x, y, f"{path}[{i}]"))
        return found
    return [] if a == b else [f"{path}: {_short(a)} vs {_short(b)}"]


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


def summary(plan: Any) -> str:
    accounts = plan.get("accounts", []) if isinstance(plan, dict) else []
    actions = Counter(c.get("action") for a in accounts for c in a.get("changes", []))
    return f"{len(accounts)} accounts, {sum(actions.values())} changes ({', '.join(f'{k} {n}' for k, n in sorted(actions.items(), key=str))})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default="97fdb6e", help="the ref before the speed work (default 97fdb6e)")
    parser.add_argument("--after", default="HEAD", help="the ref after it (default HEAD)")
    parser.add_argument("--repo", default=str(Path(__file__).resolve().parents[1]), help="the git repository (default: the one this file is in)")
    parser.add_argument("--wabas", type=int, default=50, help="WABAs in the fleet (default 50)")
    parser.add_argument("--variant", choices=("set", "full"), default="set", help="fleet_plan's config variant (default set)")
    parser.add_argument("--changed", type=int, default=10, help="template names given a new body (default 10)")
    parser.add_argument("--new", type=int, default=5, help="template names added (default 5)")
    parser.add_argument("--user-changes", type=int, default=5, help="accounts where one user gets another task set (default 5)")
    parser.add_argument("--parallelism", type=int, default=8, help="wabactl --parallelism (default 8)")
    parser.add_argument("--keep", metavar="DIR", help="keep the exports, seed, config and plans here")
    args = parser.parse_args()
    if args.wabas < 1 or not 0 <= args.changed <= NAMES or args.new < 0 or args.user_changes < 0 or args.parallelism < 1:
        parser.error(f"--wabas and --parallelism at least 1; --changed 0..{NAMES}; --new, --user-changes at least 0")
    with workdir(args.keep) as folder:
        codes = {"before": folder / "code-before", "after": folder / "code-after"}
        commits = {label: export(args.repo, getattr(args, label), path) for label, path in codes.items()}
        seed_path = folder / "seed.yaml"
        seeded = seed(args.wabas)
        seeded["settings"]["template_limit"] = NAMES + max(50, args.new)  # room for the new names under the cap
        seeded["clock"] = {"start": FROZEN_AT, "frozen": True}
        seed_path.write_text(yaml.dump(seeded, Dumper=Dumper, width=1000))
        files = [p.name for p in write_changed_config(folder, args.wabas, args.variant, args.changed, args.new, args.user_changes)]
        base = {k: v for k, v in os.environ.items() if not k.startswith("WABACTL_") and k != "PYTHONPATH"}
        with running_emulator(str(seed_path), env=base | {"PYTHONPATH": str(codes["after"])}) as running:
            if not running.url.startswith("http://"):
                raise SystemExit(f"the emulator did not start (exit {running.process.poll()})")
            graph = Graph(running)
            environ = base | {"WABACTL_TOKEN": TOKEN, "WABACTL_GRAPH_URL": graph.url, "NO_COLOR": "1"}
            results = {}
            for label in ("before", "after"):
                graph.control("POST", "reset")  # back to the seed; clears the log
                stdout, saved, wall = run_plan(label, codes[label], files, folder, environ, args.parallelism)
                results[label] = (stdout, saved, wall, graph.request_counts())
                ledger = folder / ".wabactl"
                if ledger.exists():
                    print(f"note: {label}'s plan left {sorted(p.name for p in ledger.iterdir())} in .wabactl (removed before the next run)")
                    for p in ledger.iterdir():
                        p.unlink()
        print(f"before: {args.before} = {commits['before'][:12]}; after: {args.after} = {commits['after'][:12]} (exported from {args.repo})")
        print(f"fleet: {args.wabas} WABAs x {NAMES} names x {len(LANGUAGES)} languages, {len(USERS)} users each; variant {args.variant}; "
              f"config changes: {args.changed} names with a new body, {args.new} new names, {args.user_changes} accounts with a user's tasks changed")
        print(f"emulator: the after ref's, clock frozen at {FROZEN_AT}, template cap {seeded['settings']['template_limit']}, "
              f"reset to its seed before each run; work dir {folder}")
        failed = False
        for label in ("before", "after"):
            stdout, saved, wall, counts = results[label]
            kinds = ", ".join(f"{k} {n}" for k, n in sorted(counts.items()))
            print(f"{label}: plan {wall:.2f} s (no added latency), {sum(counts.values())} requests ({kinds}); {summary(stdout)}")
        for what, index in (("stdout JSON", 0), ("saved plan file", 1)):
            a, removed_a = normalise(results["before"][index])
            b, removed_b = normalise(results["after"][index])
            for key in NORMALISED:
                if key in removed_a or key in removed_b:
                    same = removed_a.get(key) == removed_b.get(key)
                    print(f"{what}: normalised {key}: {removed_a.get(key, ('absent',))[0]!r} / {removed_b.get(key, ('absent',))[0]!r}"
                          f"{' (equal anyway)' if same else ''}")
            for key in ("created_at",):
                if isinstance(a, dict) and isinstance(b, dict):
                    print(f"{what}: {key} {a.get(key)!r} / {b.get(key)!r} ({'equal' if a.get(key) == b.get(key) else 'DIFFERENT'})")
            found = differences(a, b)
            if found:
                failed = True
                print(f"{what}: DIFFERENT in {len(found)} places; the first:")
                for line in found[:25]:
                    print(f"  {line}")
            else:
                print(f"{what}: IDENTICAL ({len(json.dumps(a))} characters)")
        print("DIFFERENT" if failed else "IDENTICAL")
        sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
