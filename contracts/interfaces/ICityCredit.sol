// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ICityCredit
/// @notice KRW-denominated credits (0 decimals) of the CityPass platform.
interface ICityCredit {
    /// @notice A party of a transfer or mint is neither an active member nor a platform contract.
    /// @param party the refused sender or recipient
    error CityCreditPartyNotAllowed(address party);
    /// @notice A zero address was given where a contract or account is required.
    error CityCreditZeroAddress();
    /// @notice A zero amount was given to mint or cash out.
    error CityCreditZeroAmount();

    /// @notice The treasury minted credits against a top-up; `receipt` links to the payment record.
    event TopUp(address indexed account, uint256 amount, bytes32 indexed receipt);
    /// @notice The treasury burned credits against a cash-out.
    event CashOut(address indexed account, uint256 amount, bytes32 indexed receipt);
    /// @notice A contract was allowed (or no longer allowed) to hold and move credits.
    event PlatformContractSet(address indexed platformContract, bool allowed);

    function mint(address account, uint256 amount, bytes32 receipt) external;
    function cashOut(address account, uint256 amount, bytes32 receipt) external;
    function setPlatformContract(address platformContract, bool allowed) external;
    function isPlatformContract(address account) external view returns (bool);
}
