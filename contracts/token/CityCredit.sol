// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ICityAccess} from "../interfaces/ICityAccess.sol";
import {ICityCredit} from "../interfaces/ICityCredit.sol";
import {CityAccessControlled} from "../access/CityAccessControlled.sol";
import {CityRoles} from "../access/CityRoles.sol";

/// @title CityCredit
/// @notice Prepaid KRW credits (0 decimals, ₩1 = 1 credit) with EIP-2612 permit. The treasury
/// mints on a top-up and burns on a cash-out; credits move only between active members and the
/// platform's contracts, so they cannot leave the village's closed loop.
contract CityCredit is ERC20, ERC20Permit, CityAccessControlled, ICityCredit {
    /// @notice The platform's escrow vault (the revenue split). Fixed at deployment because
    /// every booking pays into it and an immutable costs no storage read.
    address public immutable escrowVault;
    mapping(address account => bool) private _platformContracts;

    constructor(ICityAccess access_, address escrowVault_)
        ERC20("CityPass Credit", "KRWC")
        ERC20Permit("CityPass Credit")
        CityAccessControlled(access_)
    {
        if (escrowVault_ == address(0)) revert CityCreditZeroAddress();
        escrowVault = escrowVault_;
    }

    /// @notice Credits are whole won.
    function decimals() public pure override returns (uint8) {
        return 0;
    }

    /// @inheritdoc ICityCredit
    function mint(address account, uint256 amount, bytes32 receipt) external onlyCityRole(CityRoles.TREASURY) {
        if (amount == 0) revert CityCreditZeroAmount();
        if (account == address(0)) revert CityCreditZeroAddress();
        _mint(account, amount);
        emit TopUp(account, amount, receipt);
    }

    /// @inheritdoc ICityCredit
    /// @dev The member approves (or permits) the treasury for the amount first.
    function cashOut(address account, uint256 amount, bytes32 receipt) external onlyCityRole(CityRoles.TREASURY) {
        if (amount == 0) revert CityCreditZeroAmount();
        if (account == address(0)) revert CityCreditZeroAddress();
        _spendAllowance(account, _msgSender(), amount);
        _burn(account, amount);
        emit CashOut(account, amount, receipt);
    }

    /// @inheritdoc ICityCredit
    function setPlatformContract(address platformContract, bool allowed) external onlyCityRole(CityRoles.CITY_ADMIN) {
        if (platformContract == address(0)) revert CityCreditZeroAddress();
        if (_platformContracts[platformContract] == allowed) return;
        _platformContracts[platformContract] = allowed;
        emit PlatformContractSet(platformContract, allowed);
    }

    /// @inheritdoc ICityCredit
    function isPlatformContract(address account) external view returns (bool) {
        return _platformContracts[account];
    }

    /// @dev Every holder that receives or sends credits must be an allowed party (an active
    /// member, a role holder that is not suspended, or a platform contract). Mint and burn check
    /// only the holder side; the zero address stands for the treasury's books.
    function _update(address from, address to, uint256 value) internal override {
        // Recipients are usually platform contracts (escrow) and senders usually members whose
        // CityAccess record the calling market has already read, so test the cheap side first.
        if (to != address(0) && to != escrowVault && !_platformContracts[to] && !access.isAllowed(to)) {
            revert CityCreditPartyNotAllowed(to);
        }
        if (from != address(0) && from != escrowVault && !access.isAllowed(from) && !_platformContracts[from]) {
            revert CityCreditPartyNotAllowed(from);
        }
        super._update(from, to, value);
    }
}
