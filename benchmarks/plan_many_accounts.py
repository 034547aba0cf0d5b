"""How long `plan` takes over many WABAs, with and without reading accounts in parallel.

Solution partners plan hundreds of WABAs in one run; each account's reads wait on the network.
This starts the emulator (in its own process, so it does not share the interpreter lock with
wabactl) on loopback with ACCOUNTS WABAs of TEMPLATES templates each, adds
LATENCY_MS to every Graph request (a stand-in for the distance to Meta), plans them all once
reading one account at a time and once with wabactl's default parallelism, and prints both
times and their ratio, measured in the same run.

    python benchmarks/plan_many_accounts.py [ACCOUNTS] [TEMPLATES] [LATENCY_MS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import requests
import yaml
from _emulator import emulator_process

from reconciler.endpoint import Target
from reconciler.inputs import load_desired
from reconciler.ledger import Ledger
from reconciler.session import DEFAULT_PARALLELISM, Session


def seed(accounts: int, templates: int) -> dict:
    body = {"type": "BODY", "text": "Your order {{1}} ships today.", "example": {"body_text": [["#1"]]}}
    return {
        "settings": {"calls_per_hour": 0},
        "tokens": [{"token": "bench-token", "user": "1"}],
        "users": {"1": {"name": "bench"}},
        "businesses": {"9": {"name": "Bench", "owned_wabas": [str(100 + a) for a in range(accounts)]}},
        "wabas": {
            str(100 + a): {"owner_business": "9", "templates": [
                {"name": f"t{t:03d}", "language": "en_US", "category": "UTILITY", "components": [body]}
                for t in range(templates)]}
            for a in range(accounts)
        },
    }


def config_file(folder: Path, accounts: int, templates: int) -> str:
    body = {"type": "BODY", "text": "Your order {{1}} ships today.", "example": {"body_text": [["#1"]]}}
    data = {"version": 1, "accounts": {
        f"acct-{a}": {"waba_id": str(100 + a), "templates": {
            f"t{t:03d}": {"category": "UTILITY", "languages": {"en_US": {"components": [body]}}}
            for t in range(templates)}}
        for a in range(accounts)}}
    path = folder / "bench.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def timed_plan(path: str, url: str, workers: int) -> float:
    desired = load_desired([path])
    run = Session(Target(url, ("bench-token",)), Ledger(None), parallelism=workers)
    started = time.perf_counter()
    plan = run.plan(desired)
    elapsed = time.perf_counter() - started
    run.close()
    assert not plan.has_changes(), "the benchmark config should match the seed"
    return elapsed


def main() -> None:
    accounts = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    templates = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    latency = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    default_workers = DEFAULT_PARALLELISM
    with tempfile.TemporaryDirectory() as folder:
        seed_path = Path(folder) / "seed.yaml"
        seed_path.write_text(yaml.safe_dump(seed(accounts, templates)))
        path = config_file(Path(folder), accounts, templates)
        with emulator_process(str(seed_path)) as url:
            requests.post(f"{url}/_emulator/faults", json={"kind": "latency", "latency_ms": latency}, timeout=10)
            sequential = timed_plan(path, url, 1)
            parallel = timed_plan(path, url, default_workers)
    print(f"accounts={accounts} templates/account={templates} latency={latency}ms")
    print(f"one account at a time: {sequential:.2f}s")
    print(f"{default_workers} accounts at a time: {parallel:.2f}s")
    print(f"ratio sequential/parallel: {sequential / parallel:.1f}x")


if __name__ == "__main__":
    main()
