"""What the `ledger-node` commands share: the one-line error exit and the common options."""

from __future__ import annotations

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
