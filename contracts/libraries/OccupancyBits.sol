// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title OccupancyBits
/// @notice The slot bitmap's geometry, bit counting, and the "seen" ring that tells when each
/// slot was last observed without a storage write per slot.
/// @dev Slot `s` is bit `s & 255` of word `s >> 8`. Time is cut into buckets of `width` seconds
/// (the oracle's margin). Per word, a ring of RING_SIZE entries keeps, for the last buckets a
/// report touched, the mask of slots observed in that bucket; all RING_SIZE bucket numbers are
/// packed in one tag word. A report therefore writes at most two words per bitmap word for
/// freshness, however many slots it observes, and storage is reused instead of growing.
library OccupancyBits {
    /// @notice Slot ids are 1..MAX_SLOT_ID (citypass/occupancy_report.py mirrors these).
    uint256 internal constant MAX_SLOT_ID = 65_535;
    uint256 internal constant WORD_COUNT = (MAX_SLOT_ID >> 8) + 1;
    uint256 internal constant MAX_REPORT_WORDS = 64;
    /// @notice Entries per ring; the freshness window must fit in RING_SIZE - 1 buckets.
    uint256 internal constant RING_SIZE = 9;
    uint256 private constant TAG_BITS = 28;
    uint256 private constant TAG_MASK = (1 << TAG_BITS) - 1;
    /// @notice Narrowest bucket: keeps bucket numbers within TAG_BITS for centuries.
    uint256 internal constant MIN_BUCKET_WIDTH = 60;

    struct SeenRing {
        uint256 tags; // RING_SIZE bucket numbers, TAG_BITS each
        uint256[RING_SIZE] masks;
    }

    /// @notice Record that the slots in `mask` were observed during `bucket`.
    function markSeen(SeenRing storage ring, uint256 bucket, uint256 mask) internal {
        uint256 index = bucket % RING_SIZE;
        uint256 shift = index * TAG_BITS;
        uint256 tags = ring.tags;
        if ((tags >> shift) & TAG_MASK == bucket) {
            uint256 seen = ring.masks[index];
            if (seen | mask != seen) ring.masks[index] = seen | mask;
        } else {
            // The entry held a bucket at least RING_SIZE buckets older: outside any window.
            ring.masks[index] = mask;
            ring.tags = (tags & ~(TAG_MASK << shift)) | (bucket << shift);
        }
    }

    /// @notice The newest bucket in which `bit` was observed, or 0 if the ring has none.
    function lastSeenBucket(SeenRing storage ring, uint256 bit) internal view returns (uint256 newest) {
        uint256 tags = ring.tags;
        for (uint256 i = 0; i < RING_SIZE; ++i) {
            uint256 tag = (tags >> (i * TAG_BITS)) & TAG_MASK;
            if (tag > newest && (ring.masks[i] >> bit) & 1 == 1) newest = tag;
        }
    }

    /// @notice Index of the lowest set bit of a nonzero `x`.
    function lowestBit(uint256 x) internal pure returns (uint256 r) {
        unchecked {
            x &= ~x + 1;
            if (x >> 128 != 0) (x, r) = (x >> 128, r + 128);
            if (x >> 64 != 0) (x, r) = (x >> 64, r + 64);
            if (x >> 32 != 0) (x, r) = (x >> 32, r + 32);
            if (x >> 16 != 0) (x, r) = (x >> 16, r + 16);
            if (x >> 8 != 0) (x, r) = (x >> 8, r + 8);
            if (x >> 4 != 0) (x, r) = (x >> 4, r + 4);
            if (x >> 2 != 0) (x, r) = (x >> 2, r + 2);
            if (x >> 1 != 0) r += 1;
        }
    }

    /// @notice Number of set bits.
    function popcount(uint256 x) internal pure returns (uint256) {
        unchecked {
            x -= (x >> 1) & 0x5555555555555555555555555555555555555555555555555555555555555555;
            x = (x & 0x3333333333333333333333333333333333333333333333333333333333333333)
                + ((x >> 2) & 0x3333333333333333333333333333333333333333333333333333333333333333);
            x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f;
            // Byte counts (≤ 8) summed into 16-bit lanes (≤ 16), so the final sum (≤ 256) fits a lane.
            x = (x & 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff)
                + ((x >> 8) & 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff);
            return (x * 0x0001000100010001000100010001000100010001000100010001000100010001) >> 240;
        }
    }
}
