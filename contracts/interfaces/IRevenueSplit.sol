// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Payee, SlotCategory} from "../types/ParkingTypes.sol";

/// @title IRevenueSplit
/// @notice Holds escrowed credits for the platform's markets and splits settled revenue between
/// the owner, the village enterprise, the city fund and the platform, in basis points per slot
/// category. Payees pull what they earned (`claim`), and each payee gets one statement event per
/// KST month so auditors can reconcile.
interface IRevenueSplit {
    /// @notice A zero address was given where an account or contract is required.
    error RevenueSplitZeroAddress();
    /// @notice The caller is not a registered settlement source (a market contract).
    /// @param caller the caller
    error RevenueSplitNotSource(address caller);
    /// @notice Shares do not add up to 10,000 basis points.
    /// @param totalBps their sum
    error RevenueSplitInvalidShares(uint256 totalBps);
    /// @notice The dust party is not a Payee value.
    /// @param party the raw value
    error RevenueSplitInvalidDustParty(uint8 party);
    /// @notice The category value is not a SlotCategory.
    /// @param category the raw value
    error RevenueSplitInvalidCategory(uint8 category);
    /// @notice The account has nothing to claim.
    /// @param account the account
    error RevenueSplitNothingToClaim(address account);
    /// @notice An amount does not fit the accounting fields.
    /// @param amount the amount
    error RevenueSplitAmountTooLarge(uint256 amount);

    /// @notice A settlement was split. The four parts sum exactly to `amount`.
    event RevenueAllocated(
        address indexed source,
        address indexed owner,
        SlotCategory indexed category,
        uint256 amount,
        uint256 ownerShare,
        uint256 villageShare,
        uint256 cityShare,
        uint256 platformShare
    );
    /// @notice A mobility fare or valet fee was split between an account payee (the operator or
    /// the valet worker), the village enterprise and the platform. The parts sum exactly to `amount`.
    event FareAllocated(
        address indexed source,
        address indexed payee,
        uint256 amount,
        uint256 payeeShare,
        uint256 villageShare,
        uint256 platformShare
    );
    /// @notice Escrow went back to a payer (a cancellation refund).
    event EscrowRefunded(address indexed source, address indexed to, uint256 amount);
    /// @notice A refund was kept for a payer who may not receive credits now (suspended); it is
    /// paid with their next `claim`.
    event RefundDeferred(address indexed source, address indexed to, uint256 amount);
    /// @notice A payee withdrew what it had earned.
    event Claimed(address indexed payee, uint256 amount);
    /// @notice One KST month of one payee in one capacity (`kind`: as a slot owner, or as the
    /// village enterprise, city fund or platform): earned, claimed, and the balance at its close.
    event MonthlyStatement(
        address indexed payee, uint32 indexed epoch, Payee kind, uint256 earned, uint256 claimed, uint256 closingBalance
    );
    /// @notice CITY_ADMIN changed a category's split.
    event SplitSet(
        SlotCategory indexed category,
        uint16 ownerBps,
        uint16 villageBps,
        uint16 cityBps,
        uint16 platformBps,
        Payee dustParty
    );
    /// @notice A contract was allowed (or no longer allowed) to escrow and allocate.
    event SourceSet(address indexed source, bool allowed);

    function allocate(SlotCategory category, address owner, uint256 amount) external;
    function creditFareShares(address payee, uint256 payeeShare, uint256 villageShare, uint256 platformShare)
        external;
    function refund(address to, uint256 amount) external;
    function claim() external returns (uint256 amount);
    function closeStatements(address[] calldata payees) external;
    function setSplit(
        uint8 category,
        uint16 ownerBps,
        uint16 villageBps,
        uint16 cityBps,
        uint16 platformBps,
        uint8 dustParty
    ) external;
    function setSource(address source, bool allowed) external;

    function previewSplit(SlotCategory category, uint256 amount)
        external
        view
        returns (uint256 ownerShare, uint256 villageShare, uint256 cityShare, uint256 platformShare);
    function claimable(address payee) external view returns (uint256);
    function currentEpoch() external view returns (uint32);
}
