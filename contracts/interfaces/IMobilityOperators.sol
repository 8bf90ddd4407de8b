// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FarePlan, FareTerms, MobilityAsset, MobilityOperator, OperatorKind} from "../types/MobilityTypes.sol";

/// @title IMobilityOperators
/// @notice Registered mobility operators (car share, kick-scooters, valet, transit), their assets
/// and their versioned fare plans.
interface IMobilityOperators {
    /// @notice A zero address was given where an account is required.
    error MobilityOperatorsZeroAddress();
    /// @notice The kind is NONE or not an OperatorKind value.
    /// @param kind the raw value
    error MobilityOperatorsInvalidKind(uint8 kind);
    /// @notice The account does not hold the OPERATOR role in CityAccess.
    /// @param account the account
    error MobilityOperatorsNotOperatorRole(address account);
    /// @notice The operator is already registered.
    /// @param operator the operator
    error MobilityOperatorsAlreadyRegistered(address operator);
    /// @notice The account is not a registered operator.
    /// @param account the account
    error MobilityOperatorsUnknownOperator(address account);
    /// @notice The operator was deactivated by CITY_ADMIN.
    /// @param operator the operator
    error MobilityOperatorsOperatorInactive(address operator);
    /// @notice No asset has this id.
    /// @param assetId the asset
    error MobilityOperatorsUnknownAsset(uint256 assetId);
    /// @notice The asset is taken out of service.
    /// @param assetId the asset
    error MobilityOperatorsAssetInactive(uint256 assetId);
    /// @notice The caller is not the operator of the asset.
    /// @param assetId the asset
    /// @param caller the caller
    error MobilityOperatorsNotAssetOperator(uint256 assetId, address caller);
    /// @notice A fare plan's prices are out of bounds (a zero or too high daily cap, a cap below the
    /// unlock fee, or a price above the ceiling).
    /// @param unlockFee the unlock fee given
    /// @param dailyCap the daily cap given
    error MobilityOperatorsInvalidPlan(uint256 unlockFee, uint256 dailyCap);
    /// @notice No plan has this id.
    /// @param planId the plan
    error MobilityOperatorsUnknownPlan(uint256 planId);
    /// @notice The plan belongs to another operator than the asset's.
    /// @param planId the plan
    /// @param planOperator the plan's operator
    /// @param assetOperator the asset's operator
    error MobilityOperatorsPlanOperatorMismatch(uint256 planId, address planOperator, address assetOperator);
    /// @notice The plan was superseded: new trips start under the operator's current plan.
    /// @param planId the plan given
    /// @param currentPlanId the operator's current plan
    error MobilityOperatorsPlanNotCurrent(uint256 planId, uint256 currentPlanId);

    /// @notice CITY_ADMIN registered an operator of `kind`.
    event OperatorRegistered(address indexed operator, OperatorKind indexed kind);
    /// @notice CITY_ADMIN (de)activated an operator.
    event OperatorActiveSet(address indexed operator, bool active);
    /// @notice An operator registered an asset (a vehicle, a valet desk, a bus line).
    event AssetRegistered(uint256 indexed assetId, address indexed operator, OperatorKind kind, bool villageZone);
    /// @notice An operator changed an asset's service state or zone.
    event AssetUpdated(uint256 indexed assetId, address indexed operator, bool active, bool villageZone);
    /// @notice An operator published a fare plan; it is the operator's current plan from now on.
    event FarePlanPublished(
        uint256 indexed planId,
        address indexed operator,
        uint32 unlockFee,
        uint32 perMinute,
        uint32 per100m,
        uint32 dailyCap
    );

    function registerOperator(address operator, uint8 kind) external;
    function setOperatorActive(address operator, bool active) external;
    function registerAsset(bool villageZone) external returns (uint256 assetId);
    function setAsset(uint256 assetId, bool active, bool villageZone) external;
    function publishPlan(uint32 unlockFee, uint32 perMinute, uint32 per100m, uint32 dailyCap)
        external
        returns (uint256 planId);

    function operatorOf(address operator) external view returns (MobilityOperator memory);
    function assetOf(uint256 assetId) external view returns (MobilityAsset memory);
    function planOf(uint256 planId) external view returns (FarePlan memory);
    /// @notice Everything a trip needs at its start, checked: the asset is known and active, its
    /// operator active, and `planId` is that operator's current plan.
    function tripTerms(uint256 assetId, uint256 planId)
        external
        view
        returns (address operator, bool villageZone, FareTerms memory terms);
}
