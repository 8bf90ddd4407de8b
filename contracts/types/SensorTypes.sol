// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice What an edge device measures with; fixes its CDS source type off chain.
enum DeviceKind {
    MAGNETOMETER,
    ULTRASONIC,
    CAMERA
}

/// @notice An edge device as the registry keeps it. Its id is its own signing address.
struct Device {
    DeviceKind kind;
    bool active;
    address operator; // the OPERATOR (or CITY_ADMIN) account that installed it
    uint32 slotCount; // how many slots it watches
    uint40 registeredAt;
}

/// @notice The state of one slot as read from the oracle: UNKNOWN when no report covered it
/// within the heartbeat plus the margin.
enum SlotOccupancy {
    FREE,
    OCCUPIED,
    UNKNOWN
}

/// @notice A batched occupancy report. Slot `s` lives in word `s >> 8`, bit `s & 255`.
/// For each listed word, the bits set in `masks[i]` were observed (changed or confirmed by a
/// heartbeat) and take their value from `values[i]`; bits outside the mask are untouched.
/// `sequence` is the oracle's report counter (exactly the last one plus 1); `observedAt` is the
/// Unix time of the newest event in the report and never goes backwards.
struct OccupancyReport {
    uint64 sequence;
    uint64 observedAt;
    uint256[] wordIndexes;
    uint256[] masks;
    uint256[] values;
}

enum IncidentType {
    ILLEGAL_PARKING,
    UNAUTHORISED_OCCUPANCY,
    ILLEGAL_DUMPING,
    JAYWALKING
}

enum IncidentStatus {
    NONE,
    OPEN,
    CONFIRMED,
    DISMISSED
}

/// @notice Why an INSPECTOR confirmed or dismissed an incident: a code, never free text (DESIGN
/// §6: no free text on chain). Details, where needed, are sealed in the evidence store and only
/// their CID goes on chain with the review. Confirm takes EVIDENCE_CLEAR, VERIFIED_ON_SITE or
/// OTHER; dismiss takes FALSE_DETECTION, AUTHORISED_USE, DUPLICATE, INSUFFICIENT_EVIDENCE or
/// OTHER. OTHER needs a details CID. The order is part of the ABI: the indexer and the API name
/// the codes by position (citypass/protocol/review_reasons.py).
enum ReviewReason {
    EVIDENCE_CLEAR, // confirm: the camera still or the sensor report shows the incident
    VERIFIED_ON_SITE, // confirm: an inspector saw it on site
    FALSE_DETECTION, // dismiss: the evidence does not show the incident (a detector error)
    AUTHORISED_USE, // dismiss: the vehicle or use was authorised (the lessee, a permit, loading)
    DUPLICATE, // dismiss: another incident covers the same event
    INSUFFICIENT_EVIDENCE, // dismiss: the evidence cannot settle it (blurred, cut off, too late)
    OTHER // either: the reason is in the sealed details (detailsCid required)
}

/// @notice An incident as an oracle files it. No personal data (DESIGN §6): the evidence lives
/// off chain, encrypted; only its CID (binary CIDv1) and SHA-256 content hash are anchored.
/// `sourceEventId` is the signed edge event's id (or a report digest for sensor-derived ones)
/// and makes filing idempotent.
struct IncidentInput {
    IncidentType kind;
    uint256 slotId; // 0 when the incident is not at a slot (dumping, jaywalking)
    int32 latE6;
    int32 lonE6;
    uint64 observedAt;
    uint16 confidenceBps;
    bytes32 sourceEventId;
    bytes32 contentHash;
    bytes evidenceCid;
}

/// @notice What storage keeps of an incident; the rest is in its IncidentReported event.
struct Incident {
    IncidentType kind;
    IncidentStatus status;
    uint16 confidenceBps;
    uint40 observedAt;
    uint40 reviewedAt;
    address reporter;
    uint256 slotId;
    bytes32 contentHash;
}
