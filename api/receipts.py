"""One block watcher for every relay waiting on a receipt.

web3's wait_for_transaction_receipt polls eth_getTransactionReceipt every 100 ms per waiting
request: 64 bookings waiting on a 1 s block cost the node ~640 calls a second for nothing. Here a
single thread follows the head, reads each new block's transaction hashes once and fetches only
the receipts somebody waits for, in one JSON-RPC batch. It speaks plain JSON-RPC: web3's result
formatters cost more than the rest of the relay for a batch transaction with hundreds of logs.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import requests
import ujson
from hexbytes import HexBytes

from citypass.protocol.abi import checksum

log = logging.getLogger("api.receipts")

HEAD_POLL_S = 0.05


class ReceiptTimeout(Exception):
    """The transaction was not in a block within the timeout."""


class _Waiter:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.receipt: dict[str, Any] | None = None


class ReceiptWatcher:
    def __init__(self, rpc_url: str) -> None:
        self._url = rpc_url
        self._session = requests.Session()
        self._rpc_lock = threading.Lock()  # requests.Session is not meant for many threads
        self._lock = threading.Lock()
        self._waiting: dict[str, _Waiter] = {}
        self._scanned: int | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def wait(self, tx_hash: bytes, timeout: float) -> dict[str, Any]:
        """The receipt of `tx_hash` once it is in a block (see `receipt_of` for its shape);
        ReceiptTimeout after `timeout` s."""
        key = "0x" + HexBytes(tx_hash).hex().lower().removeprefix("0x")
        waiter = _Waiter()
        with self._lock:
            self._waiting[key] = waiter
            self._ensure_running()
        try:
            # Registered first, then looked up once: a block the watcher scanned before we
            # registered can only hold the transaction if this lookup finds it.
            receipt = self._receipts([key])[0]
            if receipt is None and not waiter.done.wait(timeout):
                raise ReceiptTimeout(f"{key} not in a block within {timeout} s")
            result = receipt if receipt is not None else waiter.receipt
            assert result is not None
            return result
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

    def _rpc(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        payload = [
            {"jsonrpc": "2.0", "id": i, "method": method, "params": params}
            for i, (method, params) in enumerate(calls)
        ]
        with self._rpc_lock:
            reply = self._session.post(self._url, json=payload, timeout=30)
        reply.raise_for_status()
        # ujson: a relay batch's receipts carry hundreds of logs, and the stdlib's decoder was
        # a twelfth of the API's interpreter time while relaying (py-spy --gil, bench/api.py).
        answers = {answer.get("id"): answer for answer in ujson.loads(reply.content)}
        return [answers.get(i, {}).get("result") for i in range(len(calls))]

    def _receipts(self, keys: list[str]) -> list[dict[str, Any] | None]:
        try:
            raw = self._rpc([("eth_getTransactionReceipt", [key]) for key in keys])
        except (requests.RequestException, ValueError):  # the node restarting
            return [None] * len(keys)
        return [receipt_of(r) if r else None for r in raw]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._scan()
            except Exception as exc:  # the node restarting: keep watching, waiters time out
                log.warning("receipt watcher", extra={"error": str(exc)})
                time.sleep(0.5)
            self._stop.wait(HEAD_POLL_S)

    def _scan(self) -> None:
        head = int(self._rpc([("eth_blockNumber", [])])[0], 16)
        if self._scanned is None:
            self._scanned = head - 1
        for number in range(self._scanned + 1, head + 1):
            with self._lock:
                wanted = bool(self._waiting)
            if wanted:
                block = self._rpc([("eth_getBlockByNumber", [hex(number), False])])[0]
                with self._lock:
                    found = [
                        (key, self._waiting[key])
                        for key in (tx.lower() for tx in block["transactions"])
                        if key in self._waiting and not self._waiting[key].done.is_set()
                    ]
                if found:
                    receipts = self._receipts([key for key, _ in found])
                    for (_key, waiter), receipt in zip(found, receipts, strict=True):
                        waiter.receipt = receipt
                        waiter.done.set()
            self._scanned = number


def receipt_of(raw: dict[str, Any]) -> dict[str, Any]:
    """A JSON-RPC receipt with the fields the relayer reads as Python values; logs stay as
    JSON-RPC gives them (0x-hex strings: Registry.decode_raw reads them as they are)."""
    return {
        "transactionHash": raw["transactionHash"],
        "blockNumber": int(raw["blockNumber"], 16),
        "status": int(raw["status"], 16),
        "from": checksum(raw["from"]),
        "logs": raw["logs"],
    }
