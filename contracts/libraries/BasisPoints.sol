// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title BasisPoints
/// @notice Every share, fee, discount and confidence on the ledger is in basis points of a whole.
library BasisPoints {
    /// @notice The whole (100 %) in basis points.
    uint256 internal constant FULL = 10_000;

    /// @notice `bps` basis points of `amount`, rounded down (the caller names who gets the dust).
    function share(uint256 amount, uint256 bps) internal pure returns (uint256) {
        return amount * bps / FULL;
    }
}
