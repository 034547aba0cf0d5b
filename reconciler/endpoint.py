"""Where a run's Graph calls go, and how: Meta's Graph API (or ``WABACTL_GRAPH_URL``), or an
emulator started in-process; the retry policy and time limits taken from the environment."""

from __future__ import annotations

import contextlib
import pathlib
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from .emulator import Emulator, SeedError
from .errors import EmulatorError, ReconcilerError
from .graph import DEFAULT_GRAPH_URL
from .graph.client import check_base_url
from .graph.retry import RetryPolicy

DEFAULT_SEED = pathlib.Path(__file__).resolve().parent.parent / "examples" / "seed.yaml"


@dataclass(frozen=True)
class Target:
    """Where Graph calls go; for an in-process emulator, the tokens its seed knows."""

    base_url: str
    seed_tokens: tuple[str, ...] = ()

@contextlib.contextmanager
def graph_target(emulator_seed: str | None, environ: Mapping[str, str]) -> Iterator[Target]:
    """An in-process emulator, or WABACTL_GRAPH_URL (default: Meta's Graph API)."""
    if emulator_seed is None:
        yield Target(check_base_url(environ.get("WABACTL_GRAPH_URL") or DEFAULT_GRAPH_URL))
        return
    try:
        running = start_emulator(emulator_seed)
    except EmulatorError as error:
        raise EmulatorError(f"cannot start the emulator: {error}") from error
    try:
        yield Target(running.url, tuple(running.world.tokens))
    finally:
        running.stop()

def start_emulator(seed: str | None, port: int = 0, state_file: str | None = None) -> Emulator:
    """A Graph API emulator on loopback, serving in a background thread."""
    try:
        return Emulator(seed, port=port, state_file=state_file).start()
    except (SeedError, OSError, ValueError) as error:
        raise EmulatorError(str(error)) from error

def retry_policy(environ: Mapping[str, str]) -> RetryPolicy:
    """The retry policy, with the first wait from ``WABACTL_RETRY_BACKOFF`` (seconds) when set."""
    return RetryPolicy(backoff=seconds_from(environ, "WABACTL_RETRY_BACKOFF", RetryPolicy.backoff, most=60))

def seconds_from(environ: Mapping[str, str], name: str, default: float, most: float) -> float:
    """A number of seconds from an environment variable, from 0 to ``most``; ``default`` when unset."""
    raw = environ.get(name)
    if not raw:
        return default
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= most:
        raise ReconcilerError(f"{name} must be a number of seconds from 0 to {most:g}; got {raw!r}")
    return seconds

def serve_emulator(seed: str | None, port: int, state_file: str | None, ready: Callable[[str], None]) -> None:
    """Run an emulator until interrupted (Ctrl-C); ``ready`` is told its URL once it listens."""
    running = start_emulator(seed, port, state_file)
    try:
        ready(running.url)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
