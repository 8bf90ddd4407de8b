// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IMembershipListener
/// @notice A contract that CityAccess tells of every suspension and reinstatement, in the same
/// transaction, so it can keep a per-account flag that is never stale (the lease market keeps one
/// beside each prepaid balance, and books from the balance without asking CityAccess).
interface IMembershipListener {
    /// @notice CityAccess suspended (`suspended` true) or reinstated (false) `account`.
    /// @dev Must not revert for any account, or CityAccess could not suspend it.
    function onMembershipChanged(address account, bool suspended) external;
}
