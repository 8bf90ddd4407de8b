"""The scripts' argparse parser: one-line usage errors, key=value options, shared options."""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from typing import Any

from .accounts import PASSWORD_ENV
from .arg_types import non_negative_int
from .errors import UsageError

ACCOUNT_HELP = (
    "0x-address; on development also an account index (0-19) or stakeholder name; "
    "or the name of a brownie keystore"
)

_SYNTAX_NOTE = (
    "`brownie run` rejects --options after the function name, so write options as key=value "
    "(reason=LOST-CARD, force=yes), or put `--` before them and --network before that: "
    "brownie run --network NET scripts/NAME.py main -- --reason LOST-CARD. "
    "Errors print one line `error: ...` on stderr and exit 2 (bad arguments) or 1 (refused)."
)

WHOLE_CHAIN_HELP = "scan events from this block (default 0, the whole chain)"


class ScriptParser(argparse.ArgumentParser):
    """argparse that raises UsageError (one line) instead of printing usage and exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (usage: `{self.prog} help`)")

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        if status:
            raise UsageError(message or "bad arguments")
        raise _HelpShown


class _HelpShown(Exception):
    pass


def new_parser(script: str, description: str, examples: Sequence[str] = ()) -> ScriptParser:
    epilog = ""
    if examples:
        epilog = "examples:\n" + "\n".join(f"  {line}" for line in examples) + "\n\n"
    epilog += textwrap.fill(_SYNTAX_NOTE.replace("NAME", script), width=88)
    return ScriptParser(
        prog=f"brownie run scripts/{script}.py main",
        description=textwrap.fill(description, width=88),
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )


def add_action(parser: argparse.ArgumentParser, choices: Sequence[str]) -> None:
    """The first positional argument of a script that does one of several things."""
    parser.add_argument(
        "action", choices=tuple(choices), metavar="ACTION", help=" | ".join(choices)
    )


def add_from_block(parser: argparse.ArgumentParser, help: str = WHOLE_CHAIN_HELP) -> None:
    parser.add_argument("--from-block", type=non_negative_int, default=0, metavar="N", help=help)


def add_transaction_options(
    parser: argparse.ArgumentParser, default: str | None, what: str, shown: str | None = None
) -> None:
    """--as WHO (who signs `what`) and --verbose: what every script that sends takes."""
    add_signer(parser, default, what, shown)
    add_verbose(parser)


def add_signer(
    parser: argparse.ArgumentParser, default: str | None, what: str, shown: str | None = None
) -> None:
    shown = shown or default or "none"
    parser.add_argument(
        "--as",
        "--from",
        dest="signer",
        default=default,
        metavar="WHO",
        help=(
            f"who signs {what} (default: {shown}). A stakeholder name (admin, treasury, "
            "village-enterprise, city-fund, platform, operator, oracle), an account index or "
            "address on development, or a brownie keystore name / .json path (password from "
            f"${PASSWORD_ENV})"
        ),
    )


def add_verbose(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--verbose", action="store_true", help="show brownie's output for every transaction"
    )


def parse_args(parser: argparse.ArgumentParser, argv: Sequence[Any]) -> argparse.Namespace | None:
    """Parse; returns None when usage was printed (help)."""
    tokens = [str(token) for token in argv]
    if tokens and tokens[0] == "--":
        tokens = tokens[1:]
    if tokens and tokens[0].lower() in ("help", "-h", "--help", "-help"):
        parser.print_help(sys.stdout)
        return None
    tokens = _expand_key_values(parser, tokens)
    try:
        return parser.parse_args(tokens)
    except _HelpShown:
        return None


def _expand_key_values(parser: argparse.ArgumentParser, tokens: list[str]) -> list[str]:
    """`reason=LOST-CARD` -> `--reason=LOST-CARD` and `force=yes` -> `--force`.

    Only the parser's own long options are expanded; any other token stays as it is."""
    options: dict[str, argparse.Action] = {
        option[2:]: action
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("--")
    }
    out: list[str] = []
    for token in tokens:
        key, sep, value = token.partition("=")
        name = key.replace("_", "-").lower()
        if not sep or token.startswith("-") or name not in options:
            out.append(token)
        elif options[name].nargs == 0:  # a flag such as --force or --revoke
            answer = value.strip().lower()
            if answer in ("", "yes", "true", "1", "on", "y"):
                out.append(f"--{name}")
            elif answer not in ("no", "false", "0", "off", "n"):
                raise UsageError(f"{token!r}: write {name}=yes or {name}=no (or --{name})")
        else:
            out.append(f"--{name}={value}")
    return out
