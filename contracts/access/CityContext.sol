// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {ICityAccess} from "../interfaces/ICityAccess.sol";
import {CityAccessControlled} from "./CityAccessControlled.sol";

/// @title CityContext
/// @notice Base for the contracts residents call through the CityForwarder: who the caller is
/// (ERC-2771, the resident who signed the forwarded request) and what it may do (CityAccess roles).
/// @dev Both parents derive from OpenZeppelin's Context and only ERC2771Context overrides it, so
/// Solidity asks for the choice to be spelt out once; here it is, for every contract below.
abstract contract CityContext is ERC2771Context, CityAccessControlled {
    constructor(ICityAccess access_, address trustedForwarder)
        ERC2771Context(trustedForwarder)
        CityAccessControlled(access_)
    {}

    function _msgSender() internal view virtual override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    function _msgData() internal view virtual override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    function _contextSuffixLength() internal view virtual override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }
}
