"""run_script: what every script's main(*argv) calls.

`SystemExit` is not an `Exception`, so `brownie run` lets it through untouched: no traceback,
and the process exits with our code."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from typing import Any

from citypass.chain import brownie_fixes, deployment

from .context import Context
from .errors import DEBUG_ENV, FAILED, CliError, fail, one_line
from .parsing import parse_args
from .reverts import describe_revert, is_revert


def run_script(
    build_parser: Callable[[], argparse.ArgumentParser],
    action: Callable[[argparse.Namespace, Context], Any],
    argv: Sequence[Any],
) -> Any:
    """Parse `argv`, run `action(args, ctx)`, and turn every failure into one `error:` line."""
    try:
        parser = build_parser()
        args = parse_args(parser, argv)
        if args is None:
            return None
        brownie_fixes.apply()
        return action(args, Context(args))
    except CliError as exc:
        fail(str(exc), exc.code)
    except deployment.DeploymentError as exc:
        fail(str(exc), FAILED)
    except KeyboardInterrupt:
        fail("interrupted; transactions already sent stay on the ledger", FAILED)
    except Exception as exc:  # noqa: BLE001 - everything else still gets one readable line
        if is_revert(exc):
            fail(f"the ledger refused the transaction: {describe_revert(exc)}", FAILED)
        if os.environ.get(DEBUG_ENV):
            raise
        fail(
            f"unexpected {type(exc).__name__}: {one_line(str(exc))} "
            f"(set {DEBUG_ENV}=1 to see the traceback)",
            FAILED,
        )
