"""The command line: the one place that prints and chooses exit codes."""

from __future__ import annotations

import sys
import threading

import click

from .emulator import Emulator, SeedError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wabactl")
def main() -> None:
    """Declarative reconciler for WhatsApp Business Accounts."""


@main.command()
@click.option("--seed", "seed_path", type=click.Path(dir_okay=False), help="Seed YAML: tokens, WABAs, templates, settings.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0 picks a free port.")
@click.option("--state", "state_path", type=click.Path(dir_okay=False), help="Keep the emulator's state in this JSON file across restarts.")
def emulator(seed_path: str | None, port: int, state_path: str | None) -> None:
    """Run the Graph API emulator on 127.0.0.1 until interrupted."""
    try:
        running = Emulator(seed_path, port=port, state_file=state_path).start()
    except (SeedError, OSError, ValueError) as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    click.echo(f"Graph API emulator listening on {running.url}", err=False)
    click.echo(f"  export WABACTL_GRAPH_URL={running.url}")
    sys.stdout.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
