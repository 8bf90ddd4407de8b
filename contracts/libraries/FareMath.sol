// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FareTerms} from "../types/MobilityTypes.sol";
import {BasisPoints} from "./BasisPoints.sol";

/// @title FareMath
/// @notice Fares of shared-mobility trips and the three-way split of a settled fare.
library FareMath {
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
        platformFee = BasisPoints.share(amount, feeBps);
        villageShare = BasisPoints.share(amount, villageBps);
        operatorShare = amount - platformFee - villageShare;
    }
}
