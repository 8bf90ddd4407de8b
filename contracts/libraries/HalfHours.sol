// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title HalfHours
/// @notice Time arithmetic in Korea Standard Time: 30-minute booking units and local (KST) days.
/// @dev Korea has no daylight saving, so local time is a fixed +9 h offset. Unit n covers
/// [n * 1800, (n + 1) * 1800) seconds since the Unix epoch; +9 h is a whole number of units, so
/// UTC and local units share boundaries.
library HalfHours {
    uint256 internal constant UNIT_SECONDS = 1800;
    uint256 internal constant UNITS_PER_DAY = 48;
    uint256 internal constant LOCAL_OFFSET_SECONDS = 9 hours;
    uint256 internal constant LOCAL_OFFSET_UNITS = LOCAL_OFFSET_SECONDS / UNIT_SECONDS;
    /// @dev 1970-01-01 was a Thursday; with Monday = 0 that is weekday 3.
    uint256 internal constant EPOCH_WEEKDAY = 3;

    function isAligned(uint256 timestamp) internal pure returns (bool) {
        return timestamp % UNIT_SECONDS == 0;
    }

    function toUnit(uint256 timestamp) internal pure returns (uint256) {
        return timestamp / UNIT_SECONDS;
    }

    function toLocalUnit(uint256 unit) internal pure returns (uint256) {
        return unit + LOCAL_OFFSET_UNITS;
    }

    function localDayOfUnit(uint256 unit) internal pure returns (uint256) {
        return toLocalUnit(unit) / UNITS_PER_DAY;
    }

    /// @notice The KST day number of a timestamp (days since 1970-01-01 in Korea Standard Time).
    function localDay(uint256 timestamp) internal pure returns (uint32) {
        return uint32((timestamp + LOCAL_OFFSET_SECONDS) / 1 days);
    }

    /// @notice When KST day `day` ends (the first second of the next day, as a timestamp).
    function localDayEnd(uint32 day) internal pure returns (uint256) {
        return (uint256(day) + 1) * 1 days - LOCAL_OFFSET_SECONDS;
    }

    /// @return Monday = 0 … Sunday = 6
    function weekday(uint256 localDay) internal pure returns (uint256) {
        return (localDay + EPOCH_WEEKDAY) % 7;
    }
}
