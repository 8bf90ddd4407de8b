// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ICityAccess} from "../interfaces/ICityAccess.sol";
import {ILeaseMarket} from "../interfaces/ILeaseMarket.sol";
import {IMembershipListener} from "../interfaces/IMembershipListener.sol";
import {IRevenueSplit} from "../interfaces/IRevenueSplit.sol";
import {CityContext} from "../access/CityContext.sol";
import {Permits} from "../libraries/Permits.sol";

/// @title LeasePrepaid
/// @notice The lease market's prepaid booking balances: a member deposits credits once (they go
/// to the vault, which holds every escrow) and each booking then moves only this balance, never a
/// token; the member withdraws what is left at any time.
/// @dev Conservation: the vault's credit balance is the sum of these balances, plus the escrow
/// of open leases, plus what payees may claim (tests/contracts/lease_market/test_prepaid.py).
abstract contract LeasePrepaid is CityContext, ILeaseMarket, IMembershipListener {
    using SafeERC20 for IERC20;

    /// @dev The top bit of a prepaid word: CityAccess has suspended the account (it tells the
    /// market in the same transaction, IMembershipListener); the low 255 bits are the balance.
    uint256 internal constant SUSPENDED_FLAG = 1 << 255;

    IERC20 public immutable credit;
    IRevenueSplit public immutable vault;

    /// @dev Credits each member prepaid for bookings, and the SUSPENDED_FLAG. A nonzero balance
    /// without the flag proves an active member: only an active member may deposit, and a
    /// suspension sets the flag in the suspending transaction.
    mapping(address account => uint256) internal _prepaid;

    constructor(ICityAccess access_, IERC20 credit_, IRevenueSplit vault_, address trustedForwarder)
        CityContext(access_, trustedForwarder)
    {
        if (address(credit_) == address(0) || address(vault_) == address(0)) revert LeaseMarketZeroAddress();
        credit = credit_;
        vault = vault_;
    }

    /// @inheritdoc ILeaseMarket
    /// @dev The credits go straight to the vault, where bookings paid from the balance leave them.
    function deposit(uint256 amount) external {
        _deposit(_msgSender(), amount);
    }

    /// @inheritdoc ILeaseMarket
    /// @dev For a wallet app whose resident never approved the market: the permit comes with the
    /// deposit, relayed like the rest (a front-run permit still leaves the allowance).
    function depositWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external {
        address account = _msgSender();
        (bool allowed, bytes memory reason) = Permits.tryPermit(credit, account, amount, deadline, v, r, s);
        if (!allowed) revert LeaseMarketPermitFailed(reason);
        _deposit(account, amount);
    }

    function _deposit(address account, uint256 amount) private {
        if (amount == 0) revert LeaseMarketZeroAmount();
        if (!access.isActiveMember(account)) revert LeaseMarketNotMember(account);
        // Without CityAccess telling the market of suspensions, a balance would not prove membership.
        if (access.membershipListener() != address(this)) revert LeaseMarketPrepaidClosed();
        // An active member's word never carries the flag (a reinstatement cleared it).
        uint256 balance = _prepaid[account] + amount;
        _prepaid[account] = balance;
        emit PrepaidDeposited(account, amount, balance);
        credit.safeTransferFrom(account, address(vault), amount);
    }

    /// @inheritdoc ILeaseMarket
    /// @dev Paid out by the vault; a suspended member's withdrawal waits there as a deferred
    /// refund, claimable once reinstated (RevenueSplit.refund).
    function withdraw(uint256 amount) external {
        address account = _msgSender();
        if (amount == 0) revert LeaseMarketZeroAmount();
        uint256 word = _prepaid[account];
        uint256 balance = word & ~SUSPENDED_FLAG;
        if (amount > balance) revert LeaseMarketInsufficientPrepaid(account, balance, amount);
        unchecked {
            balance -= amount;
        }
        _prepaid[account] = balance | (word & SUSPENDED_FLAG);
        emit PrepaidWithdrawn(account, amount, balance);
        vault.refund(account, amount);
    }

    /// @inheritdoc IMembershipListener
    /// @dev Only CityAccess calls it. An account with nothing prepaid needs no flag: its bookings
    /// and deposits ask CityAccess.
    function onMembershipChanged(address account, bool suspended) external {
        if (msg.sender != address(access)) revert LeaseMarketNotAuthorized(0, msg.sender);
        uint256 word = _prepaid[account];
        if (word == 0) return;
        _prepaid[account] = suspended ? word | SUSPENDED_FLAG : word & ~SUSPENDED_FLAG;
    }

    /// @inheritdoc ILeaseMarket
    function prepaidBalanceOf(address account) external view returns (uint256) {
        return _prepaid[account] & ~SUSPENDED_FLAG;
    }
}
