// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {ICityAccess} from "../interfaces/ICityAccess.sol";
import {CityRoles} from "./CityRoles.sol";

/// @title CityAccessControlled
/// @notice Base for contracts whose permissions live in CityAccess: one place for role checks.
abstract contract CityAccessControlled is Context {
    ICityAccess public immutable access;

    constructor(ICityAccess access_) {
        if (address(access_) == address(0)) revert ICityAccess.CityAccessZeroAddress();
        access = access_;
    }

    /// @dev CITY_ADMIN always passes; otherwise the caller needs `role`.
    modifier onlyCityRole(bytes32 role) {
        _requireCityRole(_msgSender(), role);
        _;
    }

    function _requireCityRole(address account, bytes32 role) internal view {
        if (!_hasCityRole(account, role)) revert ICityAccess.CityAccessMissingRole(account, role);
    }

    function _hasCityRole(address account, bytes32 role) internal view returns (bool) {
        return access.hasActiveRole(role, account)
            || (role != CityRoles.CITY_ADMIN && access.hasActiveRole(CityRoles.CITY_ADMIN, account));
    }
}
