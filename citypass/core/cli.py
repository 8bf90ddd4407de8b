"""What every command line here shares: an option whose default --help shows, options grouped
into one decorator, and the one-line error exit (no traceback) the daemons' CLIs end with."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
Command = TypeVar("Command", bound=Callable[..., Any])


class Abort(click.ClickException):
    """One readable line (`error: …`) and exit code 1, instead of a traceback."""

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.message}", err=True)


def option_group(*options: Callable[[Any], Any]) -> Callable[[Command], Command]:
    """Several click options as one decorator, listed in --help in the order given (as if
    stacked as decorators in that order): the options a CLI's commands share."""

    def apply(command: Command) -> Command:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


def shown_option(
    name: str, default: Any, kind: click.ParamType | type, help: str | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--name` with a default shown in --help and a checked type (most of our flags)."""
    return click.option(name, default=default, show_default=True, type=kind, help=help)


def log_level_option(default: str = "INFO") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--log-level", default=default, show_default=True, type=click.Choice(LOG_LEVELS)
    )


def file_option(name: str, help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--name FILE`: an existing or new file path (not a directory), as a Path."""
    return click.option(name, type=click.Path(dir_okay=False, path_type=Path), help=help)
