"""The command line: the one place that prints, catches ``ReconcilerError`` and picks exit codes.

Exit codes (frozen): 0 success (plan: no changes); 1 error; 2 ``plan --detailed-exitcode`` with
changes; 3 ``apply`` partly done, some changes deferred (run again later).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import os
import pathlib
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import click

from . import applier, config, importer, ledger, planfile, render, review, safety
from .applier import ApplyResult, ChangeResult
from .emulator import Emulator, SeedError
from .errors import CredentialsError, EmulatorError, ReconcilerError
from .graph import DEFAULT_API_VERSION, DEFAULT_GRAPH_URL, GraphClient
from .graph import waba as graph_waba
from .ledger import Ledger
from .model import DesiredAccount, DesiredState, LiveAccount
from .plan import Action, Plan
from .planner import make_plan

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_DEFERRED = 0, 1, 2, 3
DEFAULT_SEED = pathlib.Path(__file__).resolve().parent.parent / "examples" / "seed.yaml"
FETCH_WORKERS = 8  # accounts read in parallel; each account's own calls stay sequential


# --- plumbing shared by the commands ---------------------------------------------------------


def handle_errors(command: Callable[..., int]) -> Callable[..., None]:
    """Run a command; turn a ReconcilerError into one message on stderr and exit 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        debug = bool((click.get_current_context().find_root().params or {}).get("debug"))
        try:
            code = command(*args, **kwargs)
        except ReconcilerError as error:
            if debug:
                traceback.print_exc()
            click.echo(f"Error: {error}", err=True)
            sys.exit(EXIT_ERROR)
        except OSError as error:  # a file we were asked to write or read: not a bug, no traceback
            if debug:
                traceback.print_exc()
            click.echo(f"Error: {error.strerror or error}: {error.filename or ''}".rstrip(": "), err=True)
            sys.exit(EXIT_ERROR)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)
        sys.exit(code)

    return wrapper


def emulator_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--emulator", "emulator_seed", is_flag=False, flag_value=str(DEFAULT_SEED), default=None,
        metavar="[SEED]", help="Start the Graph API emulator in-process with this seed (default: the example seed).",
    )(command)


@dataclasses.dataclass(frozen=True)
class Target:
    """Where Graph calls go; for an in-process emulator, the tokens its seed knows."""

    base_url: str
    seed_tokens: tuple[str, ...] = ()


@contextlib.contextmanager
def graph_target(emulator_seed: str | None) -> Iterator[Target]:
    """An in-process emulator, or WABACTL_GRAPH_URL (default: Meta's Graph API)."""
    if emulator_seed is None:
        yield Target(os.environ.get("WABACTL_GRAPH_URL") or DEFAULT_GRAPH_URL)
        return
    try:
        running = Emulator(emulator_seed).start()
    except (SeedError, OSError, ValueError) as error:
        raise EmulatorError(f"cannot start the emulator: {error}") from error
    try:
        yield Target(running.url, tuple(running.world.tokens))
    finally:
        running.stop()


def client_for(token_env: str, target: Target) -> GraphClient:
    token = os.environ.get(token_env)
    if target.seed_tokens and token not in target.seed_tokens:
        # An emulator run needs no real token, and a real one must not be sent to it:
        # the seed's first token stands in.
        token = target.seed_tokens[0]
    if not token:
        raise CredentialsError(f"no access token: set the environment variable {token_env}")
    version = os.environ.get("WABACTL_API_VERSION") or DEFAULT_API_VERSION
    return GraphClient(token, base_url=target.base_url, api_version=version)


def fetch_all(desired: DesiredState, clients: dict[str, GraphClient]) -> list[tuple[DesiredAccount, LiveAccount]]:
    def fetch(account: DesiredAccount) -> LiveAccount:
        return graph_waba.fetch_account(
            clients[account.name], account.waba_id, account.business_id, with_users=account.users is not None
        )

    with ThreadPoolExecutor(max_workers=min(FETCH_WORKERS, max(1, len(desired.accounts)))) as pool:
        lives = list(pool.map(fetch, desired.accounts))
    return list(zip(desired.accounts, lives, strict=True))


def select(desired: DesiredState, names: tuple[str, ...]) -> DesiredState:
    if not names:
        return desired
    known = {a.name for a in desired.accounts}
    unknown = sorted(set(names) - known)
    if unknown:
        raise ReconcilerError(f"no such account: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    return DesiredState(tuple(a for a in desired.accounts if a.name in names))


def state_dir_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--state-dir", type=click.Path(file_okay=False),
        help="Where the ledger lives (default: .wabactl beside the first config file or plan file).",
    )(command)


def open_ledger(state_dir: str | None, anchor: str) -> Ledger:
    """The ledger, with its problems reported and the file otherwise ignored (never a crash)."""
    if state_dir is None:
        folder = anchor if os.path.isdir(anchor) else os.path.dirname(os.path.abspath(anchor))
        state_dir = os.path.join(folder, ".wabactl")
    loaded, problems = ledger.load(ledger.ledger_path(state_dir))
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)
    return loaded


def use_color(no_color: bool) -> bool:
    return not no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()


# --- commands --------------------------------------------------------------------------------


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
    desired = config.load(paths)
    templates = sum(len({t.name for t in a.templates}) for a in desired.accounts)
    languages = sum(len(a.templates) for a in desired.accounts)
    users = sum(len(a.users or ()) for a in desired.accounts)
    click.echo(f"Config valid: {len(desired.accounts)} account(s), {templates} template(s) in {languages} language(s), {users} user(s).")
    return EXIT_OK


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
@click.option("--out", "-o", "out", type=click.Path(dir_okay=False), help="Save the plan to this file for `apply PLANFILE`.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes (drift), 0 when none.")
@click.option("--account", "accounts", multiple=True, help="Plan only this account (repeatable).")
@click.option("--no-color", is_flag=True, help="No colour (also: the NO_COLOR environment variable).")
@click.option("--allow-destroy", is_flag=True, help="Allow a plan that deletes more templates than the safety limit.")
@state_dir_option
@emulator_option
@handle_errors
def plan(paths: tuple[str, ...], fmt: str, out: str | None, detailed_exitcode: bool, accounts: tuple[str, ...],
         no_color: bool, allow_destroy: bool, state_dir: str | None, emulator_seed: str | None) -> int:
    """Show how live state differs from the config."""
    desired = select(config.load(paths), accounts)
    book = open_ledger(state_dir, paths[0])
    with graph_target(emulator_seed) as target:
        made = _make_plan(desired, target, book)[0]
    safety.check(made, allow_destroy)
    click.echo(render.render(made, fmt, use_color(no_color)), nl=False)
    if out:
        planfile.save(made, out)
        click.echo(f"Plan saved to {out}; run `wabactl apply {out}` to carry it out.", err=True)
    return EXIT_CHANGES if detailed_exitcode and made.has_changes() else EXIT_OK


def _make_plan(desired: DesiredState, target: Target, book: Ledger) -> tuple[Plan, dict[str, GraphClient]]:
    clients = {a.name: client_for(a.token_env, target) for a in desired.accounts}
    ledgers = {a.waba_id: book.account(a.waba_id) for a in desired.accounts}
    return make_plan(fetch_all(desired, clients), ledgers), clients


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--auto-approve", is_flag=True, help="Apply without asking.")
@click.option("--account", "accounts", multiple=True, help="Apply only this account (repeatable; configs only).")
@click.option("--allow-destroy", is_flag=True, help="Allow deleting more templates than the safety limit.")
@click.option("--wait", is_flag=True, help="When the hourly creation budget is spent, wait for it (with a countdown) and go on.")
@click.option("--wait-for-review", is_flag=True, help="After applying, poll new and edited templates until Meta's review decides.")
@click.option("--timeout", type=click.FloatRange(min=0), default=3600, show_default=True, help="Seconds --wait-for-review waits at most.")
@click.option("--poll-interval", type=click.FloatRange(min=0.01), default=15, show_default=True, help="Seconds between polls while waiting.")
@click.option("--no-color", is_flag=True)
@state_dir_option
@emulator_option
@handle_errors
def apply(paths: tuple[str, ...], auto_approve: bool, accounts: tuple[str, ...], allow_destroy: bool, wait: bool,
          wait_for_review: bool, timeout: float, poll_interval: float, no_color: bool, state_dir: str | None,
          emulator_seed: str | None) -> int:
    """Make live state match the config, or carry out a saved plan (`apply PLANFILE`)."""
    book = open_ledger(state_dir, paths[0])
    with graph_target(emulator_seed) as target:
        if len(paths) == 1 and planfile.looks_like_plan(paths[0]):
            chosen = planfile.load(paths[0])
            clients = {a.account: client_for(a.token_env, target) for a in chosen.accounts}
            safety.check(chosen, allow_destroy)
            _refuse_if_stale(chosen, clients)
        else:
            desired = select(config.load(paths), accounts)
            chosen, clients = _make_plan(desired, target, book)
            safety.check(chosen, allow_destroy)
            click.echo(render.render(chosen, "text", use_color(no_color)), nl=False)
            if not chosen.has_changes():
                return EXIT_OK
            if not any(c.action.executes for c in chosen.changes):
                click.echo("Nothing can be applied now.")
                return EXIT_DEFERRED if any(c.action is Action.DEFERRED for c in chosen.changes) else EXIT_OK
            if not auto_approve and not _confirmed():
                click.echo("Apply cancelled; nothing was changed.", err=True)
                return EXIT_ERROR
        options = applier.Options(wait=wait, poll_seconds=poll_interval, progress=_progress, waiting=_countdown)
        try:
            result = applier.apply_plan(chosen, clients, book, options)
        finally:
            ledger.save(book, max(c.server_now() for c in clients.values()) if clients else _utcnow())
        code = _report(result)
        if wait_for_review and not result.stopped:
            verdicts = review.wait_for_review(chosen, result, clients, timeout, poll_interval, _review_progress)
            code = max(code, _report_review(verdicts))
    return code


def _refuse_if_stale(saved: Plan, clients: dict[str, GraphClient]) -> None:
    fingerprints = {}
    for account in saved.accounts:
        live = graph_waba.fetch_account(clients[account.account], account.waba_id, account.business_id,
                                        with_users=account.manages_users)
        fingerprints[account.account] = live.fingerprint(frozenset(c.key for c in account.changes))
    applier.refuse_if_stale(saved, fingerprints)


def _confirmed() -> bool:
    click.echo("Apply these changes? Only 'yes' is accepted.")
    try:
        answer = click.prompt("Enter a value", default="", show_default=False)
    except click.Abort:
        return False
    return answer.strip() == "yes"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _countdown(left: float, until: dt.datetime) -> None:
    minutes, seconds = divmod(int(left), 60)
    click.echo(f"waiting for the creation window: {minutes}m {seconds:02d}s left (until {until:%H:%M:%S} UTC)", err=True)


def _review_progress(pending: int, left: float) -> None:
    click.echo(f"waiting for review: {pending} template(s) in review, {int(left)}s left", err=True)


def _report_review(verdicts: list[review.Verdict]) -> int:
    click.echo("Review:")
    for verdict in verdicts:
        click.echo(f"  {verdict.key}: {verdict.describe()}")
    rejected = [v for v in verdicts if v.status == "REJECTED"]
    pending = [v for v in verdicts if v.in_review]
    if pending:
        click.echo(f"{len(pending)} template(s) still in review when the timeout ran out.", err=True)
    if rejected:
        click.echo(f"{len(rejected)} template(s) rejected by Meta's review.", err=True)
    return EXIT_ERROR if rejected or pending else EXIT_OK


def _progress(done: int, total: int, result: ChangeResult) -> None:
    detail = f": {result.detail}" if result.detail else ""
    click.echo(f"[{done}/{total}] {result.action.symbol} {result.key} {result.outcome}{detail}", err=True)


def _report(result: ApplyResult) -> int:
    applied = result.count(applier.APPLIED)
    if result.stopped:
        click.echo("Apply stopped at a failure.", err=True)
        for outcome in (applier.APPLIED, applier.FAILED, applier.UNCERTAIN, applier.NOT_ATTEMPTED, applier.DEFERRED):
            keys = [r for r in result.results if r.outcome == outcome]
            if keys:
                click.echo(f"  {outcome} ({len(keys)}):", err=True)
                for r in keys:
                    click.echo(f"    {r.key}" + (f": {r.detail}" if r.detail and outcome != applier.APPLIED else ""), err=True)
        return EXIT_ERROR
    if result.deferred:
        for r in result.results:
            if r.outcome in (applier.DEFERRED, applier.BLOCKED):
                click.echo(f"  {r.outcome}: {r.key}" + (f": {r.detail}" if r.detail else ""))
        when = f" after {result.retry_at:%Y-%m-%d %H:%M:%S} UTC" if result.retry_at else " later"
        click.echo(f"Apply partly done: {applied} applied, {result.count(applier.DEFERRED)} deferred, "
                   f"{result.count(applier.BLOCKED)} blocked. Run apply again{when}.")
        return EXIT_DEFERRED
    click.echo(f"Apply complete: {applied} change(s) applied.")
    skipped = result.count(applier.SKIPPED)
    if skipped:
        click.echo(f"{skipped} blocked change(s) were not applied (see the plan for the reasons).")
    return EXIT_OK


@main.command(name="import")
@click.option("--waba", "waba_id", required=True, help="The WABA id to read.")
@click.option("--business", "business_id", help="Business id; with it, assigned users are imported too.")
@click.option("--account", "account", help="Local account name (default: from the WABA's name).")
@click.option("--token-env", default=config.DEFAULT_TOKEN_ENV, show_default=True, help="Environment variable with the token.")
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="Write the YAML here instead of standard output.")
@emulator_option
@handle_errors
def import_(waba_id: str, business_id: str | None, account: str | None, token_env: str, out: str | None,
            emulator_seed: str | None) -> int:
    """Write config YAML for a live WABA; planning it again shows no changes."""
    with graph_target(emulator_seed) as target:
        client = client_for(token_env, target)
        live = graph_waba.fetch_account(client, waba_id, business_id, with_users=business_id is not None)
        name = account or importer.account_name(graph_waba.fetch_waba_name(client, waba_id), waba_id)
    text = importer.to_yaml(importer.config_for(live, name, business_id,
                                                token_env if token_env != config.DEFAULT_TOKEN_ENV else None))
    if out:
        pathlib.Path(out).write_text(text, encoding="utf-8")
        click.echo(f"Wrote {out}: {len({t.template.name for t in live.templates})} template(s), "
                   f"{len(live.templates)} language(s), {len(live.users or ())} user(s).", err=True)
    else:
        click.echo(text, nl=False)
    return EXIT_OK


@main.command()
@click.option("--seed", "seed_path", type=click.Path(dir_okay=False), help="Seed YAML: tokens, WABAs, templates, settings.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0 picks a free port.")
@click.option("--state", "state_path", type=click.Path(dir_okay=False), help="Keep the emulator's state in this JSON file across restarts.")
@handle_errors
def emulator(seed_path: str | None, port: int, state_path: str | None) -> int:
    """Run the Graph API emulator on 127.0.0.1 until interrupted."""
    try:
        running = Emulator(seed_path, port=port, state_file=state_path).start()
    except (SeedError, OSError, ValueError) as error:
        raise EmulatorError(str(error)) from error
    click.echo(f"Graph API emulator listening on {running.url}")
    click.echo(f"  export WABACTL_GRAPH_URL={running.url}")
    sys.stdout.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
    return EXIT_OK
