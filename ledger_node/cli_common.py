"""What the `ledger-node` commands share: the one-line error exit and the common options."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import click

from citypass.core.cli import Abort, file_option
from ledger_node.errors import LedgerNodeError


def password_file_for(env: str) -> Callable[[Any], Any]:
    """--password-file, falling back to the variable `env` (the node's, or a witness's)."""
    return file_option("--password-file", f"File holding the keystore password (default: ${env}).")


def data_dir_for(whose: str) -> Callable[[Any], Any]:
    """--data-dir, required, a directory: `whose` says which (the node's, a witness's)."""
    return click.option(
        "--data-dir",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        help=f"The {whose} data directory.",
    )


password_file_option = password_file_for("LEDGER_NODE_PASSWORD")
data_dir_option = data_dir_for("node's")


def run_command(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a command's coroutine to its end; a `LedgerNodeError` becomes the one-line exit."""
    try:
        return asyncio.run(coroutine)
    except LedgerNodeError as exc:
        raise Abort(str(exc)) from exc


def progress_bars() -> Callable[[int, int, str], None]:
    """Click progress bars on stderr, one per label (a step of a start: linking the journal's
    hash chain, replaying it), each opened at its first call (its total known then): the node's
    and a witness's start."""
    bars: dict[str, Any] = {}

    def progress(done: int, total: int, label: str) -> None:
        bar = bars.get(label)
        if bar is None:
            bar = bars[label] = click.progressbar(length=total, label=label, file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)
        if done >= total:
            bar.__exit__(None, None, None)

    return progress
