"""Pull-request comments end to end: markdown of a plan and a drift report across 300 accounts fits
GitHub's 65,536 characters, keeps every account in the summary and says what it left out."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.emulator import Emulator

from conftest import BASE_SEED, TOKEN, body, template, write_config

ACCOUNTS = 300
TEMPLATES = 30
LIMIT = 65_536


def waba_id(i: int) -> str:
    return f"5550000{i:08d}"


def declared(i: int) -> dict:
    return {"category": "UTILITY", "languages": {"en_US": {"components": [body(f"Order {{{{1}}}} of batch {i} ships today.", "#1")]}}}


@pytest.fixture(scope="module")
def fleet_emulator() -> Iterator[Emulator]:
    """An emulator of its own: 300 WABAs, each holding 30 templates, one of them PAUSED (a seed
    larger than the reset control takes)."""
    seed = copy.deepcopy(BASE_SEED)
    seed["wabas"] = {waba_id(i): {"name": f"Shop {i}", "templates": [
        template(f"notice_{t:02d}", status="PAUSED" if t == 0 else "APPROVED") for t in range(TEMPLATES)]} for i in range(ACCOUNTS)}
    with Emulator(seed) as running:
        yield running


@pytest.fixture
def fleet(fleet_emulator, tmp_path):
    """A config changing every template of every account, and how to run wabactl against the fleet."""
    templates = {f"notice_{t:02d}": declared(t) for t in range(TEMPLATES)}  # every body differs from live
    path = write_config(tmp_path / "c.yaml", {f"shop-{i:03d}": {"waba_id": waba_id(i), "templates": templates, "on_change": "edit"}
                                              for i in range(ACCOUNTS)})

    def run(*args: str):
        environment = {"WABACTL_GRAPH_URL": fleet_emulator.url, "WABACTL_TOKEN": TOKEN, "NO_COLOR": "1"}
        return CliRunner().invoke(main, list(args), env=environment, catch_exceptions=False)

    return run, path


def test_plan_markdown_across_300_accounts_fits_and_says_what_it_left_out(fleet, tmp_path):
    wabactl, path = fleet
    result = wabactl("plan", path, "--format", "markdown", "--out", str(tmp_path / "plan.json"), "--parallelism", "16")
    assert result.exit_code == 0, result.stderr
    markdown = result.stdout
    assert len(markdown) <= LIMIT
    assert markdown.startswith("<!-- wabactl:plan -->\n")
    summary_rows = [line for line in markdown.splitlines() if line.startswith("| `shop-")]
    assert len(summary_rows) == ACCOUNTS and all(f"| `shop-{i:03d}` |" in markdown for i in range(ACCOUNTS))
    assert "Details cut to fit" in markdown and "left out" in markdown and "plan.json" in markdown


def test_drift_markdown_groups_one_finding_across_accounts_into_one_row(fleet, tmp_path):
    wabactl, path = fleet
    out = tmp_path / "drift.md"
    result = wabactl("drift", path, "--format", "markdown", "--out", str(out), "--ignore", "change", "--parallelism", "16")
    assert result.exit_code == 2, result.stderr
    markdown = out.read_text()
    assert len(markdown) <= LIMIT and markdown.startswith("<!-- wabactl:drift -->\n")
    paused = [line for line in markdown.splitlines() if "`template.notice_00[en_US]`" in line and "PAUSED" in line and line.startswith("|")]
    assert len(paused) == 1 and f"{ACCOUNTS} accounts" in paused[0]
