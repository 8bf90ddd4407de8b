// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ICityAccess} from "../interfaces/ICityAccess.sol";
import {IRevenueSplit} from "../interfaces/IRevenueSplit.sol";
import {CityContext} from "../access/CityContext.sol";
import {CityRoles} from "../access/CityRoles.sol";
import {BasisPoints} from "../libraries/BasisPoints.sol";
import {CivilMonth} from "../libraries/CivilMonth.sol";
import {Payee, SlotCategory} from "../types/ParkingTypes.sol";

/// @title RevenueSplit
/// @notice The platform's vault. Markets escrow payments here; on settlement a market asks the
/// split to allocate the amount between the slot owner, the village enterprise, the city fund and
/// the platform in basis points per slot category. Payees pull their balance with `claim`, and
/// every payee gets a MonthlyStatement event per KST month so auditors can reconcile.
/// @dev Escrow and earned balances are both held in this contract's CityCredit balance, so
/// `balanceOf(this) == escrow of open leases + sum of claimable`, an invariant the tests check.
/// The three fixed payees share one "house" storage word, so a settlement writes at most two
/// words (the owner's account and the house word) whatever the split.
contract RevenueSplit is CityContext, IRevenueSplit {
    using SafeERC20 for IERC20;

    uint256 private constant ROW_BITS = 64;
    uint256 private constant HOUSE_BITS = 72;
    uint256 private constant HOUSE_MASK = (1 << HOUSE_BITS) - 1;
    uint256 private constant EPOCH_SHIFT = 3 * HOUSE_BITS;

    /// @dev A slot owner's balance. Earned this month = claimable - opening + claimed.
    struct Account {
        uint64 claimable;
        uint64 opening;
        uint64 claimed;
        uint32 epoch;
    }

    address public immutable villageEnterprise;
    address public immutable cityFund;
    address public immutable platform;
    /// @notice The CityCredit token this vault holds. CityCredit fixes this vault's address in
    /// turn, so the deployment gives each the other's address (the second one's is computed).
    IERC20 public immutable credit;

    /// @dev Per category (64 bits each): ownerBps | villageBps << 16 | cityBps << 32 | dustParty << 48.
    /// The platform takes the remaining basis points.
    uint256 private _splitTable;
    mapping(address source => bool) private _sources;
    mapping(address payee => Account) private _accounts;
    /// @dev claimable of village | city << 72 | platform << 144, and the open epoch << 216
    uint256 private _house;
    /// @dev the three house balances at the start of the open epoch (same layout, no epoch)
    uint256 private _houseOpening;
    /// @dev what the three house payees claimed in the open epoch (same layout)
    uint256 private _houseClaimed;
    /// @dev refunds that could not be paid out yet (the payer was suspended)
    mapping(address payer => uint256) private _deferredRefunds;

    constructor(
        ICityAccess access_,
        IERC20 credit_,
        address trustedForwarder,
        address villageEnterprise_,
        address cityFund_,
        address platform_
    ) CityContext(access_, trustedForwarder) {
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
        if (ownerShare != 0) _creditOwner(owner, ownerShare, epoch);
        if (villageShare | cityShare | platformShare != 0) _creditHouse(villageShare, cityShare, platformShare, epoch);
        emit RevenueAllocated(msg.sender, owner, category, amount, ownerShare, villageShare, cityShare, platformShare);
    }

    /// @inheritdoc IRevenueSplit
    /// @dev A payer who may not receive credits right now (a suspended member) keeps the refund
    /// here, claimable once reinstated, so a cancellation never gets stuck on the refund.
    function refund(address to, uint256 amount) external onlySource {
        if (!access.isAllowed(to)) {
            _deferredRefunds[to] += amount;
            emit RefundDeferred(msg.sender, to, amount);
            return;
        }
        emit EscrowRefunded(msg.sender, to, amount);
        credit.safeTransfer(to, amount);
    }

    /// @inheritdoc IRevenueSplit
    /// @dev Pays both what the caller earned as a slot owner and, for the village enterprise,
    /// city fund and platform, their house share.
    function claim() external returns (uint256 amount) {
        address payee = _msgSender();
        uint32 epoch = CivilMonth.epochOf(block.timestamp);
        uint32 previousEpoch = _accounts[payee].epoch;
        Account memory account = _rolledAccount(payee, epoch);
        uint256 fromAccount = account.claimable;
        if (fromAccount != 0) {
            account.claimable = 0;
            account.claimed += uint64(fromAccount);
        }
        // Save whenever the month rolled too, or its statement would be emitted again.
        if (fromAccount != 0 || account.epoch != previousEpoch) _accounts[payee] = account;
        uint256 fromHouse = _claimHouse(payee, epoch);
        uint256 fromRefunds = _deferredRefunds[payee];
        if (fromRefunds != 0) delete _deferredRefunds[payee];
        amount = fromAccount + fromHouse + fromRefunds;
        if (amount == 0) revert RevenueSplitNothingToClaim(payee);
        emit Claimed(payee, amount);
        credit.safeTransfer(payee, amount);
    }

    /// @inheritdoc IRevenueSplit
    /// @dev Anyone may call it after a month ends (the month-end script does). Every listed
    /// owner account and the house payees whose open month is over get their statements.
    function closeStatements(address[] calldata payees) external {
        uint32 epoch = CivilMonth.epochOf(block.timestamp);
        for (uint256 i = 0; i < payees.length; ++i) {
            Account memory before = _accounts[payees[i]];
            if (before.epoch == 0 || before.epoch == epoch) continue;
            _accounts[payees[i]] = _rolledAccount(payees[i], epoch);
        }
        uint256 house = _house;
        uint256 rolled = _rolledHouse(house, epoch);
        if (rolled != house) _house = rolled;
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
    /// @dev The amount is already held here (escrowed by the source), which computed the parts
    /// (and their dust party); the payee's part is accounted like a slot owner's, the other two
    /// go to the house word.
    function creditFareShares(address payee, uint256 payeeShare, uint256 villageShare, uint256 platformShare)
        external
        onlySource
    {
        if (payee == address(0)) revert RevenueSplitZeroAddress();
        uint32 epoch = CivilMonth.epochOf(block.timestamp);
        // The bodies of _creditOwner and _creditHouse, repeated: a second caller would stop the
        // optimizer inlining them into `allocate`, the parking settlement's hot path. (The name is
        // chosen too: a selector sorting before allocate's costs allocate a dispatcher comparison.)
        if (payeeShare != 0) {
            Account memory account = _rolledAccount(payee, epoch);
            uint256 newBalance = uint256(account.claimable) + payeeShare;
            if (newBalance > type(uint64).max) revert RevenueSplitAmountTooLarge(payeeShare);
            account.claimable = uint64(newBalance);
            _accounts[payee] = account;
        }
        if (villageShare | platformShare != 0) {
            uint256 house = _rolledHouse(_house, epoch);
            uint256 newVillage = _field(house, 0) + villageShare;
            uint256 newPlatform = _field(house, 2) + platformShare;
            if ((newVillage | newPlatform) > HOUSE_MASK) revert RevenueSplitAmountTooLarge(villageShare + platformShare);
            _house = newVillage | (_field(house, 1) << HOUSE_BITS) | (newPlatform << (2 * HOUSE_BITS))
                | (uint256(epoch) << EPOCH_SHIFT);
        }
        emit FareAllocated(
            msg.sender, payee, payeeShare + villageShare + platformShare, payeeShare, villageShare, platformShare
        );
    }

    // ------------------------------------------------------------------------------ views

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
        platformBps = uint16(BasisPoints.FULL - ownerBps - villageBps - cityBps);
        dustParty = Payee(uint8(row >> 48));
    }

    /// @inheritdoc IRevenueSplit
    function claimable(address payee) external view returns (uint256) {
        return uint256(_accounts[payee].claimable) + _houseClaimable(_house, payee) + _deferredRefunds[payee];
    }

    /// @notice Refunds held for a payer who could not receive them when they were due.
    function deferredRefundOf(address payer) external view returns (uint256) {
        return _deferredRefunds[payer];
    }

    /// @notice A slot owner's open statement: its month, earned and claimed so far, and its balance.
    function accountOf(address payee)
        external
        view
        returns (uint32 epoch, uint256 earned, uint256 claimed, uint256 balance)
    {
        Account memory account = _accounts[payee];
        return (
            account.epoch,
            uint256(account.claimable) + account.claimed - account.opening,
            account.claimed,
            account.claimable
        );
    }

    /// @notice The house payees' open month and balances (village enterprise, city fund, platform).
    function houseBalances() external view returns (uint32 epoch, uint256 village, uint256 city, uint256 platformBalance) {
        uint256 house = _house;
        return (uint32(house >> EPOCH_SHIFT), _field(house, 0), _field(house, 1), _field(house, 2));
    }

    /// @notice Whether `source` may escrow and allocate.
    function isSource(address source) external view returns (bool) {
        return _sources[source];
    }

    /// @inheritdoc IRevenueSplit
    function currentEpoch() external view returns (uint32) {
        return CivilMonth.epochOf(block.timestamp);
    }

    // ---------------------------------------------------------------------------- helpers

    function _split(SlotCategory category, uint256 amount)
        private
        view
        returns (uint256 ownerShare, uint256 villageShare, uint256 cityShare, uint256 platformShare)
    {
        uint256 row = _row(category);
        uint256 ownerBps = row & 0xFFFF;
        uint256 villageBps = (row >> 16) & 0xFFFF;
        uint256 cityBps = (row >> 32) & 0xFFFF;
        // BasisPoints.share written out: on this path (every settlement) the optimizer does better.
        ownerShare = amount * ownerBps / BasisPoints.FULL;
        villageShare = amount * villageBps / BasisPoints.FULL;
        cityShare = amount * cityBps / BasisPoints.FULL;
        platformShare = amount * (BasisPoints.FULL - ownerBps - villageBps - cityBps) / BasisPoints.FULL;
        uint256 dust = amount - ownerShare - villageShare - cityShare - platformShare;
        if (dust != 0) {
            Payee dustParty = Payee(uint8(row >> 48));
            if (dustParty == Payee.OWNER) ownerShare += dust;
            else if (dustParty == Payee.VILLAGE_ENTERPRISE) villageShare += dust;
            else if (dustParty == Payee.CITY_FUND) cityShare += dust;
            else platformShare += dust;
        }
    }

    function _creditOwner(address owner, uint256 amount, uint32 epoch) private {
        Account memory account = _rolledAccount(owner, epoch);
        uint256 newBalance = uint256(account.claimable) + amount;
        if (newBalance > type(uint64).max) revert RevenueSplitAmountTooLarge(amount);
        account.claimable = uint64(newBalance);
        _accounts[owner] = account;
    }

    function _creditHouse(uint256 village, uint256 city, uint256 platformShare, uint32 epoch) private {
        uint256 house = _rolledHouse(_house, epoch);
        uint256 newVillage = _field(house, 0) + village;
        uint256 newCity = _field(house, 1) + city;
        uint256 newPlatform = _field(house, 2) + platformShare;
        if ((newVillage | newCity | newPlatform) > HOUSE_MASK) revert RevenueSplitAmountTooLarge(village + city + platformShare);
        _house = newVillage | (newCity << HOUSE_BITS) | (newPlatform << (2 * HOUSE_BITS)) | (uint256(epoch) << EPOCH_SHIFT);
    }

    function _claimHouse(address payee, uint32 epoch) private returns (uint256 amount) {
        uint256 index;
        if (payee == villageEnterprise) index = 0;
        else if (payee == cityFund) index = 1;
        else if (payee == platform) index = 2;
        else return 0;
        uint256 house = _rolledHouse(_house, epoch);
        amount = _field(house, index);
        if (amount == 0) {
            if (house != _house) _house = house;
            return 0;
        }
        uint256 shift = index * HOUSE_BITS;
        _house = house & ~(HOUSE_MASK << shift);
        _houseClaimed += amount << shift;
    }

    /// @dev The owner account moved to `epoch`, emitting the statement of the month it leaves.
    function _rolledAccount(address payee, uint32 epoch) private returns (Account memory account) {
        account = _accounts[payee];
        if (account.epoch == epoch) return account;
        if (account.epoch != 0) {
            emit MonthlyStatement(
                payee,
                account.epoch,
                Payee.OWNER,
                uint256(account.claimable) + account.claimed - account.opening,
                account.claimed,
                account.claimable
            );
        }
        account.epoch = epoch;
        account.opening = account.claimable;
        account.claimed = 0;
    }

    /// @dev The house word moved to `epoch`, emitting the three statements of the month it leaves.
    function _rolledHouse(uint256 house, uint32 epoch) private returns (uint256) {
        uint32 openEpoch = uint32(house >> EPOCH_SHIFT);
        if (openEpoch == epoch) return house;
        if (openEpoch != 0) {
            uint256 opening = _houseOpening;
            uint256 claimed = _houseClaimed;
            address[3] memory payees = [villageEnterprise, cityFund, platform];
            for (uint256 i = 0; i < 3; ++i) {
                uint256 closing = _field(house, i);
                uint256 claimedInMonth = _field(claimed, i);
                emit MonthlyStatement(
                    payees[i],
                    openEpoch,
                    Payee(i + 1),
                    closing + claimedInMonth - _field(opening, i),
                    claimedInMonth,
                    closing
                );
            }
            if (claimed != 0) _houseClaimed = 0;
        }
        uint256 balances = house & ((1 << EPOCH_SHIFT) - 1);
        if (_houseOpening != balances) _houseOpening = balances;
        return balances | (uint256(epoch) << EPOCH_SHIFT);
    }

    function _houseClaimable(uint256 house, address payee) private view returns (uint256) {
        if (payee == villageEnterprise) return _field(house, 0);
        if (payee == cityFund) return _field(house, 1);
        if (payee == platform) return _field(house, 2);
        return 0;
    }

    function _field(uint256 word, uint256 index) private pure returns (uint256) {
        return (word >> (index * HOUSE_BITS)) & HOUSE_MASK;
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
        if (total != BasisPoints.FULL) revert RevenueSplitInvalidShares(total);
        uint256 shift = ROW_BITS * uint256(category);
        uint256 row = uint256(ownerBps) | (uint256(villageBps) << 16) | (uint256(cityBps) << 32)
            | (uint256(uint8(dustParty)) << 48);
        uint256 table = (_splitTable & ~(((1 << ROW_BITS) - 1) << shift)) | (row << shift);
        if (table == _splitTable && _splitTable != 0) return;
        _splitTable = table;
        emit SplitSet(category, ownerBps, villageBps, cityBps, platformBps, dustParty);
    }

    function _row(SlotCategory category) private view returns (uint256) {
        return (_splitTable >> (ROW_BITS * uint256(category))) & ((1 << ROW_BITS) - 1);
    }
}
