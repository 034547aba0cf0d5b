"""Drift report -> JSON (``drift --format json``), checked against ``schemas/drift.schema.json``.

The one place a drift report becomes JSON. Programs read it to act on findings; ``path`` is what
ignore globs match, so a program can write ignore rules from it.
"""

from __future__ import annotations

from typing import Any

from .. import __version__
from ..schemas import dumps_checked
from .drift import DriftReport, Finding, Kind

FORMAT = "wabactl-drift"
VERSION = 1
SCHEMA = "drift.schema.json"


def to_dict(report: DriftReport) -> dict[str, Any]:
    counts = report.counts()
    return {
        "format": FORMAT,
        "version": VERSION,
        "wabactl_version": __version__,
        "created_at": report.created_at,
        "summary": {kind.value: counts[kind] for kind in Kind}
        | {"findings": len(report.findings), "ignored": report.ignored, "errors": len(report.failures)},
        "ignored_kinds": list(report.ignored_kinds),
        "ignore_file": report.ignore_file,
        "accounts": [
            {
                "account": account.account,
                "waba_id": account.waba_id,
                "error": account.error,
                "ignored": account.ignored,
                "findings": [_finding(f) for f in account.findings],
            }
            for account in report.accounts
        ],
    }


def _finding(finding: Finding) -> dict[str, Any]:
    return {"kind": finding.kind.value, "key": finding.key, "summary": finding.summary, "detail": finding.detail, "path": finding.path,
            "set": finding.origin}


def dumps(report: DriftReport) -> str:
    return dumps_checked(to_dict(report), SCHEMA)
