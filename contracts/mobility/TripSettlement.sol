// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ICityAccess} from "../interfaces/ICityAccess.sol";
import {IMobilityOperators} from "../interfaces/IMobilityOperators.sol";
import {IRevenueSplit} from "../interfaces/IRevenueSplit.sol";
import {ITripSettlement} from "../interfaces/ITripSettlement.sol";
import {CityContext} from "../access/CityContext.sol";
import {CityRoles} from "../access/CityRoles.sol";
import {BasisPoints} from "../libraries/BasisPoints.sol";
import {FareMath} from "../libraries/FareMath.sol";
import {HalfHours} from "../libraries/HalfHours.sol";
import {Permits} from "../libraries/Permits.sol";
import {FareTerms, OperatorDay, Trip, TripStatus} from "../types/MobilityTypes.sol";

/// @title TripSettlement
/// @notice Starts, ends, disputes and settles mobility trips. Deposits and fares are escrowed in
/// the revenue split's vault (CityCredit's escrow vault), as the lease market does. The operator's
/// end report settles the trip in one transaction: the fare is split and booked on the operator's
/// KST day, the unused deposit goes to the rider's deposit balance. A day is paid out through
/// `RevenueSplit.creditFareShares` in one `releaseDay` once its dispute window has passed, so
/// operators claim with the same `claim()` and get the same monthly statements; the day books
/// are also the clearing house's epoch statements (JourneyClearing).
/// @dev Gas: the end report is the only per-trip transaction after the start. It reads the trip's
/// three words and writes the third, clears the asset's open-trip word (a refund), and updates
/// two words that are warm in daily use (the operator's day book, the rider's balance): no token
/// transfer and no external call. The per-trip cost of a refund transfer and of a payout call is
/// what the previous two-step settlement spent; the rider's balance and the day's release take
/// their place. Trips longer than the timeout cost the daily cap, which the deposit must cover,
/// so a fare never exceeds the deposit.
contract TripSettlement is CityContext, EIP712, ITripSettlement {
    using SafeERC20 for IERC20;

    /// @dev A rider's deposit balance: unused deposits and dispute refunds, held in the vault.
    /// `trips` counts the rider's trips; it keeps the word non-zero, so crediting a balance that a
    /// start emptied is never a fresh-slot write on the end report.
    struct RiderAccount {
        uint64 balance;
        uint32 trips;
    }

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
    mapping(address rider => RiderAccount) private _riders;

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
    ) CityContext(access_, trustedForwarder) EIP712("CityPassTripSettlement", "1") {
        if (address(credit_) == address(0) || address(vault_) == address(0) || address(operators_) == address(0)) {
            revert TripSettlementZeroAddress();
        }
        if (disputeWindow_ > 7 days) revert TripSettlementInvalidConfig("disputeWindow");
        if (tripTimeout_ == 0 || tripTimeout_ > 1 days) revert TripSettlementInvalidConfig("tripTimeout");
        if (platformFeeBps_ + villageBps_ > BasisPoints.FULL) revert TripSettlementInvalidConfig("shares");
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
    /// @dev A front-run permit still leaves the allowance (Permits.tryPermit).
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
        (bool allowed, bytes memory reason) = Permits.tryPermit(credit, rider, deposit, deadline, v, r, s);
        if (!allowed) revert TripSettlementPermitFailed(reason);
        return _start(rider, assetId, planId, deposit);
    }

    /// @dev The deposit is funded from the rider's deposit balance first; only the rest is
    /// transferred into the vault.
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
            deposit: uint48(deposit),
            startedAt: uint40(block.timestamp),
            villageZone: villageZone,
            operator: operator,
            assetId: uint32(assetId),
            planId: uint32(planId),
            status: TripStatus.OPEN,
            closedAt: 0,
            fare: 0,
            duration: 0,
            unlockFee: terms.unlockFee,
            perMinute: terms.perMinute,
            per100m: terms.per100m,
            dailyCap: terms.dailyCap
        });
        RiderAccount memory account = _riders[rider];
        uint256 fromBalance = deposit < account.balance ? deposit : account.balance;
        _riders[rider] = RiderAccount({balance: uint64(account.balance - fromBalance), trips: account.trips + 1});
        emit TripStarted(tripId, rider, operator, assetId, planId, deposit);
        if (deposit != fromBalance) credit.safeTransferFrom(rider, address(vault), deposit - fromBalance);
    }

    // ------------------------------------------------------------------------------ end

    /// @inheritdoc ITripSettlement
    /// @dev Anyone may submit the operator's signed report; the trip's status makes it single-use.
    function endTrip(uint256 tripId, uint64 endedAt, int64 distanceMeters, bytes calldata signature) external {
        Trip storage trip = _trips[tripId];
        uint256 startedAt = trip.startedAt;
        if (trip.status != TripStatus.OPEN) _revertStatus(tripId);
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
        _close(trip, tripId, operator, endedAt, uint256(int256(distanceMeters)), fare, false);
    }

    /// @inheritdoc ITripSettlement
    /// @dev Anyone (the operator's keeper) may close a trip left open past the timeout: the rider
    /// pays the plan's daily cap, the most any trip costs.
    function forceClose(uint256 tripId) external {
        Trip storage trip = _trips[tripId];
        if (trip.status != TripStatus.OPEN) _revertStatus(tripId);
        uint256 timeoutAt = uint256(trip.startedAt) + tripTimeout;
        if (block.timestamp < timeoutAt) revert TripSettlementNotTimedOut(tripId, timeoutAt);
        _close(trip, tripId, trip.operator, uint64(block.timestamp), 0, trip.dailyCap, true);
    }

    /// @dev Ends and settles: records the outcome, frees the asset, books the fare's parts on the
    /// operator's day and credits the unused deposit to the rider's balance.
    function _close(
        Trip storage trip,
        uint256 tripId,
        address operator,
        uint64 endedAt,
        uint256 distance,
        uint256 fare,
        bool forced
    ) private {
        address rider = trip.rider;
        trip.status = TripStatus.ENDED;
        trip.closedAt = uint40(block.timestamp);
        trip.fare = uint32(fare);
        trip.duration = uint32(endedAt - trip.startedAt);
        delete _openTripOf[trip.assetId];
        (, uint256 villageShare, uint256 platformFee) = _split(fare, trip.villageZone);
        _book(operator, HalfHours.localDay(block.timestamp), fare, villageShare, platformFee);
        uint256 riderRefund = uint256(trip.deposit) - fare;
        if (riderRefund != 0) _riders[rider].balance += uint64(riderRefund);
        emit TripEnded(tripId, rider, operator, endedAt, distance, fare, forced, riderRefund);
    }

    // ------------------------------------------------------------------ dispute and payout

    /// @inheritdoc ITripSettlement
    /// @dev The fare leaves the day it was booked on, which cannot have been released yet: a day
    /// is released only after the window of its last trip has passed.
    function dispute(uint256 tripId) external {
        Trip storage trip = _trips[tripId];
        if (trip.status != TripStatus.ENDED) _revertStatus(tripId);
        address caller = _msgSender();
        if (caller != trip.rider) revert TripSettlementNotRider(tripId, caller);
        uint256 closedAt = trip.closedAt;
        uint256 deadline = closedAt + disputeWindow;
        if (block.timestamp > deadline) revert TripSettlementDisputeWindowClosed(tripId, deadline);
        trip.status = TripStatus.DISPUTED;
        uint256 fare = trip.fare;
        (, uint256 villageShare, uint256 platformFee) = _split(fare, trip.villageZone);
        uint32 day = HalfHours.localDay(closedAt);
        OperatorDay storage book = _days[trip.operator][day];
        book.legs -= 1;
        book.gross -= uint72(fare);
        book.fees -= uint72(platformFee);
        book.village -= uint72(villageShare);
        emit TripDisputed(tripId, caller, day);
    }

    /// @inheritdoc ITripSettlement
    /// @dev The INSPECTOR's refund (full or partial, never above the fare) goes to the rider's
    /// deposit balance; the rest of the fare is booked on the current day, as an end report's.
    function resolveDispute(uint256 tripId, uint256 refund) external onlyCityRole(CityRoles.INSPECTOR) {
        Trip storage trip = _trips[tripId];
        if (trip.status != TripStatus.DISPUTED) _revertStatus(tripId);
        uint256 fare = trip.fare;
        if (refund > fare) revert TripSettlementRefundAboveFare(tripId, refund, fare);
        uint256 paid = fare - refund;
        trip.status = TripStatus.SETTLED;
        trip.fare = uint32(paid);
        if (refund != 0) _riders[trip.rider].balance += uint64(refund);
        (uint256 operatorShare, uint256 villageShare, uint256 platformFee) = _split(paid, trip.villageZone);
        uint32 day = HalfHours.localDay(block.timestamp);
        _book(trip.operator, day, paid, villageShare, platformFee);
        emit DisputeResolved(tripId, _msgSender(), day, refund, paid, operatorShare, villageShare, platformFee);
    }

    /// @inheritdoc ITripSettlement
    /// @dev Anyone (the operator, or the clearing house's epoch close) may release a day once no
    /// trip of it can be disputed any more. The parts sum exactly to the day's gross, because
    /// each trip's did.
    function releaseDay(address operator, uint32 day) external {
        uint256 finalAt = dayFinalAt(day);
        if (block.timestamp <= finalAt) revert TripSettlementDayNotFinal(operator, day, finalAt);
        OperatorDay memory book = _days[operator][day];
        if (book.released) revert TripSettlementDayAlreadyReleased(operator, day);
        if (book.gross == 0) revert TripSettlementNothingToRelease(operator, day);
        _days[operator][day].released = true;
        uint256 operatorShare = uint256(book.gross) - book.fees - book.village;
        emit DayReleased(operator, day, book.legs, book.gross, operatorShare, book.village, book.fees);
        vault.creditFareShares(operator, operatorShare, book.village, book.fees);
    }

    /// @inheritdoc ITripSettlement
    /// @dev Paid through the vault's refund, which holds it for a suspended rider until reinstated.
    function withdrawDeposit(uint256 amount) external {
        address rider = _msgSender();
        RiderAccount storage account = _riders[rider];
        uint256 balance = account.balance;
        if (amount == 0 || amount > balance) revert TripSettlementBalanceTooLow(rider, balance, amount);
        account.balance = uint64(balance - amount);
        emit DepositWithdrawn(rider, amount);
        vault.refund(rider, amount);
    }

    function _book(address operator, uint32 day, uint256 fare, uint256 villageShare, uint256 platformFee) private {
        OperatorDay storage book = _days[operator][day];
        book.legs += 1;
        book.gross += uint72(fare);
        book.fees += uint72(platformFee);
        book.village += uint72(villageShare);
    }

    function _split(uint256 fare, bool villageZone)
        private
        view
        returns (uint256 operatorShare, uint256 villageShare, uint256 platformFee)
    {
        return FareMath.split(fare, platformFeeBps, villageZone ? villageBps : 0);
    }

    // ------------------------------------------------------------------------------ views

    /// @inheritdoc ITripSettlement
    /// @dev An ended trip whose dispute window has passed reads as SETTLED: its fare is final.
    function tripOf(uint256 tripId) external view returns (Trip memory trip) {
        trip = _trips[tripId];
        if (trip.status == TripStatus.NONE) revert TripSettlementUnknownTrip(tripId);
        trip.status = _statusOf(trip.status, trip.closedAt);
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
    /// @dev A trip booked on `day` ended before the day ends, so its window closes by then.
    function dayFinalAt(uint32 day) public view returns (uint256) {
        return HalfHours.localDayEnd(day) + disputeWindow;
    }

    /// @inheritdoc ITripSettlement
    function depositBalanceOf(address rider) external view returns (uint256) {
        return _riders[rider].balance;
    }

    /// @inheritdoc ITripSettlement
    function endReportDigest(uint256 tripId, uint64 endedAt, int64 distanceMeters) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(TRIP_END_TYPEHASH, tripId, endedAt, distanceMeters)));
    }

    // ---------------------------------------------------------------------------- helpers

    /// @dev Reverts with the trip's status as `tripOf` reports it (off the hot path).
    function _revertStatus(uint256 tripId) private view {
        Trip storage trip = _trips[tripId];
        TripStatus status = trip.status;
        if (status == TripStatus.NONE) revert TripSettlementUnknownTrip(tripId);
        revert TripSettlementWrongStatus(tripId, _statusOf(status, trip.closedAt));
    }

    function _statusOf(TripStatus stored, uint256 closedAt) private view returns (TripStatus) {
        if (stored == TripStatus.ENDED && block.timestamp > closedAt + disputeWindow) return TripStatus.SETTLED;
        return stored;
    }
}
