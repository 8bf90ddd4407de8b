"""One block watcher for every relay waiting on a receipt.

web3's wait_for_transaction_receipt polls eth_getTransactionReceipt every 100 ms per waiting
request: 64 bookings waiting on a 1 s block cost the node ~640 calls a second for nothing. Here a
single thread follows the head, reads each new block's transaction hashes once and fetches only
the receipts somebody waits for.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from hexbytes import HexBytes
from web3 import Web3

log = logging.getLogger("api.receipts")

HEAD_POLL_S = 0.05


class ReceiptTimeout(Exception):
    """The transaction was not in a block within the timeout."""


class _Waiter:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.receipt: Any = None


class ReceiptWatcher:
    def __init__(self, w3: Web3) -> None:
        self._w3 = w3
        self._lock = threading.Lock()
        self._waiting: dict[str, _Waiter] = {}
        self._scanned: int | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def wait(self, tx_hash: bytes, timeout: float) -> Any:
        """The receipt of `tx_hash` once it is in a block; ReceiptTimeout after `timeout` s."""
        key = HexBytes(tx_hash).hex().lower().removeprefix("0x")
        waiter = _Waiter()
        with self._lock:
            self._waiting[key] = waiter
            self._ensure_running()
        try:
            # Registered first, then looked up once: a block the watcher scanned before we
            # registered can only hold the transaction if this lookup finds it.
            receipt = self._receipt(key)
            if receipt is None and not waiter.done.wait(timeout):
                raise ReceiptTimeout(f"0x{key} not in a block within {timeout} s")
            return receipt if receipt is not None else waiter.receipt
        finally:
            with self._lock:
                self._waiting.pop(key, None)

    def stop(self) -> None:
        self._stop.set()

    # ------------------------------------------------------------------------------ internals

    def _ensure_running(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="receipts", daemon=True)
            self._thread.start()

    def _receipt(self, key: str) -> Any:
        try:
            return self._w3.eth.get_transaction_receipt("0x" + key)
        except Exception:  # web3 raises TransactionNotFound (or a node error) while pending
            return None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._scan()
            except Exception as exc:  # the node restarting: keep watching, waiters time out
                log.warning("receipt watcher", extra={"error": str(exc)})
                time.sleep(0.5)
            self._stop.wait(HEAD_POLL_S)

    def _scan(self) -> None:
        head = self._w3.eth.block_number
        if self._scanned is None:
            self._scanned = head - 1
        for number in range(self._scanned + 1, head + 1):
            with self._lock:
                wanted = bool(self._waiting)
            if wanted:
                block = self._w3.eth.get_block(number, full_transactions=False)
                for tx in block["transactions"]:
                    key = HexBytes(tx).hex().lower().removeprefix("0x")
                    with self._lock:
                        waiter = self._waiting.get(key)
                    if waiter is not None and not waiter.done.is_set():
                        waiter.receipt = self._w3.eth.get_transaction_receipt("0x" + key)
                        waiter.done.set()
            self._scanned = number
