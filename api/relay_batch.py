"""Relaying many residents' ForwardRequests at once: one CityForwarder.executeBatch transaction
per batch, one JSON-RPC batch of node reads per batch.

Relaying one request at a time cost ~6 node round trips and one relayer-signed transaction per
booking; at hundreds of bookings a second the API's threads and the node's gateway spent their
time on HTTP overhead. Here a preparing thread (four of them, so some prepare while the node
answers the others) takes whatever requests arrived meanwhile, as many as its gas budget holds,
and:
1. checks each request locally (value, allowlist, domain, deadline: ForwardChecks.precheck);
2. reads every signer's forwarder nonce and simulates every forwarded call (as the forwarder,
   with the ERC-2771 sender suffix) in ONE JSON-RPC batch;
3. recovers each signature at its signer's current nonce (older nonces → a replay), charges the
   signer's rate limit, maps a simulated revert to its custom error;
4. sends the accepted ones as one `executeBatch(requests, refundReceiver)`: with a refund
   receiver the forwarder skips an invalid request instead of reverting the batch, and a request
   whose call reverts only fails itself (`ExecutedForwardRequest(signer, nonce, false)`);
5. hands the receipt wait to a small pool, so the next batch is prepared while this one is
   mined, and answers each request with its own logs (those emitted before its
   ExecutedForwardRequest).

The batcher depends on the checks (api/relay_checks.py) and on a RelayAccount: the few things
of the relayer it needs (its address, how to sign and send, wait for a receipt, answer one
request); the relayer (api/relayer.py) builds both and owns the batcher.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests
from eth_utils import keccak
from hexbytes import HexBytes

from api.errors import ApiError, Conflict, LedgerUnavailable, ValidationFailed
from api.execute_batch import execute_batch_calldata
from api.receipts import ReceiptTimeout
from api.relay_checks import Allowed, ForwardChecks, request_tuple
from api.schemas.relay import ForwardRequestCreate
from citypass.core.rpc_url import redacted
from citypass.protocol.abi import checksum
from citypass.protocol.reverts import rpc_error_data

log = logging.getLogger("api.relayer")

# A batch transaction's gas stays below 2^24 (EIP-7825's per-transaction cap, so a node on a
# later fork still takes it); each request is given its own signed gas plus the forwarder's
# per-request work (signature recovery, nonce, event, calldata).
BATCH_GAS_BUDGET = 16_000_000
PER_REQUEST_OVERHEAD_GAS = 80_000
BATCH_BASE_GAS = 60_000
# The most gas one request may be signed for: a batch of it alone stays within the budget.
MAX_REQUEST_GAS = BATCH_GAS_BUDGET - BATCH_BASE_GAS - PER_REQUEST_OVERHEAD_GAS
MAX_BATCH = 200
# After the first request of an idle period, wait this long for more before sending.
LINGER_S = 0.005
RECEIPT_WORKERS = 16
PREPARERS = 4
KNOWN_NONCES = 100_000
RECEIPT_TIMEOUT = 60
NONCES_SELECTOR = keccak(text="nonces(address)")[:4]
EXECUTED_TOPIC = "0x" + keccak(text="ExecutedForwardRequest(address,uint256,bool)").hex()

# Called with the request once its signature is known to be the signer's; raises RateLimited
# to refuse it (the signer's quota is charged only then, so forged requests drain nobody's).
Admit = Callable[[ForwardRequestCreate], None]
# The answer for one request of a mined batch, from its own logs:
# (tx hash, receipt, request, signer's nonce, what it called, its logs) → the relay outcome.
Outcome = Callable[
    [bytes, dict[str, Any], ForwardRequestCreate, int, Allowed, list[Any]], dict[str, Any]
]


@dataclass(frozen=True)
class RelayAccount:
    """The relayer's side of a batch: who pays, how its transaction goes out and comes back."""

    address: str  # the relayer account; also executeBatch's refund receiver
    chain_id: int
    rpc_url: str  # where a batch's node reads go, as one JSON-RPC batch
    pending_nonce: Callable[[], int]  # the account's next nonce as the node counts it
    sign: Callable[[dict[str, Any]], bytes]  # the signed raw transaction
    refused: Callable[[dict[str, Any]], ApiError]  # a JSON-RPC error of the send as an ApiError
    wait_receipt: Callable[[bytes, float], dict[str, Any]]  # ReceiptTimeout after the timeout
    outcome: Outcome
    on_batch: Callable[[int, float], None]  # (requests sent together, seconds they took)


# What an item calls before its precheck, which sets it before anything reads it.
_NOT_CHECKED = Allowed("?", "?")


@dataclass
class _Item:
    request: ForwardRequestCreate
    admit: Admit
    future: Future = field(default_factory=Future)
    allowed: Allowed = _NOT_CHECKED
    nonce: int = -1


class RelayBatcher:
    def __init__(self, checks: ForwardChecks, account: RelayAccount) -> None:
        self._checks = checks
        self._account = account
        self._queue: queue.Queue[_Item] = queue.Queue()
        self._receipts_pool = ThreadPoolExecutor(RECEIPT_WORKERS, thread_name_prefix="receipts")
        self._stop = threading.Event()
        self._next_nonce: int | None = None  # the relayer account's; None = ask the node
        # Batches are prepared by PREPARERS threads at once (most of a batch's time is the
        # node answering its reads), but sent one at a time: the relayer's nonces must reach
        # the node in order.
        self._send_lock = threading.Lock()
        # Signer → next forwarder nonce as our own mined relays left it (most recent last).
        # Only a hint: a request signed at it still goes through simulation, and the forwarder
        # skips it if someone else used the nonce meanwhile (answered as verify_failed).
        self._nonces: OrderedDict[str, int] = OrderedDict()
        self._nonces_lock = threading.Lock()
        self._sessions = threading.local()
        self._threads = [
            threading.Thread(target=self._run, name=f"relay-batcher-{i}", daemon=True)
            for i in range(PREPARERS)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, request: ForwardRequestCreate, admit: Admit) -> Future:
        """A future of the relay outcome (a dict), or of the ApiError that refused it."""
        item = _Item(request, admit)
        if self._stop.is_set():
            item.future.set_exception(LedgerUnavailable("the API is shutting down; retry"))
        else:
            self._queue.put(item)
        return item.future

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._receipts_pool.shutdown(wait=False, cancel_futures=True)
        while not self._queue.empty():
            self._queue.get_nowait().future.set_exception(
                LedgerUnavailable("the API is shutting down; retry")
            )

    # ------------------------------------------------------------------------------- loop

    def _run(self) -> None:
        carried: _Item | None = None  # the request that did not fit the previous batch's gas
        while not self._stop.is_set():
            if carried is not None:
                first, carried = carried, None
            else:
                try:
                    first = self._queue.get(timeout=0.2)
                except queue.Empty:
                    continue
            batch, carried = self._collect(first)
            if not batch:
                continue
            began = time.perf_counter()
            try:
                self._process(batch)
            except Exception as exc:  # never leave a waiting request without an answer
                log.exception("relay batch failed")
                error = (
                    exc
                    if isinstance(exc, ApiError)
                    else LedgerUnavailable(
                        f"the relay batch failed ({type(exc).__name__}: {exc}); retry"
                    )
                )
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(error)
            seconds = time.perf_counter() - began
            self._account.on_batch(len(batch), seconds)
            log.debug("relay batch", extra={"requests": len(batch), "ms": round(seconds * 1000, 1)})
        if carried is not None:  # stopping: stop() answers what is left in the queue
            self._queue.put(carried)

    def _collect(self, first: _Item) -> tuple[list[_Item], _Item | None]:
        """The requests of one batch, as many as its gas budget holds (counting each at its
        signed gas), and the first that did not fit, which starts this thread's next batch.
        Collecting more than fit cost a dry-run each time they were collected again: with the
        usual ~160,000 signed gas a batch holds 66 bookings, and 200 were collected."""
        batch: list[_Item] = []
        gas_left = BATCH_GAS_BUDGET - BATCH_BASE_GAS
        deadline = time.monotonic() + LINGER_S
        item: _Item | None = first
        while item is not None:
            need = item.request.gas + PER_REQUEST_OVERHEAD_GAS
            if need > gas_left:
                if not batch:  # too big for any batch (more than MAX_REQUEST_GAS)
                    item.future.set_exception(_too_much_gas(item.request.gas))
                    item = None
                    continue
                return batch, item
            gas_left -= need
            batch.append(item)
            if len(batch) >= MAX_BATCH:
                break
            remaining = deadline - time.monotonic()
            try:
                item = (self._queue.get(timeout=remaining) if remaining > 0
                        else self._queue.get_nowait())  # fmt: skip
            except queue.Empty:
                item = None
        return batch, None

    def _process(self, batch: list[_Item]) -> None:
        checks = self._checks
        checked: list[_Item] = []
        for item in batch:
            try:
                item.allowed = checks.precheck(item.request)
            except ApiError as exc:
                item.future.set_exception(exc)
                continue
            checked.append(item)
        if not checked:
            return
        domain = checks.domain()
        # A signer whose next nonce we know (from our own earlier relays) and whose signature
        # matches it needs no nonce read; everybody else's nonce is read from the chain.
        hits = {
            id(item): known for item in checked
            if (known := self._nonces.get(item.request.from_)) is not None
            and checks.is_signed_at(item.request, domain, known)
        }  # fmt: skip
        signers = sorted({item.request.from_ for item in checked if id(item) not in hits})
        calls: list[tuple[str, list[Any]]] = [
            (
                "eth_call",
                [{"to": checks.forwarder.address, "data": _nonces_call(signer)}, "latest"],
            )
            for signer in signers
        ]
        calls += [
            ("eth_call", [checks.inner_call(item.request), "latest"]) for item in checked
        ]  # fmt: skip
        answers = self._rpc_batch(calls)
        nonces = {}
        for signer, answer in zip(signers, answers[: len(signers)], strict=True):
            if "result" not in answer:
                refusal = (answer.get("error") or {}).get("message", "no answer")
                raise LedgerUnavailable(
                    f"the forwarder's nonce of {signer} could not be read ({refusal})"
                )
            nonces[signer] = int(answer["result"], 16)
        accepted: list[_Item] = []
        seen: set[tuple[str, int]] = set()
        for item, answer in zip(checked, answers[len(signers) :], strict=True):
            request = item.request
            try:
                item.nonce = (
                    hits[id(item)] if id(item) in hits
                    else checks.signed_nonce(request, domain, nonces[request.from_])
                )  # fmt: skip
            except ApiError as exc:
                if exc.code == "replayed":
                    # Replays are signed by the signer too: they count against its quota.
                    _charge(item, exc)
                else:
                    item.future.set_exception(exc)
                continue
            if not _charge(item, None):
                continue
            if "error" in answer:
                item.future.set_exception(
                    checks.revert_error(
                        rpc_error_data(answer["error"]), answer["error"].get("message", ""),
                        f"{item.allowed.contract}.{item.allowed.function}",
                    )
                )  # fmt: skip
                continue
            if (request.from_, item.nonce) in seen:
                item.future.set_exception(
                    Conflict(
                        f"the same request of {request.from_} (nonce {item.nonce}) is already "
                        "being relayed; wait for its answer",
                        code="replayed",
                    )
                )
                continue
            seen.add((request.from_, item.nonce))
            accepted.append(item)
        if accepted:
            # Within BATCH_GAS_BUDGET: _collect took only what its budget holds.
            gas = BATCH_BASE_GAS + sum(i.request.gas + PER_REQUEST_OVERHEAD_GAS for i in accepted)
            self._send(accepted, gas)

    def _send(self, items: list[_Item], gas: int) -> None:
        account = self._account
        # Encoded by hand (web3's build_transaction spent ~30 ms on 60 requests, eth_abi ~90 µs
        # a request), before taking the lock: only the nonce, the signature and the send are serial.
        data = execute_batch_calldata(
            [request_tuple(item.request) for item in items], account.address
        )
        with self._send_lock:
            if self._next_nonce is None:
                self._next_nonce = account.pending_nonce()
            tx = {
                "to": self._checks.forwarder.address, "data": data, "value": 0, "gas": gas,
                "gasPrice": 0, "nonce": self._next_nonce, "chainId": account.chain_id,
            }  # fmt: skip
            try:
                tx_hash = self._send_raw(account.sign(tx))
            except ApiError as exc:
                self._next_nonce = None
                for item in items:
                    item.future.set_exception(exc)
                return
            self._next_nonce += 1
        self._receipts_pool.submit(self._answer, HexBytes(tx_hash), items)

    def _answer(self, tx_hash: HexBytes, items: list[_Item]) -> None:
        account = self._account
        try:
            receipt = account.wait_receipt(tx_hash, RECEIPT_TIMEOUT)
        except ReceiptTimeout:
            error = Conflict(
                f"transaction {tx_hash.to_0x_hex()} was accepted but not mined within "
                f"{RECEIPT_TIMEOUT} s; look it up later",
                code="pending",
            )
            for item in items:
                item.future.set_exception(error)
            return
        except Exception as exc:  # the node went away meanwhile
            for item in items:
                item.future.set_exception(
                    LedgerUnavailable(f"lost the ledger node while waiting for the receipt: {exc}")
                )
            return
        by_request = _logs_by_request(receipt["logs"], self._checks.forwarder.address)
        for item in items:
            key = (item.request.from_, item.nonce)
            self._remember_nonce(item.request.from_, item.nonce + 1 if key in by_request else None)
            if key not in by_request and receipt["status"] == 1:
                item.future.set_exception(
                    Conflict(
                        "CityForwarder skipped the request when its block was sealed (its nonce "
                        "was used meanwhile or its deadline passed); fetch the typed data again "
                        "and sign again",
                        code="verify_failed",
                    )
                )
                continue
            item.future.set_result(
                account.outcome(tx_hash, receipt, item.request, item.nonce, item.allowed,
                                by_request.get(key, []))
            )  # fmt: skip

    def _remember_nonce(self, signer: str, next_nonce: int | None) -> None:
        """After a mined batch: the signer's next forwarder nonce, or forget it (skipped)."""
        with self._nonces_lock:
            self._nonces.pop(signer, None)
            if next_nonce is not None:
                self._nonces[signer] = next_nonce
                if len(self._nonces) > KNOWN_NONCES:
                    self._nonces.popitem(last=False)  # the least recently relayed signer

    # --------------------------------------------------------------------------- node I/O

    def _send_raw(self, raw: bytes) -> bytes:
        """eth_sendRawTransaction as plain JSON-RPC on this thread's connection: web3's request
        path cost ~2.7 ms of the API's interpreter for a batch's 40 KB of calldata."""
        answer = self._rpc_batch([("eth_sendRawTransaction", ["0x" + raw.hex()])])[0]
        if "error" in answer:
            raise self._account.refused(answer["error"])
        result = answer.get("result")
        if not isinstance(result, str) or len(result) != 66:
            raise LedgerUnavailable(f"the ledger node answered the batch with {answer}; retry")
        return bytes.fromhex(result[2:])

    def _rpc_batch(self, calls: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        payload = [
            {"jsonrpc": "2.0", "id": i, "method": method, "params": params}
            for i, (method, params) in enumerate(calls)
        ]
        url = self._account.rpc_url
        try:
            session = getattr(self._sessions, "session", None)
            if session is None:  # one keep-alive connection per preparing thread
                session = self._sessions.session = requests.Session()
            reply = session.post(url, json=payload, timeout=30)
            reply.raise_for_status()
            answers = reply.json()
        except (requests.RequestException, ValueError) as exc:
            raise LedgerUnavailable(
                f"the ledger node at {redacted(url)} did not answer ({type(exc).__name__}); "
                "retry later"
            ) from exc
        if not isinstance(answers, list):
            raise LedgerUnavailable(
                f"the ledger node at {redacted(url)} refused a batch: {answers}"
            )
        by_id = {answer.get("id"): answer for answer in answers if isinstance(answer, dict)}
        return [by_id.get(i, {"error": {"message": "no answer"}}) for i in range(len(calls))]


def _charge(item: _Item, refusal: ApiError | None) -> bool:
    """Charge the signer's quota; answer `refusal` (or the rate limit) when there is one."""
    try:
        item.admit(item.request)
    except ApiError as exc:
        item.future.set_exception(exc)
        return False
    if refusal is not None:
        item.future.set_exception(refusal)
        return False
    return True


def _too_much_gas(gas: int) -> ApiError:
    return ValidationFailed(
        f"gas {gas} is more than one relayed request may use ({MAX_REQUEST_GAS}): sign it "
        "with the gas /v1/typed-data/forward-request fills in",
        code="gas_too_high",
    )


def _nonces_call(signer: str) -> str:
    return "0x" + (NONCES_SELECTOR + bytes(12) + bytes.fromhex(signer[2:])).hex()


def _logs_by_request(logs: list[Any], forwarder: str) -> dict[tuple[str, int], list[Any]]:
    """Each executed request's logs: those after the previous ExecutedForwardRequest up to and
    including its own (a failed request's call emitted nothing: its logs were reverted).
    `logs` as JSON-RPC gives them (0x-hex strings)."""
    result: dict[tuple[str, int], list[Any]] = {}
    pending: list[Any] = []
    forwarder = forwarder.lower()
    for entry in logs:
        pending.append(entry)
        topics = entry["topics"]
        # Only the forwarder's own event counts: any target could emit the same topic.
        if topics and topics[0].lower() == EXECUTED_TOPIC and entry["address"].lower() == forwarder:
            signer = checksum("0x" + topics[1][-40:])
            nonce = int(entry["data"][2:66], 16)
            result[(signer, nonce)] = pending
            pending = []
    return result
