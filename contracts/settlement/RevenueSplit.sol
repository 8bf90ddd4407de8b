// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {ICityAccess} from "../interfaces/ICityAccess.sol";
import {IRevenueSplit} from "../interfaces/IRevenueSplit.sol";
import {CityAccessControlled} from "../access/CityAccessControlled.sol";
import {CityRoles} from "../access/CityRoles.sol";
import {CivilMonth} from "../libraries/CivilMonth.sol";
import {Payee, SlotCategory} from "../types/ParkingTypes.sol";

/// @title RevenueSplit
/// @notice The platform's vault. Markets escrow payments here; on settlement a market asks the
/// split to allocate the amount between the slot owner, the village enterprise, the city fund and
/// the platform in basis points per slot category. Payees pull their balance with `claim`.
/// @dev Escrow and earned balances are both held in this contract's CityCredit balance, so
/// `balanceOf(this) == escrow of all open leases + sum of claimable`, an invariant the tests check.
contract RevenueSplit is ERC2771Context, CityAccessControlled, IRevenueSplit {
    using SafeERC20 for IERC20;

    uint256 private constant BPS = 10_000;
    uint256 private constant ROW_BITS = 64;

    /// @dev Everything a payee's balance needs, in one storage word.
    struct Account {
        uint64 claimable;
        uint64 epochEarned;
        uint64 epochClaimed;
        uint32 epoch;
    }

    IERC20 public immutable credit;
    address public immutable villageEnterprise;
    address public immutable cityFund;
    address public immutable platform;

    /// @dev Per category (64 bits each): ownerBps | villageBps << 16 | cityBps << 32 | dustParty << 48.
    /// The platform takes the remaining basis points.
    uint256 private _splitTable;
    mapping(address source => bool) private _sources;
    mapping(address payee => Account) private _accounts;

    constructor(
        ICityAccess access_,
        IERC20 credit_,
        address trustedForwarder,
        address villageEnterprise_,
        address cityFund_,
        address platform_
    ) ERC2771Context(trustedForwarder) CityAccessControlled(access_) {
        if (
            address(credit_) == address(0) || villageEnterprise_ == address(0) || cityFund_ == address(0)
                || platform_ == address(0)
        ) revert RevenueSplitZeroAddress();
        credit = credit_;
        villageEnterprise = villageEnterprise_;
        cityFund = cityFund_;
        platform = platform_;
        // DESIGN §4 defaults. Resident-priority follows Bucheon's ordinance: 70% to the village
        // enterprise, the rest to the city fund. Dust stays in the village.
        _writeSplit(SlotCategory.PUBLIC_LOT, 0, 3000, 6000, 1000, Payee.VILLAGE_ENTERPRISE);
        _writeSplit(SlotCategory.PRIVATE_LOT, 5000, 3000, 0, 2000, Payee.VILLAGE_ENTERPRISE);
        _writeSplit(SlotCategory.RESIDENT_PRIORITY, 0, 7000, 3000, 0, Payee.VILLAGE_ENTERPRISE);
        _writeSplit(SlotCategory.PERSONAL, 6000, 2500, 0, 1500, Payee.VILLAGE_ENTERPRISE);
    }

    modifier onlySource() {
        if (!_sources[msg.sender]) revert RevenueSplitNotSource(msg.sender);
        _;
    }

    /// @inheritdoc IRevenueSplit
    /// @dev The amount is already held here (escrowed by the source).
    function allocate(SlotCategory category, address owner, uint256 amount) external onlySource {
        (uint256 ownerShare, uint256 villageShare, uint256 cityShare, uint256 platformShare) =
            _split(category, amount);
        uint32 epoch = CivilMonth.epochOf(block.timestamp);
        if (ownerShare != 0) _credit(owner, ownerShare, epoch);
        if (villageShare != 0) _credit(villageEnterprise, villageShare, epoch);
        if (cityShare != 0) _credit(cityFund, cityShare, epoch);
        if (platformShare != 0) _credit(platform, platformShare, epoch);
        emit RevenueAllocated(
            msg.sender, owner, category, amount, ownerShare, villageShare, cityShare, platformShare
        );
    }

    /// @inheritdoc IRevenueSplit
    function refund(address to, uint256 amount) external onlySource {
        emit EscrowRefunded(msg.sender, to, amount);
        credit.safeTransfer(to, amount);
    }

    /// @inheritdoc IRevenueSplit
    function claim() external returns (uint256 amount) {
        address payee = _msgSender();
        Account memory account = _rolled(payee, CivilMonth.epochOf(block.timestamp));
        amount = account.claimable;
        if (amount == 0) revert RevenueSplitNothingToClaim(payee);
        account.claimable = 0;
        account.epochClaimed += uint64(amount);
        _accounts[payee] = account;
        emit Claimed(payee, amount);
        credit.safeTransfer(payee, amount);
    }

    /// @inheritdoc IRevenueSplit
    /// @dev Anyone may call it after a month ends (the month-end script does); each payee whose
    /// open statement belongs to an earlier month gets its MonthlyStatement event.
    function closeStatements(address[] calldata payees) external {
        uint32 epoch = CivilMonth.epochOf(block.timestamp);
        for (uint256 i = 0; i < payees.length; ++i) {
            Account memory before = _accounts[payees[i]];
            if (before.epoch == 0 || before.epoch == epoch) continue;
            _accounts[payees[i]] = _rolled(payees[i], epoch);
        }
    }

    /// @inheritdoc IRevenueSplit
    function setSplit(
        uint8 category,
        uint16 ownerBps,
        uint16 villageBps,
        uint16 cityBps,
        uint16 platformBps,
        uint8 dustParty
    ) external onlyCityRole(CityRoles.CITY_ADMIN) {
        if (category > uint8(type(SlotCategory).max)) revert RevenueSplitInvalidCategory(category);
        if (dustParty > uint8(type(Payee).max)) revert RevenueSplitInvalidDustParty(dustParty);
        _writeSplit(SlotCategory(category), ownerBps, villageBps, cityBps, platformBps, Payee(dustParty));
    }

    /// @inheritdoc IRevenueSplit
    function setSource(address source, bool allowed) external onlyCityRole(CityRoles.CITY_ADMIN) {
        if (source == address(0)) revert RevenueSplitZeroAddress();
        if (_sources[source] == allowed) return;
        _sources[source] = allowed;
        emit SourceSet(source, allowed);
    }

    /// @inheritdoc IRevenueSplit
    function previewSplit(SlotCategory category, uint256 amount)
        external
        view
        returns (uint256 ownerShare, uint256 villageShare, uint256 cityShare, uint256 platformShare)
    {
        return _split(category, amount);
    }

    /// @notice A category's split: the four basis points and the dust party.
    function splitOf(SlotCategory category)
        external
        view
        returns (uint16 ownerBps, uint16 villageBps, uint16 cityBps, uint16 platformBps, Payee dustParty)
    {
        uint256 row = _row(category);
        ownerBps = uint16(row);
        villageBps = uint16(row >> 16);
        cityBps = uint16(row >> 32);
        platformBps = uint16(BPS - ownerBps - villageBps - cityBps);
        dustParty = Payee(uint8(row >> 48));
    }

    /// @inheritdoc IRevenueSplit
    function claimable(address payee) external view returns (uint256) {
        return _accounts[payee].claimable;
    }

    /// @notice The payee's open statement: its month, earned and claimed so far, and its balance.
    function accountOf(address payee)
        external
        view
        returns (uint32 epoch, uint256 earned, uint256 claimed, uint256 balance)
    {
        Account memory account = _accounts[payee];
        return (account.epoch, account.epochEarned, account.epochClaimed, account.claimable);
    }

    /// @notice Whether `source` may escrow and allocate.
    function isSource(address source) external view returns (bool) {
        return _sources[source];
    }

    /// @inheritdoc IRevenueSplit
    function currentEpoch() external view returns (uint32) {
        return CivilMonth.epochOf(block.timestamp);
    }

    function _split(SlotCategory category, uint256 amount)
        private
        view
        returns (uint256 ownerShare, uint256 villageShare, uint256 cityShare, uint256 platformShare)
    {
        uint256 row = _row(category);
        uint256 ownerBps = row & 0xFFFF;
        uint256 villageBps = (row >> 16) & 0xFFFF;
        uint256 cityBps = (row >> 32) & 0xFFFF;
        ownerShare = amount * ownerBps / BPS;
        villageShare = amount * villageBps / BPS;
        cityShare = amount * cityBps / BPS;
        platformShare = amount * (BPS - ownerBps - villageBps - cityBps) / BPS;
        uint256 dust = amount - ownerShare - villageShare - cityShare - platformShare;
        if (dust != 0) {
            Payee dustParty = Payee(uint8(row >> 48));
            if (dustParty == Payee.OWNER) ownerShare += dust;
            else if (dustParty == Payee.VILLAGE_ENTERPRISE) villageShare += dust;
            else if (dustParty == Payee.CITY_FUND) cityShare += dust;
            else platformShare += dust;
        }
    }

    function _credit(address payee, uint256 amount, uint32 epoch) private {
        if (amount > type(uint64).max) revert RevenueSplitAmountTooLarge(amount);
        Account memory account = _rolled(payee, epoch);
        uint256 newBalance = uint256(account.claimable) + amount;
        uint256 newEarned = uint256(account.epochEarned) + amount;
        if (newBalance > type(uint64).max || newEarned > type(uint64).max) revert RevenueSplitAmountTooLarge(amount);
        account.claimable = uint64(newBalance);
        account.epochEarned = uint64(newEarned);
        _accounts[payee] = account;
    }

    /// @dev The account moved to `epoch`, emitting the statement of the month it leaves.
    function _rolled(address payee, uint32 epoch) private returns (Account memory account) {
        account = _accounts[payee];
        if (account.epoch == epoch) return account;
        if (account.epoch != 0) {
            emit MonthlyStatement(payee, account.epoch, account.epochEarned, account.epochClaimed, account.claimable);
        }
        account.epoch = epoch;
        account.epochEarned = 0;
        account.epochClaimed = 0;
    }

    function _writeSplit(
        SlotCategory category,
        uint16 ownerBps,
        uint16 villageBps,
        uint16 cityBps,
        uint16 platformBps,
        Payee dustParty
    ) private {
        uint256 total = uint256(ownerBps) + villageBps + cityBps + platformBps;
        if (total != BPS) revert RevenueSplitInvalidShares(total);
        uint256 shift = ROW_BITS * uint256(category);
        uint256 row = uint256(ownerBps) | (uint256(villageBps) << 16) | (uint256(cityBps) << 32)
            | (uint256(uint8(dustParty)) << 48);
        _splitTable = (_splitTable & ~(((1 << ROW_BITS) - 1) << shift)) | (row << shift);
        emit SplitSet(category, ownerBps, villageBps, cityBps, platformBps, dustParty);
    }

    function _row(SlotCategory category) private view returns (uint256) {
        return (_splitTable >> (ROW_BITS * uint256(category))) & ((1 << ROW_BITS) - 1);
    }

    function _msgSender() internal view override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    function _msgData() internal view override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    function _contextSuffixLength() internal view override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }
}
