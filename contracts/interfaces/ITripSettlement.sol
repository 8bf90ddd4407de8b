// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {OperatorDay, Trip, TripStatus} from "../types/MobilityTypes.sol";

/// @title ITripSettlement
/// @notice Trips on shared cars, kick-scooters and other operators' assets: the rider starts a
/// trip with a deposit escrowed in CityCredit; the operator signs an EIP-712 end report that
/// anyone submits; the fare is computed on chain from the plan in force at the start. The end
/// report also settles: it splits the fare (operator, village enterprise, platform) onto the
/// operator's KST day and returns the unused deposit to the rider's deposit balance (which funds
/// the next trip's deposit and can be withdrawn at any time). The fares of a day stay escrowed
/// until the day's dispute window has passed; then one `releaseDay` pays the whole day out to the
/// revenue split, where the operator claims it. A disputed trip leaves its day; the INSPECTOR's
/// resolution refunds (never more than the fare) and books the rest on the current day.
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
    /// @notice A day's fares are paid out only once the dispute window of its last trip has passed.
    /// @param operator the operator
    /// @param day the KST day
    /// @param finalAt the first moment after which the day may be released
    error TripSettlementDayNotFinal(address operator, uint32 day, uint256 finalAt);
    /// @notice The day's fares were already paid out.
    /// @param operator the operator
    /// @param day the KST day
    error TripSettlementDayAlreadyReleased(address operator, uint32 day);
    /// @notice The day has no fares to pay out.
    /// @param operator the operator
    /// @param day the KST day
    error TripSettlementNothingToRelease(address operator, uint32 day);
    /// @notice The rider's deposit balance does not cover the withdrawal.
    /// @param rider the rider
    /// @param balance the balance
    /// @param amount the amount asked for
    error TripSettlementBalanceTooLow(address rider, uint256 balance, uint256 amount);
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
    /// fare) and was settled: the fare was booked on the operator's KST day of this block, split
    /// by `FareMath.split` (platform fee, village share for village-zone trips, the operator
    /// takes the rest and the dust, so the parts sum exactly; the day's totals are in
    /// `operatorDay` and `DayReleased`), and `riderRefund` (the rest of the deposit) went to the
    /// rider's deposit balance. The fare stays escrowed until its day is released, and leaves
    /// the day if the rider disputes it.
    event TripEnded(
        uint256 indexed tripId,
        address indexed rider,
        address indexed operator,
        uint64 endedAt,
        uint256 distanceMeters,
        uint256 fare,
        bool forced,
        uint256 riderRefund
    );
    /// @notice The rider disputed the fare within the window; it left the booked `day`.
    event TripDisputed(uint256 indexed tripId, address indexed rider, uint32 day);
    /// @notice An INSPECTOR resolved a dispute: `refund` (at most the fare) went to the rider's
    /// deposit balance and the rest, `fare`, was booked on the operator's KST `day` in three
    /// parts that sum exactly to it.
    event DisputeResolved(
        uint256 indexed tripId,
        address indexed inspector,
        uint32 indexed day,
        uint256 refund,
        uint256 fare,
        uint256 operatorShare,
        uint256 villageShare,
        uint256 platformFee
    );
    /// @notice An operator's day was paid out to the revenue split: the operator's share becomes
    /// claimable there, the village share and the platform fee go to the house payees.
    event DayReleased(
        address indexed operator,
        uint32 indexed day,
        uint256 legs,
        uint256 gross,
        uint256 operatorShare,
        uint256 villageShare,
        uint256 platformFee
    );
    /// @notice A rider withdrew from the deposit balance (paid through the vault's refund).
    event DepositWithdrawn(address indexed rider, uint256 amount);

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
    function releaseDay(address operator, uint32 day) external;
    function withdrawDeposit(uint256 amount) external;

    function tripOf(uint256 tripId) external view returns (Trip memory);
    function operatorDay(address operator, uint32 day) external view returns (OperatorDay memory);
    function dayFinalAt(uint32 day) external view returns (uint256);
    function depositBalanceOf(address rider) external view returns (uint256);
    function endReportDigest(uint256 tripId, uint64 endedAt, int64 distanceMeters) external view returns (bytes32);
}
