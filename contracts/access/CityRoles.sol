// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title CityRoles
/// @notice The nine roles of the CityPass ledger, shared by every contract.
library CityRoles {
    bytes32 internal constant CITY_ADMIN = keccak256("CITY_ADMIN");
    bytes32 internal constant TREASURY = keccak256("TREASURY");
    bytes32 internal constant VILLAGE_ENTERPRISE = keccak256("VILLAGE_ENTERPRISE");
    bytes32 internal constant OPERATOR = keccak256("OPERATOR");
    bytes32 internal constant ORACLE = keccak256("ORACLE");
    bytes32 internal constant INSPECTOR = keccak256("INSPECTOR");
    bytes32 internal constant AUDITOR = keccak256("AUDITOR");
    bytes32 internal constant MEMBER = keccak256("MEMBER");
    /// @dev Village-enterprise staff who park and return cars for valet requests.
    bytes32 internal constant VALET = keccak256("VALET");
}
