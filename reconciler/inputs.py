"""The files a run reads besides the ledger, and the one it writes for drift: config files (with
their digests, for a saved plan's check), plan files (named as such where a config is expected,
and the reverse), and the drift ignore file with its baseline."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pathlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from . import ledger as ledgers
from .desired import config
from .desired.selection import narrow
from .errors import PlanFileError, ReconcilerError
from .model import DesiredState
from .planning import planfile
from .planning.drift import DriftReport, IgnoreRules, baseline_text, parse_ignore
from .planning.plan import Plan

STATE_DIR = ".wabactl"
IGNORE_FILE = ".wabactl-driftignore"


def read_plan_file(path: str) -> Plan:
    """A saved plan; a config file given instead is named as one."""
    kind = planfile.written_by_wabactl(path)
    if kind is None and config.looks_like_config(path):
        raise PlanFileError(f"{path} is a config file, not a plan file: plan it with `wabactl plan {path}`, "
                            f"or save a plan with `wabactl plan {path} --out plan.json`")
    if kind is not None and kind != planfile.FORMAT:
        raise PlanFileError(f"{path} is {planfile.KINDS.get(kind, kind)}, not a plan file: make one with `wabactl plan CONFIG --out plan.json`")
    return planfile.load(path)

def saved_plan_among(paths: Sequence[str]) -> Plan | None:
    """The saved plan when ``paths`` is one plan file; None when they are config files."""
    saved = [path for path in paths if planfile.looks_like_plan(path)]
    if saved and len(paths) > 1:
        raise ReconcilerError(f"{saved[0]} is a plan file: apply takes one plan file, or config files, not both")
    return planfile.load(paths[0]) if saved else None

def config_digests(paths: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """Each config file (directories expanded) with the digest of its bytes."""
    digests = []
    for path in config.config_files(paths):
        try:
            digest = hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()
        except OSError:
            digest = "0" * 64  # unreadable: loading the config says why
        digests.append((path, f"sha256:{digest}"))
    return tuple(digests)

def changed_files(was: tuple[tuple[str, str], ...], now: tuple[tuple[str, str], ...]) -> list[str]:
    """Files added, removed or edited between two digest lists."""
    return sorted({path for path, _ in set(was) ^ set(now)})

def load_desired(paths: Sequence[str], accounts: Sequence[str] = ()) -> DesiredState:
    """The config files' desired state, narrowed to ``accounts`` when any are named. With fleets,
    the names are checked once discovery has found the fleets' accounts (``Session.select``)."""
    for path in paths:
        kind = planfile.written_by_wabactl(path)
        if kind == planfile.FORMAT:
            raise PlanFileError(f"{path} is a plan file, not a config: render it with `wabactl show {path}`, "
                                f"or carry it out with `wabactl apply {path}`")
        if kind is not None:
            raise PlanFileError(f"{path} is {planfile.KINDS.get(kind, kind)} wabactl wrote, not a config")
    desired = config.load(paths)
    if not accounts or desired.fleets:
        return desired
    return dataclasses.replace(desired, accounts=tuple(narrow(desired.accounts, accounts)))

def ledger_file(state_dir: str | None, anchor: str) -> str:
    """The ledger in ``state_dir``, by default ``.wabactl`` beside ``anchor`` (the first config)."""
    if state_dir is None:
        folder = anchor if os.path.isdir(anchor) else os.path.dirname(os.path.abspath(anchor))
        state_dir = os.path.join(folder, STATE_DIR)
    return ledgers.ledger_path(state_dir)

@dataclass(frozen=True)
class Ignore:
    """The drift ignore file beside the config, and its rules (none when there is no file)."""

    path: str | None = None
    rules: IgnoreRules = field(default_factory=IgnoreRules)
    text: str = ""

def ignore_file_for(anchor: str) -> str:
    """``.wabactl-driftignore`` beside ``anchor`` (the first config file, or its directory)."""
    folder = anchor if os.path.isdir(anchor) else os.path.dirname(os.path.abspath(anchor))
    return os.path.join(folder, IGNORE_FILE)

def read_ignore(anchor: str) -> Ignore:
    """The ignore file beside ``anchor``; an absent one ignores nothing."""
    path = ignore_file_for(anchor)
    try:
        text = pathlib.Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return Ignore()
    except (OSError, UnicodeDecodeError) as error:
        raise ReconcilerError(f"{path}: cannot read the drift ignore file: {getattr(error, 'strerror', None) or error}") from error
    return Ignore(path, IgnoreRules(parse_ignore(text)), text)

def write_baseline(anchor: str, report: DriftReport, ignore: Ignore) -> tuple[str, int]:
    """Add the report's findings to the ignore file beside ``anchor``; the file and how many were added."""
    path = ignore.path or ignore_file_for(anchor)
    before = set(parse_ignore(ignore.text))
    text = baseline_text(ignore.text, report.findings, report.created_at)
    added = len(set(parse_ignore(text)) - before)
    if added:
        pathlib.Path(path).write_text(text, encoding="utf-8")
    return path, added
