// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {HalfHours} from "./HalfHours.sol";

/// @title CivilMonth
/// @notice Maps a timestamp to its statement epoch: the KST calendar month, as year * 12 + month - 1.
/// @dev Howard Hinnant's days-from-civil inverse, valid for all dates after 1970.
library CivilMonth {
    function epochOf(uint256 timestamp) internal pure returns (uint32) {
        (uint256 year, uint256 month) = yearMonth(timestamp);
        return uint32(year * 12 + month - 1);
    }

    function yearMonth(uint256 timestamp) internal pure returns (uint256 year, uint256 month) {
        uint256 z = (timestamp + HalfHours.LOCAL_OFFSET_SECONDS) / 1 days + 719468;
        uint256 era = z / 146097;
        uint256 doe = z - era * 146097;
        uint256 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        uint256 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        uint256 mp = (5 * doy + 2) / 153;
        month = mp < 10 ? mp + 3 : mp - 9;
        year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    }
}
