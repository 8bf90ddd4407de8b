// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ICityAccess} from "../interfaces/ICityAccess.sol";
import {IJourneyClearing} from "../interfaces/IJourneyClearing.sol";
import {IMobilityOperators} from "../interfaces/IMobilityOperators.sol";
import {ITripSettlement} from "../interfaces/ITripSettlement.sol";
import {CityContext} from "../access/CityContext.sol";
import {CityRoles} from "../access/CityRoles.sol";
import {BasisPoints} from "../libraries/BasisPoints.sol";
import {HalfHours} from "../libraries/HalfHours.sol";
import {Journey, OperatorDay, OperatorKind, Trip, TripStatus} from "../types/MobilityTypes.sol";

/// @title JourneyClearing
/// @notice MaaS journeys, the integrated transfer discount and the operators' daily statements.
/// @dev The discount is a rebate: the rider paid the full fare through TripSettlement (so the
/// operator is paid in full), and the pool pays the discount back to the rider. Hence, for all
/// trips: rider payments + subsidies = operators' shares + platform fees + village shares.
/// The pool is this contract's own count of the credits topped up and not yet granted, so stray
/// transfers to the contract never count as subsidy.
contract JourneyClearing is CityContext, IJourneyClearing {
    using SafeERC20 for IERC20;

    IERC20 public immutable credit;
    ITripSettlement public immutable trips;
    IMobilityOperators public immutable operators;
    /// @notice A leg starting at most this long after the previous leg ended earns the discount.
    uint256 public immutable transferWindow;
    /// @notice The discount, in basis points of the leg's fare.
    uint256 public immutable discountBps;
    /// @notice The most a rider receives in discounts per KST day, in KRW.
    uint256 public immutable riderDailyCap;

    uint256 public pool;
    uint256 public journeyCount;
    mapping(uint256 journeyId => Journey) private _journeys;
    mapping(uint256 tripId => uint256 journeyId) private _legOf;
    mapping(address rider => mapping(uint32 day => uint256)) private _used;
    mapping(address operator => mapping(uint32 day => uint256)) private _discounts;
    mapping(address operator => mapping(uint32 day => bool)) private _closed;

    constructor(
        ICityAccess access_,
        IERC20 credit_,
        ITripSettlement trips_,
        IMobilityOperators operators_,
        address trustedForwarder,
        uint256 transferWindow_,
        uint256 discountBps_,
        uint256 riderDailyCap_
    ) CityContext(access_, trustedForwarder) {
        if (address(credit_) == address(0) || address(trips_) == address(0) || address(operators_) == address(0)) {
            revert JourneyClearingZeroAddress();
        }
        if (transferWindow_ == 0 || transferWindow_ > 1 days) revert JourneyClearingInvalidConfig("transferWindow");
        if (discountBps_ > BasisPoints.FULL) revert JourneyClearingInvalidConfig("discountBps");
        credit = credit_;
        trips = trips_;
        operators = operators_;
        transferWindow = transferWindow_;
        discountBps = discountBps_;
        riderDailyCap = riderDailyCap_;
    }

    /// @inheritdoc IJourneyClearing
    function openJourney() external returns (uint256 journeyId) {
        address rider = _msgSender();
        if (!access.isActiveMember(rider)) revert JourneyClearingNotMember(rider);
        journeyId = ++journeyCount;
        _journeys[journeyId] = Journey({rider: rider, legs: 0, lastEnd: 0});
        emit JourneyOpened(journeyId, rider);
    }

    /// @inheritdoc IJourneyClearing
    function addLeg(uint256 journeyId, uint256 tripId) external returns (uint256 discount) {
        Journey memory journey = _journeys[journeyId];
        if (journey.rider == address(0)) revert JourneyClearingUnknownJourney(journeyId);
        address caller = _msgSender();
        if (caller != journey.rider && !_hasCityRole(caller, CityRoles.OPERATOR)) {
            revert JourneyClearingNotAuthorized(journeyId, caller);
        }
        uint256 claimedBy = _legOf[tripId];
        if (claimedBy != 0) revert JourneyClearingDiscountAlreadyClaimed(tripId, claimedBy);
        Trip memory trip = trips.tripOf(tripId);
        if (trip.rider != journey.rider) revert JourneyClearingNotRidersTrip(journeyId, tripId);
        if (trip.status != TripStatus.SETTLED) revert JourneyClearingTripNotSettled(tripId, trip.status);
        if (journey.legs != 0 && trip.startedAt < journey.lastEnd) {
            revert JourneyClearingLegOutOfOrder(journeyId, tripId, trip.startedAt, journey.lastEnd);
        }
        uint256 eligible;
        uint32 rideDay = HalfHours.localDay(trip.startedAt);
        if (journey.legs != 0 && trip.startedAt <= uint256(journey.lastEnd) + transferWindow) {
            eligible = BasisPoints.share(trip.fare, discountBps);
            discount = Math.min(Math.min(eligible, riderDailyCap - _used[journey.rider][rideDay]), pool);
        }
        _legOf[tripId] = journeyId;
        _journeys[journeyId] =
            Journey({rider: journey.rider, legs: journey.legs + 1, lastEnd: trip.startedAt + trip.duration});
        if (discount != 0) {
            _used[journey.rider][rideDay] += discount;
            pool -= discount;
            _discounts[trip.operator][HalfHours.localDay(block.timestamp)] += discount;
        }
        emit LegAdded(journeyId, tripId, trip.operator, journey.legs, eligible, discount);
        if (discount != 0) credit.safeTransfer(journey.rider, discount);
    }

    /// @inheritdoc IJourneyClearing
    /// @dev TREASURY or CITY_ADMIN, from its own credits (approve this contract first).
    function topUp(uint256 amount) external onlyCityRole(CityRoles.TREASURY) {
        if (amount == 0) revert JourneyClearingZeroAmount();
        address by = _msgSender();
        uint256 newPool = pool + amount;
        pool = newPool;
        emit SubsidyToppedUp(by, amount, newPool);
        credit.safeTransferFrom(by, address(this), amount);
    }

    /// @inheritdoc IJourneyClearing
    /// @dev Anyone may close a finished day (the epoch script does) once its trips can no longer
    /// be disputed; the close also releases the day's fares to the revenue split if nobody has
    /// yet, so the statement and the payout agree. Bookings and discounts always go to the
    /// current day, so a closed day never changes afterwards.
    function closeEpoch(address operator, uint32 epoch) external {
        if (operators.operatorOf(operator).kind == OperatorKind.NONE) revert JourneyClearingUnknownOperator(operator);
        uint32 today = HalfHours.localDay(block.timestamp);
        if (epoch >= today) revert JourneyClearingEpochNotOver(epoch, today);
        uint256 finalAt = trips.dayFinalAt(epoch);
        if (block.timestamp <= finalAt) revert JourneyClearingEpochNotFinal(epoch, finalAt);
        if (_closed[operator][epoch]) revert JourneyClearingEpochAlreadyClosed(operator, epoch);
        _closed[operator][epoch] = true;
        OperatorDay memory book = trips.operatorDay(operator, epoch);
        if (book.gross != 0 && !book.released) trips.releaseDay(operator, epoch);
        emit EpochStatement(
            operator,
            epoch,
            book.legs,
            book.gross,
            _discounts[operator][epoch],
            book.fees,
            book.village,
            uint256(book.gross) - book.fees - book.village
        );
    }

    // ------------------------------------------------------------------------------ views

    /// @inheritdoc IJourneyClearing
    function journeyOf(uint256 journeyId) external view returns (Journey memory journey) {
        journey = _journeys[journeyId];
        if (journey.rider == address(0)) revert JourneyClearingUnknownJourney(journeyId);
    }

    /// @inheritdoc IJourneyClearing
    function journeyOfTrip(uint256 tripId) external view returns (uint256) {
        return _legOf[tripId];
    }

    /// @inheritdoc IJourneyClearing
    function discountUsed(address rider, uint32 day) external view returns (uint256) {
        return _used[rider][day];
    }

    /// @inheritdoc IJourneyClearing
    function discountsOf(address operator, uint32 epoch) external view returns (uint256) {
        return _discounts[operator][epoch];
    }

    /// @inheritdoc IJourneyClearing
    function isClosed(address operator, uint32 epoch) external view returns (bool) {
        return _closed[operator][epoch];
    }

    /// @inheritdoc IJourneyClearing
    function currentEpoch() external view returns (uint32) {
        return HalfHours.localDay(block.timestamp);
    }
}
