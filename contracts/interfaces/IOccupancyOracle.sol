// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {OccupancyReport, SlotOccupancy} from "../types/SensorTypes.sol";

/// @title IOccupancyOracle
/// @notice Bit-packed slot occupancy (one bit per slot, 256 slots per word) written by batched,
/// sequenced reports from the oracle daemon, co-signed by m of n registered oracle signers
/// (EIP-712 `OccupancyReport`). A slot not observed within `heartbeat + margin` reads UNKNOWN.
/// Changes on slots flagged as market slots drive the lease market: arrival inside a lease
/// checks it in, departure checks out and settles (overstay included), and arrival on a slot
/// open for sharing without a lease files an UNAUTHORISED_OCCUPANCY incident.
interface IOccupancyOracle {
    /// @notice The report's sequence is not above the last accepted one (already applied).
    error OccupancyOracleDuplicateReport(uint64 sequence, uint64 lastSequence);
    /// @notice The report skips sequence numbers (an earlier report is missing).
    error OccupancyOracleOutOfOrder(uint64 sequence, uint64 expected);
    /// @notice `observedAt` is before the last report's, or older than the maximum report age.
    error OccupancyOracleStaleReport(uint64 observedAt, uint64 notBefore);
    /// @notice `observedAt` is later than the block time plus the allowed clock skew.
    error OccupancyOracleFutureReport(uint64 observedAt, uint64 notAfter);
    /// @notice The word arrays differ in length, are empty, or too long.
    error OccupancyOracleMalformedReport(uint256 words, uint256 masks, uint256 values);
    /// @notice A word index is beyond the slot range, or listed twice / not ascending.
    error OccupancyOracleInvalidWord(uint256 wordIndex);
    /// @notice A value has bits set outside its mask.
    error OccupancyOracleValueOutsideMask(uint256 wordIndex);
    /// @notice Fewer distinct registered signers than the quorum signed the report.
    error OccupancyOracleQuorumNotMet(uint256 valid, uint256 quorum);
    /// @notice A signature is malformed or not from a registered signer.
    /// @param index position in the signatures array
    error OccupancyOracleInvalidSignature(uint256 index);
    /// @notice Quorum 0 or above the number of signers, or a signer set change that would break it.
    error OccupancyOracleInvalidQuorum(uint256 quorum, uint256 signers);
    /// @notice The signer is already / not registered.
    error OccupancyOracleSignerUnchanged(address signer, bool registered);
    /// @notice A zero address was given.
    error OccupancyOracleZeroAddress();
    /// @notice A slot id beyond the oracle's range.
    error OccupancyOracleInvalidSlot(uint256 slotId);
    /// @notice Constructor timing out of bounds: margin at least 60 s, heartbeat a multiple of the
    /// margin and at most six margins (the freshness ring's size), skew and report age nonzero.
    error OccupancyOracleInvalidConfig();

    /// @notice A report was applied; `changed` counts slots whose bit flipped.
    event OccupancyReported(
        uint64 indexed sequence, uint64 observedAt, uint256 words, uint256 observed, uint256 changed, bytes32 digest
    );
    /// @notice One slot's bit flipped (emitted only for market slots, to keep reports cheap; the
    /// whole bitmap change is recoverable from the report's calldata).
    event SlotOccupancyChanged(uint256 indexed slotId, bool occupied, uint64 observedAt);
    /// @notice The lease market was driven by a report: checked in (true) or out (false).
    event LeaseDriven(uint256 indexed slotId, uint256 indexed leaseId, bool checkedIn);
    /// @notice Driving the market failed (e.g. too early to check in); the report still applies.
    event LeaseDriveFailed(uint256 indexed slotId, uint256 indexed leaseId, bytes4 errorSelector);
    /// @notice Filing an UNAUTHORISED_OCCUPANCY incident failed; the report still applies.
    event IncidentFilingFailed(uint256 indexed slotId, bytes4 errorSelector);
    event SignerSet(address indexed signer, bool registered);
    event QuorumSet(uint256 quorum);
    /// @notice CITY_ADMIN/OPERATOR flagged (or unflagged) slots of one word as market slots.
    event MarketSlotsSet(uint256 indexed wordIndex, uint256 mask);

    function submitReport(OccupancyReport calldata report, bytes[] calldata signatures) external;
    function setSigner(address signer, bool registered) external;
    function setQuorum(uint256 quorum) external;
    function setMarketSlots(uint256 wordIndex, uint256 mask) external;

    function occupancyOf(uint256 slotId) external view returns (SlotOccupancy);
    function occupancyWord(uint256 wordIndex) external view returns (uint256);
    function lastSeenOf(uint256 slotId) external view returns (uint64);
    function lastSequence() external view returns (uint64);
    function lastObservedAt() external view returns (uint64);
    function quorum() external view returns (uint256);
    function signers() external view returns (address[] memory);
    function reportDigest(OccupancyReport calldata report) external view returns (bytes32);
    function heartbeat() external view returns (uint256);
    function margin() external view returns (uint256);
}
