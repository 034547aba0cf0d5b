"""The command line: parses arguments (shared options in ``options``), calls the run layer
(``session``), prints what the renderer makes of the results, and maps them to exit codes (frozen:
0 success, plan: no changes; 1 error; 2 ``plan --detailed-exitcode``: changes, ``drift``: findings;
3 ``apply``: what is left waits on time). The one place that prints and catches ``ReconcilerError``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import os
import pathlib
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import click
from click.core import ParameterSource

from . import render
from .applying import reportfile
from .applying.applier import Options
from .applying.result import ApplyResult, ChangeResult, Outcome
from .desired import importer
from .desired.config import DEFAULT_TOKEN_ENV
from .desired.selection import Shard
from .endpoint import serve_emulator
from .errors import ReconcilerError
from .inputs import IGNORE_FILE, load_desired, read_ignore, read_plan_file, saved_plan_among, write_baseline
from .model import DesiredState
from .options import (
    DEFAULT_MAX_PLAN_AGE,
    account_option,
    emulator_option,
    lock_timeout_option,
    max_plan_age_option,
    no_color_option,
    parallelism_option,
    run_options,
    shard_option,
    state_dir_option,
)
from .planning import planfile
from .planning.drift import KINDS
from .planning.plan import Plan
from .render import apply as report
from .render import auth as auth_report
from .session import Session, open_session

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_DEFERRED = 0, 1, 2, 3
# Usage errors (an unknown flag, a bad value) exit 1, not click's 2: ``plan --detailed-exitcode``
# keeps 2 for "changes present". Click has no setting for it; its class attribute is the one place.
click.UsageError.exit_code = EXIT_ERROR


def debugging() -> bool:
    return bool((click.get_current_context().find_root().params or {}).get("debug"))


def handle_errors(command: Callable[..., int]) -> Callable[..., None]:
    """Run a command; turn a ReconcilerError into one message on stderr and exit 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            code = command(*args, **kwargs)
        except (ReconcilerError, OSError) as error:  # OSError: a file we were asked to read or write, not a bug
            if debugging():
                traceback.print_exc()
            message = str(error) if isinstance(error, ReconcilerError) else f"{error.strerror or error}: {error.filename or ''}".rstrip(": ")
            echo_err(f"Error: {message}")
            sys.exit(EXIT_ERROR)
        except KeyboardInterrupt:
            echo_err("Interrupted.")
            sys.exit(130)
        sys.exit(code)

    return wrapper


echo_err = functools.partial(click.echo, err=True)


def echo_warnings(run: Session) -> None:
    """The run's warnings not shown yet (a broken ledger, then the token pre-flight's)."""
    for warning in run.warnings:
        echo_err(f"warning: {warning}")
    run.warnings.clear()


def loaded(paths: Sequence[str], accounts: Sequence[str] = ()) -> DesiredState:
    """The config, its warnings printed (translations that differ where no languages are declared)."""
    desired = load_desired(paths, accounts)
    for warning in desired.warnings:
        echo_err(f"warning: {warning}")
    return desired


def echo_failures(made: Plan, run: Session, also: report.Report | None = None) -> None:
    """Each account that could not be planned (with its traceback under --debug)."""
    for failure in made.failures if debugging() else ():
        echo_err("".join(traceback.format_exception(run.errors[failure.account])).rstrip())
    echo_report(also or report.failures_report(made))


def echo_report(part: report.Report) -> None:
    click.echo(part.out, nl=False)
    click.echo(part.err, nl=False, err=True)


def read_progress(run: Session) -> None:
    """Progress while live state is read: one line rewritten in place on a terminal, else one line
    per account as it finishes (a CI log shows where a long plan is). A run of one account has
    nothing to show."""
    terminal = sys.stderr.isatty()

    def show(done: int, total: int, account: str) -> None:
        if total < 2:
            return
        if terminal:
            click.echo(f"\rreading live state: {done}/{total} accounts ({account})\x1b[K", err=True, nl=done == total)
        else:
            echo_err(f"read {done}/{total}: {account}")

    run.on_read = show


def apply_progress() -> Callable[[int, int, ChangeResult], None]:
    """Progress while apply writes: on a terminal one line rewritten in place (changes done, the
    current account and change), and each change that did not apply on a line of its own; in a
    log, one line per change."""
    if not sys.stderr.isatty():
        return lambda done, total, result: echo_err(report.progress_line(done, total, result))

    def show(done: int, total: int, result: ChangeResult) -> None:
        line = report.progress_line(done, total, result)
        if result.outcome is not Outcome.APPLIED:
            click.echo(f"\r{line}\x1b[K", err=True)
        else:
            click.echo(f"\r{line[:120]}\x1b[K", err=True, nl=done == total)

    return show


def use_color(no_color: bool) -> bool:
    return not no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wabactl")
@click.option("--debug", is_flag=True, help="Show tracebacks of errors.")
def main(debug: bool) -> None:
    """Declarative reconciler for WhatsApp Business Accounts: templates and users as code."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@handle_errors
def validate(paths: tuple[str, ...]) -> int:
    """Check config files without touching the network."""
    click.echo(render.config_summary(loaded(paths)))
    return EXIT_OK


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(render.FORMATS), default="text", show_default=True)
@click.option("--out", "-o", "out", type=click.Path(dir_okay=False), help="Save the plan to this file for `apply PLANFILE`.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes (drift), 0 when none.")
@run_options
@handle_errors
def plan(paths: tuple[str, ...], fmt: str, out: str | None, detailed_exitcode: bool, accounts: tuple[str, ...], shard: Shard | None,
         allow_destroy: bool, no_color: bool, parallelism: int, state_dir: str | None, emulator_seed: str | None) -> int:
    """Show how live state differs from the config."""
    desired = loaded(paths, accounts)
    with open_session(paths[0], state_dir, emulator_seed, parallelism) as run:
        read_progress(run)
        echo_warnings(run)
        made = run.plan_config(paths, accounts, allow_destroy, desired, shard)
        echo_warnings(run)
    click.echo(render.render(made, fmt, use_color(no_color), full=f"the plan file {out}" if out else None), nl=False)
    if out and (made.failures or made.fleets_failed):
        echo_err(f"Plan not saved to {out}: part of the config could not be planned (see the errors); an approval must "
                 "cover what it says. Fix it, or choose the healthy accounts with --account.")
    elif out:
        planfile.save(made, out)
        echo_err(f"Plan saved to {out}; run `wabactl apply {out}` to carry it out.")
    if made.failures or made.fleets_failed:
        echo_failures(made, run)
        return EXIT_ERROR
    return EXIT_CHANGES if detailed_exitcode and made.has_changes() else EXIT_OK


@main.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(render.FORMATS), default="text", show_default=True)
@no_color_option
@handle_errors
def show(path: str, fmt: str, no_color: bool) -> int:
    """Render a saved plan (stale or not; no live state is read)."""
    click.echo(render.render(read_plan_file(path), fmt, use_color(no_color), full=f"the plan file {path}"), nl=False)
    return EXIT_OK


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(render.FORMATS), default="text", show_default=True)
@click.option("--out", "-o", "out", type=click.Path(dir_okay=False),
              help="Write the report in --format to this file (the text report still goes to standard output).")
@click.option("--ignore", "ignore_kinds", multiple=True, type=click.Choice(KINDS), help="Leave out findings of this kind (repeatable).")
@click.option("--baseline", is_flag=True, help=f"Add today's findings to {IGNORE_FILE} beside the config, so later reports show only new drift.")
@account_option
@shard_option
@no_color_option
@parallelism_option
@state_dir_option
@emulator_option
@handle_errors
def drift(paths: tuple[str, ...], fmt: str, out: str | None, ignore_kinds: tuple[str, ...], baseline: bool, accounts: tuple[str, ...],
          shard: Shard | None, no_color: bool, parallelism: int, state_dir: str | None, emulator_seed: str | None) -> int:
    """Report every way live state differs from the config or from health: changes plan would make,
    unmanaged objects, statuses, recategorisation, quality, the account's review. Exit 2 when
    there are findings."""
    desired = loaded(paths, accounts)
    ignore = read_ignore(paths[0])
    with open_session(paths[0], state_dir, emulator_seed, parallelism) as run:
        read_progress(run)
        echo_warnings(run)
        report = run.drift(desired, ignore_kinds, ignore, accounts, shard)
        echo_warnings(run)
    if baseline:
        written, added = write_baseline(paths[0], report, ignore)
        echo_err(f"Baseline: {added} finding(s) added to {written}; later drift reports show only new drift.")
        report = dataclasses.replace(report, accounts=tuple(dataclasses.replace(a, findings=(), ignored=a.ignored + len(a.findings))
                                                            for a in report.accounts))
    color = use_color(no_color)
    if out:
        pathlib.Path(out).write_text(render.render_drift(report, fmt, full=None), encoding="utf-8")
        echo_err(f"Drift report ({fmt}) written to {out}.")
        fmt = "text"
    click.echo(render.render_drift(report, fmt, color), nl=False)
    if report.failures:
        return EXIT_ERROR
    return EXIT_CHANGES if report.findings else EXIT_OK


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--auto-approve", is_flag=True, help="Apply without asking.")
@click.option("--wait", is_flag=True, help="When the hourly creation budget is spent, wait for it (with a countdown) and go on.")
@click.option("--wait-for-review", is_flag=True, help="After applying, poll new and edited templates until Meta's review decides.")
@click.option("--timeout", type=click.FloatRange(min=0), default=3600, show_default=True, help="Seconds --wait-for-review waits at most.")
@click.option("--poll-interval", type=click.FloatRange(min=0.01), default=15, show_default=True, help="Seconds between polls while waiting.")
@click.option("--format", "fmt", type=click.Choice(render.FORMATS), default="text", show_default=True,
              help="The report on standard output; with markdown or json, the plan shown before applying goes to standard error.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), help="Write what apply did as JSON (schemas/apply-report.schema.json).")
@max_plan_age_option
@lock_timeout_option
@run_options
@handle_errors
def apply(paths: tuple[str, ...], auto_approve: bool, wait: bool, wait_for_review: bool, timeout: float, poll_interval: float, fmt: str,
          report_path: str | None, max_plan_age: dt.timedelta | None, lock_timeout: float, accounts: tuple[str, ...], shard: Shard | None,
          allow_destroy: bool, no_color: bool, parallelism: int, state_dir: str | None, emulator_seed: str | None) -> int:
    """Make live state match the config, or carry out a saved plan (`apply PLANFILE`)."""
    stored = saved_plan_among(paths)
    _refuse_unused(stored is not None, wait, wait_for_review)
    desired = None if stored else loaded(paths, accounts)  # a bad config is refused before anything else happens
    anchor = stored.source.paths[0] if stored and stored.source else paths[0]  # the ledger sits beside the config
    say = click.echo if fmt == "text" else echo_err  # with markdown or json, standard output holds only the report
    with open_session(anchor, state_dir, emulator_seed, parallelism, lock_timeout=lock_timeout) as run:
        read_progress(run)
        echo_warnings(run)
        if stored:
            chosen = run.verify_saved(stored, allow_destroy, accounts, max_plan_age or DEFAULT_MAX_PLAN_AGE, shard)
            echo_warnings(run)
        else:
            chosen = run.plan_config(paths, accounts, allow_destroy, desired, shard)
            echo_warnings(run)
            say(render.render(chosen, "text", use_color(no_color) and fmt == "text"), nl=False)
            if not _confirmed(chosen, auto_approve, say):
                echo_err("Apply cancelled; nothing was changed.")
                return EXIT_ERROR
        options = Options(wait=wait, poll_seconds=poll_interval,
                          progress=apply_progress(),
                          waiting=lambda left, until: echo_err(report.countdown_line(left, until)))
        result = run.apply(chosen, options) if chosen.has_changes() else ApplyResult()
        code = apply_exit_code(result, chosen)
        if wait_for_review and not result.stopped:
            verdicts = run.wait_for_review(chosen, result, timeout, poll_interval,
                                           lambda pending, left: echo_err(report.review_progress_line(pending, left)))
            review = report.review_report(verdicts)
            echo_report(review if fmt == "text" else report.Report(err=review.out + review.err))
            if any(v.in_review or v.status == "REJECTED" for v in verdicts):
                code = EXIT_ERROR
        finished = run.server_now()
    if fmt == "text":
        echo_failures(chosen, run, report.apply_report(result, chosen) if chosen.has_changes() else None)
    else:
        echo_failures(chosen, run)
        full = f"the report file {report_path}" if report_path else None
        click.echo(reportfile.dumps(result, chosen, code, finished) if fmt == "json" else report.markdown(result, chosen, full), nl=False)
    if report_path:
        pathlib.Path(report_path).write_text(reportfile.dumps(result, chosen, code, finished), encoding="utf-8")
        echo_err(f"Apply report written to {report_path}.")
    return code


def _refuse_unused(saved_plan: bool, wait: bool, wait_for_review: bool) -> None:
    """Every option given is honoured or refused, never ignored."""
    given = {name for name, value in click.get_current_context().params.items()
             if click.get_current_context().get_parameter_source(name) is not ParameterSource.DEFAULT and value is not None}
    if saved_plan and "auto_approve" in given:
        raise click.UsageError("--auto-approve is for config files: a saved plan is the approval already (`apply PLANFILE` never asks)")
    if not saved_plan and "max_plan_age" in given:
        raise click.UsageError("--max-plan-age applies to a saved plan (`apply PLANFILE`); with config files the plan is made now")
    if "timeout" in given and not wait_for_review:
        raise click.UsageError("--timeout is how long --wait-for-review waits; give it with --wait-for-review")
    if "poll_interval" in given and not (wait or wait_for_review):
        raise click.UsageError("--poll-interval paces --wait and --wait-for-review; give it with one of them")


def _confirmed(chosen: Plan, auto_approve: bool, say: Callable[..., Any]) -> bool:
    """Whether to go on: yes without asking when nothing would be written (blocked and deferred
    changes are reported and decide the exit code) or with --auto-approve; else the person's yes."""
    if not any(c.action.executes for c in chosen.changes):
        if chosen.has_changes():
            say("Nothing can be applied now.")
        return True
    if auto_approve:
        return True
    say("Apply these changes? Only 'yes' is accepted.")
    try:
        answer = click.prompt("Enter a value", default="", show_default=False, err=say is echo_err)
    except click.Abort:
        answer = ""
    return answer.strip() == "yes"


def apply_exit_code(result: ApplyResult, applied: Plan) -> int:
    """0 only when nothing of the plan is left undone; 1 when anything failed or is blocked for
    good (protect, forbid, a refused category change, a failed or uncertain write, an account that
    could not be planned, an unwritten ledger); else 3 when what is left waits on time (creation
    budget, edit quota, a name lock)."""
    if result.stopped or applied.failures or applied.fleets_failed or result.ledger_error or result.blocked:
        return EXIT_ERROR
    return EXIT_DEFERRED if result.waiting else EXIT_OK


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(auth_report.FORMATS), default="text", show_default=True)
@account_option
@parallelism_option
@emulator_option
@handle_errors
def auth(paths: tuple[str, ...], fmt: str, accounts: tuple[str, ...], parallelism: int, emulator_seed: str | None) -> int:
    """Check each account's token with Meta's debug_token: valid, type, expiry, permissions, and
    whether the WABA is among its granular targets. Exit 1 when Meta would refuse an account for
    certain (or a token could not be checked), 0 when there are warnings at most."""
    desired = loaded(paths, accounts)
    with open_session(None, emulator_seed=emulator_seed, parallelism=parallelism) as run:
        selected = run.select(desired, accounts)
        checks = run.check_tokens(selected.desired.accounts, report_missing=True)
    errors = [f"fleet {f.fleet}: {f.error}" for f in selected.fleets if f.error] + [f"{f.account}: {f.error}" for f in selected.refused]
    click.echo(auth_report.dumps(checks, errors) if fmt == "json" else auth_report.text(checks, errors), nl=False)
    refused = errors or any(c.problems or c.info is None for c in checks)
    return EXIT_ERROR if refused else EXIT_OK


@main.command(name="import")
@click.option("--waba", "waba_id", help="The WABA id to read (or --business alone: all the business's WABAs).")
@click.option("--business", "business_id",
              help="Business id: with --waba, its assigned users are imported too; alone, every WABA it lists is imported into -o DIR.")
@click.option("--owned", is_flag=True, help="With --business alone: the WABAs the business owns (with neither --owned nor --client: both).")
@click.option("--client", "client_wabas", is_flag=True, help="With --business alone: the WABAs of the business's clients.")
@click.option("--account", "account", help="Local account name (default: from the WABA's name).")
@click.option("--token-env", default=DEFAULT_TOKEN_ENV, show_default=True, help="Environment variable with the token.")
@click.option("-o", "--out", type=click.Path(),
              help="With --waba: write the YAML to this file instead of standard output. With --business alone: the directory to write into.")
@click.option("--media-dir", type=click.Path(file_okay=False),
              help="Download each media header's example into this directory (with --business, a folder per account) and write header_file, "
                   "so the config applies to another WABA.")
@parallelism_option
@emulator_option
@handle_errors
def import_(waba_id: str | None, business_id: str | None, owned: bool, client_wabas: bool, account: str | None, token_env: str,
            out: str | None, media_dir: str | None, parallelism: int, emulator_seed: str | None) -> int:
    """Write config YAML for a live WABA, or for every WABA of a business (templates several
    accounts share verbatim go into template sets); planning it again shows no changes."""
    if waba_id is None and business_id is None:
        raise click.UsageError("give --waba ID (one WABA) or --business ID alone (every WABA of the business)")
    if waba_id is None:
        assert business_id is not None
        return _import_business(business_id, owned, client_wabas, account, token_env, out, media_dir, parallelism, emulator_seed)
    if owned or client_wabas:
        raise click.UsageError("--owned and --client choose a business's WABAs: give --business ID without --waba")
    if out and os.path.isdir(out):
        raise click.UsageError(f"-o {out} is a directory; with --waba, -o names the file to write")
    with open_session(None, emulator_seed=emulator_seed) as run:
        imported = run.import_account(waba_id, business_id, account, token_env, media_dir,
                                      os.path.dirname(os.path.abspath(out)) if out else os.getcwd())
    if imported.library:
        echo_err(f"note: {imported.library} template(s) come from Meta's template library; Meta does not read back their inputs "
                 "(library_template_body_inputs, library_template_button_inputs): add them to the config where they are not the defaults.")
    if out:
        pathlib.Path(out).write_text(imported.text, encoding="utf-8")
        echo_err(f"Wrote {out}: {imported.templates} template(s), {imported.languages} language(s), {imported.users} user(s).")
    else:
        click.echo(imported.text, nl=False)
    return EXIT_OK


def _import_business(business_id: str, owned: bool, client_wabas: bool, account: str | None, token_env: str, out: str | None,
                     media_dir: str | None, parallelism: int, emulator_seed: str | None) -> int:
    """``import --business ID -o DIR``: one file per WABA, and sets.yaml for what they share."""
    if account:
        raise click.UsageError("--account names one WABA's account: give it with --waba")
    if not out:
        raise click.UsageError("--business without --waba writes one file per WABA: give the directory with -o DIR")
    importer.refuse_existing(out)  # before any request
    listings = [listing for listing, chosen in (("owned", owned), ("client", client_wabas)) if chosen] or ["owned", "client"]
    with open_session(None, emulator_seed=emulator_seed, parallelism=parallelism) as run:
        fleet = run.import_business(business_id, listings, token_env, media_dir, os.path.abspath(out))
    importer.write_files(out, fleet.files)
    shared = (f"{len(fleet.sets)} template set(s) in {importer.SETS_FILE} holding {fleet.shared} template(s) "
              f"in place of {fleet.replaced} account copies" if fleet.sets else "no template shared verbatim, so no template set")
    echo_err(f"Wrote {len(fleet.files)} file(s) to {out}: {fleet.accounts} WABA(s) of business {business_id}; {shared}; "
             f"{fleet.templates} template(s) kept in the accounts; {fleet.languages} language(s), {fleet.users} user(s) in all.")
    return EXIT_OK


@main.command()
@click.option("--seed", "seed_path", type=click.Path(dir_okay=False), help="Seed YAML: tokens, WABAs, templates, settings.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0 picks a free port.")
@click.option("--state", "state_path", type=click.Path(dir_okay=False), help="Keep the emulator's state in this JSON file across restarts.")
@handle_errors
def emulator(seed_path: str | None, port: int, state_path: str | None) -> int:
    """Run the Graph API emulator on 127.0.0.1 until interrupted."""

    serve_emulator(seed_path, port, state_path, lambda url: click.echo(f"Graph API emulator listening on {url}\n  export WABACTL_GRAPH_URL={url}"))
    return EXIT_OK
