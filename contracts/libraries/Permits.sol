// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";

/// @title Permits
/// @notice EIP-2612 permits handed to a contract along with the call that spends them.
/// @dev The permit runs in a try, as IERC20Permit's security note advises: if someone front-ran
/// it, the allowance it set still lets the call through.
library Permits {
    /// @notice Apply `owner`'s permit for this contract to pull `value` of `token`.
    /// @return allowed whether this contract may now pull `value` from `owner`
    /// @return reason the permit's revert data when it failed (empty when it succeeded)
    function tryPermit(IERC20 token, address owner, uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        internal
        returns (bool allowed, bytes memory reason)
    {
        try IERC20Permit(address(token)).permit(owner, address(this), value, deadline, v, r, s) {
            allowed = true;
        } catch (bytes memory failure) {
            (allowed, reason) = (token.allowance(owner, address(this)) >= value, failure);
        }
    }
}
