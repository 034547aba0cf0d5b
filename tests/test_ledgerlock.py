"""One apply at a time per ledger: the second waits, then refuses naming the holder; nothing is lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from reconciler.errors import LedgerLockedError
from reconciler.ledgerlock import LedgerLock

from conftest import TOKEN, WABA, body, write_config


def templates(prefix: str, count: int) -> dict:
    return {f"{prefix}_{i:02d}": {"category": "UTILITY", "languages": {"en_US": {"components": [body(f"Order {{{{1}}}} of {prefix} {i} ships.", "#1")]}}}
            for i in range(count)}


def test_a_second_holder_waits_then_is_refused_with_the_holder_named(tmp_path):
    path = str(tmp_path / ".wabactl" / "ledger.json")
    with LedgerLock(path, timeout=1):
        holder = json.loads((tmp_path / ".wabactl" / "ledger.json.holder").read_text())
        assert holder["pid"] == os.getpid()
        with pytest.raises(LedgerLockedError, match=rf"in use by another apply \(pid {os.getpid()} on .+, since 20"):
            with LedgerLock(path, timeout=0.1):
                pass
    assert not (tmp_path / ".wabactl" / "ledger.json.holder").exists()
    with LedgerLock(path, timeout=0.1):
        pass


def test_apply_refuses_while_another_holds_the_ledger_and_writes_nothing(load, wabactl, tmp_path):
    graph = load()
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": templates("a", 1)}})
    with LedgerLock(str(tmp_path / ".wabactl" / "ledger.json")):
        result = wabactl("apply", path, "--auto-approve", "--lock-timeout", "0.2")
    assert result.exit_code == 1 and "is in use by another apply (pid" in result.stderr and "Traceback" not in result.output
    assert graph.log() == []


def test_two_applies_at_once_lose_nothing(load, emulator, tmp_path):
    graph = load()
    first = write_config(tmp_path / "a.yaml", {"acme": {"waba_id": WABA, "templates": templates("a", 20)}})
    second = write_config(tmp_path / "b.yaml", {"acme": {"waba_id": WABA, "templates": templates("b", 20)}})
    environment = {**os.environ, "WABACTL_GRAPH_URL": emulator.url, "WABACTL_TOKEN": TOKEN, "NO_COLOR": "1"}
    runs = [subprocess.Popen([sys.executable, "-m", "reconciler", "apply", path, "--auto-approve", "--lock-timeout", "30"],
                             env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for path in (first, second)]
    outcomes = [(run.wait(timeout=60), run.communicate()) for run in runs]
    assert [code for code, _ in outcomes] == [0, 0], outcomes
    ledger = json.loads((tmp_path / ".wabactl" / "ledger.json").read_text())
    assert len(ledger["accounts"][WABA]["creations"]) == 40
    assert len([e for e in graph.log() if e["method"] == "POST"]) == 40  # no create planned twice


def test_a_ledger_that_cannot_be_written_still_gets_the_full_summary(load, wabactl, tmp_path):
    load()
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": templates("a", 2)}})
    state = tmp_path / "state"
    (state / "ledger.json").mkdir(parents=True)  # where the ledger file should go, a directory stands
    result = wabactl("apply", path, "--auto-approve", "--state-dir", str(state))
    assert result.exit_code == 1, result.output
    assert "Apply complete: 2 change(s) applied." in result.stdout
    assert f"Error: the ledger {state / 'ledger.json'} could not be written" in result.stderr and "not recorded: 2 creations" in result.stderr


def test_an_apply_killed_mid_way_loses_no_ledger_record(load, emulator, tmp_path):
    graph = load()
    path = write_config(tmp_path / "a.yaml", {"acme": {"waba_id": WABA, "templates": templates("a", 30)}})
    graph.control("POST", "faults", {"kind": "latency", "method": "POST", "latency_ms": 100})
    environment = {**os.environ, "WABACTL_GRAPH_URL": emulator.url, "WABACTL_TOKEN": TOKEN, "NO_COLOR": "1"}
    run = subprocess.Popen([sys.executable, "-m", "reconciler", "apply", path, "--auto-approve"], env=environment,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while len([e for e in graph.log() if e["method"] == "POST"]) < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=10)
    created = len([e for e in graph.log() if e["method"] == "POST" and e["status"] == 200])
    ledger = json.loads((tmp_path / ".wabactl" / "ledger.json").read_text())
    assert 5 <= created < 30
    assert len(ledger["accounts"][WABA]["creations"]) >= created  # a write in flight may be counted, none is lost
