"""What the `ledger-node` commands share: the one-line error exit and the common options."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from citypass.core.cli import file_option

password_file_option = file_option(
    "--password-file", "File holding the keystore password (default: $LEDGER_NODE_PASSWORD)."
)
data_dir_option = click.option(
    "--data-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The node's data directory.",
)


class Abort(click.ClickException):
    """One readable line and exit code 1, instead of a traceback."""

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.message}", err=True)


def progress_bar(label: str) -> Callable[[int, int], None]:
    """A click progress bar on stderr, opened at the first call (the total known then):
    the node's and a witness's start re-executing their journal."""
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label=label, file=sys.stderr)
            bar.__enter__()
        bar.update(1)
        if done == total:
            bar.__exit__(None, None, None)

    return progress
