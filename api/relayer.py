"""The relayer: checks a resident's signed ForwardRequest before spending gas, then submits it
with the API's own key (many at once, in `CityForwarder.executeBatch`: api/relay_batch.py) and
decodes what happened.

Checks, cheapest first: value, target/selector allowlist, domain (chain and forwarder), deadline,
signature at the signer's current forwarder nonce (local recovery; an older nonce is a replay),
then an eth_call simulation of the forwarded call (as the forwarder, with the ERC-2771 sender
suffix and the signed gas), whose revert is answered with its decoded custom error.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount

from api.errors import ApiError, Conflict, PermissionDenied, ValidationFailed
from api.forward_signature import domain_separator, forward_request_digest, recover_signer
from api.ledger import Ledger, decode_revert, selector_of
from api.receipts import ReceiptWatcher
from api.relay_batch import Admit, RelayBatcher
from api.schemas.common import hex_bytes
from api.schemas.relay import ForwardRequestCreate

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


@dataclass(frozen=True)
class Allowed:
    contract: str  # contract name, e.g. LeaseMarket
    function: str


class Relayer:
    def __init__(
        self,
        ledger: Ledger,
        account: LocalAccount,
        on_outcome: Callable[[str], None],
        on_batch: Callable[[int, float], None] | None = None,
    ) -> None:
        self.ledger = ledger
        self._account = account  # never logged; only its address is
        self.address = account.address
        self._on_outcome = on_outcome
        # (requests sent together, seconds to check/simulate/send them): metrics and logs.
        self.on_batch = on_batch or (lambda _requests, _seconds: None)
        self._receipts = ReceiptWatcher(ledger.rpc_url)
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
        # Last: it starts its thread, which uses everything above.
        self._batcher = RelayBatcher(self)

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

    def precheck(self, request: ForwardRequestCreate) -> Allowed:
        """What can be checked without the signer's nonce: value, allowlist, domain, deadline."""
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
        return allowed

    def signed_nonce(
        self, request: ForwardRequestCreate, domain: dict[str, Any], current: int
    ) -> int:
        """`current` if the signature is the signer's for it; 409 when it matches an already
        used nonce (a replay), 422 when it is nobody's signature for `from`."""
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

    def is_signed_at(
        self, request: ForwardRequestCreate, domain: dict[str, Any], nonce: int
    ) -> bool:
        return self._recover(request, domain, nonce) == request.from_

    @staticmethod
    def _recover(request: ForwardRequestCreate, domain: dict[str, Any], nonce: int) -> str | None:
        digest = forward_request_digest(
            _separator(tuple(sorted(domain.items()))), request.from_, request.to, request.value,
            request.gas, nonce, request.deadline, hex_bytes(request.data),
        )  # fmt: skip
        return recover_signer(digest, hex_bytes(request.signature))

    def request_tuple(self, request: ForwardRequestCreate) -> tuple:
        return (
            request.from_, request.to, request.value, request.gas, request.deadline,
            hex_bytes(request.data), hex_bytes(request.signature),
        )  # fmt: skip

    def inner_call(self, request: ForwardRequestCreate) -> dict[str, Any]:
        """The forwarded call as the forwarder makes it, for an eth_call simulation (hex gas)."""
        call = self._inner_call(request.from_, request.to, hex_bytes(request.data))
        call["gas"] = hex(request.gas)
        return call

    @staticmethod
    def revert_error(data: bytes | None, message: str, what: str) -> ApiError:
        """A simulated revert as 403 (the caller may not), 409 (not now) or 422 (wrong call)."""
        if data is None:
            return ValidationFailed(
                f"{what} would fail: {message or 'reverted'}; check the call's arguments",
                code="would_revert",
            )
        name, args = decode_revert(data)
        text = f"{what} would revert with {name}{tuple(args) if args else '()'}"
        if name in FORBIDDEN_ERRORS:
            return PermissionDenied(text, code=name)
        if name in CONFLICT_ERRORS:
            return Conflict(text, code=name)
        return ValidationFailed(text + "; fix the call's arguments", code=name)

    # ------------------------------------------------------------------------------ relay

    def submit(self, request: ForwardRequestCreate, admit: Admit) -> Future:
        """Queue a request for the next executeBatch; the future answers as outcome() does or
        raises the ApiError that refused it (see api/relay_batch.py for the checks)."""
        return self._batcher.submit(request, admit)

    def send_signed(self, tx: dict[str, Any]) -> bytes:
        """Sign `tx` with the relayer key and send it; node refusals as domain errors."""
        signed = self._account.sign_transaction(tx)
        try:
            return bytes(self.ledger.w3.eth.send_raw_transaction(signed.raw_transaction))
        except Exception as exc:
            raise node_refusal(exc) from exc

    def wait_receipt(self, tx_hash: bytes, timeout: float) -> Any:
        return self._receipts.wait(tx_hash, timeout=timeout)

    def outcome(
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

    def allowlist_text(self) -> str:
        return ", ".join(sorted({f"{a.contract}.{a.function}" for a in self.allowed.values()}))


@functools.lru_cache(maxsize=8)
def _separator(domain_items: tuple[tuple[str, Any], ...]) -> bytes:
    return domain_separator(dict(domain_items))


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
