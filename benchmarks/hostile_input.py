"""How long wabactl takes, with its default settings, to give up on hostile servers and inputs.

Each case runs the real command line in a subprocess against an emulator process on loopback and
prints the wall time, the exit code and the error line. The bounds checked are the reliability
issue's: a server that drips a body forever or pages forever ends the run with a clear error
within 120 s, retries included; a YAML alias bomb, 10,000-deep nesting and a 5 MB template body
are refused within 2 s.

    python benchmarks/hostile_input.py [--skip-network] [--skip-input]
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import requests
import yaml
from _emulator import emulator_process

WABA = "102290129340398"
TOKEN = "bench-token"
SEED = {
    "tokens": [{"token": TOKEN, "user": "1"}],
    "users": {"1": {"name": "bench"}},
    "wabas": {WABA: {"templates": [{"name": "t", "language": "en_US", "category": "UTILITY", "status": "APPROVED",
                                    "components": [{"type": "BODY", "text": "Hello there friend."}]}]}},
}
CONFIG = {"version": 1, "accounts": {"acme": {"waba_id": WABA}}}
NETWORK = {  # fault on every listing read: (fault, bound in seconds)
    "dripping body": ({"kind": "drip", "method": "GET", "drip_interval_ms": 200}, 120.0),
    "endless next links, advancing": ({"kind": "endless_paging", "method": "GET", "paging": "advance"}, 120.0),
    "endless next links, repeating": ({"kind": "endless_paging", "method": "GET", "paging": "repeat"}, 120.0),
}


def alias_bomb() -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join(f'*a{i - 1}' for _ in range(9))}]" for i in range(1, 10)]
    return "version: 1\n" + "\n".join(lines) + "\naccounts: {acme: {waba_id: '1', protect: *a9}}\n"


def deep_nesting() -> str:
    return "version: 1\naccounts: " + "[" * 10_000 + "]" * 10_000 + "\n"


def huge_body() -> str:
    text = "Hi {{1}} " + "x" * 5_000_000
    return yaml.safe_dump({"version": 1, "accounts": {"acme": {"waba_id": "1", "templates": {"big": {
        "category": "UTILITY", "languages": {"en_US": {"components": [{"type": "BODY", "text": text, "example": {"body_text": [["1"]]}}]}}}}}}})


INPUTS = {"YAML alias bomb": (alias_bomb, 2.0), "10,000-deep nesting": (deep_nesting, 2.0), "5 MB template body": (huge_body, 2.0)}


@contextlib.contextmanager
def emulator(folder: Path) -> Iterator[str]:
    seed = folder / "seed.yaml"
    seed.write_text(yaml.safe_dump(SEED))
    with emulator_process(str(seed)) as url:
        yield url


def run(args: list[str], environ: dict[str, str], limit: float) -> tuple[float, int, str]:
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "reconciler", *args], env=environ, capture_output=True, text=True, timeout=limit + 30)
    except subprocess.TimeoutExpired:
        return time.perf_counter() - started, -1, f"(still running after {limit + 30:g} s; stopped)"
    elapsed = time.perf_counter() - started
    error = next((line for line in done.stderr.splitlines() if line.startswith("Error")), "(no error line)")
    return elapsed, done.returncode, error


def main() -> None:
    results = []
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        config = folder / "wabactl.yaml"
        config.write_text(yaml.safe_dump(CONFIG))
        environ = {k: v for k, v in os.environ.items() if not k.startswith("WABACTL_")} | {"WABACTL_TOKEN": TOKEN, "NO_COLOR": "1"}
        for case, (make, bound) in INPUTS.items() if "--skip-input" not in sys.argv else ():
            path = folder / "hostile.yaml"
            path.write_text(make())
            results.append((case, bound, *run(["validate", str(path)], environ, bound)))
        if "--skip-network" not in sys.argv:
            with emulator(folder) as url:
                for case, (fault, bound) in NETWORK.items():
                    requests.delete(f"{url}/_emulator/faults", timeout=10)
                    requests.post(f"{url}/_emulator/faults", json=fault, timeout=10).raise_for_status()
                    results.append((case, bound, *run(["plan", str(config)], environ | {"WABACTL_GRAPH_URL": url}, bound)))
    failed = False
    for case, bound, elapsed, code, error in results:
        held = code == 1 and elapsed < bound and "Traceback" not in error
        failed |= not held
        print(f"{case:32s} {elapsed:7.2f}s (bound {bound:g}s)  exit {code}  {'OK' if held else 'FAIL'}  {error[:150]}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
