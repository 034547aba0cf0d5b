"""Fault soak: wabactl survives transient faults and kills without duplicates, unintended deletes
or lost ledger records.

Each seed is its own scenario: a fresh emulator process on loopback (the clock frozen, so every
create falls in one hour and the ledger keeps them all) holding several WABAs of one business, and
a config declaring at least 300 changes over them: template creates (under Meta's 100 an hour per
account), edits of APPROVED templates (each at most once: Meta allows one a day), deletes by
``prune`` (within the mass-delete valve) and user task changes (the token's own user keeps MANAGE).
Then, until ``plan --detailed-exitcode`` finds nothing to do (at most 10 runs):

- faults are added through ``POST /_emulator/faults`` on every method and path: errors 500 and
  503 (code 2), connections dropped before and after the request is handled, and answers slower
  than the request deadline (timeouts); about 30% of requests fail;
- ``wabactl apply CONFIG --auto-approve`` runs in a subprocess; on the runs chosen for a kill it is
  sent SIGKILL once the request log shows a random number of writes;
- the faults are cleared, in-flight requests are let finish, and ``wabactl plan
  --detailed-exitcode`` says whether live state has converged.

Checked per seed from the emulator's request log and state and from the ledger file:

- duplicates: a (WABA, name, language) created successfully twice without a delete between, or a
  template in the final state the config does not declare (prune is on; protected ones excepted);
- unintended deletes: a template or user deleted that the config does not call for;
- ledger records lost: creates, edits of APPROVED templates and name locks that took effect in a
  run (by the request log, cross-checked with the emulator's own creation count) but are missing
  from the ledger after it. Records lost by a run killed with SIGKILL are counted apart
  (``ledger_lost_killed``): a ledger written only when an apply ends (in a ``finally``, which
  SIGKILL skips) loses all of them, one written ahead of each write none. Only completed runs
  must lose none; records beyond what happened (a write in flight at the kill) are only noted;
- the final state equals the config: every declared template language exists with its declared
  body, the declared users hold exactly their tasks.

Acceptance: every seed converges, in at most 2 runs without kills and 1 + kills with them, with no
duplicate, no unintended delete, no ledger record lost by a completed run, the final state equal to
the config and no traceback. Exit 0 when it holds, 1 otherwise.

    python benchmarks/fault_soak.py [--seeds N] [--kills K] [--quick] [--first S] [--workdir DIR] [--verbose]
                                    [--retry-backoff SECONDS]

Retries wait ``WABACTL_RETRY_BACKOFF=0.05`` s at first (the default is 0.5) and each request has a
1 s deadline (``WABACTL_REQUEST_TIMEOUT=1``; faults add 1.5 s), so a full run takes minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import re
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml

TOKEN = "soak-token"
ME = "900000000000001"  # the token's own user: keeps MANAGE everywhere
POOL = [f"1022227094453{n:04d}" for n in range(1, 9)]  # other users of the business
TASKS = ["MANAGE_TEMPLATES", "VIEW_TEMPLATES", "MESSAGING", "VIEW_COST", "VIEW_INSIGHTS", "DEVELOP"]
LANGUAGES = ["en_US", "es", "pt_BR", "fr", "de", "it"]
WORDS = ["order", "parcel", "invoice", "booking", "refund", "visit", "ticket", "payment", "account", "reward",
         "delivery", "pickup", "survey", "renewal", "welcome", "reminder", "update", "alert", "receipt", "offer"]
STATES = ["ready", "on its way", "confirmed", "delayed", "waiting for you", "complete"]
CLOCK_START = "2026-11-02T10:00:00Z"
PROTECTED = "hello_world"

REQUEST_TIMEOUT = "1"  # seconds (WABACTL_REQUEST_TIMEOUT)
RETRY_BACKOFF = "0.05"  # seconds (WABACTL_RETRY_BACKOFF; default 0.5)
LATENCY_MS = 1500  # longer than the deadline: a timeout
SETTLE_SECONDS = LATENCY_MS / 1000 + 0.5  # a delayed request the client gave up on lands within this
FAULTS = [  # independent draws per request: 1 - 0.95*0.95*0.9*0.9*0.96 = 29.8% of requests fail
    {"kind": "error", "status": 500, "code": 2, "rate": 0.05},
    {"kind": "error", "status": 503, "code": 2, "rate": 0.05},
    {"kind": "drop_before", "rate": 0.10},
    {"kind": "drop_after", "rate": 0.10},
    {"kind": "latency", "latency_ms": LATENCY_MS, "rate": 0.04},
]
MAX_RUNS = 10
APPLY_TIMEOUT = 900.0  # seconds one apply may take before it is counted as hung
PLAN_TIMEOUT = 300.0
VERSION = re.compile(r"^v\d+(\.\d+)?$")
SOURCE = Path(__file__).resolve().parent.parent / "reconciler"  # what `wabactl` runs (an editable install)


# --- the scenario ----------------------------------------------------------------------------


@dataclass
class Account:
    name: str
    waba_id: str
    seed_templates: list[dict[str, Any]] = field(default_factory=list)
    declared: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> config entry
    seed_users: dict[str, list[str]] = field(default_factory=dict)
    declared_users: dict[str, list[str]] = field(default_factory=dict)
    prune_users: bool = False
    expected: Counter[str] = field(default_factory=Counter)  # plan summary: create, edit, delete, update

    def declared_languages(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        return {(name, lang): spec["components"] for name, entry in self.declared.items()
                for lang, spec in entry["languages"].items()}


@dataclass
class Scenario:
    seed: int
    business_id: str
    accounts: list[Account]

    @property
    def changes(self) -> int:
        return sum(sum(a.expected.values()) for a in self.accounts)


def components(rng: random.Random, category: str, variant: str = "") -> list[dict[str, Any]]:
    """A template language's components, of a random shape that Meta (and the emulator) accept."""
    noun, state = rng.choice(WORDS), rng.choice(STATES)
    body: dict[str, Any]
    if rng.random() < 0.5:
        body = {"type": "BODY", "text": f"Hi {{{{1}}}}, your {noun} is {state}{variant}. Thank you.",
                "example": {"body_text": [["Ana"]]}}
    else:
        body = {"type": "BODY", "text": f"Hi {{{{1}}}}, your {noun} {{{{2}}}} is {state}{variant}. See you soon.",
                "example": {"body_text": [["Ana", "#4521"]]}}
    parts: list[dict[str, Any]] = []
    if rng.random() < 0.3:
        parts.append({"type": "HEADER", "format": "TEXT", "text": f"Your {noun}"})
    parts.append(body)
    if rng.random() < 0.4:
        parts.append({"type": "FOOTER", "text": "Acme Shop"})
    if rng.random() < 0.3:
        replies = rng.sample(["Yes", "No", "Later", "Call me", "Stop"], rng.randint(1, 2))
        parts.append({"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": r} for r in replies]})
    if category == "MARKETING" and rng.random() < 0.5:
        body["text"] = body["text"].replace("Thank you.", "Enjoy the offer.").replace("See you soon.", "Enjoy the offer.")
    return parts


def body_text(parts: list[dict[str, Any]]) -> str | None:
    return next((c.get("text") for c in parts if str(c.get("type", "")).upper() == "BODY"), None)


def make_scenario(seed: int, quick: bool) -> Scenario:
    rng = random.Random(seed)
    n_accounts, n_creates = (2, 20) if quick else (4, 70)  # creates per account: under Meta's 100 an hour
    business_id = f"80502150{seed:07d}"
    accounts = []
    for a in range(n_accounts):
        account = Account(name=f"acct-{a}", waba_id=f"1022901{seed:05d}{a:03d}")
        prefix = f"s{seed}a{a}"
        seed_rows = account.seed_templates
        seed_rows.append({"name": PROTECTED, "language": "en_US", "category": "UTILITY", "status": "APPROVED",
                          "components": [{"type": "BODY", "text": "Welcome and congratulations from Acme."}]})
        # In sync: declared exactly as live (1 or 2 languages each).
        in_sync = rng.randint(6, 9) if quick else rng.randint(14, 20)
        for t in range(in_sync):
            name = f"{prefix}_{rng.choice(WORDS)}_{t}"
            category = rng.choice(["UTILITY", "MARKETING"])
            entry: dict[str, Any] = {"category": category, "languages": {}}
            for lang in rng.sample(LANGUAGES, rng.choice([1, 1, 2])):
                parts = components(rng, category)
                seed_rows.append({"name": name, "language": lang, "category": category, "status": "APPROVED", "components": parts})
                entry["languages"][lang] = {"components": parts}
            account.declared[name] = entry
        # Edited in place: APPROVED, the declared body changed (each edited once: Meta allows one a day).
        edits = rng.randint(2, 3) if quick else rng.randint(3, 6)
        for t in range(edits):
            name = f"{prefix}_edit_{rng.choice(WORDS)}_{t}"
            category = rng.choice(["UTILITY", "MARKETING"])
            lang = rng.choice(LANGUAGES)
            parts = components(rng, category)
            seed_rows.append({"name": name, "language": lang, "category": category, "status": "APPROVED", "components": parts})
            changed = json.loads(json.dumps(parts))
            for part in changed:
                if part["type"] == "BODY":
                    part["text"] = part["text"].replace(". ", f" (rev {seed}.{a}.{t}). ", 1)
            account.declared[name] = {"category": category, "on_change": "edit", "languages": {lang: {"components": changed}}}
            account.expected["edit"] += 1
        # Deleted by prune: live, not declared, not protected; within the valve (at most 20% of live).
        live_languages = len(seed_rows) - 1
        deletes = rng.randint(1, 2) if quick else rng.randint(2, 5)
        while deletes > 1 and deletes * 100 > 20 * (live_languages + 1 + deletes):
            deletes -= 1
        for t in range(deletes):
            category = rng.choice(["UTILITY", "MARKETING"])
            seed_rows.append({"name": f"{prefix}_old_{rng.choice(WORDS)}_{t}", "language": rng.choice(LANGUAGES),
                              "category": category, "status": rng.choice(["APPROVED", "APPROVED", "REJECTED"]),
                              "components": components(rng, category)})
            account.expected["delete"] += 1
        # Created: new names (1 to 3 languages) and new languages of templates in sync.
        created = 0
        sync_names = [n for n in account.declared if "_edit_" not in n]
        for name in rng.sample(sync_names, min(len(sync_names), rng.randint(0, 4))):
            entry = account.declared[name]
            missing = [lang for lang in LANGUAGES if lang not in entry["languages"]]
            if missing and created < n_creates:
                entry["languages"][rng.choice(missing)] = {"components": components(rng, entry["category"])}
                created += 1
        t = 0
        while created < n_creates:
            name = f"{prefix}_new_{rng.choice(WORDS)}_{t}"
            category = rng.choice(["UTILITY", "MARKETING"])
            langs = rng.sample(LANGUAGES, min(rng.choice([1, 1, 2, 3]), n_creates - created))
            account.declared[name] = {"category": category,
                                      "languages": {lang: {"components": components(rng, category)} for lang in langs}}
            created += len(langs)
            t += 1
        account.expected["create"] += created
        # Users: the token's own user keeps MANAGE; others change tasks, are added or removed.
        others = rng.sample(POOL, 5)
        account.seed_users = {ME: ["MANAGE"]} | {u: sorted(rng.sample(TASKS, rng.randint(1, 3))) for u in others[:3]}
        account.declared_users = {ME: ["MANAGE"]}
        account.prune_users = rng.random() < 0.5
        changed_users = rng.sample(others[:3], rng.randint(1, 2))
        for user in others[:3]:
            tasks = account.seed_users[user]
            if user in changed_users:
                new = sorted(rng.sample(TASKS, rng.randint(1, 3)))
                while new == tasks:
                    new = sorted(rng.sample(TASKS, rng.randint(1, 3)))
                account.declared_users[user] = new
                account.expected["update"] += 1
            elif account.prune_users and user == others[2]:
                account.expected["delete"] += 1  # removed by prune.users
            else:
                account.declared_users[user] = tasks
        if rng.random() < 0.5:
            account.declared_users[others[3]] = sorted(rng.sample(TASKS, rng.randint(1, 2)))
            account.expected["create"] += 1
        accounts.append(account)
    return Scenario(seed, business_id, accounts)


def seed_document(scenario: Scenario) -> dict[str, Any]:
    wabas = [a.waba_id for a in scenario.accounts]
    return {
        "settings": {"calls_per_hour": 0, "review_delay_seconds": 0},  # the soak is about faults, not the call budget
        "clock": {"start": CLOCK_START, "frozen": True},  # every create in one hour: the ledger keeps them all
        "tokens": [{"token": TOKEN, "user": ME}],
        "users": {ME: {"name": "wabactl CI", "user_type": "SYSTEM_USER"}}
                 | {u: {"name": f"User {u[-4:]}", "user_type": "BUSINESS_USER"} for u in POOL},
        "businesses": {scenario.business_id: {"name": "Soak Inc.", "owned_wabas": wabas}},
        "wabas": {a.waba_id: {"name": f"Soak {a.name}", "owner_business": scenario.business_id,
                              "assigned_users": a.seed_users, "templates": a.seed_templates}
                  for a in scenario.accounts},
    }


def config_document(scenario: Scenario) -> dict[str, Any]:
    return {
        "version": 1,
        "defaults": {"on_change": "edit", "prune": {"templates": True, "users": False}},
        "accounts": {a.name: {
            "waba_id": a.waba_id,
            "business_id": scenario.business_id,
            "protect": [PROTECTED],
            "prune": {"templates": True, "users": a.prune_users},
            "templates": a.declared,
            "users": a.declared_users,
        } for a in scenario.accounts},
    }


# --- processes -------------------------------------------------------------------------------


@contextlib.contextmanager
def emulator_process(seed_path: Path, stderr_path: Path) -> Iterator[str]:
    """An emulator in its own process on 127.0.0.1; its URL from the first line it prints."""
    with open(stderr_path, "w", encoding="utf-8") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "reconciler", "emulator", "--seed", str(seed_path), "--port", "0"],
                                   stdout=subprocess.PIPE, stderr=stderr, text=True)
        try:
            assert process.stdout is not None
            with selectors.DefaultSelector() as selector:
                selector.register(process.stdout, selectors.EVENT_READ)
                if not selector.select(timeout=30):
                    raise RuntimeError("the emulator did not start within 30 s")
            line = process.stdout.readline()
            url = line.rsplit(" ", 1)[-1].strip()
            if not url.startswith("http://127.0.0.1:"):
                raise RuntimeError(f"the emulator did not print its URL: {line!r}")
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def wabactl_command() -> list[str]:
    beside = Path(sys.executable).with_name("wabactl")
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "reconciler"]


def wabactl_environment(url: str, backoff: str = RETRY_BACKOFF) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WABACTL_")}
    env.update({"WABACTL_GRAPH_URL": url, "WABACTL_TOKEN": TOKEN, "NO_COLOR": "1",
                "WABACTL_REQUEST_TIMEOUT": REQUEST_TIMEOUT, "WABACTL_RETRY_BACKOFF": backoff})
    return env


@dataclass
class Finished:
    code: int | None  # None when killed or hung
    killed: bool = False
    hung: bool = False
    out: str = ""
    err: str = ""


def run_wabactl(args: list[str], env: dict[str, str], cwd: Path, stem: Path, timeout: float,
                kill_when: Any = None) -> Finished:
    """One wabactl command; ``kill_when()`` (polled) says when to SIGKILL it. Output goes to files."""
    out_path, err_path = stem.with_suffix(".out"), stem.with_suffix(".err")
    with open(out_path, "w", encoding="utf-8") as out, open(err_path, "w", encoding="utf-8") as err:
        process = subprocess.Popen(wabactl_command() + args, stdout=out, stderr=err, env=env, cwd=cwd)
        finished = Finished(None)
        deadline = time.monotonic() + timeout
        try:
            while process.poll() is None and time.monotonic() < deadline:
                if kill_when is not None and kill_when():
                    if process.poll() is None:
                        process.kill()  # SIGKILL: no finally, no ledger write
                        finished.killed = True
                    break
                time.sleep(0.05 if kill_when is not None else 0.02)
            try:
                code = process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                finished.hung = True
                code = None
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    finished.code = None if finished.killed or finished.hung else code
    finished.out = out_path.read_text(encoding="utf-8", errors="replace")
    finished.err = err_path.read_text(encoding="utf-8", errors="replace")
    return finished


# --- what the emulator and the ledger say ------------------------------------------------------


class Emulator:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()

    def get(self, what: str) -> Any:
        answer = self.http.get(f"{self.url}/_emulator/{what}", timeout=30)
        answer.raise_for_status()
        return answer.json()

    def log(self) -> list[dict[str, Any]]:
        return self.get("requests")["data"]

    def state(self) -> dict[str, Any]:
        return self.get("state")

    def faults_on(self) -> None:
        faults = [fault | {"method": "*", "path": "*"} for fault in FAULTS]
        self.http.post(f"{self.url}/_emulator/faults", json={"faults": faults}, timeout=30).raise_for_status()

    def faults_off(self) -> None:
        self.http.delete(f"{self.url}/_emulator/faults", timeout=30).raise_for_status()

    def close(self) -> None:
        self.http.close()


def segments(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return parts[1:] if parts and VERSION.match(parts[0]) else parts


@dataclass
class Effects:
    """The writes that took effect in a stretch of the request log (answered or not: the emulator
    logs the answer it made, also when the connection was dropped after handling)."""

    creates: Counter[str] = field(default_factory=Counter)  # by WABA
    edits: Counter[str] = field(default_factory=Counter)  # by template id
    locks: set[tuple[str, str]] = field(default_factory=set)  # (WABA, "name[language]") of deleted APPROVED templates


def ledger_books(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {waba: {"creations": len(entry.get("creations") or []),
                   "edits": Counter({k: len(v) for k, v in (entry.get("edits") or {}).items()}),
                   "locks": set(entry.get("locks") or {})}
            for waba, entry in (raw.get("accounts") or {}).items()}


def lost_records(effects: Effects, before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> tuple[int, list[str], int]:
    """Records of ``effects`` the ledger did not gain between ``before`` and ``after``, why, and
    how many creations it gained beyond them."""
    empty: dict[str, Any] = {"creations": 0, "edits": Counter(), "locks": set()}
    lost, why, extra = 0, [], 0
    for waba in set(effects.creates) | set(after):
        made = effects.creates[waba]
        gained = after.get(waba, empty)["creations"] - before.get(waba, empty)["creations"]
        extra += max(0, gained - made)
        if gained < made:
            lost += made - gained
            why.append(f"WABA {waba}: {made} creates took effect, the ledger gained {gained} creations")
    edits_after: Counter[str] = sum((book["edits"] for book in after.values()), Counter())
    edits_before: Counter[str] = sum((book["edits"] for book in before.values()), Counter())
    for template_id, made in effects.edits.items():
        gained = edits_after[template_id] - edits_before[template_id]
        if gained < made:
            lost += made - gained
            why.append(f"template {template_id}: {made} edits took effect, the ledger gained {gained}")
    for waba, key in sorted(effects.locks):
        if key not in after.get(waba, empty)["locks"]:
            lost += 1
            why.append(f"WABA {waba}: name lock {key} not in the ledger")
    return lost, why, extra


# --- one seed --------------------------------------------------------------------------------


@dataclass
class SeedResult:
    seed: int
    kills: int = 0
    runs: int = 0
    converged: bool = False
    duplicates: int = 0
    unintended_deletes: int = 0
    ledger_lost: int = 0
    ledger_lost_killed: int = 0
    changes: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)  # why it failed
    notes: list[str] = field(default_factory=list)  # what happened, run by run
    folder: Path | None = None

    @property
    def allowed_runs(self) -> int:
        return 1 + self.kills if self.kills else 2

    @property
    def ok(self) -> bool:
        return (self.converged and self.runs <= self.allowed_runs and not self.problems and self.duplicates == 0
                and self.unintended_deletes == 0 and self.ledger_lost == 0)

    def line(self) -> str:
        return (f"seed={self.seed} kills={self.kills} runs={self.runs} duplicates={self.duplicates} "
                f"unintended_deletes={self.unintended_deletes} ledger_lost={self.ledger_lost} "
                f"ledger_lost_killed={self.ledger_lost_killed} changes={self.changes} seconds={self.seconds:.0f} "
                f"{'OK' if self.ok else 'FAIL'}")


class Soak:
    """One seed: its emulator, its config folder, its runs and its checks."""

    def __init__(self, scenario: Scenario, folder: Path, url: str, kills: int, quick: bool, backoff: str = RETRY_BACKOFF) -> None:
        self.scenario = scenario
        self.folder = folder
        self.config = folder / "wabactl.yaml"
        self.ledger = folder / ".wabactl" / "ledger.json"
        self.emulator = Emulator(url)
        self.env = wabactl_environment(url, backoff)
        self.kills = kills
        self.quick = quick
        self.rng = random.Random(10_000 + scenario.seed)
        self.result = SeedResult(scenario.seed, folder=folder)
        self.templates: dict[str, dict[str, Any]] = {}  # every template id ever seen: name, language, status, WABA
        self.by_waba = {a.waba_id: a for a in scenario.accounts}
        self.seed_state: dict[str, Any] = {}
        self.remaining_writes = 1  # changes the last plan showed: where a kill may fall

    # --- the loop --------------------------------------------------------------------------------

    def run(self) -> SeedResult:
        result = self.result
        state = self.emulator.state()
        self.seed_state = state
        self.remember(state)
        if not self.initial_plan():
            return result
        for number in range(1, MAX_RUNS + 1):
            killing = number <= self.kills
            log_start = len(self.emulator.log())
            creations_before = self.emulator_creations(state)
            ledger_before = ledger_books(self.ledger)
            self.emulator.faults_on()
            target = self.rng.randint(1, max(1, int(0.7 * self.remaining_writes))) if killing else None
            finished = run_wabactl(["apply", str(self.config), "--auto-approve"], self.env, self.folder,
                                   self.folder / f"run{number}-apply", APPLY_TIMEOUT,
                                   self.kill_after(log_start, target) if target is not None else None)
            self.emulator.faults_off()
            time.sleep(SETTLE_SECONDS)  # requests the client gave up on (or left behind when killed) land now
            result.runs = number
            if finished.killed:
                result.kills += 1
            state = self.emulator.state()
            self.remember(state)
            log = self.emulator.log()
            effects = self.effects(log[log_start:])
            self.check_emulator_count(number, effects, creations_before, self.emulator_creations(state))
            lost, why, extra = lost_records(effects, ledger_before, ledger_books(self.ledger))
            if finished.killed:
                result.ledger_lost_killed += lost
            else:
                result.ledger_lost += lost
                result.problems += [f"run {number} (completed) lost a ledger record: {w}" for w in why]
            self.check_output(number, "apply", finished)
            plan = run_wabactl(["plan", str(self.config), "--detailed-exitcode", "--format", "json"], self.env, self.folder,
                               self.folder / f"run{number}-plan", PLAN_TIMEOUT)
            self.check_output(number, "plan", plan)
            remaining, waiting = self.summary(plan)
            made = sum(effects.creates.values())
            how = "killed" if finished.killed else ("hung" if finished.hung else f"exit {finished.code}")
            self.result.notes.append(f"run {number}: apply {how}, {made} creates took effect, {lost} ledger records lost, "
                                     f"{extra} creations recorded beyond them; "
                                     f"plan exit {plan.code}, {remaining} changes left" + (f" and {waiting} blocked or deferred" if waiting else ""))
            if not finished.killed and finished.code not in (0, None):
                self.result.notes += [f"  run {number} apply: {line}" for line in stopped_lines(finished)]
            if plan.code == 0:
                result.converged = True
                break
            if plan.code == 2 and remaining == 0 and number > self.kills:
                result.problems.append(f"after run {number} only blocked or deferred changes are left: another run cannot converge")
                break
            self.remaining_writes = max(1, remaining)
        if not result.converged:
            result.problems.append(f"did not converge (runs: {result.runs}, at most {MAX_RUNS})")
        elif result.runs > result.allowed_runs:
            result.problems.append(f"converged in {result.runs} runs; at most {result.allowed_runs} allowed with {result.kills} kill(s)")
        self.final_checks(state, self.emulator.log())
        return result

    def initial_plan(self) -> bool:
        """The plan before any fault: exactly the scenario's changes, nothing blocked or deferred."""
        plan = run_wabactl(["plan", str(self.config), "--detailed-exitcode", "--format", "json"], self.env, self.folder,
                           self.folder / "run0-plan", PLAN_TIMEOUT)
        self.check_output(0, "plan", plan)
        try:
            summary = json.loads(plan.out)["summary"]
        except (ValueError, KeyError, TypeError):
            self.result.problems.append(f"the first plan (no faults) gave no JSON plan: exit {plan.code}: {plan.err.strip()[:300]}")
            return False
        expected = sum((a.expected for a in self.scenario.accounts), Counter())
        got = {k: v for k, v in summary.items() if v}
        if plan.code != 2 or got != {k: v for k, v in expected.items() if v}:
            self.result.problems.append(f"the first plan (no faults) is not the scenario's: exit {plan.code}, "
                                        f"summary {got}, expected {dict(expected)}")
            return False
        self.result.changes = sum(expected.values())
        self.remaining_writes = self.result.changes
        if not self.quick and self.result.changes < 300:
            self.result.problems.append(f"only {self.result.changes} changes declared; the soak needs at least 300")
        return True

    def kill_after(self, log_start: int, writes: int) -> Any:
        """A poll that turns true once the log shows ``writes`` write requests of this run (a
        random moment mid-apply), after a random pause of up to 0.2 s more."""
        due: list[float] = []

        def now_is_the_time() -> bool:
            if due:
                return time.monotonic() >= due[0]
            log = self.emulator.log()[log_start:]
            if sum(1 for e in log if e["method"] in ("POST", "DELETE")) >= writes:
                due.append(time.monotonic() + self.rng.uniform(0, 0.2))
            return False

        return now_is_the_time

    def summary(self, plan: Finished) -> tuple[int, int]:
        """Changes a plan shows: those an apply would carry out, and those blocked or deferred."""
        try:
            counts = json.loads(plan.out)["summary"]
        except (ValueError, KeyError, TypeError):
            return -1, 0
        return (sum(v for k, v in counts.items() if k in ("create", "edit", "replace", "update", "delete")),
                counts.get("blocked", 0) + counts.get("deferred", 0))

    # --- reading the log and the state ---------------------------------------------------------

    def remember(self, state: dict[str, Any]) -> None:
        for template_id, row in state["templates"].items():
            self.templates.setdefault(template_id, {}).update(
                name=row["name"], language=row["language"], status=row["status"], waba=row["waba_id"])

    def emulator_creations(self, state: dict[str, Any]) -> Counter[str]:
        return Counter({waba: len(stamps) for waba, stamps in (state.get("creations") or {}).items()})

    def effects(self, entries: list[dict[str, Any]]) -> Effects:
        found = Effects()
        for entry in entries:
            if entry.get("status") != 200 or entry.get("note") == "batch item":
                continue
            parts, params = segments(entry["path"]), entry.get("params") or {}
            if entry["method"] == "POST" and len(parts) == 2 and parts[1] == "message_templates":
                found.creates[parts[0]] += 1
            elif entry["method"] == "POST" and len(parts) == 1 and parts[0] in self.templates:
                if self.seed_status(parts[0]) == "APPROVED":
                    found.edits[parts[0]] += 1
            elif entry["method"] == "DELETE" and len(parts) == 2 and parts[1] == "message_templates":
                for template_id in self.deleted_ids(parts[0], params):
                    row = self.templates.get(template_id)
                    if row and self.seed_status(template_id) == "APPROVED":
                        found.locks.add((parts[0], f"{row['name']}[{row['language']}]"))
        return found

    def seed_status(self, template_id: str) -> str | None:
        row = self.seed_state["templates"].get(template_id)
        return row["status"] if row else None

    def deleted_ids(self, waba: str, params: dict[str, Any]) -> list[str]:
        ids = params.get("hsm_ids")
        if isinstance(ids, str):
            with contextlib.suppress(ValueError):
                ids = json.loads(ids)
        if isinstance(ids, list):
            return [str(i) for i in ids]
        if params.get("hsm_id"):
            return [str(params["hsm_id"])]
        name = params.get("name")  # by name alone: every language of it
        return [i for i, row in self.templates.items() if row["waba"] == waba and row["name"] == name]

    def check_emulator_count(self, number: int, effects: Effects, before: Counter[str], after: Counter[str]) -> None:
        for waba in set(before) | set(after) | set(effects.creates):
            counted = after[waba] - before[waba]
            if counted != effects.creates[waba]:
                self.result.problems.append(f"run {number}: the request log shows {effects.creates[waba]} creates in WABA "
                                            f"{waba}, the emulator counted {counted} (a benchmark bug?)")

    def check_output(self, number: int, what: str, finished: Finished) -> None:
        if "Traceback" in finished.out or "Traceback" in finished.err:
            self.result.problems.append(f"run {number} {what}: a traceback (see {self.folder})")
        if finished.hung:
            self.result.problems.append(f"run {number} {what}: still running after its time limit; killed")
        if what == "plan" and finished.code not in (0, 2):
            self.result.problems.append(f"run {number} plan (no faults): exit {finished.code}: {finished.err.strip()[:300]}")

    # --- the checks at the end ------------------------------------------------------------------

    def final_checks(self, state: dict[str, Any], log: list[dict[str, Any]]) -> None:
        result = self.result
        seed_templates = self.seed_state["templates"]
        alive = {(row["waba_id"], row["name"], row["language"]) for row in seed_templates.values()}
        # Duplicates in the log: created successfully while it already existed.
        for entry in log:
            if entry.get("status") != 200:
                continue
            parts, params = segments(entry["path"]), entry.get("params") or {}
            if len(parts) != 2 or parts[1] != "message_templates":
                continue
            if entry["method"] == "POST":
                key = (parts[0], str(params.get("name")), str(params.get("language")))
                if key in alive:
                    result.duplicates += 1
                    result.problems.append(f"duplicate create of {key[1]}[{key[2]}] in WABA {key[0]} (request log)")
                alive.add(key)
            elif entry["method"] == "DELETE":
                for template_id in self.deleted_ids(parts[0], params):
                    row = self.templates.get(template_id)
                    if row:
                        alive.discard((parts[0], row["name"], row["language"]))
        # The final state against the config.
        unintended: set[tuple[str, ...]] = set()
        final = {(row["waba_id"], row["name"], row["language"]): (tid, row) for tid, row in state["templates"].items()}
        for account in self.scenario.accounts:
            declared = account.declared_languages()
            for (name, lang), wanted in declared.items():
                found = final.get((account.waba_id, name, lang))
                if found is None:
                    result.problems.append(f"{account.name}: {name}[{lang}] is declared but missing from the final state")
                elif body_text(found[1]["components"]) != body_text(wanted):
                    result.problems.append(f"{account.name}: {name}[{lang}] has another body than declared in the final state")
            for (waba, name, lang), (_, _row) in final.items():
                if waba == account.waba_id and (name, lang) not in declared and name != PROTECTED:
                    result.duplicates += 1
                    result.problems.append(f"{account.name}: {name}[{lang}] is in the final state but not declared (prune is on)")
            users = state["assigned_users"].get(account.waba_id, {})
            for user, tasks in account.declared_users.items():
                if sorted(users.get(user) or []) != sorted(tasks):
                    result.problems.append(f"{account.name}: user {user} holds {users.get(user)}, declared {tasks}")
            for user in users:
                if user not in account.declared_users and account.prune_users:
                    result.problems.append(f"{account.name}: user {user} is still assigned (prune.users is on)")
            for user in account.seed_users:
                if user not in users and (user in account.declared_users or not account.prune_users):
                    unintended.add(("user", account.waba_id, user))
        intended = {tid for tid, row in seed_templates.items()
                    if (row["name"], row["language"]) not in self.by_waba[row["waba_id"]].declared_languages() and row["name"] != PROTECTED}
        for template_id in seed_templates:
            if template_id not in state["templates"] and template_id not in intended:
                unintended.add(("template", template_id))
        # Deletes in the log that the config does not call for.
        for entry in log:
            if entry.get("status") != 200 or entry["method"] != "DELETE":
                continue
            parts, params = segments(entry["path"]), entry.get("params") or {}
            if len(parts) == 2 and parts[1] == "message_templates":
                for template_id in self.deleted_ids(parts[0], params):
                    if template_id not in intended:
                        unintended.add(("template", template_id))
            elif len(parts) == 2 and parts[1] == "assigned_users":
                owner = self.by_waba.get(parts[0])
                user = str(params.get("user"))
                if owner is None or not owner.prune_users or user in owner.declared_users:
                    unintended.add(("user", parts[0], user))
        result.unintended_deletes = len(unintended)
        for what in sorted(unintended):
            row = self.templates.get(what[1], {}) if what[0] == "template" else {}
            named = f" {row.get('name')}[{row.get('language')}] in WABA {row.get('waba')}" if row else ""
            result.problems.append(f"unintended delete of {' '.join(what)}{named}")


def stopped_lines(finished: Finished, most: int = 6) -> list[str]:
    """What stopped an apply: its failed and uncertain changes and its error lines."""
    lines = [line.strip() for line in finished.err.splitlines()
             if re.search(r" (failed|uncertain)(:|$)|^Error", line.strip())]
    return lines[:most] + ([f"... and {len(lines) - most} more"] if len(lines) > most else [])


def source_version() -> tuple[str, str]:
    """The wabactl source the soak runs: git HEAD, and a digest of reconciler/ as it is on disk."""
    digest = hashlib.sha256()
    for path in sorted(SOURCE.rglob("*.py")):
        digest.update(str(path.relative_to(SOURCE)).encode() + b"\0" + path.read_bytes())
    try:
        head = subprocess.run(["git", "-C", str(SOURCE.parent), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        head = ""
    return head or "unknown", digest.hexdigest()[:12]


def soak_seed(seed: int, kills: int, quick: bool, workdir: Path, backoff: str = RETRY_BACKOFF) -> SeedResult:
    started = time.monotonic()
    scenario = make_scenario(seed, quick)
    folder = workdir / f"seed-{seed:03d}"
    shutil.rmtree(folder, ignore_errors=True)  # a fresh scenario: no ledger from an earlier soak
    folder.mkdir(parents=True)
    (folder / "seed.yaml").write_text(yaml.safe_dump(seed_document(scenario), sort_keys=False), encoding="utf-8")
    (folder / "wabactl.yaml").write_text(yaml.safe_dump(config_document(scenario), sort_keys=False), encoding="utf-8")
    try:
        with emulator_process(folder / "seed.yaml", folder / "emulator.err") as url:
            soak = Soak(scenario, folder, url, kills, quick, backoff)
            try:
                result = soak.run()
            finally:
                with contextlib.suppress(requests.RequestException):
                    (folder / "requests.json").write_text(json.dumps(soak.emulator.log()), encoding="utf-8")
                soak.emulator.close()
    except (RuntimeError, OSError, requests.RequestException) as error:
        result = SeedResult(seed, folder=folder, problems=[f"the soak itself failed: {error}"])
    result.seconds = time.monotonic() - started
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=None, help="scenarios to run (default 20; 3 with --quick)")
    parser.add_argument("--first", type=int, default=1, help="number of the first seed (default 1)")
    parser.add_argument("--kills", type=int, default=1, help="applies killed on each even seed (default 1)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 3 seeds, 2 accounts, about 50 changes each")
    parser.add_argument("--workdir", type=Path, help="keep every seed's files here (default: a temporary folder, kept only on failure)")
    parser.add_argument("--verbose", action="store_true", help="print each run of each seed")
    parser.add_argument("--retry-backoff", type=float, default=float(RETRY_BACKOFF),
                        help=f"WABACTL_RETRY_BACKOFF for the applies, in seconds (default {RETRY_BACKOFF}; wabactl's own default is 0.5)")
    args = parser.parse_args()
    seeds = args.seeds if args.seeds is not None else (3 if args.quick else 20)
    if seeds < 1 or args.kills < 0 or args.kills >= MAX_RUNS or not 0 <= args.retry_backoff <= 60:
        parser.error(f"--seeds must be at least 1, --kills from 0 to {MAX_RUNS - 1}, --retry-backoff from 0 to 60")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="wabactl-soak-"))
    rates = ", ".join(f"{f['kind']}{' ' + str(f['status']) if f['kind'] == 'error' else ''} {f['rate']:.0%}" for f in FAULTS)
    print(f"fault soak: {seeds} seeds{' (quick)' if args.quick else ''}, {args.kills} kill(s) on each even seed; "
          f"faults on every request: {rates} (latency {LATENCY_MS} ms, a timeout); "
          f"WABACTL_REQUEST_TIMEOUT={REQUEST_TIMEOUT} WABACTL_RETRY_BACKOFF={args.retry_backoff:g} "
          "(wabactl's default is 0.5 s; shortened to keep the run short)",
          flush=True)
    head, digest = source_version()
    print(f"wabactl: git {head}, reconciler/ sha256 {digest}", flush=True)
    started = time.monotonic()
    results = []
    for seed in range(args.first, args.first + seeds):
        kills = args.kills if seed % 2 == 0 else 0  # even seeds, so `--first S --seeds 1` repeats seed S as it ran
        result = soak_seed(seed, kills, args.quick, workdir, str(args.retry_backoff))
        results.append(result)
        print(result.line(), flush=True)
        if args.verbose or not result.ok:
            for line in result.notes + [f"problem: {p}" for p in result.problems[:20]]:
                print(f"    {line}", flush=True)
            if len(result.problems) > 20:
                print(f"    ... and {len(result.problems) - 20} more problems", flush=True)
    holds = all(r.ok for r in results)
    total = time.monotonic() - started
    print(f"total: seeds={len(results)} ok={sum(r.ok for r in results)} kills={sum(r.kills for r in results)} "
          f"runs={sum(r.runs for r in results)} duplicates={sum(r.duplicates for r in results)} "
          f"unintended_deletes={sum(r.unintended_deletes for r in results)} ledger_lost={sum(r.ledger_lost for r in results)} "
          f"ledger_lost_killed={sum(r.ledger_lost_killed for r in results)} changes={sum(r.changes for r in results)} "
          f"seconds={total:.0f} acceptance={'HOLDS' if holds else 'FAILS'}", flush=True)
    head_now, digest_now = source_version()
    if digest_now != digest:
        print(f"warning: reconciler/ changed during the soak (sha256 {digest} -> {digest_now}, git {head} -> {head_now}): "
              "the seeds ran different versions of wabactl; run it again", flush=True)
    elif head_now != head:
        print(f"note: git HEAD moved from {head} to {head_now} during the soak; reconciler/ did not change", flush=True)
    if args.workdir is None:
        if holds:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"files of the failed seeds (configs, seeds, apply output, request logs) kept in {workdir}", flush=True)
    return 0 if holds else 1


if __name__ == "__main__":
    sys.exit(main())
