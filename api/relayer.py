"""The relayer: checks a resident's signed ForwardRequest before spending gas (api/relay_checks.py),
then submits it with the API's own key (many at once, in `CityForwarder.executeBatch`:
api/relay_batch.py) and decodes what happened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from eth_account.signers.local import LocalAccount
from web3.exceptions import TimeExhausted

from api.errors import ApiError, Conflict, PermissionDenied, ValidationFailed
from api.ledger import Ledger
from api.receipts import ReceiptWatcher
from api.relay_batch import Admit, RelayAccount, RelayBatcher
from api.relay_checks import Allowed, ForwardChecks
from api.schemas.relay import ForwardRequestCreate

log = logging.getLogger("api.relayer")


class Relayer:
    def __init__(
        self,
        ledger: Ledger,
        account: LocalAccount,
        on_outcome: Callable[[str], None],
        on_batch: Callable[[int, float], None] | None = None,
    ) -> None:
        self.ledger = ledger
        self.address = account.address
        self._on_outcome = on_outcome
        self._receipts = ReceiptWatcher(ledger.rpc_url)
        self.checks = ForwardChecks(ledger)
        # Last: it starts its threads, which use everything above.
        self._batcher = RelayBatcher(
            self.checks,
            RelayAccount(
                address=account.address,
                chain_id=ledger.chain_id,
                rpc_url=ledger.rpc_url,
                pending_nonce=lambda: ledger.w3.eth.get_transaction_count(
                    account.address, "pending"
                ),
                sign=lambda tx: bytes(account.sign_transaction(tx).raw_transaction),
                refused=refusal_of,
                wait_receipt=self._receipts.wait,
                outcome=self._outcome,
                # (requests sent together, seconds to check/simulate/send them): metrics, logs.
                on_batch=on_batch or (lambda _requests, _seconds: None),
            ),
        )

    # ------------------------------------------------------------------------------ relay

    def submit(self, request: ForwardRequestCreate, admit: Admit) -> Future:
        """Queue a request for the next executeBatch; the future answers as _outcome() does or
        raises the ApiError that refused it (see api/relay_batch.py for the checks)."""
        return self._batcher.submit(request, admit)

    def _outcome(
        self, tx_hash: bytes, receipt: Any, request: ForwardRequestCreate, nonce: int,
        allowed: Allowed, logs: list[Any],
    ) -> dict[str, Any]:  # fmt: skip
        """The answer for one request of a mined batch, from its own logs."""
        events = []
        success = False
        lease_id = None
        for entry in logs:
            decoded = self.ledger.registry.decode_raw(entry)
            if decoded is None:
                continue
            args = {k: _plain(v) for k, v in decoded.args.items()}
            events.append({"contract": decoded.contract, "event": decoded.event, "args": args})
            if decoded.event == "ExecutedForwardRequest":
                success = bool(args["success"])
            if decoded.event == "LeaseBooked":
                lease_id = int(args["leaseId"])
        outcome = "relayed" if receipt["status"] == 1 and success else "reverted_on_chain"
        self._on_outcome(outcome)
        tx = "0x" + bytes(tx_hash).hex()
        log.info(
            "relayed",
            extra={
                "tx": tx, "signer": request.from_, "nonce": nonce,
                "call": f"{allowed.contract}.{allowed.function}", "outcome": outcome,
            },
        )  # fmt: skip
        return {
            "txHash": tx,
            "blockNumber": int(receipt["blockNumber"]),
            "status": int(receipt["status"]),
            "success": success,
            "signer": request.from_,
            "nonce": nonce,
            "leaseId": lease_id,
            "events": events,
        }

    def stop(self) -> None:
        self._batcher.stop()
        self._receipts.stop()


def send_and_wait(
    w3: Any, raw: bytes, timeout: float, not_mined: Callable[[str], ApiError]
) -> tuple[str, Any]:
    """Send a signed transaction of one of the API's own flows (not the relayer's batches) and
    wait for its receipt: (0x hash, receipt). A node refusal is `node_refusal`'s error; a
    receipt not there within `timeout` s is `not_mined(hash)`."""
    try:
        tx_hash = "0x" + bytes(w3.eth.send_raw_transaction(raw)).hex()
    except Exception as exc:
        raise node_refusal(exc) from exc
    try:
        return tx_hash, w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout)
    except TimeExhausted as exc:
        raise not_mined(tx_hash) from exc


def node_refusal(exc: Exception) -> ApiError:
    """The ledger node's refusal of a transaction as a domain error, with its own message."""
    # web3 7 keeps the node's JSON-RPC answer on Web3RPCError.rpc_response.
    response = getattr(exc, "rpc_response", None) or {}
    payload = response.get("error") if isinstance(response, dict) else None
    if not isinstance(payload, dict):
        payload = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    return refusal_of(payload, str(exc))


def refusal_of(payload: dict[str, Any], fallback: str = "no reason given") -> ApiError:
    """A JSON-RPC error the ledger node answered to a transaction, as a domain error."""
    code = payload.get("code")
    message = payload.get("message") or fallback
    # The node answers every refusal with -32003 (TRANSACTION_REJECTED); its message says why.
    lowered = message.lower()
    if "not permitted" in lowered:  # the permission gateway: not an active member
        return PermissionDenied(
            f"the ledger node refused the transaction: {message}", code="node_forbidden"
        )
    if code in (-32602, -32700, -32600) or any(
        words in lowered for words in ("wrong chain id", "intrinsic gas", "exceeds", "oversized")
    ):
        return ValidationFailed(
            f"the ledger node rejected the transaction: {message}", code="node_invalid"
        )
    # Used or skipped nonces and engine refusals: the ledger's state conflicts with the tx.
    return Conflict(f"the ledger node refused the transaction: {message}", code="node_refused")


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
