"""The command-line options the commands share, declared once: which accounts, the delete valve,
colour, where Graph calls go, where the ledger lives, how many accounts are read and applied at once."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import click

from .desired.selection import parse_shard
from .endpoint import DEFAULT_SEED
from .errors import ReconcilerError
from .ledgerlock import DEFAULT_TIMEOUT as LOCK_TIMEOUT
from .session import DEFAULT_PARALLELISM

account_option = click.option("--account", "accounts", multiple=True, help="Only this account (repeatable; with configs, not a plan file).")
allow_destroy_option = click.option("--allow-destroy", is_flag=True, help="Allow deleting more templates than the safety limit.")
no_color_option = click.option("--no-color", is_flag=True, help="No colour (also: the NO_COLOR environment variable).")
emulator_option = click.option("--emulator", "emulator_seed", is_flag=False, flag_value=str(DEFAULT_SEED), default=None, metavar="[SEED]",
                               help="Start the Graph API emulator in-process with this seed (default: the example seed).")
state_dir_option = click.option("--state-dir", type=click.Path(file_okay=False),
                                help="Where the ledger lives (default: .wabactl beside the first config file).")
parallelism_option = click.option("--parallelism", type=click.IntRange(min=1), default=DEFAULT_PARALLELISM, show_default=True,
                                  help="Most HTTP requests in flight: reads of many accounts go in Graph batches, writes one at a time "
                                       "(each account's own changes stay in order).")
lock_timeout_option = click.option("--lock-timeout", type=click.FloatRange(min=0), default=LOCK_TIMEOUT, show_default=True,
                                   help="Seconds to wait for another apply that holds the ledger.")


DEFAULT_MAX_PLAN_AGE = dt.timedelta(hours=24)  # a saved plan approves what live state was that day
MOST_SECONDS = 100 * 365 * 86400  # beyond any plan's life, and within what datetime can add
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class Duration(click.ParamType):
    """``90s``, ``30m``, ``2h``, ``7d``, ``1w``, or a sum such as ``1h30m``. A bare number is
    refused: whether it means seconds or minutes is a guess a safety check must not make."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.timedelta:
        if isinstance(value, dt.timedelta):
            return value
        text = "".join(str(value).lower().split())
        parts = re.findall(r"([0-9]{1,9})([smhdw])", text)
        if not text or "".join(number + unit for number, unit in parts) != text:
            self.fail(f"{value!r} is not a duration: write a number with a unit, such as 90s, 30m, 2h, 7d or 1h30m", param, ctx)
        seconds = sum(int(number) * UNITS[unit] for number, unit in parts)
        if seconds > MOST_SECONDS:
            self.fail(f"{value!r} is longer than 100 years", param, ctx)
        if seconds <= 0:
            self.fail(f"{value!r}: a duration must be longer than zero", param, ctx)
        return dt.timedelta(seconds=seconds)


max_plan_age_option = click.option(
    "--max-plan-age", type=Duration(), default=None, metavar="DURATION",
    help="Refuse a saved plan made longer ago than this, in the Graph API's time (90s, 2h, 7d; default 24h).")


class ShardParam(click.ParamType):
    """``I/N``: the I-th of N shards (from 1), for a CI job matrix."""

    name = "I/N"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        try:
            shard = parse_shard(str(value))
        except ReconcilerError as error:
            self.fail(str(error), param, ctx)
        assert shard is not None
        return shard


shard_option = click.option("--shard", type=ShardParam(), default=None,
                            help="Only the accounts whose WABA id hashes to shard I of N (stable: adding an account never moves others).")


def run_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """What plan and apply share, in the order ``--help`` lists them."""
    for option in reversed((account_option, shard_option, allow_destroy_option, no_color_option, parallelism_option, state_dir_option,
                            emulator_option)):
        command = option(command)
    return command
