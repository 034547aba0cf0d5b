"""The run layer: everything a command does between parsing its arguments and rendering.

It turns configs and the environment into Graph clients, reads live state in parallel, makes the
plan and checks its safety, checks a saved plan against live state, applies, waits for review,
and keeps the ledger. It returns results as data and prints nothing; ``cli.py`` renders them and
picks exit codes. What it reads from files is in ``inputs``; where Graph calls go, in
``endpoint``; which accounts a run covers, in ``desired.selection``. Benchmarks and other programs
use it the same way::

    with open_session(anchor="wabactl.yaml") as run:
        plan = run.plan(load_desired(["wabactl.yaml"]))
        result = run.apply(plan)
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from . import ledger as ledgers
from .applying import applier, review
from .applying.result import ApplyResult
from .desired import config, importer, media
from .desired.selection import Shard, fleet_keeps, in_shard, narrow, parse_shard
from .endpoint import Target, graph_target, retry_policy, seconds_from
from .errors import CredentialsError, GraphError, PlanFileError, ReconcilerError, StalePlanError, TokenError
from .graph import DEFAULT_API_VERSION, GraphClient, cdn
from .graph import auth as graph_auth
from .graph import waba as graph_waba
from .graph.batch import Batcher
from .graph.client import DEFAULT_DEADLINE, DEFAULT_TIMEOUT, clean_token
from .graph.slots import Slots
from .graph.throttle import Throttle
from .inputs import Ignore, changed_files, config_digests, ledger_file, load_desired
from .ledger import Ledger
from .ledgerlock import LedgerLock
from .model import DesiredAccount, DesiredState, Fleet, LiveAccount, Template
from .model import media_headers as model_media_headers
from .planning import preflight, safety
from .planning.drift import DriftReport, Finding, Observed, account_findings, drift_report
from .planning.plan import AccountFailure, AccountPlan, Action, FleetFound, Plan, Source
from .planning.planner import assemble, plan_account
from .planning.staleness import refuse_if_moved, refuse_if_older

DEFAULT_PARALLELISM = 8  # HTTP requests at once (accounts read or applied at once, unbatched)
APP_ENV = "WABACTL_APP_ID"  # the app that uploads header files, where the config names none
IN_FLIGHT = 6  # accounts read at once per request slot while reads are batched: enough to fill batches, few enough to keep memory flat

Item = TypeVar("Item")
Value = TypeVar("Value")


@dataclass(frozen=True)
class Imported:
    """A live WABA as config YAML, with what it holds."""

    text: str
    templates: int
    languages: int
    users: int
    library: int = 0  # templates from Meta's library: their inputs are not read back, so not imported


@dataclass(frozen=True)
class Selection:
    """What a run covers: the accounts, what each fleet found, and the WABAs left alone."""

    desired: DesiredState
    fleets: tuple[FleetFound, ...]
    refused: tuple[AccountFailure, ...] = ()


@dataclass
class Session:
    """One run against one Graph API: a client per account, the ledger, the worker count."""

    target: Target
    ledger: Ledger
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    parallelism: int = DEFAULT_PARALLELISM
    warnings: list[str] = field(default_factory=list)  # for the person running it (a broken ledger)
    clients: dict[str, GraphClient] = field(default_factory=dict)  # by account name
    errors: dict[str, GraphError] = field(default_factory=dict)  # why an account could not be read, for --debug
    on_read: Callable[[int, int, str], None] | None = None  # progress: accounts read so far, of how many, the last one
    throttle: Throttle = field(default_factory=Throttle)  # one for the run: accounts of a business slow down together
    _by_token: dict[str, GraphClient] = field(default_factory=dict, repr=False)  # never shown: keys are tokens
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # --- clients -------------------------------------------------------------------------------

    def client(self, account: str, token_env: str) -> GraphClient:
        """The account's client: one per distinct token, shared by every account using it (one
        connection pool, one ``/me``), so 1,000 accounts under one system user cost one client."""
        with self._lock:
            if account not in self.clients:
                token = self._token(token_env)
                if token not in self._by_token:
                    self._by_token[token] = self._new_client(token)
                self.clients[account] = self._by_token[token]
            return self.clients[account]

    def _token(self, token_env: str) -> str:
        token = self.environ.get(token_env)
        if self.target.seed_tokens and token not in self.target.seed_tokens:
            # An emulator run needs no real token, and a real one must not be sent to it:
            # the seed's first token stands in.
            token = self.target.seed_tokens[0]
        if not token or not token.strip():
            raise CredentialsError(f"no access token: set the environment variable {token_env}")
        return clean_token(token, f"the environment variable {token_env}")

    def _new_client(self, token: str) -> GraphClient:
        version = self.environ.get("WABACTL_API_VERSION") or DEFAULT_API_VERSION
        if not re.fullmatch(r"v[0-9]{1,3}\.[0-9]{1,3}", version):
            raise ReconcilerError(f"WABACTL_API_VERSION must look like v26.0; got {version[:40]!r}")
        deadline = seconds_from(self.environ, "WABACTL_REQUEST_TIMEOUT", DEFAULT_DEADLINE, most=600)
        return GraphClient(token, base_url=self.target.base_url, api_version=version, deadline=deadline,
                           timeout=min(deadline, DEFAULT_TIMEOUT), retry=retry_policy(self.environ), throttle=self.throttle)

    def close(self) -> None:
        for client in self._by_token.values():
            client.close()

    # --- plan ----------------------------------------------------------------------------------

    def read_each(self, accounts: Sequence[DesiredAccount], then: Callable[[DesiredAccount, LiveAccount], Value],
                  with_review: bool = False) -> list[Value | GraphError]:
        """``then`` of each account's live state as soon as it is read (so the live state can be
        dropped: memory follows the accounts in flight, not the fleet), or the error that stopped
        reading it. The token pre-flight runs first; a refused account sends no request."""
        for account in accounts:  # every token is found before any request is sent
            self.client(account.name, account.token_env)
        checks = {check.account: check for check in self.check_tokens(accounts)}

        def read(account: DesiredAccount) -> Value | GraphError:
            if checks[account.name].problems:  # refused for certain: no request of the account is sent
                self.errors[account.name] = TokenError("; ".join(checks[account.name].problems))
                return self.errors[account.name]
            try:
                live = graph_waba.fetch_account(self.clients[account.name], account.waba_id, account.business_id,
                                                with_users=account.users is not None, with_review=with_review)
            except GraphError as error:
                self.errors[account.name] = error
                return error
            return then(account, live)

        with self._batching(accounts) as workers:
            return self._parallel(self._told(read, len(accounts)), accounts, workers)

    @contextlib.contextmanager
    def _batching(self, accounts: Sequence[DesiredAccount]) -> Iterator[int]:
        """While many accounts are read, their clients' reads go in Graph batch requests, at most
        ``parallelism`` HTTP requests at once; more accounts are then in flight (``IN_FLIGHT``
        per slot) so that batches fill. Yields how many accounts to read at once."""
        if len(accounts) < 2 or self.parallelism < 2:
            yield self.parallelism
            return
        clients = list({id(self.clients[a.name]): self.clients[a.name] for a in accounts}.values())
        slots = Slots(self.parallelism)
        with ThreadPoolExecutor(max_workers=self.parallelism, thread_name_prefix="graph-send") as senders:
            for client in clients:
                client.batcher = Batcher(client, slots, senders)
            try:
                yield self.parallelism * IN_FLIGHT
            finally:
                for client in clients:
                    batcher, client.batcher = client.batcher, None
                    if isinstance(batcher, Batcher):
                        batcher.close()

    def check_tokens(self, accounts: Sequence[DesiredAccount], report_missing: bool = False) -> list[preflight.Check]:
        """Each account's token pre-flight, in the given order: ``debug_token`` once per distinct
        token (not per account), its answer judged for each account using that token. Warnings go
        to ``warnings`` (once each); a debug_token that fails is a warning, not a failure, unless
        Meta refused the token itself (code 190). A token missing from the environment stops the
        run, or, with ``report_missing`` (``wabactl auth``), is that account's problem."""
        first: dict[str, DesiredAccount] = {}  # token -> the first account using it (the token is never shown)
        missing: dict[str, str] = {}
        for account in accounts:
            try:
                first.setdefault(graph_auth.bearer_token(self.client(account.name, account.token_env)), account)
            except CredentialsError as error:
                if not report_missing:
                    raise
                missing[account.name] = str(error)

        def ask(account: DesiredAccount) -> tuple[graph_auth.TokenInfo, dt.datetime] | GraphError:
            client = self.clients[account.name]
            try:
                return graph_auth.debug_token(client, graph_auth.bearer_token(client)), client.server_now()
            except GraphError as error:
                return error

        answers = dict(zip(first, self._parallel(ask, list(first.values())), strict=True))
        checks = []
        for account in accounts:
            if account.name in missing:
                checks.append(preflight.Check(account.name, account.waba_id, account.token_env, account.business_id,
                                              account.users is not None, None, problems=(missing[account.name],), error=missing[account.name]))
                continue
            answer = answers[graph_auth.bearer_token(self.clients[account.name])]
            made = preflight.not_checked(account, answer) if isinstance(answer, GraphError) else preflight.check(account, *answer)
            self.warnings.extend(w for w in made.warnings if w not in self.warnings)
            checks.append(made)
        return checks

    def plan(self, desired: DesiredState, allow_destroy: bool = False) -> Plan:
        """Read live state, plan each account that could be read against it and the ledger, and
        check the plan's safety valves."""
        made, _ = self._read_and_plan(desired)
        safety.check(made, allow_destroy)
        return made

    def _read_and_plan(self, desired: DesiredState, with_review: bool = False,
                       keep: Callable[[DesiredAccount, LiveAccount, AccountPlan], Value] | None = None) -> tuple[Plan, list[Value]]:
        """The plan of every account that could be read, each planned as soon as it is read; and
        what ``keep`` takes from each account's live state before it is dropped."""

        def planned(account: DesiredAccount, live: LiveAccount) -> tuple[AccountPlan, dt.datetime, Value | None]:
            with self._lock:
                book = self.ledger.account(account.waba_id)
            made = plan_account(account, live, book)
            return made, live.now(), keep(account, live, made) if keep is not None else None

        results = self.read_each(desired.accounts, planned, with_review)
        done = [result for result in results if not isinstance(result, GraphError)]
        failures = tuple(AccountFailure(account.name, account.waba_id, _unread(result, account.waba_id))
                         for account, result in zip(desired.accounts, results, strict=True) if isinstance(result, GraphError))
        kept = [extra for _, _, extra in done if extra is not None]
        return assemble([made for made, _, _ in done], [moment for _, moment, _ in done], failures), kept

    def drift(self, desired: DesiredState, ignore_kinds: Sequence[str] = (), ignore: Ignore | None = None,
              names: Sequence[str] = (), shard: Shard | None = None) -> DriftReport:
        """Every way live state differs from ``desired`` (its fleets discovered, narrowed to
        ``names`` and ``shard``) or from health, minus what is ignored.

        No safety valve applies: drift writes nothing, and a plan the valves would refuse is
        exactly what a drift report must show."""
        selected = self.select(desired, names, shard)

        def findings(account: DesiredAccount, live: LiveAccount, made: AccountPlan) -> tuple[DesiredAccount, list[Finding]]:
            return account, account_findings(Observed(account, live, made))

        made, found = self._read_and_plan(selected.desired, with_review=True, keep=findings)
        unlisted = tuple(AccountFailure(f"fleet {fleet.fleet}", fleet.business_id, fleet.error) for fleet in selected.fleets if fleet.error is not None)
        ignore = ignore or Ignore()
        return drift_report(found, made.failures + selected.refused + unlisted, made.created_at, ignore_kinds, ignore.rules, ignore.path)

    def plan_config(self, paths: Sequence[str], accounts: Sequence[str] = (), allow_destroy: bool = False,
                    desired: DesiredState | None = None, shard: Shard | None = None) -> Plan:
        """Plan the config files (their fleets discovered, narrowed to ``accounts`` and ``shard``;
        ``desired`` when already loaded from them), recording them in the plan."""
        desired = desired or load_desired(paths, accounts)
        files = config_digests(paths)
        selected = self.select(desired, accounts, shard)
        planned = self.plan(selected.desired, allow_destroy)
        source = Source(tuple(paths), files, tuple(accounts), None if shard is None else f"{shard[0]}/{shard[1]}")
        return dataclasses.replace(planned, source=source, fleets=selected.fleets, failures=planned.failures + selected.refused)

    # --- fleets --------------------------------------------------------------------------------

    def select(self, desired: DesiredState, names: Sequence[str] = (), shard: Shard | None = None) -> Selection:
        """The accounts to work on: the explicit ones and those the fleets find, narrowed to
        ``names`` and ``shard``; what each fleet found (or why it could not look); and the WABAs
        left alone because more than one fleet may claim them. Fleets are not listed at all when
        every name given is an explicit account."""
        explicit = {a.name for a in desired.accounts}
        looks = not names or not set(names) <= explicit
        discovered, found, refused = self.discover(desired) if looks else ([], (), [])
        known = {a.name for a in discovered} | {f.account for f in refused}
        chosen = narrow([*desired.accounts, *discovered], [n for n in names if n not in known] if names else (), None)
        chosen = [a for a in chosen if not names or a.name in names]
        chosen = [a for a in chosen if shard is None or in_shard(a.waba_id, shard)]
        refused = [f for f in refused if (not names or f.account in names) and (shard is None or in_shard(f.waba_id, shard))]
        if names and not chosen and not refused:
            raise ReconcilerError(f"no account left: {', '.join(names)} " + (f"not in shard {shard[0]}/{shard[1]}" if shard else "selected nothing"))
        kept = {a.name for a in chosen}
        found = tuple(dataclasses.replace(f, accounts=tuple(n for n in f.accounts if n in kept)) for f in found)
        return Selection(DesiredState(tuple(sorted(chosen, key=lambda a: a.name))), found, tuple(refused))

    def discover(self, desired: DesiredState) -> tuple[list[DesiredAccount], tuple[FleetFound, ...], list[AccountFailure]]:
        """Each fleet's accounts, from its business's WABA listings and its filters.

        A WABA belongs to one owner: an explicit account managing it keeps it; one that two fleets'
        filters keep is left alone (an account failure naming both), and so is one that a fleet
        whose listing was refused would also keep: acting on it could act against that fleet's
        settings. A refused listing is reported and the other fleets go on."""
        explicit = {a.waba_id for a in desired.accounts}

        def listed(fleet: Fleet) -> list[tuple[str, str | None]] | GraphError:
            try:
                client = self.client(f"fleet {fleet.name}", fleet.account.token_env)
                return sorted({waba: name for listing in fleet.listings
                               for waba, name in graph_waba.fetch_business_wabas(client, fleet.business_id, listing)}.items())
            except GraphError as error:
                self.errors[f"fleet {fleet.name}"] = error
                return error

        found: dict[str, FleetFound] = {}
        failed: list[Fleet] = []
        claims: dict[str, list[Fleet]] = {}
        names: dict[str, str | None] = {}
        for fleet, wabas in zip(desired.fleets, self._parallel(listed, desired.fleets), strict=True):
            if isinstance(wabas, GraphError):
                found[fleet.name] = FleetFound(fleet.name, fleet.business_id, error=f"cannot list the WABAs of business {fleet.business_id}: {wabas}")
                failed.append(fleet)
                continue
            found[fleet.name] = FleetFound(fleet.name, fleet.business_id)
            for waba, name in wabas:
                if waba not in explicit and fleet_keeps(fleet, waba, name):
                    claims.setdefault(waba, []).append(fleet)
                    names[waba] = name
        accounts: list[DesiredAccount] = []
        refused: list[AccountFailure] = []
        for waba, fleets in sorted(claims.items()):
            label = f"WABA {waba}" + (f" ({names[waba]})" if names[waba] else "")
            unknown = [f.name for f in failed if fleet_keeps(f, waba, names[waba])]
            if len(fleets) > 1:
                refused.append(AccountFailure(f"{fleets[0].name}/{waba}", waba, f"{label} is kept by fleets {', '.join(f.name for f in fleets)}: "
                                              "a WABA belongs to one fleet; narrow their include or exclude. It is left alone."))
            elif unknown:
                refused.append(AccountFailure(f"{fleets[0].name}/{waba}", waba, f"{label}: fleet {', '.join(unknown)} could not list its WABAs "
                                              "and its filters would keep this one too; it is left alone until that fleet can be read."))
            else:
                account = fleets[0].account_for(waba)
                accounts.append(account)
                found[fleets[0].name] = dataclasses.replace(found[fleets[0].name], accounts=found[fleets[0].name].accounts + (account.name,))
        return accounts, tuple(found[f.name] for f in desired.fleets), refused

    def verify_saved(self, saved: Plan, allow_destroy: bool = False, accounts: Sequence[str] = (),
                     max_age: dt.timedelta | None = None, shard: Shard | None = None) -> Plan:
        """The plan to apply for a saved one: planned again from the same config files and live
        state, and refused unless it decides exactly what the saved one did. Nothing of the file is
        trusted beyond that: safety valves and content checks come from the config and the code.

        With ``accounts``, only those accounts of the saved plan are checked and returned. With
        ``max_age``, a plan made longer ago than that (in the Graph API's time) is refused."""
        source = saved.source
        if source is None:
            raise PlanFileError("the plan file records no config files; make it with `wabactl plan --out`")
        if accounts:
            unknown = sorted(set(accounts) - set(saved.names))
            if unknown:
                raise ReconcilerError(f"--account {', '.join(unknown)}: not in the plan file (it holds: {', '.join(sorted(saved.names))})")
            saved = saved.only(accounts)
        if shard is not None:  # of the plan's accounts, those in the shard
            accounts = [a.account for a in saved.accounts if in_shard(a.waba_id, shard)] + \
                       [f.account for f in saved.failures if in_shard(f.waba_id, shard)]
            if not accounts:
                raise ReconcilerError(f"no account of the plan file falls in shard {shard[0]}/{shard[1]}")
            saved = saved.only(accounts)
        missing = [path for path in source.paths if not os.path.exists(path)]
        if missing:
            raise PlanFileError(f"the plan was made from {', '.join(missing)}, which cannot be found from {os.getcwd()}; "
                                "run apply from the folder plan ran in (config paths are recorded as given)")
        moved = [f"{path}: changed since the plan was made" for path in changed_files(source.files, config_digests(source.paths))]
        if moved:
            raise StalePlanError("the config changed since the plan was made; nothing was applied. Run plan again. What moved:\n"
                                 + "\n".join(f"  {line}" for line in moved))
        fresh = self.plan_config(source.paths, tuple(accounts) or source.accounts, allow_destroy, shard=parse_shard(source.shard))
        if max_age is not None:
            refuse_if_older(saved, fresh, max_age)
        refuse_if_moved(saved, fresh)
        return fresh

    # --- apply ---------------------------------------------------------------------------------

    def apply(self, plan: Plan, options: applier.Options | None = None) -> ApplyResult:
        """Execute the plan; the ledger is written afterwards, whatever happened. A ledger that
        cannot be written does not hide what was applied: the result says what went unrecorded.
        What Meta would refuse for certain in any write (a header file with no app to upload it
        through, a URL given as a media handle) stops the apply before the first write."""
        refuse_unsendable(plan, self.environ.get(APP_ENV) or None)
        before = self.ledger.size()
        failures: list[OSError] = []

        def save() -> None:
            try:
                ledgers.save(self.ledger, self.server_now())
                failures.clear()
            except OSError as error:
                failures[:] = [error]

        try:
            result = applier.apply_plan(plan, self.clients, self.ledger,
                                        dataclasses.replace(options or applier.Options(), recorded=save, parallelism=self.parallelism,
                                                            app_id=self.environ.get(APP_ENV) or None))
        finally:
            save()
        unsaved = failures[0] if failures else None
        if unsaved is not None:
            after = self.ledger.size()
            lost = ", ".join(f"{after[k] - before[k]} {k}" for k in after if after[k] != before[k]) or "nothing new"
            result.ledger_error = f"the ledger {self.ledger.path} could not be written ({unsaved.strerror or unsaved}); not recorded: {lost}"
        return result

    def wait_for_review(self, plan: Plan, result: ApplyResult, timeout: float, poll_seconds: float,
                        waiting: review.Waiting | None = None) -> list[review.Verdict]:
        return review.wait_for_review(plan, result, self.clients, timeout, poll_seconds, waiting)

    # --- import --------------------------------------------------------------------------------

    def import_account(self, waba_id: str, business_id: str | None, account: str | None,
                       token_env: str = config.DEFAULT_TOKEN_ENV, media_dir: str | None = None, relative_to: str = ".") -> Imported:
        """Config YAML for a live WABA; planning it again shows no changes. With ``media_dir``,
        media header examples are downloaded there and named as ``header_file`` (relative to
        ``relative_to``, where the config goes)."""
        client = self.client(account or waba_id, token_env)
        live = graph_waba.fetch_account(client, waba_id, business_id, with_users=business_id is not None)
        if media_dir is not None:
            live, _ = importer.with_media_files(live, cdn.download, media_dir, relative_to)
        name = account or importer.account_name(graph_waba.fetch_waba_name(client, waba_id), waba_id)
        named_env = token_env if token_env != config.DEFAULT_TOKEN_ENV else None
        text = importer.to_yaml(importer.config_for(live, name, business_id, named_env))
        return Imported(text, len({t.template.name for t in live.templates}), len(live.templates), len(live.users or ()),
                        len({t.template.name for t in live.templates if t.template.library}))

    def import_business(self, business_id: str, listings: Sequence[str] = ("owned", "client"),
                        token_env: str = config.DEFAULT_TOKEN_ENV, media_dir: str | None = None,
                        relative_to: str = ".") -> importer.ImportedFleet:
        """Config files for every WABA the business lists (``owned``, ``client``), read
        ``parallelism`` at a time, users included; templates several accounts share verbatim go
        into template sets (``importer.share``). A WABA that cannot be read fails the import."""
        lister = self.client(f"business {business_id}", token_env)
        wabas = sorted({waba: name for listing in listings
                        for waba, name in graph_waba.fetch_business_wabas(lister, business_id, listing)}.items())
        if not wabas:
            raise ReconcilerError(f"business {business_id} lists no WABAs ({' or '.join(listings)}); nothing to import")
        names = importer.unique_names(wabas)
        for waba, _ in wabas:
            self.client(f"waba {waba}", token_env)

        def read(item: tuple[str, str | None]) -> LiveAccount | GraphError:
            try:
                return graph_waba.fetch_account(self.clients[f"waba {item[0]}"], item[0], business_id, with_users=True)
            except GraphError as error:
                self.errors[names[item[0]]] = error
                return error

        lives = self._parallel(read, wabas)
        failed = [f"  {waba} ({names[waba]}): {live}" for (waba, _), live in zip(wabas, lives, strict=True) if isinstance(live, GraphError)]
        if failed:
            raise ReconcilerError(f"cannot read {len(failed)} of the {len(wabas)} WABAs of business {business_id}; nothing was written:\n"
                                  + "\n".join(failed[:20]) + (f"\n  and {len(failed) - 20} more" if len(failed) > 20 else ""))
        named_env = token_env if token_env != config.DEFAULT_TOKEN_ENV else None
        read_ok = [(names[waba], live) for (waba, _), live in zip(wabas, lives, strict=True) if isinstance(live, LiveAccount)]
        if media_dir is not None:  # one folder per account: two WABAs' banners of one name may differ
            read_ok = [(name, importer.with_media_files(live, cdn.download, os.path.join(media_dir, name), relative_to)[0])
                       for name, live in read_ok]
        return importer.fleet_import(read_ok, business_id, named_env)

    # --- plumbing ------------------------------------------------------------------------------

    def _told(self, read: Callable[[DesiredAccount], Value], total: int) -> Callable[[DesiredAccount], Value]:
        """``read``, telling ``on_read`` (done, total, account) as each account finishes."""
        done = [0]

        def reading(account: DesiredAccount) -> Value:
            value = read(account)
            if self.on_read is not None:
                with self._lock:
                    done[0] += 1
                    self.on_read(done[0], total, account.name)
            return value

        return reading

    def _parallel(self, work: Callable[[Item], Value], items: Sequence[Item], workers: int | None = None) -> list[Value]:
        workers = workers or self.parallelism
        if len(items) <= 1 or workers <= 1:
            return [work(item) for item in items]
        pool = ThreadPoolExecutor(max_workers=min(workers, len(items)))
        try:
            return list(pool.map(work, items))
        except BaseException:  # Ctrl-C: the items not yet begun are dropped, not all worked through
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            pool.shutdown(wait=True)

    def server_now(self) -> dt.datetime:
        """The Graph API's time, as its latest answer told it."""
        if not self.clients:
            return dt.datetime.now(dt.UTC)
        return max(client.server_now() for client in self.clients.values())


def refuse_unsendable(plan: Plan, app_from_env: str | None) -> None:
    """Refuse, before any write, a plan whose writes Meta could not take: a header file to upload
    with no app named, or a media example given as a URL (Meta takes upload handles only; an
    imported config holds URLs unless imported with --media-dir)."""
    if app_from_env is not None and not app_from_env.isdigit():
        raise ReconcilerError(f"{APP_ENV} must be an app id (digits); got {app_from_env[:40]!r}")
    no_app, urls = [], []
    for account in plan.accounts:
        for change in account.changes:
            template = change.after
            if not change.action.executes or not isinstance(template, Template) or change.action is Action.DELETE:
                continue
            if template.unread_digest and media.files_of(template.components) and not (account.app_id or app_from_env):
                no_app.append(f"{account.account}: {change.key}")
            if any(config.url_handle(component) for component in model_media_headers(template.components)):
                urls.append(f"{account.account}: {change.key}")
    if no_app:
        raise ReconcilerError(f"{len(no_app)} change(s) upload a header_file, and no app is named to upload it through: set app_id in "
                              f"the config (account or defaults) or the environment variable {APP_ENV}. Nothing was applied.\n  "
                              + "\n  ".join(no_app[:10]))
    if urls:
        raise ReconcilerError(f"{len(urls)} change(s) give a media example as a URL, which Meta refuses (it takes upload handles): "
                              "use header_file (`wabactl import --media-dir` writes it). Nothing was applied.\n  " + "\n  ".join(urls[:10]))


def _unread(error: GraphError, waba_id: str) -> str:
    """Why an account could not be read; a refused permission names the one Meta requires for
    everything on a WABA (its words are not read: they vary and are translated)."""
    if isinstance(error, TokenError) or not error.permission_denied:
        return str(error)
    return (f"{error}. The token needs the whatsapp_business_management permission, granted for WABA {waba_id} "
            "(and, for a user assigned to the WABA, a task that covers templates); `wabactl auth` checks the token")


@contextlib.contextmanager
def open_session(anchor: str | None, state_dir: str | None = None, emulator_seed: str | None = None,
                 parallelism: int = DEFAULT_PARALLELISM, environ: Mapping[str, str] | None = None,
                 lock_timeout: float | None = None) -> Iterator[Session]:
    """A session whose ledger sits beside ``anchor`` (the first config file) or in ``state_dir``
    (no ledger when both are None), against ``WABACTL_GRAPH_URL`` or an in-process emulator
    seeded from ``emulator_seed``. With ``lock_timeout`` (an apply), the ledger is locked for the
    whole session and read only once the lock is held."""
    environment = os.environ if environ is None else environ
    path = None if anchor is None and state_dir is None else ledger_file(state_dir, anchor or ".")
    with contextlib.ExitStack() as stack:
        if path is not None and lock_timeout is not None:
            stack.enter_context(LedgerLock(path, lock_timeout))
        book, problems = ledgers.load(path) if path is not None else (Ledger(None), [])
        target = stack.enter_context(graph_target(emulator_seed, environment))
        session = Session(target, book, environment, parallelism, problems)
        stack.callback(session.close)
        yield session
