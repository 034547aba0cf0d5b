"""Drift report -> text (a terminal) or markdown (a pull-request or issue comment).

Pure functions: they take a report and return a string; the CLI prints it. The JSON form is
``planning.driftfile``'s.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

from ..planning.drift import AccountDrift, DriftReport, Finding, Kind
from . import markdown as md
from .plan import painter

Paint = Callable[[str, str], str]

COLOURS = {
    Kind.CHANGE: "33",  # yellow
    Kind.UNMANAGED: "36",  # cyan
    Kind.STATUS: "31",  # red
    Kind.CATEGORY: "35",  # magenta
    Kind.QUALITY: "31",
    Kind.ACCOUNT: "31;1",
}
KIND_ORDER = {kind: index for index, kind in enumerate(Kind)}
NAMES_PER_ROW = 5  # accounts named in one row of the grouped table: a row stays readable
FULL_REPORT = "For the full report, run `wabactl drift --format json`."


# --- shared wording ------------------------------------------------------------------------


def totals_line(report: DriftReport) -> str:
    """``Drift: 43 findings in 41 of 300 accounts: 3 change, 40 status.``, or that there is none."""
    findings = report.findings
    if not findings:
        ignored = f" ({md.count(report.ignored, 'finding')} ignored)" if report.ignored else ""
        if report.failures:
            return f"No drift in the accounts that could be read{ignored}."
        if report.ignored:
            return f"No new drift: every finding is ignored{ignored}."
        return "No drift. Live state matches the configuration and is healthy."
    counts = report.counts()
    kinds = ", ".join(f"{counts[kind]:,} {kind.value}" for kind in Kind if counts[kind])
    drifted = sum(1 for account in report.accounts if account.findings)
    return f"Drift: {md.count(len(findings), 'finding')} in {drifted:,} of {md.count(len(report.accounts), 'account')}: {kinds}."


def ignored_line(report: DriftReport) -> str:
    """How many findings were ignored and by what; empty when none were."""
    if not report.ignored and not report.ignored_kinds:
        return ""
    how = []
    if report.ignored_kinds:
        how.append("by kind: " + ", ".join(report.ignored_kinds))
    if report.ignore_file:
        how.append(f"by the rules in {os.path.basename(report.ignore_file)}")
    return f"{md.count(report.ignored, 'finding')} ignored" + (f" ({'; '.join(how)})" if how else "") + "."


def finding_line(finding: Finding) -> str:
    return f"{finding.kind.value} {finding.key}: {finding.detail}{_from(finding)}"


def _from(finding: Finding) -> str:
    return f" (set {finding.origin})" if finding.origin else ""


# --- text ----------------------------------------------------------------------------------


def text(report: DriftReport, color: bool = False) -> str:
    """Per account with findings or an error: its findings (``kind key: detail``) or the error;
    then the totals by kind, the ignored count and the accounts without drift."""
    paint = painter(color)
    out: list[str] = []
    for account in report.accounts:
        if not account.findings and account.error is None:
            continue
        out.append(paint(f"Account {account.account} (WABA {account.waba_id})", "1"))
        if account.error is not None:
            out.append(paint(f"  error: {account.error}", "31"))
        for finding in account.findings:
            out.append(f"  {paint(finding.kind.value, COLOURS[finding.kind])} {finding.key}: {finding.detail}{_from(finding)}")
        if account.ignored:
            out.append(paint(f"  {md.count(account.ignored, 'finding')} ignored", "2"))
        out.append("")
    out.append(paint(totals_line(report), "1"))
    if ignored_line(report):
        out.append(ignored_line(report))
    clean = _clean(report)
    if clean and report.findings:
        out.append(f"{md.count(len(clean), 'account')} without drift.")
    if report.failures:
        names = ", ".join(account.account for account in report.failures)
        out.append(paint(f"{md.count(len(report.failures), 'account')} could not be read: {names} (see the errors above).", "31;1"))
    return "\n".join(out) + "\n"


def _clean(report: DriftReport) -> list[str]:
    return [account.account for account in report.accounts if not account.findings and account.error is None]


# --- markdown ------------------------------------------------------------------------------


def markdown(report: DriftReport, full: str | None = None) -> str:
    """A comment of at most ``md.LIMIT`` characters: marker, totals by kind, the accounts that
    could not be read, one table row per finding that holds in one or more accounts ("PAUSED |
    40 accounts: a, b, c and 37 more"), then each account's findings in a collapsible section,
    cut to fit by ``md.fit`` with a line pointing at ``full`` (where the full report is)."""
    where = f"The full report: {md.cell(md.clip(full, 300))}." if full else FULL_REPORT
    sections = [md.Section(account.account, len(account.findings), functools.partial(_section, account))
                for account in report.accounts if account.findings]
    return md.fit(lambda level: _required(report, level), sections, "finding", where)


def _required(report: DriftReport, level: md.Compaction) -> list[str]:
    totals = f"**{md.cell(totals_line(report))}**"
    if ignored_line(report):
        totals += " " + md.cell(ignored_line(report))
    return [f"{md.DRIFT_MARKER}\n### wabactl drift", totals, *_errors(report, level), *_table(report, level), *_clean_line(report, level)]


def _errors(report: DriftReport, level: md.Compaction) -> list[str]:
    """Every account that could not be read, with its error."""
    failures = [(a.account, a.waba_id, a.error or "") for a in report.failures]
    return md.error_list(f"{md.count(len(failures), 'account')} could not be read:", failures, level) if failures else []


def _table(report: DriftReport, level: md.Compaction) -> list[str]:
    """One row per (kind, key, fact) with the accounts it holds in: the same finding across many
    accounts is one row."""
    if not report.findings:
        return []
    groups: dict[tuple[Kind, str, str], list[str]] = {}
    for finding in report.findings:
        groups.setdefault((finding.kind, finding.key, finding.summary), []).append(finding.account)
    ordered = sorted(groups.items(), key=lambda item: (KIND_ORDER[item[0][0]], -len(item[1]), item[0][1], item[0][2]))
    most = min(level.names, NAMES_PER_ROW)
    rows = [[md.code(md.clip(key, level.width), in_table=True), md.cell(kind.value), md.cell(md.clip(fact, level.width)),
             md.accounts_phrase(names, most)] for (kind, key, fact), names in ordered]
    return md.bounded_table(["key", "kind", "fact", "accounts"], rows, level, "findings")


def _clean_line(report: DriftReport, level: md.Compaction) -> list[str]:
    clean = _clean(report)
    if not clean or not report.findings:
        return []
    return [f"{md.count(len(clean), 'account')} without drift: {md.listing([md.code(name) for name in clean], level.names)}."]


def _section(account: AccountDrift) -> str:
    blocks = [md.fenced([md.one_line(finding_line(finding)) for finding in account.findings])]
    if account.ignored:
        blocks.append(f"{md.count(account.ignored, 'finding')} ignored.")
    title = f"{account.account}: {md.count(len(account.findings), 'finding')}"
    return md.details(title, *blocks)
