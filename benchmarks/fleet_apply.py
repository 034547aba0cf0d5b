"""The fleet apply benchmark (issue 12): ``apply`` of C template creates in each of N empty WABAs
against its own round-trip bound, in one run.

An emulator process (``_emulator.running_emulator``) is seeded with ACCOUNTS WABAs of one business,
each empty, and LATENCY_MS is added to every Graph request. The config declares TEMPLATES
templates (one language each) in a template set every account uses, so every account needs
TEMPLATES creates; Meta's creation budget is 100 an hour per WABA, so 100 fit in one run. wabactl
runs as its command line in a subprocess, as a CI job would::

    wabactl apply CONFIG --auto-approve --parallelism P

Measured: wall time, the process's CPU time (rusage) and peak memory (its own VmHWM, see ``fleet_plan.Ran``), the
requests the emulator logged (log cleared before), by kind, and the emulator's own CPU meanwhile.
Checked: apply exits 0, every WABA holds its templates, and ``wabactl plan CONFIG
--detailed-exitcode`` afterwards exits 0 (no change).

The bound is max(longest chain, ceil(total requests / P)) x latency, both counted from the
request log:

- the longest chain of dependent requests: the per-token requests that come before any account
  request (``debug_token``; ``/me`` where it was asked), then the requests of the account that
  sent most (its reads, then its writes one after another, each with its read-back if one was
  made), since each waits for the one before;
- total requests: every HTTP round trip the log shows (a batch is one).

Also printed, to tell where the time goes: the timeline from the log (the emulator's clock flows
with real time here), i.e. when the reads ended and the writes began and ended, and two tighter
figures the bound does not take in: the plan-then-apply barrier (every read before any write) and
accounts as the unit of parallel work (ceil(ACCOUNTS / P) rounds of one account's writes).

    python benchmarks/fleet_apply.py [--accounts N] [--templates C] [--latency-ms MS]
                                     [--parallelism P] [--keep DIR]

Defaults: 20 accounts, 100 templates, 50 ms, parallelism 8. Exit 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import yaml
from _emulator import running_emulator
from fleet_plan import BUSINESS, TOKEN, TOKEN_USER, Dumper, Ran, connected, kind_of, run_wabactl, workdir

FIRST_WABA = 310_000_000_000_000
SET = "apply"
LANGUAGE = "en_US"
SHARED = ("debug_token", "me")  # per-token requests, no account's


def waba_ids(count: int) -> list[str]:
    return [str(FIRST_WABA + i) for i in range(count)]


def seed(count: int) -> dict[str, Any]:
    """Empty WABAs; the clock flows (so the request log's times are a timeline)."""
    return {
        "settings": {"calls_per_hour": 0},  # the hourly call budget is not what is measured; the creation budget stays 100/hour
        "tokens": [{"token": TOKEN, "user": TOKEN_USER}],
        "users": {TOKEN_USER: {"name": "bench", "user_type": "SYSTEM_USER"}},
        "businesses": {BUSINESS: {"name": "Bench Partner"}},
        "wabas": {waba: {"name": f"Client {i:05d}", "owner_business": BUSINESS, "templates": []}
                  for i, waba in enumerate(waba_ids(count))},
    }


def write_config(folder: Path, count: int, templates: int) -> Path:
    declared = {f"apply_{i:03d}": {"category": "UTILITY", "languages": {LANGUAGE: {"components": [
        {"type": "BODY", "text": f"Hello {{{{1}}}}, your order is ready (notice {i:03d}).", "example": {"body_text": [["Ann"]]}}]}}}
        for i in range(templates)}
    config = {"version": 1, "template_sets": {SET: {"templates": declared}},
              "accounts": {f"acct-{i:05d}": {"waba_id": waba, "use": [SET]} for i, waba in enumerate(waba_ids(count))}}
    path = folder / "fleet-apply.yaml"
    path.write_text(yaml.dump(config, Dumper=Dumper, width=1000, sort_keys=False))
    return path


# --- the request log ------------------------------------------------------------------------------


def account_of(entry: dict[str, Any], wabas: set[str], template_waba: dict[str, str]) -> str | None:
    segments = [s for s in entry["path"].split("/") if s]
    if segments and segments[0].startswith("v") and segments[0][1:2].isdigit():
        segments = segments[1:]
    if not segments:
        return None
    if segments[0] in wabas:
        return segments[0]
    return template_waba.get(segments[0])


def kind(entry: dict[str, Any]) -> str:
    return f"{entry['method']} {kind_of(entry)}"


def analyse(log: list[dict[str, Any]], wabas: set[str], template_waba: dict[str, str]) -> dict[str, Any]:
    """Counts by kind, per account, and the timeline (times relative to the first request)."""
    round_trips = [e for e in log if e.get("note") != "batch item"]
    by_kind = Counter(kind(e) for e in log)
    per_account: dict[str, list[dict[str, Any]]] = defaultdict(list)
    shared: list[dict[str, Any]] = []
    for entry in round_trips:
        owner = account_of(entry, wabas, template_waba)
        (per_account[owner] if owner else shared).append(entry)
    writes = [e for e in round_trips if e["method"] != "GET"]
    reads = [e for e in round_trips if e["method"] == "GET"]
    first = min(e["time"] for e in log) if log else 0.0
    spans = []
    for entries in per_account.values():
        own = [e["time"] for e in entries if e["method"] != "GET"]
        if own:
            spans.append((min(own), max(own), len(own)))
    return {
        "round_trips": len(round_trips), "by_kind": by_kind, "per_account": {k: len(v) for k, v in per_account.items()},
        "per_account_kinds": {k: Counter(kind(e) for e in v) for k, v in per_account.items()},
        "shared": Counter(kind(e) for e in shared), "first": first,
        "reads_end": max((e["time"] for e in reads if not writes or e["time"] <= min(w["time"] for w in writes)), default=first) - first,
        "reads_after_writes": sum(1 for e in reads if writes and e["time"] > min(w["time"] for w in writes)),
        "writes_start": (min(e["time"] for e in writes) - first) if writes else 0.0,
        "writes_end": (max(e["time"] for e in writes) - first) if writes else 0.0,
        "last": (max(e["time"] for e in log) - first) if log else 0.0,
        "account_write_spans": spans,
        "writes": len(writes),
        "errors": Counter(f"{kind(e)} {e['status']} code {e.get('code')}" for e in log if (e.get("status") or 0) >= 400),
    }


# --- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=20, help="empty WABAs (default 20)")
    parser.add_argument("--templates", type=int, default=100, help="templates created in each (default 100; Meta allows 100 an hour)")
    parser.add_argument("--latency-ms", type=int, default=50, help="added to every Graph request (default 50)")
    parser.add_argument("--parallelism", type=int, default=8, help="wabactl --parallelism (default 8)")
    parser.add_argument("--keep", metavar="DIR", help="write the seed, config, ledger, logs and request log here and keep them")
    args = parser.parse_args()
    if args.accounts < 1 or args.templates < 1 or args.parallelism < 1 or args.latency_ms < 0:
        parser.error("--accounts, --templates and --parallelism must be at least 1, --latency-ms at least 0")
    latency = args.latency_ms / 1000
    problems: list[str] = []
    with workdir(args.keep) as folder:
        seed_path = folder / "seed.yaml"
        seed_path.write_text(yaml.dump(seed(args.accounts), Dumper=Dumper, width=1000))
        config = write_config(folder, args.accounts, args.templates)
        with running_emulator(str(seed_path)) as running:
            graph, environ = connected(running)
            startup = run_wabactl(["--help"], environ, folder, "startup")
            validate = run_wabactl(["validate", config.name], environ, folder, "validate")
            if validate.code != 0:
                raise SystemExit(f"wabactl validate failed (exit {validate.code}):\n{validate.stderr[-3000:]}")
            graph.control("POST", "faults", {"kind": "latency", "latency_ms": args.latency_ms})
            graph.control("DELETE", "requests")
            clock_before = graph.control("GET", "clock")["now"]
            cpu_before = graph.cpu()
            command = ["apply", config.name, "--auto-approve", "--parallelism", str(args.parallelism)]
            applied = run_wabactl(command, environ, folder, "apply")
            emulator_cpu = graph.cpu() - cpu_before
            log = graph.control("GET", "requests")["data"]
            (folder / "requests.json").write_text(json.dumps(log))
            graph.control("DELETE", "faults")
            state = graph.control("GET", "state")
            held = Counter(t["waba_id"] for t in state["templates"].values())
            template_waba = {str(tid): str(t["waba_id"]) for tid, t in state["templates"].items()}
            after = run_wabactl(["plan", config.name, "--detailed-exitcode", "--parallelism", str(args.parallelism)], environ, folder, "plan-after")
    facts = analyse(log, set(waba_ids(args.accounts)), template_waba)
    if applied.code != 0:
        problems.append(f"apply exited {applied.code}: {applied.stderr[-2000:]}")
    if after.code != 0:
        problems.append(f"plan afterwards exited {after.code} (2 = changes left): {after.stderr[-2000:]}")
    short = {w: held.get(w, 0) for w in waba_ids(args.accounts) if held.get(w, 0) != args.templates}
    if short:
        problems.append(f"{len(short)} WABAs do not hold {args.templates} templates: {dict(list(short.items())[:5])}")
    report(args, startup, validate, applied, after, emulator_cpu, facts, log, latency, clock_before, command, folder)
    for problem in problems:
        print(f"FAILED {problem}")
    sys.exit(1 if problems else 0)


def report(args: argparse.Namespace, startup: Ran, validate: Ran, applied: Ran, after: Ran, emulator_cpu: float, facts: dict[str, Any],
           log: list[dict[str, Any]], latency: float, clock_before: float, command: list[str], folder: Path) -> None:
    p = args.parallelism
    per_account = facts["per_account"]
    heaviest = max(per_account, key=lambda k: per_account[k]) if per_account else None
    shared_before = facts["shared"].get("GET debug_token", 0) + facts["shared"].get("GET me", 0)
    chain = shared_before + (per_account[heaviest] if heaviest else 0)
    total = facts["round_trips"]
    rounds = max(chain, math.ceil(total / p))
    bound = rounds * latency
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    print(f"fleet: {args.accounts} empty WABAs, {args.templates} templates each to create ({args.accounts * args.templates:,} creates); "
          f"latency {args.latency_ms} ms per Graph request; --parallelism {p}")
    print(f"wabactl: WABACTL_GRAPH_URL=... {shlex.join(['wabactl', *command])} (in {folder})")
    print(f"interpreter start + wabactl imports (wabactl --help): {startup.wall:.2f} s; validate: {validate.wall:.2f} s")
    print()
    rows = [
        ("apply wall (s)", f"{applied.wall:.2f}"),
        ("apply exit code", str(applied.code)),
        ("apply CPU, wabactl process (s)", f"{applied.cpu:.2f}"),
        ("apply peak memory (MB)", f"{applied.peak_mb:.0f}"),
        ("requests (HTTP round trips)", str(total)),
        *((f"  {k}", str(n)) for k, n in sorted(facts["by_kind"].items())),
        ("emulator CPU during apply (s)", f"{emulator_cpu:.2f}"),
        ("  emulator CPU per request (ms)", f"{1000 * emulator_cpu / max(1, total):.1f}"),
        ("round-trip bound (s)", f"{bound:.2f}"),
        ("apply / bound", f"{applied.wall / bound:.2f}x" if bound else "-"),
        ("plan afterwards: exit (0 = no change)", str(after.code)),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label.ljust(width)}  {value}")
    print()
    kinds = facts["per_account_kinds"].get(heaviest, Counter()) if heaviest else Counter()
    print(f"bound = max(longest chain {chain}, ceil(total {total} / parallelism {p}) = {math.ceil(total / p)}) x {args.latency_ms} ms "
          f"= {rounds} x {args.latency_ms} ms = {bound:.2f} s")
    print(f"  longest chain = {shared_before} per-token ({', '.join(f'{k} {n}' for k, n in sorted(facts['shared'].items())) or 'none'}) "
          f"+ {per_account.get(heaviest, 0) if heaviest else 0} of account {heaviest} "
          f"({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))})")
    counts = sorted(per_account.values())
    if counts:
        print(f"  requests per account: min {counts[0]}, max {counts[-1]}; no account's requests: {sum(facts['shared'].values())}")
    # Tighter figures the bound leaves out.
    reads_per_account = max((sum(n for k, n in c.items() if k.startswith("GET")) for c in facts["per_account_kinds"].values()), default=0)
    writes_per_account = max((sum(n for k, n in c.items() if not k.startswith("GET")) for c in facts["per_account_kinds"].values()), default=0)
    total_reads = sum(n for k, n in facts["by_kind"].items() if k.startswith("GET"))
    barrier = max(shared_before + reads_per_account, math.ceil(total_reads / p)) + max(writes_per_account, math.ceil(facts["writes"] / p))
    whole_accounts = math.ceil(args.accounts / p) * writes_per_account
    barrier_accounts = max(shared_before + reads_per_account, math.ceil(total_reads / p)) + whole_accounts
    print(f"  not in the bound: reading all before writing (plan, then apply): {barrier} x {args.latency_ms} ms = {barrier * latency:.2f} s; "
          f"and with whole accounts as the unit of parallel work (ceil({args.accounts}/{p}) x {writes_per_account} writes): "
          f"{barrier_accounts} x {args.latency_ms} ms = {barrier_accounts * latency:.2f} s")
    print()
    offset = facts["first"] - clock_before  # from the emulator clock read just before apply started to its first request
    print("timeline (emulator clock, flowing; each request logged when answered), seconds from launching apply:")
    print(f"  first request answered      {offset:.2f}   (interpreter start, imports, config read, first round trip)")
    print(f"  last read before any write  {offset + facts['reads_end']:.2f}")
    print(f"  first write answered        {offset + facts['writes_start']:.2f}")
    print(f"  last write answered         {offset + facts['writes_end']:.2f}   (writes: {facts['writes']})")
    print(f"  last request answered       {offset + facts['last']:.2f}; process ended {applied.wall:.2f}")
    if facts["reads_after_writes"]:
        print(f"  reads answered after the first write: {facts['reads_after_writes']}")
    spans = facts["account_write_spans"]
    if spans:
        lengths = sorted(end - start for start, end, _ in spans)
        starts = sorted(start - facts["first"] + offset for start, _, _ in spans)
        write_phase = facts["writes_end"] - facts["writes_start"]
        print(f"  one account's writes took {lengths[0]:.2f}..{lengths[-1]:.2f} s "
              f"({1000 * lengths[len(lengths) // 2] / max(1, spans[0][2] - 1):.0f} ms per write, median account; latency {args.latency_ms} ms)")
        print(f"  accounts began writing at: {', '.join(f'{s:.1f}' for s in starts)}")
        print(f"  writes in flight on average during the write phase: {facts['writes'] * latency / max(write_phase, 1e-9):.1f} (parallelism {p})")
    if facts["errors"]:
        print(f"  error answers: {dict(facts['errors'])}")


if __name__ == "__main__":
    main()
