"""The fleet benchmark (issue 12): `plan` over many WABAs against the round-trip bound, beside the
sequential SDK pattern, measured in one run.

A fleet of WABAS WABAs (one business), each with 250 template names in 2 languages live (the same
content in every WABA) and 3 assigned users, is written as an emulator seed and as config, in one
or both variants:

- ``set``: the templates are declared once in a template set that every account uses (``use:``);
- ``full``: every account declares all its templates in full (a large YAML file).

Every account has ``business_id`` and ``users:``, so users are read too; the config matches the
seed, so the plan must show no change (checked). The emulator runs in its own process (started
with the seed as a file: the seed of a large fleet is far past the reset control's 1 MB body
limit), with LATENCY_MS added to every Graph request. wabactl runs as its command line in a
subprocess, as a CI job would. Measured per variant:

- config read: ``wabactl validate CONFIG`` (wall time and peak memory); the time an interpreter
  takes to start and import wabactl (``wabactl --help``) is printed once, to subtract;
- plan: ``wabactl plan CONFIG --format json --out plan.json --parallelism P`` against
  ``WABACTL_GRAPH_URL``: wall time, the process's CPU time (its rusage from ``wait4``) and peak
  memory (its own ``VmHWM``, written by ``_peak.py`` as it exits: ``ru_maxrss`` would also count
  this benchmark's own size, which the child inherits across fork and exec), and the requests the
  emulator logged (log cleared before), by kind;
- the emulator's own CPU time meanwhile (``/proc``) and so its service time per request: the
  emulator answers Graph requests one at a time under one lock, so when its CPU time comes near
  the plan's wall time it is the emulator, not wabactl, that the figure measures (said so below
  the table);
- the round-trip bound: max(longest chain, ceil(minimum requests / P)) × latency, where the
  minimum is, per account, one template page per 100 rows (Meta's page limit, the ``limit``
  wabactl asks) and one users page per 100 users, and per distinct token one ``debug_token`` and
  one ``/me``; the longest chain of dependent requests is ``debug_token`` (which comes before any
  template request) and then an account's template pages, each needing the cursor of the one
  before (its users page and ``/me`` can go beside them).

In the same run, the sequential SDK pattern (Meta's SDK: one request at a time, following
``paging.next``, no ``limit``, so the emulator's default page size) reads the templates and users
of a sample of the accounts, spread over the fleet; its time is scaled to the whole fleet.

    python benchmarks/fleet_plan.py [--wabas N] [--also-wabas M] [--variant set|full|both] [--latency-ms MS]
                                    [--parallelism P] [--sample S] [--keep DIR]

Defaults: 1,000 WABAs, both variants, 50 ms, wabactl's default parallelism (8), a sample of 20.
``python benchmarks/fleet_plan.py --wabas 20 --variant both`` is a quick check.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shlex
import statistics
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
from _emulator import EmulatorProcess, running_emulator

from reconciler.desired.yamlfile import MAX_FILE_BYTES
from reconciler.graph import DEFAULT_API_VERSION
from reconciler.graph.waba import TEMPLATE_FIELDS, USER_FIELDS
from reconciler.session import DEFAULT_PARALLELISM

ROOT = Path(__file__).resolve().parent.parent  # this checkout: its reconciler is what runs
NAMES = 250
LANGUAGES = ("en_US", "es")
USERS = {"100000000000001": ["MANAGE"], "100000000000002": ["MANAGE_TEMPLATES", "VIEW_TEMPLATES"],
         "100000000000003": ["VIEW_TEMPLATES"]}
TOKEN = "bench-token"
TOKEN_USER = "900000000000001"
BUSINESS = "805000000000001"
FIRST_WABA = 300_000_000_000_000
SET = "fleet"
META_PAGE = 100  # the most rows Meta gives in one page of a list edge: the bound counts pages of this size
TEXTS = {"en_US": "Hello {{1}}, your order is on its way (notice %03d).", "es": "Hola {{1}}, tu pedido va en camino (aviso %03d)."}
Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class FullDumper(Dumper):  # type: ignore[valid-type,misc]
    """Every value written out where it stands: the config of the ``full`` variant has no alias."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


# --- the fleet: seed and config ----------------------------------------------------------------


def waba_ids(count: int) -> list[str]:
    return [str(FIRST_WABA + i) for i in range(count)]


def components(index: int, language: str) -> list[dict[str, Any]]:
    return [{"type": "BODY", "text": TEXTS[language] % index, "example": {"body_text": [["Ann"]]}}]


def declared_templates() -> dict[str, Any]:
    """The templates as config declares them (the same in every account)."""
    return {f"notice_{i:03d}": {"category": "UTILITY", "languages": {lang: {"components": components(i, lang)} for lang in LANGUAGES}}
            for i in range(NAMES)}


def seed(count: int) -> dict[str, Any]:
    """The emulator's seed. Every WABA holds the same template list object, so the seed file writes
    it once and refers to it by alias (the emulator still makes each WABA its own templates)."""
    templates = [{"name": f"notice_{i:03d}", "language": lang, "category": "UTILITY", "status": "APPROVED", "components": components(i, lang)}
                 for i in range(NAMES) for lang in LANGUAGES]
    return {
        "settings": {"calls_per_hour": 0},  # the hourly call budget per WABA is not what is measured
        "tokens": [{"token": TOKEN, "user": TOKEN_USER}],
        "users": {TOKEN_USER: {"name": "bench", "user_type": "SYSTEM_USER"}} | {u: {"name": f"User {u[-1]}"} for u in USERS},
        "businesses": {BUSINESS: {"name": "Bench Partner"}},
        "wabas": {waba: {"name": f"Client {i:05d}", "owner_business": BUSINESS, "assigned_users": USERS, "templates": templates}
                  for i, waba in enumerate(waba_ids(count))},
    }


def indented(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "".join(pad + line if line.strip() else line for line in text.splitlines(keepends=True))


def write_config(folder: Path, count: int, variant: str) -> list[Path]:
    """Write the config of one variant; its files. Each account's text is made once and repeated,
    so 100 MB of config is written in seconds. The ``full`` variant goes into as few files as keep
    each under wabactl's bound on one config file (``MAX_FILE_BYTES``), accounts spread
    evenly: one file up to about 500 WABAs, two at 1,000."""
    templates = indented(yaml.dump({"templates": declared_templates()}, Dumper=FullDumper, width=1000), 4)
    users = indented(yaml.dump({"users": USERS}, Dumper=FullDumper, width=1000), 4)
    own = templates if variant == "full" else f"    use: [{SET}]\n"
    accounts = [f"  acct-{i:05d}:\n    waba_id: '{waba}'\n    business_id: '{BUSINESS}'\n{users}{own}" for i, waba in enumerate(waba_ids(count))]
    size = sum(len(text.encode()) for text in accounts)
    files = max(1, math.ceil(size / (MAX_FILE_BYTES - 2**20)))
    paths = []
    for part in range(files):
        path = folder / (f"fleet-{variant}.yaml" if files == 1 else f"fleet-{variant}-{part + 1}-of-{files}.yaml")
        with open(path, "w", encoding="utf-8") as out:
            out.write("version: 1\n")
            if variant == "set":
                out.write(f"template_sets:\n  {SET}:\n{templates}")
            out.write("accounts:\n")
            out.writelines(accounts[part * count // files:(part + 1) * count // files])
        paths.append(path)
    return paths


# --- measuring ---------------------------------------------------------------------------------


@dataclass
class Ran:
    """One wabactl process: wall time, exit code, CPU time (its rusage) and peak memory (its own
    VmHWM, written by ``_peak.py`` as it exits: ``ru_maxrss`` would count this process's size)."""

    wall: float
    code: int
    cpu: float
    peak_mb: float
    stderr: str


PEAK = Path(__file__).with_name("_peak.py")


def run_wabactl(args: list[str], environ: dict[str, str], folder: Path, name: str) -> Ran:
    """``python -m reconciler ARGS`` (through ``_peak.py``, with this checkout's reconciler first
    on the path) in ``folder``; its output goes to NAME.stdout and NAME.stderr there."""
    peak_file = folder / f"{name}.peak"
    peak_file.unlink(missing_ok=True)
    environ = {**environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), environ.get("PYTHONPATH")]))}
    with open(folder / f"{name}.stdout", "w") as out, open(folder / f"{name}.stderr", "w") as err:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, str(PEAK), str(peak_file), *args], stdout=out, stderr=err, env=environ, cwd=folder)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = (folder / f"{name}.stderr").read_text(errors="replace")
    peak = float(peak_file.read_text()) if peak_file.exists() else float("nan")
    return Ran(wall, process.returncode, usage.ru_utime + usage.ru_stime, peak, stderr)


class Graph:
    """The emulator's controls and its CPU time."""

    def __init__(self, running: EmulatorProcess) -> None:
        self.running = running
        self.url = running.url
        self.http = requests.Session()

    def control(self, method: str, what: str, body: dict[str, Any] | None = None) -> Any:
        answer = self.http.request(method, f"{self.url}/_emulator/{what}", json=body, timeout=600)
        answer.raise_for_status()
        return answer.json()

    def cpu(self) -> float:
        return self.running.cpu_seconds() or 0.0

    def request_counts(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for entry in self.control("GET", "requests")["data"]:
            counts[kind_of(entry)] += 1
        return counts


def kind_of(entry: dict[str, Any]) -> str:
    segments = [s for s in entry["path"].split("/") if s]
    if segments and segments[0].startswith("v") and segments[0][1:2].isdigit():
        segments = segments[1:]
    name = "batch POST /" if not segments else segments[-1] if segments[-1] in ("debug_token", "me", "message_templates", "assigned_users") else "other"
    return f"{name} (batch item)" if entry.get("note") == "batch item" else name


@dataclass
class Variant:
    name: str
    config_mb: float
    config_files: int
    validate: Ran
    plan: Ran
    requests: Counter[str]
    emulator_cpu: float
    changes: int
    accounts: int
    failures: int
    count: int  # WABAs in this variant's config
    notes: list[str] = field(default_factory=list)

    @property
    def reading(self) -> float:  # about the time the plan spends on the Graph API: its wall time less the config read's
        return max(0.001, self.plan.wall - self.validate.wall)

    @property
    def round_trips(self) -> int:  # HTTP requests (a batch is one; its items are not)
        return sum(n for kind, n in self.requests.items() if not kind.endswith("(batch item)"))


def measure_variant(name: str, count: int, graph: Graph, folder: Path, environ: dict[str, str], parallelism: int, label: str | None = None) -> Variant:
    configs = write_config(folder, count, name)
    name = label or name
    files = [path.name for path in configs]
    config = " ".join(files)
    validate = run_wabactl(["validate", *files], environ, folder, f"validate-{name}")
    if validate.code != 0:
        raise SystemExit(f"wabactl validate {config} failed (exit {validate.code}):\n{validate.stderr[-3000:]}")
    graph.control("DELETE", "requests")
    before = graph.cpu()
    plan = run_wabactl(["plan", *files, "--format", "json", "--out", f"plan-{name}.json", "--parallelism", str(parallelism)], environ, folder, f"plan-{name}")
    emulator_cpu = graph.cpu() - before
    counts = graph.request_counts()
    if plan.code != 0:
        raise SystemExit(f"wabactl plan {config} failed (exit {plan.code}):\n{plan.stderr[-3000:]}")
    saved = json.loads((folder / f"plan-{name}.json").read_text())
    changes = sum(len(a["changes"]) for a in saved["accounts"])
    size = sum(path.stat().st_size for path in configs) / 1e6
    made = Variant(name, size, len(configs), validate, plan, counts, emulator_cpu, changes, len(saved["accounts"]), len(saved["failures"]), count)
    if changes or made.accounts != count or made.failures:
        made.notes.append(f"{name}: the plan should hold {count} accounts with no change and no failure; "
                          f"it holds {made.accounts} accounts, {changes} changes, {made.failures} failures")
    return made


@dataclass
class Sdk:
    seconds: float
    accounts: int
    requests: int
    emulator_cpu: float
    page_default: int


def sdk_pattern(graph: Graph, wabas: list[str], sample: int) -> Sdk:
    """Meta's SDK pattern on ``sample`` accounts spread over the fleet: one request at a time,
    following ``paging.next``, no ``limit``; the templates and the users of each."""
    chosen = [wabas[i * len(wabas) // sample] for i in range(sample)]
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {TOKEN}"
    base = f"{graph.url}/{DEFAULT_API_VERSION}"
    sent = 0

    def read_all(url: str | None, params: dict[str, str] | None) -> int:
        nonlocal sent
        rows = 0
        while url:
            answer = http.get(url, params=params, timeout=600)
            answer.raise_for_status()
            page = answer.json()
            sent += 1
            rows += len(page["data"])
            url, params = page.get("paging", {}).get("next"), None  # next carries the query
        return rows

    graph.control("DELETE", "requests")
    before = graph.cpu()
    started = time.perf_counter()
    for waba in chosen:
        templates = read_all(f"{base}/{waba}/message_templates", {"fields": TEMPLATE_FIELDS})
        users = read_all(f"{base}/{waba}/assigned_users", {"business": BUSINESS, "fields": USER_FIELDS})
        if (templates, users) != (NAMES * len(LANGUAGES), len(USERS)):
            raise SystemExit(f"the SDK pattern read {templates} templates and {users} users of {waba}")
    seconds = time.perf_counter() - started
    page_default = graph.control("GET", "settings")["page_default"]
    return Sdk(seconds, sample, sent, graph.cpu() - before, page_default)


def idle_page_ms(graph: Graph, waba: str, times: int = 9) -> float:
    """One first page of 100 templates with no latency and nothing else running: what one request
    costs the emulator (with the whole fleet in it), median of ``times``."""
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {TOKEN}"
    took = []
    for _ in range(times):
        started = time.perf_counter()
        http.get(f"{graph.url}/{DEFAULT_API_VERSION}/{waba}/message_templates",
                 params={"fields": TEMPLATE_FIELDS, "limit": str(META_PAGE), "summary": "total_count"}, timeout=600).raise_for_status()
        took.append(time.perf_counter() - started)
    return statistics.median(took) * 1000


@dataclass
class Bound:
    per_account: int
    template_pages: int
    user_pages: int
    per_token: int
    minimum: int
    chain: int
    rounds: int
    seconds: float


def bound(count: int, parallelism: int, latency_ms: int) -> Bound:
    template_pages = math.ceil(NAMES * len(LANGUAGES) / META_PAGE)
    user_pages = math.ceil(len(USERS) / META_PAGE)
    per_token = 2  # debug_token and /me, once per distinct token; the fleet has one token
    minimum = count * (template_pages + user_pages) + per_token
    chain = 1 + template_pages
    rounds = max(chain, math.ceil(minimum / parallelism))
    return Bound(template_pages + user_pages, template_pages, user_pages, per_token, minimum, chain, rounds, rounds * latency_ms / 1000)


# --- the report ----------------------------------------------------------------------------------


def table(rows: list[tuple[str, list[str]]], heads: list[str]) -> str:
    width = max(len(label) for label, _ in rows)
    cells = [max(len(h), *(len(v[i]) for _, v in rows if i < len(v))) for i, h in enumerate(heads)]
    lines = [" " * width + "  " + "  ".join(h.rjust(c) for h, c in zip(heads, cells, strict=True))]
    for label, values in rows:
        lines.append(label.ljust(width) + "  " + "  ".join(v.rjust(c) for v, c in zip(values, cells, strict=False)))
    return "\n".join(lines)


def report(args: argparse.Namespace, startup: Ran, seed_seconds: float, emulator_mb: tuple[float, float] | None, idle_ms: float,
           variants: list[Variant], sdk: Sdk, limit: Bound, plan_command: str) -> None:
    n = args.wabas
    limits = {v.count: bound(v.count, args.parallelism, args.latency_ms) for v in variants}
    rows: list[tuple[str, list[str]]] = []

    def row(label: str, value: Any) -> None:
        rows.append((label, [value(v) for v in variants] if callable(value) else [str(value)] * len(variants)))

    row("config size (MB)", lambda v: f"{v.config_mb:.1f}" + (f" in {v.config_files} files" if v.config_files > 1 else ""))
    row("config read: validate wall (s)", lambda v: f"{v.validate.wall:.2f}")
    row("config read: validate peak memory (MB)", lambda v: f"{v.validate.peak_mb:.0f}")
    row("plan wall (s)", lambda v: f"{v.plan.wall:.2f}")
    row("  plan wall - validate wall (s)", lambda v: f"{v.plan.wall - v.validate.wall:.2f}")
    row("plan CPU, wabactl process (s)", lambda v: f"{v.plan.cpu:.2f}")
    row("plan peak memory (MB)", lambda v: f"{v.plan.peak_mb:.0f}")
    row("requests (HTTP round trips)", lambda v: str(v.round_trips))
    kinds = sorted({k for v in variants for k in v.requests})
    for kind in kinds:
        row(f"  {kind}", lambda v, kind=kind: str(v.requests.get(kind, 0)))
    row("  per account (excl. debug_token, me)", lambda v: f"{sum(c for k, c in v.requests.items() if k not in ('debug_token', 'me')) / v.count:.2f}")
    row("emulator CPU during plan (s)", lambda v: f"{v.emulator_cpu:.2f}")
    row("  emulator busy, % of plan wall", lambda v: f"{100 * v.emulator_cpu / v.plan.wall:.0f}%")
    row("  ... % of plan wall - validate wall", lambda v: f"{100 * v.emulator_cpu / v.reading:.0f}%")
    row("  emulator CPU per request (ms)", lambda v: f"{1000 * v.emulator_cpu / max(1, v.round_trips):.1f}")
    row("round-trip bound (s)", lambda v: f"{limits[v.count].seconds:.2f}")
    row("plan / bound", lambda v: f"{v.plan.wall / limits[v.count].seconds:.1f}x")
    row(f"SDK pattern, {sdk.accounts} accounts (s)", f"{sdk.seconds:.2f}")
    row("SDK pattern scaled to the fleet (s)", lambda v: f"{sdk.seconds * v.count / sdk.accounts:.1f}")
    row("SDK scaled / plan", lambda v: f"{sdk.seconds * v.count / sdk.accounts / v.plan.wall:.1f}x")

    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    print(f"fleet: {n} WABAs x {NAMES} names x {len(LANGUAGES)} languages = {n * NAMES * len(LANGUAGES):,} template rows, "
          f"{len(USERS)} users each; latency {args.latency_ms} ms per Graph request; --parallelism {args.parallelism}")
    print(f"wabactl: {plan_command}")
    print(f"interpreter start + wabactl imports (wabactl --help): {startup.wall:.2f} s, {startup.peak_mb:.0f} MB")
    memory = f", RSS {emulator_mb[0]:.0f} MB" if emulator_mb else ""
    print(f"emulator: own process, seed loaded in {seed_seconds:.1f} s{memory}; one 100-row template page, no latency, idle: {idle_ms:.1f} ms")
    print()
    print(table(rows, [v.name for v in variants]))
    print()
    print(f"bound = max(longest chain {limit.chain}, ceil(minimum requests {limit.minimum:,} / parallelism {args.parallelism}) = "
          f"{math.ceil(limit.minimum / args.parallelism)}) x {args.latency_ms} ms = {limit.rounds} x {args.latency_ms} ms = {limit.seconds:.2f} s")
    print(f"  minimum requests = {n} accounts x ({limit.template_pages} template pages of {META_PAGE} rows + {limit.user_pages} users page) "
          f"+ {limit.per_token} per token (debug_token, /me) x 1 token")
    print(f"  longest chain = debug_token, then an account's {limit.template_pages} template pages one after another")
    print(f"SDK pattern: {sdk.requests} requests for {sdk.accounts} accounts ({sdk.requests / sdk.accounts:.0f} each: page size "
          f"{sdk.page_default}, the emulator's default), one at a time; emulator CPU meanwhile {sdk.emulator_cpu:.2f} s "
          f"({100 * sdk.emulator_cpu / sdk.seconds:.0f}% of it); scaled x {n}/{sdk.accounts}")
    base = next((v for v in variants if v.name == "set"), None)
    for v in variants:
        if base is not None and v is not base and v.name.startswith("set@"):
            print(f"memory: {v.name} peak {v.plan.peak_mb:.0f} MB / set ({base.count} WABAs) peak {base.plan.peak_mb:.0f} MB = "
                  f"{v.plan.peak_mb / base.plan.peak_mb:.2f}x for {v.count / base.count:.1f}x the WABAs")
    for v in variants:
        for note in v.notes:
            print(f"WARNING {note}")
        if v.emulator_cpu >= 0.5 * v.reading:
            print(f"NOTE {v.name}: the emulator was busy {100 * v.emulator_cpu / v.reading:.0f}% of the plan's time on the Graph API "
                  f"(its wall less the config read; {1000 * v.emulator_cpu / max(1, v.round_trips):.1f} ms of CPU per request, "
                  "one at a time under its lock): the emulator, not wabactl, dominates this part of the figure")
        if v.emulator_cpu > limits[v.count].seconds:
            print(f"NOTE {v.name}: the emulator's CPU time alone ({v.emulator_cpu:.2f} s) exceeds the round-trip bound "
                  f"({limits[v.count].seconds:.2f} s): against this emulator no client can reach the bound")
    if sdk.emulator_cpu >= 0.3 * sdk.seconds:
        print(f"NOTE the SDK pattern's time is {100 * sdk.emulator_cpu / sdk.seconds:.0f}% emulator CPU, not latency")


def connected(running: Any) -> tuple[Graph, dict[str, str]]:
    """The started emulator's controls, and the environment wabactl runs in against it (none of
    the caller's own WABACTL_ settings)."""
    if not running.url.startswith("http://"):
        raise SystemExit(f"the emulator did not start (exit {running.process.poll()})")
    graph = Graph(running)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WABACTL_")} | {
        "WABACTL_TOKEN": TOKEN, "WABACTL_GRAPH_URL": graph.url, "NO_COLOR": "1"}
    return graph, environ


# --- main ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def workdir(keep: str | None) -> Iterator[Path]:
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        yield Path(keep).resolve()
    else:
        with tempfile.TemporaryDirectory(prefix="fleet-plan-") as name:
            yield Path(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wabas", type=int, default=1000, help="WABAs in the fleet (default 1000)")
    parser.add_argument("--also-wabas", type=int, metavar="M", help="then plan the set variant over M WABAs too (the seed holds M), "
                        "and print its peak memory against the set variant's at --wabas")
    parser.add_argument("--variant", choices=("set", "full", "both"), default="both", help="config variant (default both)")
    parser.add_argument("--latency-ms", type=int, default=50, help="added to every Graph request (default 50)")
    parser.add_argument("--parallelism", type=int, default=DEFAULT_PARALLELISM, help=f"wabactl --parallelism (default {DEFAULT_PARALLELISM})")
    parser.add_argument("--sample", type=int, default=20, help="accounts read with the sequential SDK pattern (default 20)")
    parser.add_argument("--keep", metavar="DIR", help="write the seed, configs, plans and logs here and keep them")
    args = parser.parse_args()
    if args.wabas < 1 or args.sample < 1 or args.parallelism < 1 or args.latency_ms < 0:
        parser.error("--wabas, --sample and --parallelism must be at least 1, --latency-ms at least 0")
    args.sample = min(args.sample, args.wabas)
    names = ["set", "full"] if args.variant == "both" else [args.variant]
    with workdir(args.keep) as folder:
        seed_path = folder / "seed.yaml"
        seed_path.write_text(yaml.dump(seed(max(args.wabas, args.also_wabas or 0)), Dumper=Dumper, width=1000))  # shared lists become aliases
        started = time.perf_counter()
        with running_emulator(str(seed_path)) as running:
            seed_seconds = time.perf_counter() - started
            graph, environ = connected(running)
            startup = run_wabactl(["--help"], environ, folder, "startup")
            idle_ms = idle_page_ms(graph, waba_ids(args.wabas)[0])
            graph.control("POST", "faults", {"kind": "latency", "latency_ms": args.latency_ms})
            variants = [measure_variant(name, args.wabas, graph, folder, environ, args.parallelism) for name in names]
            if args.also_wabas:
                variants.append(measure_variant("set", args.also_wabas, graph, folder, environ, args.parallelism, label=f"set@{args.also_wabas}"))
            sdk = sdk_pattern(graph, waba_ids(args.wabas), args.sample)
            emulator_mb = running.memory_mb()
        plan_command = shlex.join(["wabactl", "plan", "CONFIG", "--format", "json", "--out", "plan.json", "--parallelism", str(args.parallelism)])
        report(args, startup, seed_seconds, emulator_mb, idle_ms, variants, sdk, bound(args.wabas, args.parallelism, args.latency_ms),
               f"validate: wabactl validate CONFIG; plan: WABACTL_GRAPH_URL={graph.url} {plan_command} (in {folder})")


if __name__ == "__main__":
    main()
