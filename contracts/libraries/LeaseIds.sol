// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title LeaseIds
/// @notice The layout of a lease id, (slotId << 48) | (startUnit << 8) | generation: the lease
/// market mints ids with it and the occupancy oracle names the lease starting next with it.
/// @dev The market keeps a lease under its key, (slotId << 40) | startUnit; the id adds the
/// generation, which counts re-bookings of a cancelled start.
library LeaseIds {
    uint256 internal constant SLOT_BITS = 32;
    uint256 internal constant START_BITS = 40;
    uint256 internal constant GENERATION_BITS = 8;

    function key(uint256 slotId, uint256 startUnit) internal pure returns (uint256) {
        return (slotId << START_BITS) | startUnit;
    }

    function id(uint256 leaseKey, uint256 generation) internal pure returns (uint256) {
        return (leaseKey << GENERATION_BITS) | generation;
    }

    function decodeKey(uint256 leaseKey) internal pure returns (uint256 slotId, uint256 startUnit) {
        slotId = leaseKey >> START_BITS;
        startUnit = leaseKey & ((1 << START_BITS) - 1);
    }
}
