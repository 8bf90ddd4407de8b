// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {OperatorDay, Trip, TripStatus} from "../types/MobilityTypes.sol";

/// @title ITripSettlement
/// @notice Trips on shared cars, kick-scooters and other operators' assets: the rider starts a
/// trip with a deposit escrowed in CityCredit; the operator signs an EIP-712 end report that
/// anyone submits; the fare is computed on chain from the plan in force at the start. The
/// settlement, once the rider's dispute window has passed (or an INSPECTOR resolved the dispute),
/// pays the fare out (operator, village enterprise, platform) and the unused deposit back.
interface ITripSettlement {
    /// @notice A zero address was given where a contract is required.
    error TripSettlementZeroAddress();
    /// @notice A deployment parameter is out of its bounds.
    /// @param field the parameter's name
    error TripSettlementInvalidConfig(string field);
    /// @notice The account is not an active member.
    /// @param account the account
    error TripSettlementNotMember(address account);
    /// @notice The deposit does not cover the plan's daily cap (the most a trip can cost).
    /// @param deposit the deposit given
    /// @param required the plan's daily cap
    error TripSettlementDepositTooLow(uint256 deposit, uint256 required);
    /// @notice The deposit does not fit the trip record (48 bits).
    /// @param deposit the deposit given
    error TripSettlementDepositTooLarge(uint256 deposit);
    /// @notice The vehicle is on another open trip.
    /// @param assetId the asset
    /// @param tripId the open trip
    error TripSettlementAssetInUse(uint256 assetId, uint256 tripId);
    /// @notice No trip has this id.
    /// @param tripId the id
    error TripSettlementUnknownTrip(uint256 tripId);
    /// @notice The trip is not in a state that allows this action (e.g. not open, already settled).
    /// @param tripId the trip
    /// @param status its status
    error TripSettlementWrongStatus(uint256 tripId, TripStatus status);
    /// @notice The end report gives a negative distance.
    /// @param tripId the trip
    /// @param distanceMeters the distance reported
    error TripSettlementNegativeDistance(uint256 tripId, int256 distanceMeters);
    /// @notice The end report gives a distance above the bound (no trip in a city is that long).
    /// @param tripId the trip
    /// @param distanceMeters the distance reported
    /// @param maxDistanceMeters the bound
    error TripSettlementDistanceTooLarge(uint256 tripId, int256 distanceMeters, uint256 maxDistanceMeters);
    /// @notice The end report's end time lies before the trip's start.
    /// @param tripId the trip
    /// @param startedAt the trip's start
    /// @param endedAt the end reported
    error TripSettlementEndBeforeStart(uint256 tripId, uint256 startedAt, uint256 endedAt);
    /// @notice The end report's end time lies in the future.
    /// @param tripId the trip
    /// @param endedAt the end reported
    /// @param nowTimestamp the block time
    error TripSettlementEndInFuture(uint256 tripId, uint256 endedAt, uint256 nowTimestamp);
    /// @notice The end report was not signed by the trip's operator.
    /// @param tripId the trip
    /// @param signer the recovered signer (zero for a malformed signature)
    /// @param operator the trip's operator
    error TripSettlementInvalidSigner(uint256 tripId, address signer, address operator);
    /// @notice The trip may be force-closed only after the timeout.
    /// @param tripId the trip
    /// @param timeoutAt when it times out
    error TripSettlementNotTimedOut(uint256 tripId, uint256 timeoutAt);
    /// @notice Only the trip's rider may do this.
    /// @param tripId the trip
    /// @param caller the caller
    error TripSettlementNotRider(uint256 tripId, address caller);
    /// @notice The dispute window has passed.
    /// @param tripId the trip
    /// @param deadline the end of the window
    error TripSettlementDisputeWindowClosed(uint256 tripId, uint256 deadline);
    /// @notice The dispute window is still open, so the fare cannot be paid out yet.
    /// @param tripId the trip
    /// @param deadline the end of the window
    error TripSettlementDisputeWindowOpen(uint256 tripId, uint256 deadline);
    /// @notice A dispute refund may not exceed the fare.
    /// @param tripId the trip
    /// @param refund the refund asked for
    /// @param fare the fare
    error TripSettlementRefundAboveFare(uint256 tripId, uint256 refund, uint256 fare);
    /// @notice The permit failed and the allowance does not cover the deposit.
    /// @param reason the permit's revert data
    error TripSettlementPermitFailed(bytes reason);

    /// @notice A rider started a trip and escrowed `deposit`.
    event TripStarted(
        uint256 indexed tripId,
        address indexed rider,
        address indexed operator,
        uint256 assetId,
        uint256 planId,
        uint256 deposit
    );
    /// @notice A trip ended (by the operator's report, or `forced` after the timeout at the cap
    /// fare); the deposit stays in escrow until the settlement.
    event TripEnded(
        uint256 indexed tripId,
        address indexed rider,
        address indexed operator,
        uint64 endedAt,
        uint256 distanceMeters,
        uint256 fare,
        bool forced
    );
    /// @notice The rider disputed the fare within the window.
    event TripDisputed(uint256 indexed tripId, address indexed rider);
    /// @notice An INSPECTOR resolved a dispute, refunding `refund` (at most the fare).
    event DisputeResolved(uint256 indexed tripId, address indexed inspector, uint256 refund);
    /// @notice The trip was settled: the rider paid `fare` (after any dispute refund), whose three
    /// parts sum exactly to it (the operator takes the dust), and `riderRefund` (the rest of the
    /// deposit) went back to the rider.
    event TripSettled(
        uint256 indexed tripId,
        address indexed operator,
        uint32 indexed day,
        uint256 fare,
        uint256 operatorShare,
        uint256 villageShare,
        uint256 platformFee,
        uint256 riderRefund
    );

    function startTrip(uint256 assetId, uint256 planId, uint256 deposit) external returns (uint256 tripId);
    function startTripWithPermit(
        uint256 assetId,
        uint256 planId,
        uint256 deposit,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (uint256 tripId);
    function endTrip(uint256 tripId, uint64 endedAt, int64 distanceMeters, bytes calldata signature) external;
    function forceClose(uint256 tripId) external;
    function dispute(uint256 tripId) external;
    function resolveDispute(uint256 tripId, uint256 refund) external;
    function settle(uint256 tripId) external;

    function tripOf(uint256 tripId) external view returns (Trip memory);
    function operatorDay(address operator, uint32 day) external view returns (OperatorDay memory);
    function endReportDigest(uint256 tripId, uint64 endedAt, int64 distanceMeters) external view returns (bytes32);
}
