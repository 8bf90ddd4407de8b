// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice The four kinds of shared space in the Sangsalmi pilot (DESIGN §1).
enum SlotCategory {
    PUBLIC_LOT,
    PRIVATE_LOT,
    RESIDENT_PRIORITY,
    PERSONAL
}

/// @notice Who receives a revenue share. PLATFORM also takes what the other bps leave over.
enum Payee {
    OWNER,
    VILLAGE_ENTERPRISE,
    CITY_FUND,
    PLATFORM
}

/// @notice Lifecycle of a lease. NONE means the record was never written.
enum LeaseStatus {
    NONE,
    BOOKED,
    CHECKED_IN,
    SETTLED,
    CANCELLED,
    NO_SHOW
}

/// @notice One weekly sharing window in local time (KST), in half-hour units of the day.
/// @dev `endUnit <= startUnit` means the window runs overnight into the next day; the days in
/// `daysMask` (bit 0 = Monday … bit 6 = Sunday) are the days the window *starts* on.
struct SharingWindow {
    uint8 daysMask;
    uint8 startUnit;
    uint8 endUnit;
}

/// @notice What the lease market needs to accept a booking, read in one call.
/// @dev Packed into one storage word in ParkingSlots; `windows` is SharingWindows' packing.
struct SlotBookingTerms {
    bool exists;
    bool active;
    bool hasBlackouts;
    SlotCategory category;
    uint16 termsVersion;
    uint32 pricePerUnit;
    uint32 overagePer10Min;
    uint96 windows;
}

/// @notice A versioned price list; old versions stay readable for leases booked under them.
struct SlotTerms {
    uint32 pricePerUnit;
    uint32 overagePer10Min;
}

/// @notice A lease record, one storage word. The slot and start are in the lease id.
struct Lease {
    address lessee;
    uint16 units;
    LeaseStatus status;
    uint8 generation;
    uint32 bookedAt;
    uint16 termsVersion;
}

/// @notice Cancellation, check-in and overstay rules, set by CITY_ADMIN (DESIGN §4 defaults).
struct LeasePolicy {
    uint32 freeCancelCutoff; // seconds before start until which cancelling is free
    uint32 bookingGracePeriod; // seconds after booking during which cancelling is free
    uint16 lateCancelRefundBps; // refund share after the cut-off, before the start
    uint32 overstayPenalty; // fixed KRW charged once on any overstay
    uint32 checkInEarly; // how long before the start a check-in is accepted, seconds
}
