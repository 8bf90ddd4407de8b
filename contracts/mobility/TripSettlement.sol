// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ICityAccess} from "../interfaces/ICityAccess.sol";
import {IMobilityOperators} from "../interfaces/IMobilityOperators.sol";
import {IRevenueSplit} from "../interfaces/IRevenueSplit.sol";
import {ITripSettlement} from "../interfaces/ITripSettlement.sol";
import {CityAccessControlled} from "../access/CityAccessControlled.sol";
import {CityRoles} from "../access/CityRoles.sol";
import {FareMath} from "../libraries/FareMath.sol";
import {FareTerms, OperatorDay, Trip, TripStatus} from "../types/MobilityTypes.sol";

/// @title TripSettlement
/// @notice Starts, ends, disputes and settles mobility trips. Deposits and fares are escrowed in
/// the revenue split's vault (CityCredit's escrow vault), as the lease market does; payouts go
/// through `RevenueSplit.allocateFare`, so operators claim with the same `claim()` and get the
/// same monthly statements. Per operator and KST day the settled totals are kept for the
/// clearing house's epoch statements (JourneyClearing).
/// @dev A trip keeps a copy of its plan's prices, so the end report needs no external read and
/// makes no external call: it fixes the fare and writes two words it has just read. The deposit
/// stays escrowed until the settlement, which pays the fare out and the rest back in one go.
/// Trips longer than the timeout cost the daily cap, which the deposit must cover, so a fare
/// never exceeds the deposit.
contract TripSettlement is ERC2771Context, EIP712, CityAccessControlled, ITripSettlement {
    using SafeERC20 for IERC20;

    uint256 private constant BPS = 10_000;
    /// @notice The longest distance an end report may give (1,000 km).
    uint256 public constant MAX_DISTANCE_METERS = 1_000_000;
    bytes32 public constant TRIP_END_TYPEHASH =
        keccak256("TripEnd(uint256 tripId,uint64 endedAt,int64 distanceMeters)");

    IERC20 public immutable credit;
    IRevenueSplit public immutable vault;
    IMobilityOperators public immutable operators;
    /// @notice How long after the end (as recorded on chain) the rider may dispute, in seconds.
    uint256 public immutable disputeWindow;
    /// @notice After this long an open trip may be force-closed at the cap fare (at most one day).
    uint256 public immutable tripTimeout;
    /// @notice The platform's fee on every fare, in basis points.
    uint256 public immutable platformFeeBps;
    /// @notice The village enterprise's share of fares of trips starting in the village zone.
    uint256 public immutable villageBps;

    uint256 public tripCount;
    mapping(uint256 tripId => Trip) private _trips;
    mapping(uint256 assetId => uint256 tripId) private _openTripOf;
    mapping(address operator => mapping(uint32 day => OperatorDay)) private _days;

    constructor(
        ICityAccess access_,
        IERC20 credit_,
        IRevenueSplit vault_,
        IMobilityOperators operators_,
        address trustedForwarder,
        uint256 disputeWindow_,
        uint256 tripTimeout_,
        uint256 platformFeeBps_,
        uint256 villageBps_
    ) ERC2771Context(trustedForwarder) EIP712("CityPassTripSettlement", "1") CityAccessControlled(access_) {
        if (address(credit_) == address(0) || address(vault_) == address(0) || address(operators_) == address(0)) {
            revert TripSettlementZeroAddress();
        }
        if (disputeWindow_ > 7 days) revert TripSettlementInvalidConfig("disputeWindow");
        if (tripTimeout_ == 0 || tripTimeout_ > 1 days) revert TripSettlementInvalidConfig("tripTimeout");
        if (platformFeeBps_ + villageBps_ > BPS) revert TripSettlementInvalidConfig("shares");
        credit = credit_;
        vault = vault_;
        operators = operators_;
        disputeWindow = disputeWindow_;
        tripTimeout = tripTimeout_;
        platformFeeBps = platformFeeBps_;
        villageBps = villageBps_;
    }

    // ---------------------------------------------------------------------------- start

    /// @inheritdoc ITripSettlement
    function startTrip(uint256 assetId, uint256 planId, uint256 deposit) external returns (uint256) {
        return _start(_msgSender(), assetId, planId, deposit);
    }

    /// @inheritdoc ITripSettlement
    /// @dev As LeaseMarket.bookWithPermit: a front-run permit still leaves the allowance.
    function startTripWithPermit(
        uint256 assetId,
        uint256 planId,
        uint256 deposit,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (uint256) {
        address rider = _msgSender();
        try IERC20Permit(address(credit)).permit(rider, address(this), deposit, deadline, v, r, s) {}
        catch (bytes memory reason) {
            if (credit.allowance(rider, address(this)) < deposit) revert TripSettlementPermitFailed(reason);
        }
        return _start(rider, assetId, planId, deposit);
    }

    function _start(address rider, uint256 assetId, uint256 planId, uint256 deposit)
        private
        returns (uint256 tripId)
    {
        if (!access.isActiveMember(rider)) revert TripSettlementNotMember(rider);
        (address operator, bool villageZone, FareTerms memory terms) = operators.tripTerms(assetId, planId);
        if (deposit < terms.dailyCap) revert TripSettlementDepositTooLow(deposit, terms.dailyCap);
        if (deposit > type(uint48).max) revert TripSettlementDepositTooLarge(deposit);
        if (assetId > type(uint32).max) revert IMobilityOperators.MobilityOperatorsUnknownAsset(assetId);
        uint256 openTrip = _openTripOf[assetId];
        if (openTrip != 0) revert TripSettlementAssetInUse(assetId, openTrip);
        tripId = ++tripCount;
        _openTripOf[assetId] = tripId;
        _trips[tripId] = Trip({
            rider: rider,
            startedAt: uint40(block.timestamp),
            status: TripStatus.OPEN,
            villageZone: villageZone,
            closedAt: 0,
            operator: operator,
            deposit: uint48(deposit),
            unlockFee: terms.unlockFee,
            perMinute: terms.perMinute,
            per100m: terms.per100m,
            dailyCap: terms.dailyCap,
            assetId: uint32(assetId),
            planId: uint32(planId),
            fare: 0,
            duration: 0
        });
        emit TripStarted(tripId, rider, operator, assetId, planId, deposit);
        credit.safeTransferFrom(rider, address(vault), deposit);
    }

    // ------------------------------------------------------------------------------ end

    /// @inheritdoc ITripSettlement
    /// @dev Anyone may submit the operator's signed report; the trip's status makes it single-use.
    function endTrip(uint256 tripId, uint64 endedAt, int64 distanceMeters, bytes calldata signature) external {
        Trip storage trip = _trips[tripId];
        (address rider, uint256 startedAt, TripStatus status) = (trip.rider, trip.startedAt, trip.status);
        if (status != TripStatus.OPEN) _revertStatus(tripId, status);
        if (distanceMeters < 0) revert TripSettlementNegativeDistance(tripId, distanceMeters);
        if (uint256(int256(distanceMeters)) > MAX_DISTANCE_METERS) {
            revert TripSettlementDistanceTooLarge(tripId, distanceMeters, MAX_DISTANCE_METERS);
        }
        if (endedAt < startedAt) revert TripSettlementEndBeforeStart(tripId, startedAt, endedAt);
        if (endedAt > block.timestamp) revert TripSettlementEndInFuture(tripId, endedAt, block.timestamp);
        address operator = trip.operator;
        (address signer,,) = ECDSA.tryRecover(endReportDigest(tripId, endedAt, distanceMeters), signature);
        if (signer != operator || signer == address(0)) revert TripSettlementInvalidSigner(tripId, signer, operator);
        uint256 duration = endedAt - startedAt;
        FareTerms memory terms = FareTerms(trip.unlockFee, trip.perMinute, trip.per100m, trip.dailyCap);
        uint256 fare = duration >= tripTimeout
            ? terms.dailyCap
            : FareMath.fare(terms, duration, uint256(int256(distanceMeters)));
        _close(trip, tripId, rider, operator, endedAt, uint256(int256(distanceMeters)), fare, false);
    }

    /// @inheritdoc ITripSettlement
    /// @dev Anyone (the operator's keeper) may close a trip left open past the timeout: the rider
    /// pays the plan's daily cap, the most any trip costs.
    function forceClose(uint256 tripId) external {
        Trip storage trip = _trips[tripId];
        TripStatus status = trip.status;
        if (status != TripStatus.OPEN) _revertStatus(tripId, status);
        uint256 timeoutAt = uint256(trip.startedAt) + tripTimeout;
        if (block.timestamp < timeoutAt) revert TripSettlementNotTimedOut(tripId, timeoutAt);
        _close(trip, tripId, trip.rider, trip.operator, uint64(block.timestamp), 0, trip.dailyCap, true);
    }

    function _close(
        Trip storage trip,
        uint256 tripId,
        address rider,
        address operator,
        uint64 endedAt,
        uint256 distance,
        uint256 fare,
        bool forced
    ) private {
        trip.status = TripStatus.ENDED;
        trip.closedAt = uint40(block.timestamp);
        trip.fare = uint32(fare);
        trip.duration = uint32(endedAt - trip.startedAt);
        delete _openTripOf[trip.assetId];
        emit TripEnded(tripId, rider, operator, endedAt, distance, fare, forced);
    }

    // ------------------------------------------------------------------ dispute and payout

    /// @inheritdoc ITripSettlement
    function dispute(uint256 tripId) external {
        Trip storage trip = _trips[tripId];
        TripStatus status = trip.status;
        if (status != TripStatus.ENDED) _revertStatus(tripId, status);
        address caller = _msgSender();
        if (caller != trip.rider) revert TripSettlementNotRider(tripId, caller);
        uint256 deadline = uint256(trip.closedAt) + disputeWindow;
        if (block.timestamp > deadline) revert TripSettlementDisputeWindowClosed(tripId, deadline);
        trip.status = TripStatus.DISPUTED;
        emit TripDisputed(tripId, caller);
    }

    /// @inheritdoc ITripSettlement
    /// @dev The INSPECTOR's refund (full or partial, never above the fare) goes back to the rider;
    /// the rest of the fare is paid out as in `settle`.
    function resolveDispute(uint256 tripId, uint256 refund) external onlyCityRole(CityRoles.INSPECTOR) {
        Trip storage trip = _trips[tripId];
        TripStatus status = trip.status;
        if (status != TripStatus.DISPUTED) _revertStatus(tripId, status);
        uint256 fare = trip.fare;
        if (refund > fare) revert TripSettlementRefundAboveFare(tripId, refund, fare);
        if (refund != 0) trip.fare = uint32(fare - refund);
        emit DisputeResolved(tripId, _msgSender(), refund);
        _payOut(trip, tripId, fare - refund);
    }

    /// @inheritdoc ITripSettlement
    /// @dev Anyone (the operator's keeper) may settle once the dispute window has passed.
    function settle(uint256 tripId) external {
        Trip storage trip = _trips[tripId];
        TripStatus status = trip.status;
        if (status != TripStatus.ENDED) _revertStatus(tripId, status);
        uint256 deadline = uint256(trip.closedAt) + disputeWindow;
        if (block.timestamp <= deadline) revert TripSettlementDisputeWindowOpen(tripId, deadline);
        _payOut(trip, tripId, trip.fare);
    }

    /// @dev Marks the trip settled, books it on the operator's day, emits, then pays `amount`
    /// out and the rest of the deposit back to the rider.
    function _payOut(Trip storage trip, uint256 tripId, uint256 amount) private {
        address operator = trip.operator;
        uint256 riderRefund = uint256(trip.deposit) - amount;
        (uint256 operatorShare, uint256 villageShare, uint256 platformFee) =
            FareMath.split(amount, platformFeeBps, trip.villageZone ? villageBps : 0);
        trip.status = TripStatus.SETTLED;
        uint32 day = FareMath.localDay(block.timestamp);
        OperatorDay storage book = _days[operator][day];
        book.legs += 1;
        book.gross += uint72(amount);
        book.fees += uint72(platformFee);
        book.village += uint72(villageShare);
        emit TripSettled(tripId, operator, day, amount, operatorShare, villageShare, platformFee, riderRefund);
        if (amount != 0) vault.creditFareShares(operator, operatorShare, villageShare, platformFee);
        if (riderRefund != 0) vault.refund(trip.rider, riderRefund);
    }

    // ------------------------------------------------------------------------------ views

    /// @inheritdoc ITripSettlement
    function tripOf(uint256 tripId) external view returns (Trip memory trip) {
        trip = _trips[tripId];
        if (trip.status == TripStatus.NONE) revert TripSettlementUnknownTrip(tripId);
    }

    /// @notice The open trip on an asset (0 if none).
    function openTripOf(uint256 assetId) external view returns (uint256) {
        return _openTripOf[assetId];
    }

    /// @inheritdoc ITripSettlement
    function operatorDay(address operator, uint32 day) external view returns (OperatorDay memory) {
        return _days[operator][day];
    }

    /// @inheritdoc ITripSettlement
    function endReportDigest(uint256 tripId, uint64 endedAt, int64 distanceMeters) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(TRIP_END_TYPEHASH, tripId, endedAt, distanceMeters)));
    }

    // ---------------------------------------------------------------------------- helpers

    function _revertStatus(uint256 tripId, TripStatus status) private pure {
        if (status == TripStatus.NONE) revert TripSettlementUnknownTrip(tripId);
        revert TripSettlementWrongStatus(tripId, status);
    }

    function _msgSender() internal view override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    function _msgData() internal view override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    function _contextSuffixLength() internal view override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }
}
