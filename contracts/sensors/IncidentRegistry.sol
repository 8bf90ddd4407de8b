// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICityAccess} from "../interfaces/ICityAccess.sol";
import {IIncidentRegistry} from "../interfaces/IIncidentRegistry.sol";
import {CityAccessControlled} from "../access/CityAccessControlled.sol";
import {CityRoles} from "../access/CityRoles.sol";
import {BasisPoints} from "../libraries/BasisPoints.sol";
import {HalfHours} from "../libraries/HalfHours.sol";
import {Incident, IncidentInput, IncidentStatus, IncidentType, ReviewReason} from "../types/SensorTypes.sol";

/// @title IncidentRegistry
/// @notice Incidents filed by ORACLE accounts (AI-camera detections relayed by the oracle daemon)
/// and by the OccupancyOracle (unauthorised occupancy of a shared slot), reviewed once by an
/// INSPECTOR with a ReviewReason code (and the CID of sealed details where needed: no free text
/// on chain). Storage keeps the compact `Incident`; the evidence CID lives only in the
/// IncidentReported event. Filing is idempotent by `sourceEventId`.
contract IncidentRegistry is CityAccessControlled, IIncidentRegistry {
    uint256 private constant CID_LENGTH = 36; // 0x01, codec, 0x12, 0x20, 32-byte sha2-256 digest
    uint256 private constant COUNT_BITS = 32;
    uint256 private constant COUNT_MASK = (1 << COUNT_BITS) - 1;

    /// @notice How far past the block time an incident's observedAt may lie (device clock skew).
    uint256 public immutable maxClockSkew;
    /// @notice The OccupancyOracle, whose UNAUTHORISED_OCCUPANCY filings carry no CID.
    address public occupancyOracle;

    uint256 private _count;
    mapping(uint256 incidentId => Incident) private _incidents;
    mapping(bytes32 sourceEventId => uint256 incidentId) private _bySource;
    /// @dev key (kind << 32 | kstDay) → reported | confirmed << 32 | dismissed << 64
    mapping(uint256 key => uint256 packed) private _daily;

    constructor(ICityAccess access_, uint256 maxClockSkew_) CityAccessControlled(access_) {
        maxClockSkew = maxClockSkew_;
    }

    /// @inheritdoc IIncidentRegistry
    function setOccupancyOracle(address occupancyOracle_) external onlyCityRole(CityRoles.CITY_ADMIN) {
        if (occupancyOracle_ == address(0)) revert IncidentRegistryZeroAddress();
        if (occupancyOracle != address(0)) revert IncidentRegistryOccupancyOracleAlreadySet();
        occupancyOracle = occupancyOracle_;
        emit OccupancyOracleSet(occupancyOracle_);
    }

    /// @inheritdoc IIncidentRegistry
    /// @dev Reverts IncidentRegistryDuplicate for a source already filed.
    function reportIncident(IncidentInput calldata input)
        external
        onlyCityRole(CityRoles.ORACLE)
        returns (uint256 incidentId)
    {
        uint256 existing = _bySource[input.sourceEventId];
        if (existing != 0) revert IncidentRegistryDuplicate(input.sourceEventId, existing);
        return _file(input);
    }

    /// @inheritdoc IIncidentRegistry
    /// @dev Sources already filed are skipped silently, so a daemon re-sending a batch after a
    /// crash files nothing twice. Any invalid input reverts the whole batch. Returns the first
    /// new incident id, or 0 when every input was already filed.
    function reportIncidents(IncidentInput[] calldata inputs)
        external
        onlyCityRole(CityRoles.ORACLE)
        returns (uint256 firstId)
    {
        for (uint256 i = 0; i < inputs.length; ++i) {
            if (_bySource[inputs[i].sourceEventId] != 0) continue;
            uint256 id = _file(inputs[i]);
            if (firstId == 0) firstId = id;
        }
    }

    /// @inheritdoc IIncidentRegistry
    function confirm(uint256 incidentId, uint8 reasonCode, bytes calldata detailsCid)
        external
        onlyCityRole(CityRoles.INSPECTOR)
    {
        _review(incidentId, IncidentStatus.CONFIRMED, reasonCode, detailsCid);
    }

    /// @inheritdoc IIncidentRegistry
    function dismiss(uint256 incidentId, uint8 reasonCode, bytes calldata detailsCid)
        external
        onlyCityRole(CityRoles.INSPECTOR)
    {
        _review(incidentId, IncidentStatus.DISMISSED, reasonCode, detailsCid);
    }

    /// @inheritdoc IIncidentRegistry
    function incidentOf(uint256 incidentId) external view returns (Incident memory incident) {
        incident = _incidents[incidentId];
        if (incident.status == IncidentStatus.NONE) revert IncidentRegistryUnknownIncident(incidentId);
    }

    /// @inheritdoc IIncidentRegistry
    function incidentCount() external view returns (uint256) {
        return _count;
    }

    /// @inheritdoc IIncidentRegistry
    function incidentBySource(bytes32 sourceEventId) external view returns (uint256) {
        return _bySource[sourceEventId];
    }

    /// @inheritdoc IIncidentRegistry
    function dailyCounts(IncidentType kind, uint32 kstDay)
        external
        view
        returns (uint32 reported, uint32 confirmed, uint32 dismissed)
    {
        uint256 packed = _daily[_dayKey(kind, kstDay)];
        return (uint32(packed), uint32(packed >> COUNT_BITS), uint32(packed >> (2 * COUNT_BITS)));
    }

    /// @notice The KST day (days since 1970-01-01 in Korea Standard Time) of a Unix time.
    function kstDayOf(uint256 timestamp) public pure returns (uint32) {
        return HalfHours.localDay(timestamp);
    }

    function _file(IncidentInput calldata input) private returns (uint256 incidentId) {
        _validate(input);
        incidentId = ++_count;
        _incidents[incidentId] = Incident({
            kind: input.kind,
            status: IncidentStatus.OPEN,
            confidenceBps: input.confidenceBps,
            observedAt: uint40(input.observedAt),
            reviewedAt: 0,
            reporter: _msgSender(),
            slotId: input.slotId,
            contentHash: input.contentHash
        });
        _bySource[input.sourceEventId] = incidentId;
        _daily[_dayKey(input.kind, kstDayOf(input.observedAt))] += 1;
        emit IncidentReported(
            incidentId,
            input.kind,
            input.slotId,
            input.latE6,
            input.lonE6,
            input.observedAt,
            input.confidenceBps,
            input.sourceEventId,
            input.contentHash,
            input.evidenceCid,
            _msgSender()
        );
    }

    function _validate(IncidentInput calldata input) private view {
        // Read the raw enum: an out-of-range value must give our error, not a decoding panic.
        uint8 kind;
        assembly ("memory-safe") {
            kind := calldataload(input)
        }
        if (kind > uint8(type(IncidentType).max)) revert IncidentRegistryInvalidType(kind);
        if (input.sourceEventId == bytes32(0)) revert IncidentRegistryZeroSource();
        if (input.confidenceBps > BasisPoints.FULL) revert IncidentRegistryInvalidConfidence(input.confidenceBps);
        if (input.observedAt == 0 || input.observedAt > block.timestamp + maxClockSkew) {
            revert IncidentRegistryInvalidTime(input.observedAt);
        }
        if (
            input.latE6 < -90_000_000 || input.latE6 > 90_000_000 || input.lonE6 < -180_000_000
                || input.lonE6 > 180_000_000
        ) revert IncidentRegistryInvalidLocation(input.latE6, input.lonE6);
        bytes calldata cid = input.evidenceCid;
        if (cid.length == 0) {
            // Only a sensor-derived incident has no image: the OccupancyOracle's, bound to its report.
            bool sensorDerived = input.kind == IncidentType.UNAUTHORISED_OCCUPANCY
                && _msgSender() == occupancyOracle && input.contentHash != bytes32(0);
            if (!sensorDerived) revert IncidentRegistryInvalidCid();
        } else if (!_isCidV1(cid)) {
            revert IncidentRegistryInvalidCid();
        }
    }

    /// @dev A binary CIDv1 as the evidence store makes them: raw or dag-pb, sha2-256.
    function _isCidV1(bytes calldata cid) private pure returns (bool) {
        return cid.length == CID_LENGTH && cid[0] == 0x01 && (cid[1] == 0x55 || cid[1] == 0x70) && cid[2] == 0x12
            && cid[3] == 0x20;
    }

    /// @dev The reason code as a ReviewReason valid for `outcome`, the details CID checked.
    function _reason(uint8 reasonCode, IncidentStatus outcome, bytes calldata detailsCid)
        private
        pure
        returns (ReviewReason reason)
    {
        if (reasonCode > uint8(type(ReviewReason).max)) revert IncidentRegistryUnknownReason(reasonCode);
        reason = ReviewReason(reasonCode);
        bool fits = reason == ReviewReason.OTHER
            || (outcome == IncidentStatus.CONFIRMED) == (reason <= ReviewReason.VERIFIED_ON_SITE);
        if (!fits) revert IncidentRegistryReasonNotForOutcome(reason, outcome);
        if (detailsCid.length == 0) {
            if (reason == ReviewReason.OTHER) revert IncidentRegistryDetailsRequired(reason);
        } else if (!_isCidV1(detailsCid)) {
            revert IncidentRegistryInvalidCid();
        }
    }

    function _review(uint256 incidentId, IncidentStatus status, uint8 reasonCode, bytes calldata detailsCid)
        private
    {
        ReviewReason reason = _reason(reasonCode, status, detailsCid);
        Incident storage incident = _incidents[incidentId];
        IncidentStatus current = incident.status;
        if (current == IncidentStatus.NONE) revert IncidentRegistryUnknownIncident(incidentId);
        if (current != IncidentStatus.OPEN) revert IncidentRegistryAlreadyReviewed(incidentId, current);
        incident.status = status;
        incident.reviewedAt = uint40(block.timestamp);
        uint256 shift = status == IncidentStatus.CONFIRMED ? COUNT_BITS : 2 * COUNT_BITS;
        _daily[_dayKey(incident.kind, kstDayOf(incident.observedAt))] += 1 << shift;
        emit IncidentReviewed(incidentId, status, _msgSender(), reason, detailsCid);
    }

    function _dayKey(IncidentType kind, uint32 kstDay) private pure returns (uint256) {
        return (uint256(kind) << COUNT_BITS) | kstDay;
    }
}
