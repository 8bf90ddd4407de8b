"""Six fixes for brownie 1.22 (its mypyc build), applied once by `apply()`.

- **False "dropped" transactions.** brownie decides a transaction was dropped when the sender's
  nonce has moved past it but no receipt is found yet. anvil can report the new nonce a moment
  before the receipt is queryable, so roughly one transaction in a thousand raised
  `TransactionError: Tx dropped without known replacement` although it was mined and succeeded.
  Before accepting "dropped", we look for the receipt again for a short while and, when it is
  there, let brownie finish the confirmation.
- **Deployment records on live networks.** `ContractContainer.at()` and every deployment on a
  live network (the ledger node) record the contract with the compiled
  `brownie.network.state._add_deployment`, whose annotation demands a dict of sources while
  brownie hands it its `Sources` object: a `TypeError` ("dict object expected; got ...Sources")
  that made every operator script fail to attach to recorded contracts and the demo's deploys
  print tracebacks. We hand it a view of the contract whose sources are that dict.
- **No artifact cache of live deployments.** brownie also copied every contract it attached to
  on a live network into build/deployments/<chain id>/, and on every later connection to that
  chain asked the node for the code of each one: with the node down even `main help` failed,
  and the folder grew by a dozen files per demo run. deployments/<network>.json is the one
  record of what is deployed, so brownie keeps none.
- **A whole stack inspection per snapshot and revert.** `chain.snapshot()`, `revert()`, `mine()`
  and `sleep()` reach the `Rpc` methods through a guard that warns when user code calls `rpc`
  directly; the guard asked `inspect.stack()`, which reads the source lines of every frame on
  the stack, to learn who its caller was. With a revert before every test and every Hypothesis
  example that was a fifth of the property tests' time. The same check now reads the caller's
  frame alone (`sys._getframe(1)`).
- **A code read per known contract on every revert.** On a revert, each contract container
  asked the engine for the code of every contract it holds to find those the revert removed,
  though a contract whose deployment block brownie knows is removed exactly when that block is
  past the revert's height. Only contracts of unknown origin (`Contract.at`) are still asked.
- **An `eth_chainId` round trip before every call.** web3's validation middleware asks the
  engine for its chain id before each `eth_call`, `eth_estimateGas` and `eth_sendTransaction`
  (a fifth of a stateful test's requests). A connection's chain id cannot change, so brownie's
  provider now caches that one answer (web3's own request cache, limited to `eth_chainId`);
  a reconnection makes a new provider and asks again.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

RECHECK_SECONDS = 3.0
_applied = False
recovered = 0  # how many false "dropped" verdicts were overturned (for diagnostics)


def apply() -> None:
    global _applied
    if _applied:
        return
    _recheck_dropped_transactions()
    _record_deployments_with_plain_sources()
    _keep_no_deployment_artifacts()
    _guard_rpc_calls_with_one_frame()
    _revert_known_contracts_by_block()
    _cache_the_chain_id_per_connection()
    _applied = True


def _recheck_dropped_transactions() -> None:
    from brownie.network import transaction
    from brownie.network.web3 import web3
    from hexbytes import HexBytes
    from web3.exceptions import TransactionNotFound

    original: Callable[..., None] = transaction.TransactionReceipt._await_confirmation

    def _receipt_appears(txid: str) -> bool:
        deadline = time.monotonic() + RECHECK_SECONDS
        while time.monotonic() < deadline:
            try:
                receipt = web3.eth.get_transaction_receipt(HexBytes(txid))
                if receipt is not None and receipt["blockHash"] is not None:
                    return True
            except TransactionNotFound:
                pass
            time.sleep(0.05)
        return False

    class _GuardedEvent:
        """Stands in for the receipt's `_confirmed` event while brownie confirms it: a "dropped"
        verdict is held back (the waiting caller keeps waiting) if the receipt shows up."""

        def __init__(self, receipt: Any, real: Any) -> None:
            self._receipt = receipt
            self._real = real
            self.retry = False

        def set(self) -> None:
            receipt = self._receipt
            if receipt.status == transaction.Status.Dropped and _receipt_appears(receipt.txid):
                global recovered
                receipt.status = transaction.Status.Pending
                self.retry = True
                recovered += 1
                return
            self._real.set()

        def __getattr__(self, name: str) -> Any:
            return getattr(self._real, name)

    def _await_confirmation(
        self: Any, block_number: int | None = None, required_confs: int = 1
    ) -> None:
        real = self._confirmed
        guard = _GuardedEvent(self, real)
        self._confirmed = guard
        try:
            original(self, block_number, required_confs)
        finally:
            self._confirmed = real
        if guard.retry:
            original(self, None, required_confs)

    # a monkeypatch by design (see the module docstring)
    transaction.TransactionReceipt._await_confirmation = _await_confirmation  # type: ignore[method-assign]


class _DeploymentRecordView:
    """What `state._add_deployment` reads of a contract (`address`, `_build`, `_sources`), with
    the sources as the plain dict (path → text) its annotation demands."""

    def __init__(self, contract: Any) -> None:
        self.address = contract.address
        self._build = contract._build
        paths = (contract._build.get("allSourcePaths") or {}).values()
        # brownie reads any path missing here from disk itself
        self._sources = {path: contract._sources.get(path) for path in paths}


def _record_deployments_with_plain_sources() -> None:
    from brownie.network import contract, state

    original: Callable[..., None] = state._add_deployment

    def _add_deployment(deployed: Any, alias: Any = None) -> None:
        original(_DeploymentRecordView(deployed), alias)

    # contract.py is plain Python and looks the function up in its module on every call
    contract._add_deployment = _add_deployment  # type: ignore[assignment]


def _keep_no_deployment_artifacts() -> None:
    from brownie.network import contract

    def _deployment_path(self: Any) -> None:
        return None  # brownie then neither writes nor maps an artifact

    contract._DeployedContractBase._deployment_path = _deployment_path  # type: ignore[method-assign]


def _guard_rpc_calls_with_one_frame() -> None:
    import importlib
    import warnings

    from brownie.network.state import Chain

    # the module, not the `rpc` instance that brownie.network exports under the same name
    rpc = importlib.import_module("brownie.network.rpc")
    for name, guarded in list(vars(rpc.Rpc).items()):
        if getattr(guarded, "__qualname__", "") != "internal.<locals>.wrapped":
            continue
        cells = dict(zip(guarded.__code__.co_freevars, guarded.__closure__ or (), strict=True))
        method = cells["fn"].cell_contents

        def checked(*args: Any, __method: Callable[..., Any] = method, **kwargs: Any) -> Any:
            # brownie's own check (rpc/__init__.py `internal`), on the caller's frame only
            if not isinstance(sys._getframe(1).f_locals.get("self"), Chain):
                warnings.warn(
                    f"rpc.{__method.__name__} should not be called directly, use "
                    f"chain.{__method.__name__} instead",
                    FutureWarning,
                    stacklevel=2,
                )
            return __method(*args, **kwargs)

        checked.__name__ = checked.__qualname__ = name
        setattr(rpc.Rpc, name, checked)


def _revert_known_contracts_by_block() -> None:
    from brownie.network import contract
    from brownie.network.web3 import web3

    def _revert(self: Any, height: int) -> None:
        def removed(deployed: Any) -> bool:
            tx = deployed.tx
            if tx is not None and tx.block_number is not None:
                return bool(tx.block_number > height)
            return len(web3.eth.get_code(deployed.address).hex().removeprefix("0x")) <= 2

        for deployed in [c for c in self._contracts if removed(c)]:
            self.remove(deployed)
            deployed._reverted = True

    contract.ContractContainer._revert = _revert  # type: ignore[method-assign]


def _cache_the_chain_id_per_connection() -> None:
    import importlib

    from citypass.core.node_web3 import cache_the_chain_id_only

    # the module, not the `web3` instance that brownie.network exports under the same name
    brownie_web3 = importlib.import_module("brownie.network.web3")

    original: Callable[..., None] = brownie_web3.Web3.connect

    def connect(self: Any, uri: str, timeout: int = 30) -> None:
        original(self, uri, timeout)
        if self.provider is not None:
            cache_the_chain_id_only(self.provider)  # as the services' client does

    brownie_web3.Web3.connect = connect
