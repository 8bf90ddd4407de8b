"""Context: the connected network, the recorded deployment and the signers of one script run."""

from __future__ import annotations

import argparse
import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from citypass.chain import deployment

from .accounts import resolve_address, resolve_signer
from .deployments import load_live_system
from .errors import CliError, UsageError
from .reverts import describe_revert, is_revert


@dataclass
class Context:
    """The connected network, the recorded deployment and the accounts, resolved on demand."""

    args: argparse.Namespace
    _system: Any = field(default=None, repr=False)

    # --- network

    @property
    def network(self) -> str:
        from brownie import network

        if not network.is_connected():
            raise CliError("not connected to a network; run the script with `brownie run`")
        return str(network.show_active())

    @property
    def is_development(self) -> bool:
        from brownie._config import CONFIG

        return CONFIG.network_type == "development"

    def chain_id(self) -> int:
        from brownie import web3

        return int(web3.eth.chain_id)

    def containers(self) -> Any:
        from brownie.project import get_loaded_projects

        projects = get_loaded_projects()
        if projects:
            return projects[0]
        import brownie

        return brownie

    # --- deployment

    def system(self) -> deployment.System:
        """The recorded contracts, checked to exist on the connected chain."""
        if self._system is None:
            self._system = load_live_system(self.containers(), self.network, self.chain_id())
        return self._system

    # --- accounts

    def signer(self, spec: str | None = None, *, what: str = "the transactions") -> Any:
        spec = spec if spec is not None else getattr(self.args, "signer", None)
        if not spec:
            raise UsageError(f"say who signs {what} with --as WHO")
        return resolve_signer(spec, development=self.is_development)

    def address(self, spec: str, what: str = "account") -> str:
        return resolve_address(spec, development=self.is_development, what=what)

    # --- transactions

    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        """Hide brownie's per-transaction printout unless --verbose.

        brownie 1.22's contract calls pass `silent=False` explicitly, so CONFIG.argv["silent"]
        (what `brownie run --silent` sets) does not reach them; we swallow stdout instead."""
        if getattr(self.args, "verbose", False):
            yield
            return
        with contextlib.redirect_stdout(io.StringIO()):
            yield

    def send(self, method: Any, *args: Any, signer: Any, what: str) -> Any:
        """Send one transaction; a revert becomes CliError naming what was being done."""
        try:
            with self.quiet():
                return method(*args, {"from": signer})
        except Exception as exc:
            if is_revert(exc):
                raise CliError(f"{what} was refused by the ledger: {describe_revert(exc)}") from exc
            raise
