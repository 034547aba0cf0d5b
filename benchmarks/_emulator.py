"""The Graph API emulator in its own process, for the benchmarks.

In its own process it does not share the interpreter lock with the wabactl being measured. It is
started as ``python -m reconciler emulator --seed SEED`` and its URL is taken from the first line
it prints. ``emulator_process`` yields just the URL; ``running_emulator`` yields the process too,
with the CPU time it has used so far (so a benchmark can tell when the emulator, not wabactl, is
what it measures).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass


@dataclass
class EmulatorProcess:
    process: subprocess.Popen[str]
    url: str

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float | None:
        """User and system CPU time the emulator has used so far; None where /proc cannot tell."""
        try:
            with open(f"/proc/{self.pid}/stat", encoding="ascii") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return None

    def memory_mb(self) -> tuple[float, float] | None:
        """Resident memory now and at its peak, in MB; None where /proc cannot tell."""
        try:
            with open(f"/proc/{self.pid}/status", encoding="ascii") as handle:
                values = dict(line.split(":", 1) for line in handle if ":" in line)
            return int(values["VmRSS"].split()[0]) / 1024, int(values["VmHWM"].split()[0]) / 1024
        except (OSError, KeyError, ValueError):
            return None


@contextlib.contextmanager
def running_emulator(seed_path: str, env: Mapping[str, str] | None = None) -> Iterator[EmulatorProcess]:
    """An emulator process seeded from ``seed_path``; stopped on leaving. The URL is empty when it
    printed none (it could not start). ``env``: its environment (default: this process's), e.g. a
    PYTHONPATH naming which wabactl's emulator to run."""
    process = subprocess.Popen([sys.executable, "-m", "reconciler", "emulator", "--seed", seed_path],
                               stdout=subprocess.PIPE, text=True, env=dict(env) if env is not None else None)
    try:
        line = process.stdout.readline() if process.stdout else ""
        yield EmulatorProcess(process, line.rsplit(" ", 1)[-1].strip())
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextlib.contextmanager
def emulator_process(seed_path: str) -> Iterator[str]:
    """An emulator process seeded from ``seed_path``: its URL."""
    with running_emulator(seed_path) as running:
        yield running.url
