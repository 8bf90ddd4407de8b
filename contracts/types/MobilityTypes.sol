// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice What a mobility operator runs (DESIGN §1: valet, shared cars, kick-scooters; phase 2: transit).
enum OperatorKind {
    NONE,
    CAR_SHARE,
    KICK_SCOOTER,
    VALET,
    TRANSIT
}

/// @notice A registered operator, one storage word.
struct MobilityOperator {
    OperatorKind kind;
    bool active;
    uint32 currentPlan;
}

/// @notice A vehicle or other asset of an operator, one storage word. `villageZone` marks an
/// asset stationed in the Sangsalmi village zone: trips starting on it pay the village its share.
struct MobilityAsset {
    address operator;
    OperatorKind kind;
    bool active;
    bool villageZone;
}

/// @notice The four prices of a fare plan in KRW, packed into 128 bits so a trip can keep a copy.
/// @dev The daily cap bounds any trip's fare: trips longer than the timeout are closed at the cap.
struct FareTerms {
    uint32 unlockFee;
    uint32 perMinute;
    uint32 per100m;
    uint32 dailyCap;
}

/// @notice A published fare plan; plans are never changed, only superseded.
struct FarePlan {
    address operator;
    FareTerms terms;
}

/// @notice Lifecycle of a trip. The end report books the fare on the operator's day at once
/// (ENDED); once the dispute window has passed the trip reads as SETTLED without another
/// transaction. A disputed trip is taken off that day and booked again when resolved (SETTLED).
enum TripStatus {
    NONE,
    OPEN,
    ENDED,
    DISPUTED,
    SETTLED
}

/// @notice A trip record in three storage words, laid out so that the end report reads three
/// words and writes only the third.
struct Trip {
    // word 0: fixed at the start
    address rider;
    uint48 deposit;
    uint40 startedAt;
    bool villageZone;
    // word 1: fixed at the start
    address operator;
    uint32 assetId;
    uint32 planId;
    // word 2: the outcome, and the plan's prices copied at the start (FareTerms inlined: a nested
    // struct would start a fourth word) so the end needs no external read
    TripStatus status;
    uint40 closedAt; // when the end was recorded on chain (the dispute window runs from here)
    uint32 fare; // at most the daily cap; after a dispute, what the rider finally paid
    uint32 duration; // reported end - start, seconds
    uint32 unlockFee;
    uint32 perMinute;
    uint32 per100m;
    uint32 dailyCap;
}

/// @notice A journey (MaaS): legs of one rider across operators, one storage word.
struct Journey {
    address rider;
    uint16 legs;
    uint40 lastEnd;
}

/// @notice An operator's fares booked in one KST day (trips ended that day and not disputed,
/// plus disputes resolved that day), one storage word. The day's fares stay in the vault's
/// escrow until the day's dispute window has passed; `released` marks their payout.
struct OperatorDay {
    uint32 legs;
    uint72 gross;
    uint72 fees;
    uint72 village;
    bool released;
}

/// @notice Lifecycle of a valet request.
enum ValetStatus {
    NONE,
    REQUESTED,
    ACCEPTED,
    PARKED,
    RETURN_REQUESTED,
    RETURNED,
    CANCELLED
}

/// @notice A valet request, two storage words.
struct ValetRequest {
    address rider;
    uint32 lotId;
    ValetStatus status;
    uint48 fee;
    address worker;
    uint96 leaseId;
}
