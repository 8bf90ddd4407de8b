// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Journey, TripStatus} from "../types/MobilityTypes.sol";

/// @title IJourneyClearing
/// @notice MaaS journeys and the clearing house. A journey groups a rider's settled trips (legs)
/// across operators; a leg that starts within the transfer window after the previous leg ended
/// earns the integrated transfer discount, paid to the rider from the city's subsidy pool, capped
/// per rider per KST day and by what the pool holds. Per operator and KST day, `closeEpoch` emits
/// one statement (a TOMP-style journal entry) the operator reconciles; each day closes once.
interface IJourneyClearing {
    /// @notice A zero address was given where a contract is required.
    error JourneyClearingZeroAddress();
    /// @notice A deployment parameter is out of its bounds.
    /// @param field the parameter's name
    error JourneyClearingInvalidConfig(string field);
    /// @notice The account is not an active member.
    /// @param account the account
    error JourneyClearingNotMember(address account);
    /// @notice No journey has this id.
    /// @param journeyId the id
    error JourneyClearingUnknownJourney(uint256 journeyId);
    /// @notice Only the journey's rider (or an OPERATOR, the MaaS app's back office) may add legs.
    /// @param journeyId the journey
    /// @param caller the caller
    error JourneyClearingNotAuthorized(uint256 journeyId, address caller);
    /// @notice The trip is already a leg of a journey: its discount was claimed.
    /// @param tripId the trip
    /// @param journeyId the journey it belongs to
    error JourneyClearingDiscountAlreadyClaimed(uint256 tripId, uint256 journeyId);
    /// @notice The trip's rider is not the journey's rider.
    /// @param journeyId the journey
    /// @param tripId the trip
    error JourneyClearingNotRidersTrip(uint256 journeyId, uint256 tripId);
    /// @notice Only settled trips (final fare, dispute window over) become legs.
    /// @param tripId the trip
    /// @param status its status
    error JourneyClearingTripNotSettled(uint256 tripId, TripStatus status);
    /// @notice Legs are added in time order: this one starts before the previous one ended.
    /// @param journeyId the journey
    /// @param tripId the trip
    /// @param startedAt the trip's start
    /// @param lastEnd the previous leg's end
    error JourneyClearingLegOutOfOrder(uint256 journeyId, uint256 tripId, uint256 startedAt, uint256 lastEnd);
    /// @notice A zero amount was given.
    error JourneyClearingZeroAmount();
    /// @notice The account is not a registered mobility operator.
    /// @param operator the account
    error JourneyClearingUnknownOperator(address operator);
    /// @notice The epoch (KST day) is not over yet.
    /// @param epoch the day asked for
    /// @param currentEpoch today
    error JourneyClearingEpochNotOver(uint32 epoch, uint32 currentEpoch);
    /// @notice The epoch is over but trips that ended in it may still be disputed, so its book
    /// may still change.
    /// @param epoch the day asked for
    /// @param finalAt the first moment after which it may be closed
    error JourneyClearingEpochNotFinal(uint32 epoch, uint256 finalAt);
    /// @notice The operator's epoch was already closed.
    /// @param operator the operator
    /// @param epoch the day
    error JourneyClearingEpochAlreadyClosed(address operator, uint32 epoch);

    /// @notice A rider opened a journey.
    event JourneyOpened(uint256 indexed journeyId, address indexed rider);
    /// @notice A settled trip became leg `legIndex` of a journey; `discount` of the `eligible`
    /// transfer discount was paid to the rider from the pool (less when the daily cap or the
    /// pool ran short).
    event LegAdded(
        uint256 indexed journeyId,
        uint256 indexed tripId,
        address indexed operator,
        uint256 legIndex,
        uint256 eligible,
        uint256 discount
    );
    /// @notice The city topped up the subsidy pool.
    event SubsidyToppedUp(address indexed by, uint256 amount, uint256 pool);
    /// @notice One operator's KST day, closed: settled legs (trips ended that day and not
    /// disputed, plus disputes resolved that day), gross fares, transfer discounts granted on its
    /// legs (paid by the city's pool), platform fees, the village share, and the operator's net
    /// (gross - fees - village), as credited to its RevenueSplit account by the day's release.
    event EpochStatement(
        address indexed operator,
        uint32 indexed epoch,
        uint256 legs,
        uint256 gross,
        uint256 discounts,
        uint256 fees,
        uint256 villageShare,
        uint256 net
    );

    function openJourney() external returns (uint256 journeyId);
    function addLeg(uint256 journeyId, uint256 tripId) external returns (uint256 discount);
    function topUp(uint256 amount) external;
    function closeEpoch(address operator, uint32 epoch) external;

    function journeyOf(uint256 journeyId) external view returns (Journey memory);
    function journeyOfTrip(uint256 tripId) external view returns (uint256);
    function pool() external view returns (uint256);
    function discountUsed(address rider, uint32 day) external view returns (uint256);
    function discountsOf(address operator, uint32 epoch) external view returns (uint256);
    function isClosed(address operator, uint32 epoch) external view returns (bool);
    function currentEpoch() external view returns (uint32);
}
