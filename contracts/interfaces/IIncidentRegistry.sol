// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Incident, IncidentInput, IncidentStatus, IncidentType, ReviewReason} from "../types/SensorTypes.sol";

/// @title IIncidentRegistry
/// @notice AI-camera and sensor incidents (illegal parking, unauthorised occupancy, illegal
/// dumping, jaywalking), filed by ORACLE accounts and the OccupancyOracle, reviewed by INSPECTOR
/// (confirm or dismiss, with a ReviewReason code and, where details are needed, the CID of details
/// sealed in the evidence store: no free text on chain). Per-KST-day counts feed the KPIs.
interface IIncidentRegistry {
    /// @notice The incident type value is not an IncidentType.
    error IncidentRegistryInvalidType(uint8 kind);
    /// @notice An incident with this source event id was already filed.
    error IncidentRegistryDuplicate(bytes32 sourceEventId, uint256 incidentId);
    /// @notice The incident does not exist.
    error IncidentRegistryUnknownIncident(uint256 incidentId);
    /// @notice The incident was already reviewed.
    error IncidentRegistryAlreadyReviewed(uint256 incidentId, IncidentStatus status);
    /// @notice Confidence above 10,000 basis points.
    error IncidentRegistryInvalidConfidence(uint16 confidenceBps);
    /// @notice observedAt is 0 or later than the block time plus the allowed skew.
    error IncidentRegistryInvalidTime(uint64 observedAt);
    /// @notice The review's reason code is not a ReviewReason value.
    error IncidentRegistryUnknownReason(uint8 reasonCode);
    /// @notice The reason code does not fit the review's outcome (a confirm reason on a dismiss, or
    /// the other way round).
    error IncidentRegistryReasonNotForOutcome(ReviewReason reason, IncidentStatus outcome);
    /// @notice OTHER says nothing by itself: give the CID of the sealed details.
    error IncidentRegistryDetailsRequired(ReviewReason reason);
    /// @notice An evidence CID (or a review's details CID) is not a binary CIDv1, or an incident's
    /// evidence CID is empty where an image is required.
    error IncidentRegistryInvalidCid();
    /// @notice Latitude/longitude out of range.
    error IncidentRegistryInvalidLocation(int32 latE6, int32 lonE6);
    /// @notice A zero address was given where a contract is required.
    error IncidentRegistryZeroAddress();
    /// @notice The source event id is zero; give the signed event's id (or a report digest).
    error IncidentRegistryZeroSource();
    /// @notice The OccupancyOracle was already set; it is set once at deployment.
    error IncidentRegistryOccupancyOracleAlreadySet();

    event IncidentReported(
        uint256 indexed incidentId,
        IncidentType indexed kind,
        uint256 indexed slotId,
        int32 latE6,
        int32 lonE6,
        uint64 observedAt,
        uint16 confidenceBps,
        bytes32 sourceEventId,
        bytes32 contentHash,
        bytes evidenceCid,
        address reporter
    );
    /// @notice The OccupancyOracle whose sensor-derived incidents may come without evidence was set.
    event OccupancyOracleSet(address indexed occupancyOracle);
    /// @notice An inspector reviewed an incident. `detailsCid` is empty or the binary CIDv1 of
    /// details sealed in the evidence store.
    event IncidentReviewed(
        uint256 indexed incidentId,
        IncidentStatus status,
        address indexed inspector,
        ReviewReason reasonCode,
        bytes detailsCid
    );

    /// @notice Wire the OccupancyOracle once (CITY_ADMIN, at deployment).
    function setOccupancyOracle(address occupancyOracle) external;
    function reportIncident(IncidentInput calldata input) external returns (uint256 incidentId);
    function reportIncidents(IncidentInput[] calldata inputs) external returns (uint256 firstId);
    /// @notice Uphold an open incident (INSPECTOR).
    /// @param reasonCode a ReviewReason valid for confirming: EVIDENCE_CLEAR, VERIFIED_ON_SITE or
    /// OTHER (taken as uint8 so an out-of-range code gets IncidentRegistryUnknownReason)
    /// @param detailsCid empty, or the binary CIDv1 of sealed details (required with OTHER)
    function confirm(uint256 incidentId, uint8 reasonCode, bytes calldata detailsCid) external;
    /// @notice Dismiss an open incident (INSPECTOR).
    /// @param reasonCode a ReviewReason valid for dismissing: FALSE_DETECTION, AUTHORISED_USE,
    /// DUPLICATE, INSUFFICIENT_EVIDENCE or OTHER
    /// @param detailsCid empty, or the binary CIDv1 of sealed details (required with OTHER)
    function dismiss(uint256 incidentId, uint8 reasonCode, bytes calldata detailsCid) external;

    function incidentOf(uint256 incidentId) external view returns (Incident memory);
    function incidentCount() external view returns (uint256);
    function incidentBySource(bytes32 sourceEventId) external view returns (uint256);
    /// @notice Counts per KST day (days since 1970-01-01 in KST): filed, confirmed, dismissed.
    function dailyCounts(IncidentType kind, uint32 kstDay)
        external
        view
        returns (uint32 reported, uint32 confirmed, uint32 dismissed);
}
