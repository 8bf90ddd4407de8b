"""What the relayer checks of a resident's signed ForwardRequest before it spends gas on it.

Checks, cheapest first: value, target/selector allowlist, domain (chain and forwarder), deadline,
signature at the signer's current forwarder nonce (local recovery; an older nonce is a replay),
then an eth_call simulation of the forwarded call (as the forwarder, with the ERC-2771 sender
suffix and the signed gas), whose revert is answered with its decoded custom error.
The batcher (api/relay_batch.py) runs them over many requests at once; the typed-data route
uses the allowlist, the nonce and the gas estimate to prepare a request to sign.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from web3.exceptions import ContractLogicError, Web3RPCError
from web3.types import TxParams

from api.errors import ApiError, Conflict, LedgerUnavailable, PermissionDenied, ValidationFailed
from api.execute_batch import RequestTuple
from api.forward_signature import forward_request_digest, recover_signer
from api.ledger import Ledger, selector_of
from api.schemas.common import hex_bytes
from api.schemas.relay import ForwardRequestCreate
from citypass.protocol.reverts import decode_revert, revert_data
from citypass.protocol.signing import domain_separator

# What residents may have relayed: their own bookings and leases, the sharing settings of their
# own spaces (the contracts check ownership) and claims of their revenue. Admin, operator and
# token functions are never relayed; CityCredit does not trust the forwarder anyway (permits
# travel inside bookWithPermit).
ALLOWLIST: dict[str, tuple[str, ...]] = {
    "market": (
        "book", "bookWithPermit", "cancel", "checkIn", "checkOut", "payOverstayDebt", "ownerCancel",
        "deposit", "depositWithPermit", "withdraw",
    ),
    "slots": ("setWindows", "setBlackout", "setTerms", "setActive"),
    "split": ("claim",),
    # Riders (issue 5 contracts trust the forwarder): start, dispute and chain their own trips,
    # withdraw their own deposit balance, ask for and end their own valet jobs. Operators' and
    # workers' calls are not relayed.
    # endTrip submits the operator's signed end report, which anyone may (the prepare endpoint
    # lets only the trip's rider have it relayed).
    "trips": ("startTrip", "startTripWithPermit", "endTrip", "dispute", "withdrawDeposit"),
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
    "TripSettlementBalanceTooLow", "LeaseMarketInsufficientPrepaid", "LeaseMarketPrepaidClosed",
}  # fmt: skip
# How many used nonces a signature is tried against to recognise a replay.
REPLAY_LOOKBACK = 64


@dataclass(frozen=True)
class Allowed:
    contract: str  # contract name, e.g. LeaseMarket
    function: str


class ForwardChecks:
    """The relayer's checks against one deployment's CityForwarder and allowlisted contracts."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
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
            used = self.ledger.w3.eth.estimate_gas(
                cast(TxParams, self._inner_call(sender, target, data))
            )
        except Exception:
            return None
        return int(used * 1.25) + 10_000

    def simulate(self, sender: str, target: str, data: bytes, what: str) -> None:
        """An eth_call of the forwarded call from `sender`, as the relayer's own check makes it;
        a revert is raised as revert_error says (403, 409 or 422)."""
        try:
            self.ledger.w3.eth.call(cast(TxParams, self._inner_call(sender, target, data)))
        except (ContractLogicError, Web3RPCError) as exc:
            raise self.revert_error(revert_data(exc), str(exc), what) from exc
        except Exception as exc:
            raise LedgerUnavailable(f"the ledger node did not simulate {what}; retry") from exc

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

    def allowlist_text(self) -> str:
        return ", ".join(sorted({f"{a.contract}.{a.function}" for a in self.allowed.values()}))

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
            if self.is_signed_at(request, domain, nonce):
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
    def is_signed_at(request: ForwardRequestCreate, domain: dict[str, Any], nonce: int) -> bool:
        digest = forward_request_digest(
            domain_separator(domain), request.from_, request.to, request.value,
            request.gas, nonce, request.deadline, hex_bytes(request.data),
        )  # fmt: skip
        return recover_signer(digest, hex_bytes(request.signature)) == request.from_

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


def request_tuple(request: ForwardRequestCreate) -> RequestTuple:
    """The request as CityForwarder's ForwardRequestData struct (for executeBatch)."""
    return (
        request.from_, request.to, request.value, request.gas, request.deadline,
        hex_bytes(request.data), hex_bytes(request.signature),
    )  # fmt: skip
