"""The treasury's transactions, each sent at most once per key ("topup:<id>", "cashout:<id>").

CityCredit.mint does not refuse a receipt it has seen: exactly-once is ours to keep. So, under
one lock, for a key:
1. a transaction already recorded for the key is looked up (and its very same signed bytes sent
   again if the node lost them); a second one is signed only once the account's nonce has moved
   past the recorded one without it, which proves it can never be mined;
2. with nothing recorded, the chain is searched for the receipt's event (someone may have
   minted it by hand with scripts/), and only then
3. the transaction is signed, recorded durably, and only then sent.
A crash anywhere therefore leaves either nothing sent or a recorded transaction to follow up.
One API process holds the treasury key (the lock is per process).
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from sqlalchemy import Engine, delete, insert, select, update
from web3 import Web3
from web3.exceptions import TimeExhausted, TransactionNotFound, Web3RPCError

from api.errors import LedgerUnavailable
from api.ledger import Ledger
from api.payments.tables import treasury_transactions as txs
from citypass.core.rpc_url import redacted
from citypass.protocol.reverts import revert_data, revert_text

RECEIPT_TIMEOUT_S = 60.0
EVENT_SIGNATURES = {
    "TopUp": "TopUp(address,uint256,bytes32)",
    "CashOut": "CashOut(address,uint256,bytes32)",
}


class ChainRefused(Exception):
    """The contract refuses (or refused) the call: the decoded reason is the message."""


def receipt_hash(text: str) -> bytes:
    """The bytes32 receipt put on chain for an off-chain id: keccak256 of its text, so the id
    itself (a provider's reference) never appears on chain and the same id gives the same hash."""
    return bytes(Web3.keccak(text=text))


class Treasury:
    def __init__(
        self, ledger: Ledger, account: LocalAccount, engine: Engine,
        receipt_timeout: float = RECEIPT_TIMEOUT_S,
    ) -> None:  # fmt: skip
        self._ledger = ledger
        self._w3 = ledger.w3
        self._account = account  # never logged; only its address is
        self.address = account.address
        self._engine = engine
        self._timeout = receipt_timeout
        self._credit = ledger.contracts["credit"]
        self._lock = threading.Lock()

    @property
    def credit(self) -> Any:
        return self._credit

    def send_once(self, key: str, call: Any, event: str, receipt: bytes) -> str:
        """The hash of the one successful transaction for `key` (a CityCredit `call` that emits
        `event` with `receipt`); ChainRefused when the contract refuses it."""
        with self._lock:
            try:
                return self._send_once(key, call, event, receipt)
            except (ChainRefused, LedgerUnavailable):
                raise
            except (TimeExhausted, OSError, Web3RPCError, ValueError) as exc:
                raise LedgerUnavailable(
                    f"the ledger node at {redacted(self._ledger.rpc_url)} did not confirm the treasury's "
                    f"transaction ({type(exc).__name__}); nothing is sent twice: retry later"
                ) from exc

    def _send_once(self, key: str, call: Any, event: str, receipt: bytes) -> str:
        recorded = self._recorded(key)
        if recorded is not None:
            if recorded["status"] == "reverted":
                raise ChainRefused(f"transaction {recorded['tx_hash']} reverted")
            if recorded["status"] == "mined":
                return str(recorded["tx_hash"])
            done = self._follow_up(recorded)
            if done is not None:
                return done
            self._forget(key)  # its nonce went to another transaction: it can never be mined
        found = self._find_event(event, receipt)
        if found is not None:
            self._record(key, -1, "", found, "mined")
            return found
        try:
            tx = call.build_transaction(
                {
                    "from": self.address, "gasPrice": 0, "chainId": self._ledger.chain_id,
                    "nonce": self._w3.eth.get_transaction_count(self.address, "pending"),
                }
            )  # fmt: skip
        except Exception as exc:  # the estimate reverted: nothing is sent
            data = revert_data(exc)
            if data is None and not hasattr(exc, "data"):
                raise
            raise ChainRefused(revert_text(data)) from exc
        signed = self._account.sign_transaction(tx)
        tx_hash = "0x" + bytes(signed.hash).hex()
        raw = "0x" + bytes(signed.raw_transaction).hex()
        self._record(key, int(tx["nonce"]), raw, tx_hash, "sent")
        try:
            self._w3.eth.send_raw_transaction(HexBytes(raw))
        except Web3RPCError as exc:  # refused outright: it is not in the pool
            self._forget(key)
            # 503, not 409: a retry signs anew (say the key's nonce was taken by a script).
            raise LedgerUnavailable(
                f"the ledger node refused the treasury's transaction ({exc}); nothing was "
                "sent: retry later"
            ) from exc
        return self._settle(key, self._w3.eth.wait_for_transaction_receipt(
            HexBytes(tx_hash), timeout=self._timeout, poll_latency=0.1
        ))  # fmt: skip

    def _follow_up(self, recorded: Any) -> str | None:
        """The outcome of a transaction recorded before a crash or a timeout; None when it can
        never be mined. Raises LedgerUnavailable while it is still pending."""
        confirmed = self._w3.eth.get_transaction_count(self.address, "latest")
        tx_hash = HexBytes(recorded["tx_hash"])
        found = self._receipt(tx_hash)
        if found is None and confirmed > recorded["nonce"]:
            return None
        if found is None:
            # The node may have lost it (a restart): the same bytes, the same transaction.
            # "Already known" or "nonce too low" (mined meanwhile): the receipt tells.
            with contextlib.suppress(Web3RPCError):
                self._w3.eth.send_raw_transaction(HexBytes(recorded["raw"]))
            found = self._w3.eth.wait_for_transaction_receipt(
                tx_hash, timeout=self._timeout, poll_latency=0.1
            )
        return self._settle(recorded["key"], found)

    def _receipt(self, tx_hash: HexBytes) -> Any:
        try:
            return self._w3.eth.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            return None

    def _settle(self, key: str, receipt: Any) -> str:
        tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
        status = "mined" if receipt["status"] == 1 else "reverted"
        with self._engine.begin() as conn:
            conn.execute(
                update(txs).where(txs.c.key == key).values(status=status, updated_at=time.time())
            )
        if status == "reverted":
            raise ChainRefused(f"transaction {tx_hash} reverted")
        return tx_hash

    def _find_event(self, event: str, receipt: bytes) -> str | None:
        logs = self._w3.eth.get_logs(
            {
                "address": self._credit.address, "fromBlock": self._ledger.deployment.start_block,
                "toBlock": "latest",
                "topics": [Web3.keccak(text=EVENT_SIGNATURES[event]), None, HexBytes(receipt)],
            }
        )  # fmt: skip
        return "0x" + bytes(logs[0]["transactionHash"]).hex() if logs else None

    def _recorded(self, key: str) -> Any:
        with self._engine.connect() as conn:
            return conn.execute(select(txs).where(txs.c.key == key)).mappings().first()

    def has_record(self, key: str) -> bool:
        return self._recorded(key) is not None

    def _record(self, key: str, nonce: int, raw: str, tx_hash: str, status: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                insert(txs).values(
                    key=key, nonce=nonce, raw=raw, tx_hash=tx_hash, status=status,
                    updated_at=time.time(),
                )
            )  # fmt: skip

    def _forget(self, key: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(txs).where(txs.c.key == key))
