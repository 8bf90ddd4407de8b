"""Prepared resident calls: the call data built by the server from an action's plain fields,
checked as the relayer would check it (membership, then an eth_call of the forwarded call from
the resident), and answered as the ForwardRequest typed data to sign. A call bound to fail is
refused here, before the resident signs anything."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from web3.exceptions import ContractLogicError

from api.booking_window import check_window
from api.errors import (
    ApiError,
    Conflict,
    LedgerUnavailable,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from api.forward_typed_data import forward_typed_data
from api.lease_terms import slot_terms
from api.ledger import Ledger
from api.relayer import Relayer
from api.schemas.common import hex_bytes
from api.schemas.prepare import BookPrepare, PermitSigned, PrepaidDepositPrepare, StartTripPrepare
from api.schemas.typed_data import TypedDataPublic
from api.settings import Settings
from citypass.core.timeunits import UNIT_SECONDS
from indexer import models_mobility as mm

SIGNATURE_BYTES = 65


@dataclass
class Preparer:
    relayer: Relayer
    ledger: Ledger
    settings: Settings

    def typed_data(self, sender: str, key: str, function: str, args: list[Any]) -> TypedDataPublic:
        """`function(args)` of the contract `key` as `sender` would have it relayed."""
        self.require_member(sender)
        contract = self.ledger.contracts[key]
        calldata = hex_bytes(contract.encode_abi(function, args=args))
        what = f"{self.ledger.registry.names[contract.address]}.{function}"
        self.relayer.checks.simulate(sender, contract.address, calldata, what)
        return forward_typed_data(
            self.relayer, self.ledger, self.settings, sender, contract.address, calldata
        )

    def require_member(self, sender: str) -> None:
        try:
            member = self.ledger.contracts["access"].functions.isActiveMember(sender).call()
        except Exception as exc:
            raise LedgerUnavailable("the ledger node did not answer; retry later") from exc
        if not member:
            raise PermissionDenied(
                f"{sender} is not an active member of the village: only members act through "
                "the relayer; apply for membership first (or ask why it was suspended)",
                code="not_member",
            )

    # ------------------------------------------------------------------------------ actions

    def book(self, body: BookPrepare) -> TypedDataPublic:
        check_window(body.start, body.end)
        terms = slot_terms(self.ledger, body.slotId)  # 404 for an unknown slot
        price = (body.end - body.start) // UNIT_SECONDS * terms.price_per_unit
        max_price = price if body.maxPrice is None else body.maxPrice
        args: list[Any] = [body.slotId, body.start, body.end, max_price]
        if body.permit is None:
            return self._paying("book", body.from_, "market", "book", args, max_price)
        return self.typed_data(
            body.from_, "market", "bookWithPermit", [*args, *_permit_args(body.permit)]
        )

    def deposit_prepaid(self, body: PrepaidDepositPrepare) -> TypedDataPublic:
        """LeaseMarket.deposit: credits into the prepaid balance that bookings then draw on
        without a token transfer (a short allowance is answered with the permit to sign)."""
        if body.permit is None:
            return self._paying(
                "deposit-prepaid", body.from_, "market", "deposit", [body.amount], body.amount
            )
        return self.typed_data(
            body.from_, "market", "depositWithPermit", [body.amount, *_permit_args(body.permit)]
        )

    def start_trip(self, session: Session, body: StartTripPrepare) -> TypedDataPublic:
        plan_id, deposit = body.planId, body.deposit
        if plan_id is None or deposit is None:
            plan = self._plan_in_force(session, body.assetId, plan_id)
            plan_id = plan.plan_id
            deposit = plan.daily_cap if deposit is None else deposit
        args: list[Any] = [body.assetId, plan_id, deposit]
        if body.permit is None:
            return self._paying("start-trip", body.from_, "trips", "startTrip", args, deposit)
        return self.typed_data(
            body.from_, "trips", "startTripWithPermit", [*args, *_permit_args(body.permit)]
        )

    def end_trip(self, sender: str, trip_id: int, args: list[Any]) -> TypedDataPublic:
        """The operator's signed end report, submitted for the trip's own rider only."""
        try:
            rider = self.ledger.contracts["trips"].functions.tripOf(trip_id).call()[0]
        except ContractLogicError as exc:  # TripSettlementUnknownTrip
            raise NotFound(
                f"trip {trip_id} does not exist; see GET /v1/members/{sender}/trips",
                code="unknown_trip",
            ) from exc
        except Exception as exc:
            raise LedgerUnavailable("the ledger node did not answer; retry later") from exc
        if rider != sender:
            raise PermissionDenied(
                f"trip {trip_id} is not {sender}'s: only its rider may have its end relayed",
                code="not_rider",
            )
        return self.typed_data(sender, "trips", "endTrip", [trip_id, *args])

    def claim(self, sender: str) -> TypedDataPublic:
        """RevenueSplit.claim; 409 when nothing is claimable (it would move nothing)."""
        try:
            claimable = int(self.ledger.contracts["split"].functions.claimable(sender).call())
        except Exception as exc:
            raise LedgerUnavailable("the ledger node did not answer; retry later") from exc
        if claimable == 0:
            raise Conflict(
                f"{sender} has nothing to claim now: revenue becomes claimable as its slots' "
                "leases settle",
                code="nothing_to_claim",
            )
        return self.typed_data(sender, "split", "claim", [])

    def _paying(
        self, action: str, sender: str, key: str, function: str, args: list[Any], amount: int
    ) -> TypedDataPublic:
        """A call that pulls CityCredit: a short allowance is answered with the permit to sign."""
        try:
            return self.typed_data(sender, key, function, args)
        except ApiError as exc:
            if exc.code != "ERC20InsufficientAllowance":
                raise
            raise Conflict(
                f"{exc.message}: {sender}'s CityCredit allowance for {function} is too low. Sign "
                f"the permit from GET /v1/typed-data/permit?owner={sender}&value={amount}"
                f"&spender={key} and post this prepare again with "
                '"permit": {"deadline": <its deadline>, "signature": "0x…"}',
                code="ERC20InsufficientAllowance",
            ) from exc

    @staticmethod
    def _plan_in_force(session: Session, asset_id: int, plan_id: int | None) -> mm.FarePlan:
        asset = session.get(mm.MobilityAsset, asset_id)
        if asset is None or not asset.active:
            raise NotFound(
                f"asset {asset_id} is not an active vehicle (or not indexed yet); see "
                "/v1/mobility/operators",
                code="unknown_asset",
            )
        if plan_id is None:
            operator = session.get(mm.MobilityOperator, asset.operator)
            plan_id = operator.current_plan if operator else 0
            if not plan_id:
                raise Conflict(
                    f"the operator of asset {asset_id} has published no fare plan",
                    code="no_plan",
                )
        plan = session.get(mm.FarePlan, plan_id)
        if plan is None:
            raise NotFound(f"fare plan {plan_id} is not published", code="unknown_plan")
        return plan


def _permit_args(permit: PermitSigned) -> list[Any]:
    """(deadline, v, r, s) of a 65-byte permit signature."""
    signature = hex_bytes(permit.signature)
    if len(signature) != SIGNATURE_BYTES:
        raise ValidationFailed(
            f"permit.signature has {len(signature)} bytes; a signature has 65 (r, s, v)",
            code="bad_permit_signature",
        )
    v = signature[64] + 27 if signature[64] < 27 else signature[64]
    return [permit.deadline, v, signature[:32], signature[32:64]]
