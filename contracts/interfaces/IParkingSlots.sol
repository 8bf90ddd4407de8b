// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SharingWindow, SlotBookingTerms, SlotCategory, SlotTerms} from "../types/ParkingTypes.sol";

/// @title IParkingSlots
/// @notice One ERC-721 token per shared parking space, with its sharing windows and prices.
interface IParkingSlots {
    /// @notice A zero address was given where an account or contract is required.
    error ParkingSlotsZeroAddress();
    /// @notice The slot token does not exist.
    /// @param slotId the slot
    error ParkingSlotsUnknownSlot(uint256 slotId);
    /// @notice The caller is neither the slot's owner nor approved for it.
    /// @param slotId the slot
    /// @param caller the caller
    error ParkingSlotsNotSlotOwner(uint256 slotId, address caller);
    /// @notice The category value is not a SlotCategory.
    /// @param category the raw value
    error ParkingSlotsInvalidCategory(uint8 category);
    /// @notice Latitude/longitude (micro-degrees) out of range.
    /// @param latE6 latitude
    /// @param lonE6 longitude
    error ParkingSlotsInvalidLocation(int32 latE6, int32 lonE6);
    /// @notice A PERSONAL (home) space was given a location finer than its coarse cell: both
    /// coordinates must be multiples of 1000 micro-degrees (0.001°, about 111 m by 88 m at 37.5°N).
    /// Snap them off chain before the call (citypass/protocol/coarse_location.py); the exact
    /// spot goes to the lessee off chain, through the API.
    /// @param latE6 latitude given
    /// @param lonE6 longitude given
    error ParkingSlotsLocationTooPrecise(int32 latE6, int32 lonE6);
    /// @notice A sharing window is malformed, or there are more than five.
    /// @param index the first bad window (or the count when there are too many)
    error ParkingSlotsInvalidWindow(uint256 index);
    /// @notice A price per 30 min or overage per 10 min is zero or above the ceiling.
    /// @param pricePerUnit the price given
    /// @param overagePer10Min the overage given
    error ParkingSlotsInvalidPrice(uint256 pricePerUnit, uint256 overagePer10Min);
    /// @notice A blackout day is too far in the past or future (local days since 1970).
    /// @param localDay the day given
    error ParkingSlotsInvalidDay(uint256 localDay);
    /// @notice The lease market was already set; it is set once at deployment.
    error ParkingSlotsLeaseMarketAlreadySet();
    /// @notice Slots are registered only once the lease market, which keeps their terms, is set.
    error ParkingSlotsLeaseMarketNotSet();
    /// @notice ERC-4907 users come from the lease market; setUser is not available.
    /// @param slotId the slot
    error ParkingSlotsUserManagedByMarket(uint256 slotId);
    /// @notice The terms version was never published for this slot.
    /// @param slotId the slot
    /// @param version the version asked for
    error ParkingSlotsUnknownTermsVersion(uint256 slotId, uint16 version);

    /// @notice A shared space was registered as slot `slotId`. A PERSONAL space's location is
    /// the centre of its coarse cell (multiples of 0.001°), never the home's exact spot.
    event SlotRegistered(
        uint256 indexed slotId,
        address indexed owner,
        uint32 indexed lotId,
        SlotCategory category,
        int32 latE6,
        int32 lonE6
    );
    /// @notice The owner replaced the slot's weekly sharing windows (packed form).
    event WindowsSet(uint256 indexed slotId, uint96 windows);
    /// @notice The owner published a new price list version.
    event TermsSet(uint256 indexed slotId, uint16 indexed version, uint32 pricePerUnit, uint32 overagePer10Min);
    /// @notice A local day was blacked out (or reopened) for sharing.
    event BlackoutSet(uint256 indexed slotId, uint256 indexed localDay, bool blackedOut);
    /// @notice The slot was taken out of (or put back into) sharing.
    event SlotActiveSet(uint256 indexed slotId, bool active, address indexed by);
    /// @notice The lease market that answers ERC-4907 queries was set.
    event LeaseMarketSet(address indexed leaseMarket);

    /// @notice Register a shared space for `owner` (OPERATOR). A PERSONAL space's coordinates
    /// must lie on the coarse grid (multiples of 1000 micro-degrees), or the call reverts with
    /// ParkingSlotsLocationTooPrecise; other categories keep exact coordinates.
    function registerSlot(address owner, uint8 category, uint32 lotId, int32 latE6, int32 lonE6)
        external
        returns (uint256 slotId);
    function setWindows(uint256 slotId, SharingWindow[] calldata windows) external;
    function setTerms(uint256 slotId, uint32 pricePerUnit, uint32 overagePer10Min) external;
    function setBlackout(uint256 slotId, uint256 localDay, bool blackedOut) external;
    function setActive(uint256 slotId, bool active) external;

    function bookingTerms(uint256 slotId) external view returns (SlotBookingTerms memory);
    function settlementTerms(uint256 slotId, uint16 version)
        external
        view
        returns (address owner, SlotCategory category, SlotTerms memory terms);
    function isBlackedOut(uint256 slotId, uint256 fromLocalDay, uint256 toLocalDay) external view returns (bool);
    function isAvailable(uint256 slotId, uint256 fromLocalDay, uint256 toLocalDay) external view returns (bool);
    /// @notice Whether the slot is open for sharing at `timestamp`: it exists, is active, the
    /// half-hour lies in a sharing window and the local day is not blacked out.
    function isOpenAt(uint256 slotId, uint256 timestamp) external view returns (bool);
    /// @notice Where the slot is: its lot and fixed-point location (micro-degrees); for a
    /// PERSONAL space the centre of its coarse cell.
    function placeOf(uint256 slotId) external view returns (uint32 lotId, int32 latE6, int32 lonE6);
    function windowsOf(uint256 slotId) external view returns (SharingWindow[] memory);
    function slotCount() external view returns (uint256);
}
