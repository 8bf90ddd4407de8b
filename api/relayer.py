"""The relayer: checks a resident's signed ForwardRequest before spending gas, then submits
`CityForwarder.execute` with the API's own key and decodes what happened.

Checks, cheapest first: value, target/selector allowlist, domain (chain and forwarder), deadline,
signature and nonce (local recovery, then `CityForwarder.verify`), then an eth_call simulation of
the forwarded call (as the forwarder, with the ERC-2771 sender suffix) and of `execute` itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount

from api.errors import ApiError, Conflict, PermissionDenied, ValidationFailed
from api.ledger import Ledger, decode_revert, revert_data, selector_of
from api.receipts import ReceiptTimeout, ReceiptWatcher
from api.schemas.common import hex_bytes
from api.schemas.relay import ForwardRequestCreate
from citypass.signing import FORWARD_REQUEST_TYPES

log = logging.getLogger("api.relayer")

# What residents may have relayed: their own bookings and leases, the sharing settings of their
# own spaces (the contracts check ownership) and claims of their revenue. Admin, operator and
# token functions are never relayed; CityCredit does not trust the forwarder anyway (permits
# travel inside bookWithPermit).
ALLOWLIST: dict[str, tuple[str, ...]] = {
    "market": (
        "book", "bookWithPermit", "cancel", "checkIn", "checkOut", "payOverstayDebt", "ownerCancel",
    ),
    "slots": ("setWindows", "setBlackout", "setTerms", "setActive"),
    "split": ("claim",),
    # Riders (issue 5 contracts trust the forwarder): start, dispute and chain their own trips,
    # withdraw their own deposit balance, ask for and end their own valet jobs. Operators' and
    # workers' calls are not relayed.
    "trips": ("startTrip", "startTripWithPermit", "dispute", "withdrawDeposit"),
    "journeys": ("openJourney", "addLeg"),
    "valet": ("requestValet", "requestReturn", "cancel"),
}  # fmt: skip

# Revert → status: the caller may not do it (403), the state does not allow it now (409),
# otherwise the request itself is wrong (422).
FORBIDDEN_ERRORS = {
    "LeaseMarketNotMember", "LeaseMarketNotAuthorized", "AccessControlUnauthorizedAccount",
    "ERC2771UntrustfulTarget", "TripSettlementNotMember", "TripSettlementNotRider",
}  # fmt: skip
CONFLICT_ERRORS = {
    "LeaseMarketOverlap", "LeaseMarketSlotUnavailable", "LeaseMarketWrongStatus",
    "LeaseMarketAlreadyStarted", "LeaseMarketRebookLimit", "LeaseMarketNoDebt",
    "ERC20InsufficientBalance", "ERC20InsufficientAllowance", "TripSettlementAssetInUse",
    "TripSettlementWrongStatus", "TripSettlementDisputeWindowClosed",
    "TripSettlementBalanceTooLow",
}  # fmt: skip
# How many used nonces a signature is tried against to recognise a replay.
REPLAY_LOOKBACK = 64
RECEIPT_TIMEOUT = 60


@dataclass(frozen=True)
class Allowed:
    contract: str  # contract name, e.g. LeaseMarket
    function: str


class Relayer:
    def __init__(
        self, ledger: Ledger, account: LocalAccount, on_outcome: Callable[[str], None]
    ) -> None:
        self.ledger = ledger
        self._account = account  # never logged; only its address is
        self.address = account.address
        self._on_outcome = on_outcome
        self._send_lock = threading.Lock()
        # The relayer's next nonce, kept here so a send costs no nonce lookup; None = ask the
        # node (at start and after any refused send, when our count may be wrong).
        self._next_nonce: int | None = None
        self._receipts = ReceiptWatcher(ledger.w3)
        self.forwarder = ledger.contracts["forwarder"]
        self.allowed: dict[tuple[str, bytes], Allowed] = {}
        for key, names in ALLOWLIST.items():
            contract = ledger.contracts[key]
            for item in contract.abi:
                if item.get("type") == "function" and item["name"] in names:
                    name = ledger.registry.names[contract.address]
                    self.allowed[(contract.address, selector_of(item))] = Allowed(
                        name, item["name"]
                    )

    # ------------------------------------------------------------------------- typed data

    def domain(self) -> dict[str, Any]:
        return self.ledger.eip712_domain("forwarder")

    def nonce(self, address: str) -> int:
        return int(self.forwarder.functions.nonces(address).call())

    def estimate_inner_gas(self, sender: str, target: str, data: bytes) -> int | None:
        """Gas of the forwarded call as the forwarder makes it, or None when it would revert."""
        try:
            used = self.ledger.w3.eth.estimate_gas(self._inner_call(sender, target, data))
        except Exception:
            return None
        return int(used * 1.25) + 10_000

    def _inner_call(
        self, sender: str, target: str, data: bytes, gas: int | None = None
    ) -> dict[str, Any]:
        call: dict[str, Any] = {
            "from": self.forwarder.address,
            "to": target,
            # ERC-2771: the target reads the real sender from the last 20 bytes.
            "data": "0x" + (data + bytes.fromhex(sender[2:])).hex(),
        }
        if gas is not None:
            call["gas"] = gas
        return call

    # ----------------------------------------------------------------------------- checks

    def check(self, request: ForwardRequestCreate) -> tuple[Allowed, int]:
        """Everything that can be checked without spending gas; returns (what, nonce)."""
        if request.value != 0:
            raise ValidationFailed(
                f"value must be 0 (got {request.value}): the relayer forwards no native value",
                code="value_not_zero",
            )
        data = hex_bytes(request.data)
        selector = data[:4]
        allowed = self.allowed.get((request.to, selector))
        if allowed is None:
            raise PermissionDenied(
                f"selector 0x{selector.hex()} on {request.to} is not on the relayer allowlist "
                f"({self.allowlist_text()}); submit it as your own raw transaction instead",
                code="not_allowlisted",
            )
        domain = self.domain()
        if request.chainId is not None and request.chainId != domain["chainId"]:
            raise ValidationFailed(
                f"signed for chain {request.chainId}, this ledger is {domain['chainId']}: "
                "fetch /v1/typed-data/forward-request and sign again",
                code="wrong_chain",
            )
        if (
            request.verifyingContract is not None
            and request.verifyingContract != domain["verifyingContract"]
        ):
            raise ValidationFailed(
                f"signed for forwarder {request.verifyingContract}, this ledger's is "
                f"{domain['verifyingContract']}: fetch the typed data again and sign it",
                code="wrong_forwarder",
            )
        now = self.ledger.now()
        if request.deadline < now:
            raise ValidationFailed(
                f"the request expired at {request.deadline} (ledger time {now}): sign a new one "
                "with a later deadline",
                code="expired",
            )
        nonce = self._signed_nonce(request, domain)
        return allowed, nonce

    def _signed_nonce(self, request: ForwardRequestCreate, domain: dict[str, Any]) -> int:
        """The current nonce if the signature is the signer's for it; 409 when it matches an
        already used nonce (a replay), 422 when it is nobody's signature for `from`."""
        current = self.nonce(request.from_)
        for nonce in range(current, max(-1, current - REPLAY_LOOKBACK - 1), -1):
            if self._recover(request, domain, nonce) == request.from_:
                if nonce == current:
                    return nonce
                raise Conflict(
                    f"nonce {nonce} of {request.from_} was already used (current {current}): "
                    "this request was relayed before; sign a new one",
                    code="replayed",
                )
        raise ValidationFailed(
            f"the signature is not {request.from_}'s over this request for chain "
            f"{domain['chainId']}, forwarder {domain['verifyingContract']}, nonce {current}: "
            "sign the typed data served by /v1/typed-data/forward-request",
            code="bad_signature",
        )

    @staticmethod
    def _recover(request: ForwardRequestCreate, domain: dict[str, Any], nonce: int) -> str | None:
        message = {
            "from": request.from_, "to": request.to, "value": request.value, "gas": request.gas,
            "nonce": nonce, "deadline": request.deadline, "data": hex_bytes(request.data),
        }  # fmt: skip
        signable = encode_typed_data(domain, FORWARD_REQUEST_TYPES, message)
        try:
            return Account.recover_message(signable, signature=hex_bytes(request.signature))
        except Exception:  # malformed signature bytes: not the signer's
            return None

    def _request_tuple(self, request: ForwardRequestCreate) -> tuple:
        return (
            request.from_, request.to, request.value, request.gas, request.deadline,
            hex_bytes(request.data), hex_bytes(request.signature),
        )  # fmt: skip

    def simulate(self, request: ForwardRequestCreate, allowed: Allowed) -> int:
        """Gas for `execute`, after the forwarder and the target both accept the call."""
        if not self.forwarder.functions.verify(self._request_tuple(request)).call():
            raise Conflict(
                "CityForwarder.verify refused the request (nonce used meanwhile or the target "
                "does not trust the forwarder); fetch the typed data again and sign again",
                code="verify_failed",
            )
        inner = self._inner_call(request.from_, request.to, hex_bytes(request.data), request.gas)
        try:
            self.ledger.w3.eth.call(inner)
        except Exception as exc:
            raise self._revert_error(exc, f"{allowed.contract}.{allowed.function}") from exc
        execute = self.forwarder.functions.execute(self._request_tuple(request))
        try:
            gas = execute.estimate_gas({"from": self.address, "gasPrice": 0})
        except Exception as exc:
            raise self._revert_error(exc, "CityForwarder.execute") from exc
        return int(gas * 1.2) + 20_000

    @staticmethod
    def _revert_error(exc: Exception, what: str) -> ApiError:
        data = revert_data(exc)
        if data is None:
            return ValidationFailed(
                f"{what} would fail: {exc}; check the call's arguments", code="would_revert"
            )
        name, args = decode_revert(data)
        message = f"{what} would revert with {name}{tuple(args) if args else '()'}"
        if name in FORBIDDEN_ERRORS:
            return PermissionDenied(message, code=name)
        if name in CONFLICT_ERRORS:
            return Conflict(message, code=name)
        return ValidationFailed(message + "; fix the call's arguments", code=name)

    # ------------------------------------------------------------------------------ relay

    def relay(
        self, request: ForwardRequestCreate, checked: tuple[Allowed, int] | None = None
    ) -> dict[str, Any]:
        """Check (unless `checked` is check()'s answer), simulate, send, wait, decode.
        Refusals raise ApiError; the caller counts them."""
        allowed, nonce = checked or self.check(request)
        gas = self.simulate(request, allowed)
        execute = self.forwarder.functions.execute(self._request_tuple(request))
        w3 = self.ledger.w3
        # One sender key, many worker threads: nonces must be handed out one at a time.
        with self._send_lock:
            if self._next_nonce is None:
                self._next_nonce = w3.eth.get_transaction_count(self.address, "pending")
            tx = execute.build_transaction(
                {
                    "from": self.address,
                    "nonce": self._next_nonce,
                    "gas": gas,
                    "gasPrice": 0,
                    "chainId": self.ledger.chain_id,
                }
            )
            signed = self._account.sign_transaction(tx)
            try:
                tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
            except Exception as exc:
                self._next_nonce = None
                raise node_refusal(exc) from exc
            self._next_nonce += 1
        try:
            receipt = self._receipts.wait(tx_hash, timeout=RECEIPT_TIMEOUT)
        except ReceiptTimeout as exc:
            raise Conflict(
                f"transaction 0x{bytes(tx_hash).hex()} was accepted but not mined within "
                f"{RECEIPT_TIMEOUT} s; look it up later",
                code="pending",
            ) from exc
        events = []
        success = False
        lease_id = None
        for entry in receipt["logs"]:
            decoded = self.ledger.registry.decode(entry)
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
        log.info(
            "relayed",
            extra={
                "tx": "0x" + bytes(tx_hash).hex(), "signer": request.from_, "nonce": nonce,
                "call": f"{allowed.contract}.{allowed.function}", "outcome": outcome,
            },
        )  # fmt: skip
        return {
            "txHash": "0x" + bytes(tx_hash).hex(),
            "blockNumber": int(receipt["blockNumber"]),
            "status": int(receipt["status"]),
            "success": success,
            "signer": request.from_,
            "nonce": nonce,
            "leaseId": lease_id,
            "events": events,
        }

    def stop(self) -> None:
        self._receipts.stop()

    def allowlist_text(self) -> str:
        return ", ".join(sorted({f"{a.contract}.{a.function}" for a in self.allowed.values()}))


def node_refusal(exc: Exception) -> ApiError:
    """The ledger node's refusal of a transaction as a domain error, with its own message."""
    # web3 7 keeps the node's JSON-RPC answer on Web3RPCError.rpc_response.
    response = getattr(exc, "rpc_response", None) or {}
    payload = response.get("error") if isinstance(response, dict) else None
    if not isinstance(payload, dict):
        payload = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    code = payload.get("code")
    message = payload.get("message") or str(exc)
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
