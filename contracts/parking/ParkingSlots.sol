// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {ICityAccess} from "../interfaces/ICityAccess.sol";
import {IERC4907} from "../interfaces/IERC4907.sol";
import {ILeaseMarket} from "../interfaces/ILeaseMarket.sol";
import {IParkingSlots} from "../interfaces/IParkingSlots.sol";
import {CityContext} from "../access/CityContext.sol";
import {CityRoles} from "../access/CityRoles.sol";
import {HalfHours} from "../libraries/HalfHours.sol";
import {SharingWindows} from "../libraries/SharingWindows.sol";
import {SharingWindow, SlotBookingTerms, SlotCategory, SlotTerms} from "../types/ParkingTypes.sol";

/// @title ParkingSlots
/// @notice One ERC-721 token per shared space. The owner (the sharer, or the city for public
/// and resident-priority space) sets weekly sharing windows, blackout days and prices. ERC-4907
/// `userOf`/`userExpires` are answered live from the lease market, so no transaction is needed
/// when a lease ends. A slot's current booking terms (windows, prices, active, blackout flag) are
/// kept in the lease market, which reads them on every booking without a cross-contract call;
/// this contract checks the owner, writes them there, and keeps the older price versions.
contract ParkingSlots is ERC721, CityContext, IParkingSlots, IERC4907 {
    /// @notice Defaults from DESIGN §4 (모두의주차장-like): ₩600 per 30 min, ₩200 per started 10 min.
    uint32 public constant DEFAULT_PRICE_PER_UNIT = 600;
    uint32 public constant DEFAULT_OVERAGE_PER_10_MIN = 200;
    /// @notice Ceilings that catch a mistyped price (₩1,000,000 per unit is far above any lot).
    uint32 public constant MAX_PRICE_PER_UNIT = 1_000_000;
    uint32 public constant MAX_OVERAGE_PER_10_MIN = 1_000_000;
    /// @notice Blackouts may be set up to two years ahead.
    uint256 public constant MAX_BLACKOUT_AHEAD_DAYS = 731;
    /// @notice A PERSONAL (home) space is placed on chain only to a cell of this many
    /// micro-degrees (0.001°: about 111 m north-south, 88 m east-west in Bucheon), so the chain
    /// never ties a resident's address to her home's exact spot (DESIGN §6).
    int32 public constant PERSONAL_GRID_E6 = 1000;

    struct SlotPlace {
        uint32 lotId;
        int32 latE6;
        int32 lonE6;
    }

    uint256 private _slotCount;
    ILeaseMarket public leaseMarket;
    mapping(uint256 slotId => SlotPlace) private _places;
    mapping(uint256 slotId => mapping(uint16 version => SlotTerms)) private _termsHistory;
    /// @dev bit (day % 256) of word (day / 256) marks a blacked-out local day
    mapping(uint256 slotId => mapping(uint256 word => uint256)) private _blackouts;

    constructor(ICityAccess access_, address trustedForwarder)
        ERC721("CityPass Parking Slot", "CPSLOT")
        CityContext(access_, trustedForwarder)
    {}

    /// @notice Wire the lease market once, at deployment (it is deployed after this contract).
    function setLeaseMarket(ILeaseMarket market) external onlyCityRole(CityRoles.CITY_ADMIN) {
        if (address(market) == address(0)) revert ParkingSlotsZeroAddress();
        if (address(leaseMarket) != address(0)) revert ParkingSlotsLeaseMarketAlreadySet();
        leaseMarket = market;
        emit LeaseMarketSet(address(market));
    }

    /// @inheritdoc IParkingSlots
    function registerSlot(address owner, uint8 category, uint32 lotId, int32 latE6, int32 lonE6)
        external
        onlyCityRole(CityRoles.OPERATOR)
        returns (uint256 slotId)
    {
        if (owner == address(0)) revert ParkingSlotsZeroAddress();
        if (category > uint8(type(SlotCategory).max)) revert ParkingSlotsInvalidCategory(category);
        if (latE6 < -90_000_000 || latE6 > 90_000_000 || lonE6 < -180_000_000 || lonE6 > 180_000_000) {
            revert ParkingSlotsInvalidLocation(latE6, lonE6);
        }
        // Refused rather than rounded here: the call data is public too, so the exact spot
        // must never be sent; the caller snaps it first.
        if (
            category == uint8(SlotCategory.PERSONAL)
                && (latE6 % PERSONAL_GRID_E6 != 0 || lonE6 % PERSONAL_GRID_E6 != 0)
        ) revert ParkingSlotsLocationTooPrecise(latE6, lonE6);
        if (address(leaseMarket) == address(0)) revert ParkingSlotsLeaseMarketNotSet();
        slotId = ++_slotCount;
        leaseMarket.setSlotTerms(slotId, SlotBookingTerms({
            exists: true,
            active: true,
            hasBlackouts: false,
            category: SlotCategory(category),
            termsVersion: 0,
            pricePerUnit: DEFAULT_PRICE_PER_UNIT,
            overagePer10Min: DEFAULT_OVERAGE_PER_10_MIN,
            windows: 0
        }));
        _termsHistory[slotId][0] = SlotTerms(DEFAULT_PRICE_PER_UNIT, DEFAULT_OVERAGE_PER_10_MIN);
        _places[slotId] = SlotPlace(lotId, latE6, lonE6);
        emit SlotRegistered(slotId, owner, lotId, SlotCategory(category), latE6, lonE6);
        emit TermsSet(slotId, 0, DEFAULT_PRICE_PER_UNIT, DEFAULT_OVERAGE_PER_10_MIN);
        _safeMint(owner, slotId);
    }

    /// @inheritdoc IParkingSlots
    function setWindows(uint256 slotId, SharingWindow[] calldata windows) external {
        _requireSlotOwner(slotId);
        if (windows.length > SharingWindows.MAX_WINDOWS) revert ParkingSlotsInvalidWindow(windows.length);
        for (uint256 i = 0; i < windows.length; ++i) {
            if (!SharingWindows.isValid(windows[i])) revert ParkingSlotsInvalidWindow(i);
        }
        uint96 packed = SharingWindows.pack(windows);
        SlotBookingTerms memory terms = _terms(slotId);
        if (terms.windows == packed) return;
        terms.windows = packed;
        leaseMarket.setSlotTerms(slotId, terms);
        emit WindowsSet(slotId, packed);
    }

    /// @inheritdoc IParkingSlots
    /// @dev Leases already booked keep the version they were booked under.
    function setTerms(uint256 slotId, uint32 pricePerUnit, uint32 overagePer10Min) external {
        _requireSlotOwner(slotId);
        if (pricePerUnit == 0 || pricePerUnit > MAX_PRICE_PER_UNIT || overagePer10Min > MAX_OVERAGE_PER_10_MIN) {
            revert ParkingSlotsInvalidPrice(pricePerUnit, overagePer10Min);
        }
        SlotBookingTerms memory terms = _terms(slotId);
        if (terms.pricePerUnit == pricePerUnit && terms.overagePer10Min == overagePer10Min) return;
        uint16 version = terms.termsVersion + 1;
        terms.termsVersion = version;
        terms.pricePerUnit = pricePerUnit;
        terms.overagePer10Min = overagePer10Min;
        leaseMarket.setSlotTerms(slotId, terms);
        _termsHistory[slotId][version] = SlotTerms(pricePerUnit, overagePer10Min);
        emit TermsSet(slotId, version, pricePerUnit, overagePer10Min);
    }

    /// @inheritdoc IParkingSlots
    function setBlackout(uint256 slotId, uint256 localDay, bool blackedOut) external {
        _requireSlotOwner(slotId);
        uint256 today = HalfHours.localDayOfUnit(HalfHours.toUnit(block.timestamp));
        if (localDay < today || localDay > today + MAX_BLACKOUT_AHEAD_DAYS) revert ParkingSlotsInvalidDay(localDay);
        uint256 bit = 1 << (localDay % 256);
        uint256 word = _blackouts[slotId][localDay / 256];
        if ((word & bit != 0) == blackedOut) return;
        _blackouts[slotId][localDay / 256] = blackedOut ? word | bit : word & ~bit;
        if (blackedOut) {
            SlotBookingTerms memory terms = _terms(slotId);
            if (!terms.hasBlackouts) {
                terms.hasBlackouts = true;
                leaseMarket.setSlotTerms(slotId, terms);
            }
        }
        emit BlackoutSet(slotId, localDay, blackedOut);
    }

    /// @inheritdoc IParkingSlots
    /// @dev The owner, or an OPERATOR (for example when a sensor reports the space blocked).
    function setActive(uint256 slotId, bool active) external {
        address caller = _msgSender();
        if (!_isAuthorized(_requireOwned(slotId), caller, slotId)) _requireCityRole(caller, CityRoles.OPERATOR);
        SlotBookingTerms memory terms = _terms(slotId);
        if (terms.active == active) return;
        terms.active = active;
        leaseMarket.setSlotTerms(slotId, terms);
        emit SlotActiveSet(slotId, active, caller);
    }

    /// @notice ERC-4907's setter is not available: users come from leases in the market.
    function setUser(uint256 slotId, address, uint64) external pure {
        revert ParkingSlotsUserManagedByMarket(slotId);
    }

    /// @inheritdoc IERC4907
    function userOf(uint256 slotId) external view returns (address) {
        _requireOwned(slotId); // a slot exists only once the market is set (registerSlot)
        return leaseMarket.userOf(slotId);
    }

    /// @inheritdoc IERC4907
    function userExpires(uint256 slotId) external view returns (uint256) {
        _requireOwned(slotId);
        return leaseMarket.userExpires(slotId);
    }

    /// @inheritdoc IParkingSlots
    function bookingTerms(uint256 slotId) external view returns (SlotBookingTerms memory) {
        return _terms(slotId);
    }

    /// @inheritdoc IParkingSlots
    function settlementTerms(uint256 slotId, uint16 version)
        external
        view
        returns (address owner, SlotCategory category, SlotTerms memory terms)
    {
        SlotBookingTerms memory current = _terms(slotId);
        if (!current.exists) revert ParkingSlotsUnknownSlot(slotId);
        owner = _ownerOf(slotId);
        category = current.category;
        if (version == current.termsVersion) {
            terms = SlotTerms(current.pricePerUnit, current.overagePer10Min);
        } else if (version < current.termsVersion) {
            terms = _termsHistory[slotId][version];
        } else {
            revert ParkingSlotsUnknownTermsVersion(slotId, version);
        }
    }

    /// @inheritdoc IParkingSlots
    function isBlackedOut(uint256 slotId, uint256 fromLocalDay, uint256 toLocalDay) public view returns (bool) {
        for (uint256 day = fromLocalDay; day <= toLocalDay; ++day) {
            if ((_blackouts[slotId][day / 256] >> (day % 256)) & 1 == 1) return true;
        }
        return false;
    }

    /// @inheritdoc IParkingSlots
    function isAvailable(uint256 slotId, uint256 fromLocalDay, uint256 toLocalDay) external view returns (bool) {
        SlotBookingTerms memory terms = _terms(slotId);
        return terms.exists && terms.active
            && !(terms.hasBlackouts && isBlackedOut(slotId, fromLocalDay, toLocalDay));
    }

    /// @inheritdoc IParkingSlots
    function isOpenAt(uint256 slotId, uint256 timestamp) external view returns (bool) {
        SlotBookingTerms memory terms = _terms(slotId);
        if (!terms.exists || !terms.active) return false;
        uint256 unit = HalfHours.toUnit(timestamp);
        if (!SharingWindows.covers(terms.windows, unit, 1)) return false;
        uint256 localDay = HalfHours.localDayOfUnit(unit);
        return !(terms.hasBlackouts && isBlackedOut(slotId, localDay, localDay));
    }

    /// @inheritdoc IParkingSlots
    function windowsOf(uint256 slotId) external view returns (SharingWindow[] memory) {
        return SharingWindows.unpack(_terms(slotId).windows);
    }

    /// @inheritdoc IParkingSlots
    function placeOf(uint256 slotId) external view returns (uint32 lotId, int32 latE6, int32 lonE6) {
        _requireOwned(slotId);
        SlotPlace memory place = _places[slotId];
        return (place.lotId, place.latE6, place.lonE6);
    }

    /// @inheritdoc IParkingSlots
    function slotCount() external view returns (uint256) {
        return _slotCount;
    }

    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IERC4907).interfaceId || super.supportsInterface(interfaceId);
    }

    /// @dev The slot's current booking terms, kept by the lease market (all zero before any slot
    /// is registered, when no market is set yet).
    function _terms(uint256 slotId) private view returns (SlotBookingTerms memory terms) {
        if (address(leaseMarket) != address(0)) terms = leaseMarket.slotTerms(slotId);
    }

    function _requireSlotOwner(uint256 slotId) private view {
        if (_ownerOf(slotId) == address(0)) revert ParkingSlotsUnknownSlot(slotId);
        address caller = _msgSender();
        if (!_isAuthorized(_ownerOf(slotId), caller, slotId)) revert ParkingSlotsNotSlotOwner(slotId, caller);
    }

    // ERC721 brings in Context a second time, so the compiler wants CityContext's choice restated.

    function _msgSender() internal view override(Context, CityContext) returns (address) {
        return CityContext._msgSender();
    }

    function _msgData() internal view override(Context, CityContext) returns (bytes calldata) {
        return CityContext._msgData();
    }

    function _contextSuffixLength() internal view override(Context, CityContext) returns (uint256) {
        return CityContext._contextSuffixLength();
    }
}
