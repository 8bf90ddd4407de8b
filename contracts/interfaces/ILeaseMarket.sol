// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Lease, LeasePolicy, LeaseStatus, SlotBookingTerms} from "../types/ParkingTypes.sol";

/// @title ILeaseMarket
/// @notice Books shared parking slots in 30-minute units, escrows payment in CityCredit and
/// settles through the revenue split. A booking is paid wholly from the member's prepaid balance
/// when that covers the price (no token transfer, no event of its own: LeaseBooked's price is
/// the debit), else wholly by a credit transfer from the member into the vault. Prepaid credits
/// are held in the vault too, so the vault's token balance is the prepaid balances plus the
/// escrow of open leases plus what payees may claim.
/// @dev A lease id is (slotId << 48) | (startUnit << 8) | generation: the slot and start are
/// readable from the id, and the generation counts re-bookings of a cancelled start.
interface ILeaseMarket {
    /// @notice The account is not an active member.
    /// @param account the account
    error LeaseMarketNotMember(address account);
    /// @notice A zero address was given where a contract is required.
    error LeaseMarketZeroAddress();
    /// @notice A time is not on a 30-minute boundary.
    /// @param timestamp the time given
    error LeaseMarketMisalignedTime(uint256 timestamp);
    /// @notice The start is not before the end.
    /// @param start the start given
    /// @param end the end given
    error LeaseMarketInvalidRange(uint256 start, uint256 end);
    /// @notice The start lies before the current half-hour.
    /// @param start the start given
    /// @param nowTimestamp the block time
    error LeaseMarketStartInPast(uint256 start, uint256 nowTimestamp);
    /// @notice The start lies further ahead than the policy allows.
    /// @param start the start given
    /// @param latestStart the latest start accepted now
    error LeaseMarketTooFarAhead(uint256 start, uint256 latestStart);
    /// @notice The lease is longer than the policy allows.
    /// @param units the length asked for, in 30-minute units
    /// @param maxUnits the policy maximum
    error LeaseMarketTooLong(uint256 units, uint256 maxUnits);
    /// @notice The slot does not exist.
    /// @param slotId the slot
    error LeaseMarketUnknownSlot(uint256 slotId);
    /// @notice The slot is taken out of sharing or blacked out in the period.
    /// @param slotId the slot
    error LeaseMarketSlotUnavailable(uint256 slotId);
    /// @notice Part of the period lies outside the slot's sharing windows.
    /// @param slotId the slot
    /// @param start the start given
    /// @param end the end given
    error LeaseMarketOutsideWindow(uint256 slotId, uint256 start, uint256 end);
    /// @notice Part of the period is already leased.
    /// @param slotId the slot
    /// @param start the start given
    /// @param end the end given
    error LeaseMarketOverlap(uint256 slotId, uint256 start, uint256 end);
    /// @notice The price exceeds the booker's maximum.
    /// @param price the price of the lease
    /// @param maxPrice the maximum given
    error LeaseMarketPriceAboveMax(uint256 price, uint256 maxPrice);
    /// @notice No lease has this id (or the id names a superseded generation).
    /// @param leaseId the id
    error LeaseMarketUnknownLease(uint256 leaseId);
    /// @notice The lease is not in a state that allows this action.
    /// @param leaseId the lease
    /// @param status its status
    error LeaseMarketWrongStatus(uint256 leaseId, LeaseStatus status);
    /// @notice The caller may not act on this lease.
    /// @param leaseId the lease
    /// @param caller the caller
    error LeaseMarketNotAuthorized(uint256 leaseId, address caller);
    /// @notice The lease has started, so the lessee can no longer cancel.
    /// @param leaseId the lease
    error LeaseMarketAlreadyStarted(uint256 leaseId);
    /// @notice Check-in outside [start - checkInEarly, end).
    /// @param leaseId the lease
    /// @param nowTimestamp the block time
    error LeaseMarketOutsideLeaseTime(uint256 leaseId, uint256 nowTimestamp);
    /// @notice The lease has not ended yet, so it cannot be settled as a no-show.
    /// @param leaseId the lease
    /// @param end its end
    error LeaseMarketNotEnded(uint256 leaseId, uint256 end);
    /// @notice The lease has no unpaid overstay.
    /// @param leaseId the lease
    error LeaseMarketNoDebt(uint256 leaseId);
    /// @notice A policy field is out of its bounds.
    /// @param field the field's name
    error LeaseMarketInvalidPolicy(string field);
    /// @notice The same start of a slot was re-booked after cancellation too many times (255).
    /// @param slotId the slot
    /// @param start the start
    error LeaseMarketRebookLimit(uint256 slotId, uint256 start);
    /// @notice The permit failed and the allowance does not cover the price.
    /// @param reason the permit's revert data
    error LeaseMarketPermitFailed(bytes reason);
    /// @notice A deposit or withdrawal of zero credits.
    error LeaseMarketZeroAmount();
    /// @notice Deposits wait until CityAccess tells this market of suspensions (deployment wires it).
    error LeaseMarketPrepaidClosed();
    /// @notice The prepaid balance does not cover the withdrawal.
    /// @param account the account
    /// @param balance its prepaid balance
    /// @param amount the amount asked for
    error LeaseMarketInsufficientPrepaid(address account, uint256 balance, uint256 amount);

    /// @notice A lease was booked and its price escrowed.
    event LeaseBooked(
        uint256 indexed leaseId, uint256 indexed slotId, address indexed lessee, uint64 start, uint64 end, uint256 price
    );
    /// @notice A lease was cancelled; `refund` went back to the lessee and `retained` to the split.
    event LeaseCancelled(uint256 indexed leaseId, address indexed by, uint256 refund, uint256 retained);
    /// @notice The vehicle arrived (by the lessee, or the ORACLE from a sensor).
    event LeaseCheckedIn(uint256 indexed leaseId, address indexed by, uint64 at);
    /// @notice The vehicle left and the lease was settled; `overstayCharge` was charged on top.
    event LeaseSettled(
        uint256 indexed leaseId, address indexed by, uint64 at, uint256 price, uint256 overstayCharge, bool overstayPaid
    );
    /// @notice A lease ended without a check-in and the price went to the split.
    event LeaseNoShow(uint256 indexed leaseId, address indexed by, uint256 price);
    /// @notice An overstay charge could not be collected at check-out and is owed.
    event OverstayDebtRecorded(uint256 indexed leaseId, address indexed lessee, uint256 amount);
    /// @notice An owed overstay charge was paid.
    event OverstayDebtPaid(uint256 indexed leaseId, address indexed payer, uint256 amount);
    /// @notice A member moved credits into its prepaid booking balance (held in the vault).
    event PrepaidDeposited(address indexed account, uint256 amount, uint256 balance);
    /// @notice A member took credits back out of its prepaid booking balance.
    event PrepaidWithdrawn(address indexed account, uint256 amount, uint256 balance);
    /// @notice CITY_ADMIN changed the policy.
    event PolicySet(LeasePolicy policy);

    function book(uint256 slotId, uint64 start, uint64 end, uint256 maxPrice) external returns (uint256 leaseId);
    function bookWithPermit(
        uint256 slotId,
        uint64 start,
        uint64 end,
        uint256 maxPrice,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (uint256 leaseId);
    /// @notice Move `amount` credits (approved to the market) into the caller's prepaid balance.
    function deposit(uint256 amount) external;
    /// @notice `deposit` with an EIP-2612 permit for the market to pull `amount`.
    function depositWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external;
    /// @notice Take `amount` credits back out of the caller's prepaid balance.
    function withdraw(uint256 amount) external;
    function cancel(uint256 leaseId) external;
    function ownerCancel(uint256 leaseId) external;
    function checkIn(uint256 leaseId) external;
    function checkOut(uint256 leaseId) external;
    function settleNoShow(uint256 leaseId) external;
    function payOverstayDebt(uint256 leaseId) external;
    function setPolicy(LeasePolicy calldata newPolicy) external;

    function leaseOf(uint256 leaseId) external view returns (Lease memory);
    function quote(uint256 slotId, uint64 start, uint64 end) external view returns (uint256 price);
    function userOf(uint256 slotId) external view returns (address);
    function userExpires(uint256 slotId) external view returns (uint256);
    function currentLeaseId(uint256 slotId) external view returns (uint256);
    function policy() external view returns (LeasePolicy memory);
    /// @notice Store a slot's current booking terms. Only ParkingSlots, after its owner checks:
    /// the terms live here so that a booking reads them without a cross-contract call.
    function setSlotTerms(uint256 slotId, SlotBookingTerms calldata terms) external;
    /// @notice A slot's current booking terms (ParkingSlots.bookingTerms answers with these).
    function slotTerms(uint256 slotId) external view returns (SlotBookingTerms memory);
    /// @notice The credits the account has prepaid for bookings and not yet spent or withdrawn.
    function prepaidBalanceOf(address account) external view returns (uint256);
}
