"""Exit codes, the operator-facing exception types and the one-line `error:` report."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Sized

USAGE_ERROR = 2  # the command line is wrong
FAILED = 1  # the deployment, the keystore or the ledger refused

DEBUG_ENV = "CITYPASS_DEBUG"


class CliError(Exception):
    """A failure the operator can fix; the message is the whole explanation."""

    code = FAILED


class UsageError(CliError):
    code = USAGE_ERROR


def fail(message: str, code: int = FAILED) -> None:
    """Print `error: message` as one line on stderr and exit with `code`."""
    sys.stdout.flush()
    print(f"error: {one_line(message)}", file=sys.stderr, flush=True)
    raise SystemExit(code)


def one_line(text: str) -> str:
    return " ".join(str(text).split()) or "unknown failure"


@contextlib.contextmanager
def after_partial_work(done: Sized, what_was_done: Callable[[], str]) -> Iterator[None]:
    """A refusal part-way through a loop of transactions says what already went through.

    `what_was_done()` is appended to the refusal's message when `done` is not empty (the
    transactions before it stay on the ledger, so the operator must know where to resume)."""
    try:
        yield
    except CliError as exc:
        if len(done):
            raise CliError(f"{exc}{what_was_done()}") from exc
        raise
