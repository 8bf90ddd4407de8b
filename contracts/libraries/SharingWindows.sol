// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SharingWindow} from "../types/ParkingTypes.sol";
import {HalfHours} from "./HalfHours.sol";

/// @title SharingWindows
/// @notice Packs up to five weekly sharing windows into 95 bits and answers whether a run of
/// half-hours lies inside them.
/// @dev Each window takes 19 bits: daysMask (7) | startUnit (6) << 7 | endUnit (6) << 13. A zero
/// daysMask ends the list. Packing keeps the windows in the same storage word as the prices, so
/// a booking reads one word instead of a 336-bit weekly bitmap.
library SharingWindows {
    uint256 internal constant MAX_WINDOWS = 5;
    uint256 private constant WINDOW_BITS = 19;
    uint256 private constant WINDOW_MASK = (1 << WINDOW_BITS) - 1;
    uint256 private constant DAY_MASK = (1 << HalfHours.UNITS_PER_DAY) - 1;

    /// @notice Whether `window` is well formed: some day, start in [0, 48), end in [1, 48].
    function isValid(SharingWindow memory window) internal pure returns (bool) {
        return window.daysMask != 0 && window.daysMask < 128 && window.startUnit < HalfHours.UNITS_PER_DAY
            && window.endUnit != 0 && window.endUnit <= HalfHours.UNITS_PER_DAY;
    }

    /// @dev Callers check `isValid` and the count first.
    function pack(SharingWindow[] memory windows) internal pure returns (uint96 packed) {
        uint256 acc;
        for (uint256 i = 0; i < windows.length; ++i) {
            uint256 word = uint256(windows[i].daysMask) | (uint256(windows[i].startUnit) << 7)
                | (uint256(windows[i].endUnit) << 13);
            acc |= word << (WINDOW_BITS * i);
        }
        packed = uint96(acc);
    }

    function unpack(uint96 packed) internal pure returns (SharingWindow[] memory windows) {
        uint256 count;
        while (count < MAX_WINDOWS && (uint256(packed) >> (WINDOW_BITS * count)) & 0x7F != 0) {
            ++count;
        }
        windows = new SharingWindow[](count);
        for (uint256 i = 0; i < count; ++i) {
            uint256 word = (uint256(packed) >> (WINDOW_BITS * i)) & WINDOW_MASK;
            windows[i] = SharingWindow(uint8(word & 0x7F), uint8((word >> 7) & 0x3F), uint8((word >> 13) & 0x3F));
        }
    }

    /// @notice The half-hours of one local day (bit i = unit i of the day) that are shared.
    /// @param weekday Monday = 0 … Sunday = 6
    /// @dev Unchecked: every value is a small field of `packed` or a weekday below 7.
    function allowedUnits(uint96 packed, uint256 weekday) internal pure returns (uint256 mask) {
        unchecked {
            uint256 yesterday = (weekday + 6) % 7;
            for (uint256 i = 0; i < MAX_WINDOWS; ++i) {
                uint256 word = (uint256(packed) >> (WINDOW_BITS * i)) & WINDOW_MASK;
                uint256 daysMask = word & 0x7F;
                if (daysMask == 0) break;
                uint256 startUnit = (word >> 7) & 0x3F;
                uint256 endUnit = (word >> 13) & 0x3F;
                bool startsToday = (daysMask >> weekday) & 1 == 1;
                if (endUnit > startUnit) {
                    if (startsToday) mask |= _range(startUnit, endUnit);
                } else {
                    // Overnight: the evening part belongs to the start day, the morning part to the next.
                    if (startsToday) mask |= _range(startUnit, HalfHours.UNITS_PER_DAY);
                    if ((daysMask >> yesterday) & 1 == 1) mask |= _range(0, endUnit);
                }
            }
        }
    }

    /// @notice Whether every half-hour in [startUnit, startUnit + units) (UTC units) is shared.
    /// @dev Unchecked: callers pass units below 2^40 (LeaseIds), take <= remaining, offsets < 48.
    function covers(uint96 packed, uint256 startUnit, uint256 units) internal pure returns (bool) {
        unchecked {
            uint256 localUnit = HalfHours.toLocalUnit(startUnit);
            uint256 remaining = units;
            while (remaining != 0) {
                uint256 day = localUnit / HalfHours.UNITS_PER_DAY;
                uint256 offset = localUnit % HalfHours.UNITS_PER_DAY;
                uint256 take = HalfHours.UNITS_PER_DAY - offset;
                if (take > remaining) take = remaining;
                uint256 needed = _range(offset, offset + take);
                if (needed & ~allowedUnits(packed, HalfHours.weekday(day)) & DAY_MASK != 0) return false;
                localUnit += take;
                remaining -= take;
            }
            return true;
        }
    }

    /// @dev from <= to <= 48.
    function _range(uint256 from, uint256 to) private pure returns (uint256) {
        unchecked {
            return ((1 << (to - from)) - 1) << from;
        }
    }
}
