// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title BookingCalendar
/// @notice A per-slot bitmap of booked half-hours that makes overlapping leases impossible.
/// @dev Word w covers units [128w, 128w + 128). Its low 128 bits mark booked units and its high
/// 128 bits mark the unit where a lease starts, so the lease holding any unit can be found by
/// scanning back to the nearest start mark without a second index.
library BookingCalendar {
    uint256 private constant UNITS_PER_WORD = 128;
    uint256 private constant START_SHIFT = 128;

    /// @notice Marks [startUnit, startUnit + units) booked. Returns false, writing nothing for
    /// the conflicting word, if any unit is already booked (the caller reverts).
    function reserve(mapping(uint256 => uint256) storage calendar, uint256 startUnit, uint256 units)
        internal
        returns (bool)
    {
        uint256 end = startUnit + units;
        uint256 startMark = _startMark(startUnit);
        for (uint256 unit = startUnit; unit < end;) {
            (uint256 wordIndex, uint256 bits, uint256 next) = _chunk(unit, end);
            uint256 word = calendar[wordIndex];
            if (word & bits != 0) return false;
            calendar[wordIndex] = word | bits | startMark;
            startMark = 0;
            unit = next;
        }
        return true;
    }

    /// @notice Frees [startUnit, startUnit + units) and its start mark (on cancellation).
    function release(mapping(uint256 => uint256) storage calendar, uint256 startUnit, uint256 units) internal {
        uint256 end = startUnit + units;
        uint256 startMark = _startMark(startUnit);
        for (uint256 unit = startUnit; unit < end;) {
            (uint256 wordIndex, uint256 bits, uint256 next) = _chunk(unit, end);
            calendar[wordIndex] &= ~(bits | startMark);
            startMark = 0;
            unit = next;
        }
    }

    /// @notice Whether no unit of [startUnit, startUnit + units) is booked.
    function isFree(mapping(uint256 => uint256) storage calendar, uint256 startUnit, uint256 units)
        internal
        view
        returns (bool)
    {
        uint256 end = startUnit + units;
        for (uint256 unit = startUnit; unit < end;) {
            (uint256 wordIndex, uint256 bits, uint256 next) = _chunk(unit, end);
            if (calendar[wordIndex] & bits != 0) return false;
            unit = next;
        }
        return true;
    }

    function isBooked(mapping(uint256 => uint256) storage calendar, uint256 unit) internal view returns (bool) {
        return (calendar[unit / UNITS_PER_WORD] >> (unit % UNITS_PER_WORD)) & 1 == 1;
    }

    /// @notice The start unit of the lease that holds `unit`, looking back at most `maxLookback`.
    function leaseStartOf(mapping(uint256 => uint256) storage calendar, uint256 unit, uint256 maxLookback)
        internal
        view
        returns (bool found, uint256 startUnit)
    {
        if (!isBooked(calendar, unit)) return (false, 0);
        uint256 lowest = unit > maxLookback ? unit - maxLookback : 0;
        uint256 wordIndex = unit / UNITS_PER_WORD;
        uint256 word = calendar[wordIndex];
        for (uint256 u = unit + 1; u > lowest;) {
            --u;
            if (u / UNITS_PER_WORD != wordIndex) {
                wordIndex = u / UNITS_PER_WORD;
                word = calendar[wordIndex];
            }
            if ((word >> (START_SHIFT + (u % UNITS_PER_WORD))) & 1 == 1) return (true, u);
        }
        return (false, 0);
    }

    /// @dev The part of [unit, end) that lies in unit's word: the word, the units' bits in it, and
    /// the unit after it.
    /// Unchecked: callers pass unit < end (loop condition), offset < 128 and take <= 128, and
    /// units are below 2^40 (LeaseIds), so nothing here can wrap; a booking runs it per word.
    function _chunk(uint256 unit, uint256 end) private pure returns (uint256 wordIndex, uint256 bits, uint256 next) {
        unchecked {
            wordIndex = unit / UNITS_PER_WORD;
            uint256 offset = unit % UNITS_PER_WORD;
            uint256 take = UNITS_PER_WORD - offset;
            if (take > end - unit) take = end - unit;
            bits = ((1 << take) - 1) << offset;
            next = unit + take;
        }
    }

    /// @dev The mark of a lease starting at `unit`, in the high half of the unit's word.
    function _startMark(uint256 unit) private pure returns (uint256) {
        return 1 << (START_SHIFT + unit % UNITS_PER_WORD);
    }
}
