// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FareTerms} from "../types/MobilityTypes.sol";

/// @title FareMath
/// @notice Fares of shared-mobility trips and the three-way split of a settled fare.
library FareMath {
    uint256 internal constant BPS = 10_000;

    /// @notice unlock + per started minute + per started 100 m, never above the daily cap.
    function fare(FareTerms memory terms, uint256 durationSeconds, uint256 distanceMeters)
        internal
        pure
        returns (uint256 amount)
    {
        uint256 minutes_ = (durationSeconds + 59) / 60;
        uint256 hundreds = (distanceMeters + 99) / 100;
        amount = uint256(terms.unlockFee) + minutes_ * terms.perMinute + hundreds * terms.per100m;
        if (amount > terms.dailyCap) amount = terms.dailyCap;
    }

    /// @notice Split `amount` into the platform fee, the village share and the operator's part.
    /// @dev The operator is the named dust party: it receives what the two rounded-down shares leave,
    /// so the three parts always sum exactly to `amount`.
    function split(uint256 amount, uint256 feeBps, uint256 villageBps)
        internal
        pure
        returns (uint256 operatorShare, uint256 villageShare, uint256 platformFee)
    {
        platformFee = amount * feeBps / BPS;
        villageShare = amount * villageBps / BPS;
        operatorShare = amount - platformFee - villageShare;
    }

    /// @notice The KST day number of a timestamp (days since 1970-01-01 in Korea Standard Time).
    function localDay(uint256 timestamp) internal pure returns (uint32) {
        return uint32((timestamp + 9 hours) / 1 days);
    }

    /// @notice When KST day `day` ends (the first second of the next day, as a timestamp).
    function localDayEnd(uint32 day) internal pure returns (uint256) {
        return (uint256(day) + 1) * 1 days - 9 hours;
    }
}
