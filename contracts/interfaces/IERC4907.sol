// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ERC-4907: rental NFT, an extension of ERC-721
/// @dev interfaceId 0xad092b5c
interface IERC4907 {
    /// @notice Emitted when the user of an NFT or the expires of the user is changed.
    event UpdateUser(uint256 indexed tokenId, address indexed user, uint64 expires);

    function setUser(uint256 tokenId, address user, uint64 expires) external;
    function userOf(uint256 tokenId) external view returns (address);
    function userExpires(uint256 tokenId) external view returns (uint256);
}
