// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ICityAccess} from "../interfaces/ICityAccess.sol";
import {ILeaseMarket} from "../interfaces/ILeaseMarket.sol";
import {IParkingSlots} from "../interfaces/IParkingSlots.sol";
import {IRevenueSplit} from "../interfaces/IRevenueSplit.sol";
import {LeasePrepaid} from "./LeasePrepaid.sol";
import {CityRoles} from "../access/CityRoles.sol";
import {BasisPoints} from "../libraries/BasisPoints.sol";
import {BookingCalendar} from "../libraries/BookingCalendar.sol";
import {HalfHours} from "../libraries/HalfHours.sol";
import {LeaseIds} from "../libraries/LeaseIds.sol";
import {Permits} from "../libraries/Permits.sol";
import {SharingWindows} from "../libraries/SharingWindows.sol";
import {Lease, LeasePolicy, LeaseStatus, SlotBookingTerms, SlotCategory, SlotTerms} from "../types/ParkingTypes.sol";

/// @title LeaseMarket
/// @notice Books shared slots in 30-minute units inside their sharing windows, never two leases
/// of a slot at once; escrows the price in the revenue split's vault; cancels by the DESIGN §4
/// policy; checks in and out (the lessee, or the ORACLE from sensors); charges overstay; settles
/// no-shows; and pays everything out through the revenue split. Members may prepay credits into a
/// booking balance (held by the vault), so that a booking moves no token.
contract LeaseMarket is LeasePrepaid {
    using SafeERC20 for IERC20;

    uint256 private constant OVERAGE_STEP = 10 minutes;
    /// @notice Hard ceilings for the policy (14 days, one year, 2 hours, ₩1,000,000).
    uint256 public constant MAX_LEASE_UNITS_CEILING = 672;
    uint256 public constant MAX_ADVANCE_CEILING = 365 days;
    uint256 public constant MAX_CHECK_IN_EARLY = 2 hours;
    uint256 public constant MAX_PENALTY = 1_000_000;

    IParkingSlots public immutable slots;
    /// @notice How far ahead a lease may start, in seconds (fixed at deployment: read on every booking).
    uint256 public immutable maxAdvance;
    /// @notice The longest lease, in 30-minute units (fixed at deployment: read on every booking).
    uint256 public immutable maxLeaseUnits;

    LeasePolicy private _policy;
    mapping(uint256 leaseKey => Lease) private _leases;
    mapping(uint256 slotId => mapping(uint256 word => uint256)) private _calendars;
    mapping(uint256 leaseKey => uint256) private _overstayDebt;
    /// @dev Each slot's current terms, written by ParkingSlots (their owner-facing home).
    mapping(uint256 slotId => SlotBookingTerms) private _slotTerms;

    constructor(
        ICityAccess access_,
        IERC20 credit_,
        IParkingSlots slots_,
        IRevenueSplit vault_,
        address trustedForwarder,
        uint256 maxAdvance_,
        uint256 maxLeaseUnits_
    ) LeasePrepaid(access_, credit_, vault_, trustedForwarder) {
        if (address(slots_) == address(0)) revert LeaseMarketZeroAddress();
        if (maxAdvance_ == 0 || maxAdvance_ > MAX_ADVANCE_CEILING) revert LeaseMarketInvalidPolicy("maxAdvance");
        if (maxLeaseUnits_ == 0 || maxLeaseUnits_ > MAX_LEASE_UNITS_CEILING) {
            revert LeaseMarketInvalidPolicy("maxLeaseUnits");
        }
        slots = slots_;
        maxAdvance = maxAdvance_;
        maxLeaseUnits = maxLeaseUnits_;
        // DESIGN §4: free until 1 h before the start and within 10 min of booking, half back
        // after the cut-off, nothing once started.
        _setPolicy(
            LeasePolicy({
                freeCancelCutoff: 1 hours,
                bookingGracePeriod: 10 minutes,
                lateCancelRefundBps: 5000,
                overstayPenalty: 2000,
                checkInEarly: 15 minutes
            })
        );
    }

    // ----------------------------------------------------------------------------- booking

    /// @inheritdoc ILeaseMarket
    function book(uint256 slotId, uint64 start, uint64 end, uint256 maxPrice) external returns (uint256) {
        return _book(_msgSender(), slotId, start, end, maxPrice);
    }

    /// @inheritdoc ILeaseMarket
    /// @dev A front-run permit still leaves the allowance (Permits.tryPermit); any other failed
    /// permit reverts the booking with the permit's revert data.
    function bookWithPermit(
        uint256 slotId,
        uint64 start,
        uint64 end,
        uint256 maxPrice,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (uint256) {
        address lessee = _msgSender();
        (bool allowed, bytes memory reason) = Permits.tryPermit(credit, lessee, maxPrice, deadline, v, r, s);
        if (!allowed) revert LeaseMarketPermitFailed(reason);
        return _book(lessee, slotId, start, end, maxPrice);
    }

    /// @inheritdoc ILeaseMarket
    function quote(uint256 slotId, uint64 start, uint64 end) external view returns (uint256 price) {
        (,, uint256 startUnit, uint256 units, uint256 quoted) = _checkBookable(slotId, start, end);
        if (!BookingCalendar.isFree(_calendars[slotId], startUnit, units)) {
            revert LeaseMarketOverlap(slotId, start, end);
        }
        return quoted;
    }

    function _book(address lessee, uint256 slotId, uint64 start, uint64 end, uint256 maxPrice)
        internal
        returns (uint256 leaseId)
    {
        uint256 prepaid = _prepaid[lessee];
        // A prepaid balance without the suspension flag already proves membership (see _prepaid);
        // only an empty or flagged account costs a call to CityAccess.
        if ((prepaid == 0 || prepaid & SUSPENDED_FLAG != 0) && !access.isActiveMember(lessee)) {
            revert LeaseMarketNotMember(lessee);
        }
        (, uint16 termsVersion, uint256 startUnit, uint256 units, uint256 price) = _checkBookable(slotId, start, end);
        if (price > maxPrice) revert LeaseMarketPriceAboveMax(price, maxPrice);
        if (!BookingCalendar.reserve(_calendars[slotId], startUnit, units)) {
            revert LeaseMarketOverlap(slotId, start, end);
        }
        uint256 key = LeaseIds.key(slotId, startUnit);
        Lease storage lease = _leases[key];
        uint256 generation;
        if (lease.status != LeaseStatus.NONE) {
            // The start is free again only because the earlier lease there was cancelled.
            generation = uint256(lease.generation) + 1;
            if (generation == 1 << LeaseIds.GENERATION_BITS) revert LeaseMarketRebookLimit(slotId, start);
        }
        _writeLease(lease, lessee, units, generation, termsVersion);
        leaseId = LeaseIds.id(key, generation);
        emit LeaseBooked(leaseId, slotId, lessee, start, end, price);
        // The prepaid balance is already in the vault: paying from it moves no token, which saves
        // the credit contract's call, both balance writes and the Transfer event. (A flagged word
        // never gets here: the member check above reverted.)
        if (prepaid >= price) {
            unchecked {
                _prepaid[lessee] = prepaid - price;
            }
        } else {
            credit.safeTransferFrom(lessee, address(vault), price);
        }
    }

    /// @dev A new BOOKED lease in one storage write. Solidity writes a struct field by field here
    /// (three SSTOREs); the word is laid out exactly as `Lease` (ParkingTypes.sol), which leaseOf
    /// and every other reader decode, and the lease market tests read back every field.
    function _writeLease(Lease storage lease, address lessee, uint256 units, uint256 generation, uint16 termsVersion)
        private
    {
        uint256 word = uint256(uint160(lessee)) | (units << 160) | (uint256(uint8(LeaseStatus.BOOKED)) << 176)
            | (generation << 184) | (uint256(uint32(block.timestamp)) << 192) | (uint256(termsVersion) << 224);
        assembly ("memory-safe") {
            sstore(lease.slot, word)
        }
    }

    /// @dev Every check of a booking that does not need the calendar or the member.
    function _checkBookable(uint256 slotId, uint64 start, uint64 end)
        private
        view
        returns (SlotCategory category, uint16 termsVersion, uint256 startUnit, uint256 units, uint256 price)
    {
        if (!HalfHours.isAligned(start)) revert LeaseMarketMisalignedTime(start);
        if (!HalfHours.isAligned(end)) revert LeaseMarketMisalignedTime(end);
        if (start >= end) revert LeaseMarketInvalidRange(start, end);
        // The half-hour already under way may be booked (a driver parking now pays for all of it).
        if (start < block.timestamp - block.timestamp % HalfHours.UNIT_SECONDS) {
            revert LeaseMarketStartInPast(start, block.timestamp);
        }
        if (start > block.timestamp + maxAdvance) revert LeaseMarketTooFarAhead(start, block.timestamp + maxAdvance);
        unchecked {
            units = (end - start) / HalfHours.UNIT_SECONDS; // start < end, checked above
        }
        if (units > maxLeaseUnits) revert LeaseMarketTooLong(units, maxLeaseUnits);
        if (slotId >> LeaseIds.SLOT_BITS != 0) revert LeaseMarketUnknownSlot(slotId);
        SlotBookingTerms memory terms = _slotTerms[slotId];
        if (!terms.exists) revert LeaseMarketUnknownSlot(slotId);
        if (!terms.active) revert LeaseMarketSlotUnavailable(slotId);
        startUnit = HalfHours.toUnit(start);
        if (!SharingWindows.covers(terms.windows, startUnit, units)) {
            revert LeaseMarketOutsideWindow(slotId, start, end);
        }
        if (
            terms.hasBlackouts
                && slots.isBlackedOut(
                    slotId, HalfHours.localDayOfUnit(startUnit), HalfHours.localDayOfUnit(startUnit + units - 1)
                )
        ) revert LeaseMarketSlotUnavailable(slotId);
        category = terms.category;
        termsVersion = terms.termsVersion;
        unchecked {
            price = units * terms.pricePerUnit; // at most 672 units of a uint32 price
        }
    }

    // ----------------------------------------------------------------------- cancellation

    /// @inheritdoc ILeaseMarket
    /// @dev Free within the booking grace period, before the cut-off, or when the owner has made
    /// the slot unavailable; `lateCancelRefundBps` of the price after the cut-off; never once started.
    function cancel(uint256 leaseId) external {
        (uint256 key, Lease memory lease) = _load(leaseId);
        address caller = _msgSender();
        if (lease.status != LeaseStatus.BOOKED) revert LeaseMarketWrongStatus(leaseId, lease.status);
        if (caller != lease.lessee) revert LeaseMarketNotAuthorized(leaseId, caller);
        (uint256 slotId, uint256 startUnit) = LeaseIds.decodeKey(key);
        uint256 start = startUnit * HalfHours.UNIT_SECONDS;
        if (block.timestamp >= start) revert LeaseMarketAlreadyStarted(leaseId);
        (address owner, SlotCategory category, SlotTerms memory terms) = _settlementTerms(slotId, lease.termsVersion);
        uint256 price = uint256(lease.units) * terms.pricePerUnit;
        LeasePolicy memory policy_ = _policy;
        bool free = block.timestamp <= uint256(lease.bookedAt) + policy_.bookingGracePeriod
            || block.timestamp + policy_.freeCancelCutoff <= start
            || !_isAvailable(
                slotId, HalfHours.localDayOfUnit(startUnit), HalfHours.localDayOfUnit(startUnit + lease.units - 1)
            );
        uint256 refund = free ? price : BasisPoints.share(price, policy_.lateCancelRefundBps);
        _closeCancelled(key, leaseId, lease, caller, owner, category, refund, price - refund);
    }

    /// @inheritdoc ILeaseMarket
    /// @dev The slot's owner (or an OPERATOR) withdraws the space before the lease ends: the
    /// lessee gets everything back. A lease that ended unused is a no-show, not a withdrawal.
    function ownerCancel(uint256 leaseId) external {
        (uint256 key, Lease memory lease) = _load(leaseId);
        address caller = _msgSender();
        if (lease.status != LeaseStatus.BOOKED) revert LeaseMarketWrongStatus(leaseId, lease.status);
        (uint256 slotId, uint256 startUnit) = LeaseIds.decodeKey(key);
        uint256 end = (startUnit + lease.units) * HalfHours.UNIT_SECONDS;
        if (block.timestamp >= end) revert LeaseMarketOutsideLeaseTime(leaseId, block.timestamp);
        (address owner, SlotCategory category, SlotTerms memory terms) = _settlementTerms(slotId, lease.termsVersion);
        if (caller != owner && !_hasCityRole(caller, CityRoles.OPERATOR)) {
            revert LeaseMarketNotAuthorized(leaseId, caller);
        }
        uint256 price = uint256(lease.units) * terms.pricePerUnit;
        _closeCancelled(key, leaseId, lease, caller, owner, category, price, 0);
    }

    function _closeCancelled(
        uint256 key,
        uint256 leaseId,
        Lease memory lease,
        address caller,
        address owner,
        SlotCategory category,
        uint256 refund,
        uint256 retained
    ) private {
        (uint256 slotId, uint256 startUnit) = LeaseIds.decodeKey(key);
        _leases[key].status = LeaseStatus.CANCELLED;
        BookingCalendar.release(_calendars[slotId], startUnit, lease.units);
        emit LeaseCancelled(leaseId, caller, refund, retained);
        if (refund != 0) vault.refund(lease.lessee, refund);
        if (retained != 0) vault.allocate(category, owner, retained);
    }

    // ------------------------------------------------------------------ check-in and out

    /// @inheritdoc ILeaseMarket
    function checkIn(uint256 leaseId) external {
        (uint256 key, Lease memory lease) = _load(leaseId);
        address caller = _requireLesseeOrOracle(leaseId, lease);
        if (lease.status != LeaseStatus.BOOKED) revert LeaseMarketWrongStatus(leaseId, lease.status);
        (, uint256 startUnit) = LeaseIds.decodeKey(key);
        uint256 start = startUnit * HalfHours.UNIT_SECONDS;
        uint256 end = start + uint256(lease.units) * HalfHours.UNIT_SECONDS;
        if (block.timestamp + _policy.checkInEarly < start || block.timestamp >= end) {
            revert LeaseMarketOutsideLeaseTime(leaseId, block.timestamp);
        }
        _leases[key].status = LeaseStatus.CHECKED_IN;
        emit LeaseCheckedIn(leaseId, caller, uint64(block.timestamp));
    }

    /// @inheritdoc ILeaseMarket
    /// @dev Overstay: the overage per started 10 minutes after the end, plus the fixed penalty.
    /// If the lessee's balance or allowance cannot cover it, the lease still settles and the
    /// charge is recorded as a debt (a sensor-driven check-out must never fail).
    function checkOut(uint256 leaseId) external {
        (uint256 key, Lease memory lease) = _load(leaseId);
        address caller = _requireLesseeOrOracle(leaseId, lease);
        if (lease.status != LeaseStatus.CHECKED_IN) revert LeaseMarketWrongStatus(leaseId, lease.status);
        (uint256 slotId, uint256 startUnit) = LeaseIds.decodeKey(key);
        (address owner, SlotCategory category, SlotTerms memory terms) = _settlementTerms(slotId, lease.termsVersion);
        uint256 price = uint256(lease.units) * terms.pricePerUnit;
        uint256 end = (startUnit + lease.units) * HalfHours.UNIT_SECONDS;
        uint256 charge;
        if (block.timestamp > end) {
            uint256 steps = (block.timestamp - end + OVERAGE_STEP - 1) / OVERAGE_STEP;
            charge = steps * terms.overagePer10Min + _policy.overstayPenalty;
        }
        bool chargePaid = charge == 0 || _canPay(lease.lessee, charge);
        _leases[key].status = LeaseStatus.SETTLED;
        if (!chargePaid) {
            _overstayDebt[key] = charge;
            emit OverstayDebtRecorded(leaseId, lease.lessee, charge);
        }
        emit LeaseSettled(leaseId, caller, uint64(block.timestamp), price, charge, chargePaid);
        if (charge != 0 && chargePaid) {
            credit.safeTransferFrom(lease.lessee, address(vault), charge);
            price += charge;
        }
        vault.allocate(category, owner, price);
    }

    /// @inheritdoc ILeaseMarket
    /// @dev Anyone (usually the operator's keeper) may settle a lease that ended unused; the
    /// owner is paid as if it had been used.
    function settleNoShow(uint256 leaseId) external {
        (uint256 key, Lease memory lease) = _load(leaseId);
        if (lease.status != LeaseStatus.BOOKED) revert LeaseMarketWrongStatus(leaseId, lease.status);
        (uint256 slotId, uint256 startUnit) = LeaseIds.decodeKey(key);
        uint256 end = (startUnit + lease.units) * HalfHours.UNIT_SECONDS;
        if (block.timestamp < end) revert LeaseMarketNotEnded(leaseId, end);
        (address owner, SlotCategory category, SlotTerms memory terms) = _settlementTerms(slotId, lease.termsVersion);
        uint256 price = uint256(lease.units) * terms.pricePerUnit;
        _leases[key].status = LeaseStatus.NO_SHOW;
        emit LeaseNoShow(leaseId, _msgSender(), price);
        vault.allocate(category, owner, price);
    }

    /// @inheritdoc ILeaseMarket
    function payOverstayDebt(uint256 leaseId) external {
        (uint256 key,) = _load(leaseId);
        uint256 debt = _overstayDebt[key];
        if (debt == 0) revert LeaseMarketNoDebt(leaseId);
        (uint256 slotId,) = LeaseIds.decodeKey(key);
        (address owner, SlotCategory category,) = _settlementTerms(slotId, _leases[key].termsVersion);
        address payer = _msgSender();
        delete _overstayDebt[key];
        emit OverstayDebtPaid(leaseId, payer, debt);
        credit.safeTransferFrom(payer, address(vault), debt);
        vault.allocate(category, owner, debt);
    }

    // ----------------------------------------------------------------------------- policy

    /// @inheritdoc ILeaseMarket
    function setPolicy(LeasePolicy calldata newPolicy) external onlyCityRole(CityRoles.CITY_ADMIN) {
        _setPolicy(newPolicy);
    }

    function _setPolicy(LeasePolicy memory newPolicy) private {
        if (newPolicy.freeCancelCutoff > 7 days) revert LeaseMarketInvalidPolicy("freeCancelCutoff");
        if (newPolicy.bookingGracePeriod > 1 days) revert LeaseMarketInvalidPolicy("bookingGracePeriod");
        if (newPolicy.lateCancelRefundBps > BasisPoints.FULL) revert LeaseMarketInvalidPolicy("lateCancelRefundBps");
        if (newPolicy.overstayPenalty > MAX_PENALTY) revert LeaseMarketInvalidPolicy("overstayPenalty");
        if (newPolicy.checkInEarly > MAX_CHECK_IN_EARLY) revert LeaseMarketInvalidPolicy("checkInEarly");
        if (keccak256(abi.encode(newPolicy)) == keccak256(abi.encode(_policy))) return;
        _policy = newPolicy;
        emit PolicySet(newPolicy);
    }

    // ------------------------------------------------------------------------------ views

    /// @inheritdoc ILeaseMarket
    function leaseOf(uint256 leaseId) external view returns (Lease memory lease) {
        (, lease) = _load(leaseId);
    }

    /// @notice The unpaid overstay charge of a lease, if any.
    function overstayDebtOf(uint256 leaseId) external view returns (uint256) {
        (uint256 key,) = _load(leaseId);
        return _overstayDebt[key];
    }

    /// @notice Decode a lease id into its slot, start, end and generation.
    function decodeLeaseId(uint256 leaseId)
        external
        view
        returns (uint256 slotId, uint64 start, uint64 end, uint8 generation)
    {
        (uint256 key, Lease memory lease) = _load(leaseId);
        (uint256 slot, uint256 startUnit) = LeaseIds.decodeKey(key);
        return (
            slot,
            uint64(startUnit * HalfHours.UNIT_SECONDS),
            uint64((startUnit + lease.units) * HalfHours.UNIT_SECONDS),
            lease.generation
        );
    }

    /// @notice Whether every half-hour of [start, end) on the slot is unbooked.
    function isFree(uint256 slotId, uint64 start, uint64 end) external view returns (bool) {
        if (start >= end || !HalfHours.isAligned(start) || !HalfHours.isAligned(end)) return false;
        return BookingCalendar.isFree(
            _calendars[slotId], HalfHours.toUnit(start), (end - start) / HalfHours.UNIT_SECONDS
        );
    }

    /// @inheritdoc ILeaseMarket
    function currentLeaseId(uint256 slotId) public view returns (uint256) {
        (bool found, uint256 key, Lease memory lease) = _activeLeaseAt(slotId, block.timestamp);
        return found ? LeaseIds.id(key, lease.generation) : 0;
    }

    /// @inheritdoc ILeaseMarket
    function userOf(uint256 slotId) external view returns (address) {
        (bool found,, Lease memory lease) = _activeLeaseAt(slotId, block.timestamp);
        return found ? lease.lessee : address(0);
    }

    /// @inheritdoc ILeaseMarket
    function userExpires(uint256 slotId) external view returns (uint256) {
        (bool found, uint256 key, Lease memory lease) = _activeLeaseAt(slotId, block.timestamp);
        if (!found) return 0;
        (, uint256 startUnit) = LeaseIds.decodeKey(key);
        return (startUnit + lease.units) * HalfHours.UNIT_SECONDS;
    }

    /// @inheritdoc ILeaseMarket
    function policy() external view returns (LeasePolicy memory) {
        return _policy;
    }


    /// @dev A booked or checked-in lease holding the slot at `timestamp`.
    function _activeLeaseAt(uint256 slotId, uint256 timestamp)
        private
        view
        returns (bool found, uint256 key, Lease memory lease)
    {
        uint256 unit = HalfHours.toUnit(timestamp);
        uint256 startUnit;
        (found, startUnit) = BookingCalendar.leaseStartOf(_calendars[slotId], unit, MAX_LEASE_UNITS_CEILING);
        if (!found) return (false, 0, lease);
        key = LeaseIds.key(slotId, startUnit);
        lease = _leases[key];
        found = lease.status == LeaseStatus.BOOKED || lease.status == LeaseStatus.CHECKED_IN;
    }

    // ---------------------------------------------------------------------------- slot terms

    /// @inheritdoc ILeaseMarket
    function setSlotTerms(uint256 slotId, SlotBookingTerms calldata terms) external {
        if (msg.sender != address(slots)) revert LeaseMarketNotAuthorized(0, msg.sender);
        _slotTerms[slotId] = terms;
    }

    /// @inheritdoc ILeaseMarket
    function slotTerms(uint256 slotId) external view returns (SlotBookingTerms memory) {
        return _slotTerms[slotId];
    }

    /// @dev Who is paid for a lease and at which price version (older versions stay in ParkingSlots).
    function _settlementTerms(uint256 slotId, uint16 version)
        private
        view
        returns (address owner, SlotCategory category, SlotTerms memory terms)
    {
        SlotBookingTerms memory current = _slotTerms[slotId];
        if (version != current.termsVersion) return slots.settlementTerms(slotId, version);
        owner = IERC721(address(slots)).ownerOf(slotId);
        category = current.category;
        terms = SlotTerms(current.pricePerUnit, current.overagePer10Min);
    }

    function _isAvailable(uint256 slotId, uint256 fromLocalDay, uint256 toLocalDay) private view returns (bool) {
        SlotBookingTerms memory terms = _slotTerms[slotId];
        return terms.exists && terms.active
            && !(terms.hasBlackouts && slots.isBlackedOut(slotId, fromLocalDay, toLocalDay));
    }

    // ---------------------------------------------------------------------------- helpers

    function _load(uint256 leaseId) private view returns (uint256 key, Lease memory lease) {
        key = leaseId >> LeaseIds.GENERATION_BITS;
        lease = _leases[key];
        if (
            lease.status == LeaseStatus.NONE || uint8(leaseId) != lease.generation
                || key >> (LeaseIds.SLOT_BITS + LeaseIds.START_BITS) != 0
        ) revert LeaseMarketUnknownLease(leaseId);
    }

    function _requireLesseeOrOracle(uint256 leaseId, Lease memory lease) private view returns (address caller) {
        caller = _msgSender();
        if (caller != lease.lessee && !_hasCityRole(caller, CityRoles.ORACLE)) {
            revert LeaseMarketNotAuthorized(leaseId, caller);
        }
    }

    /// @dev Whether a transferFrom of `amount` from `payer` would succeed.
    function _canPay(address payer, uint256 amount) private view returns (bool) {
        return access.isAllowed(payer) && credit.balanceOf(payer) >= amount
            && credit.allowance(payer, address(this)) >= amount;
    }
}
