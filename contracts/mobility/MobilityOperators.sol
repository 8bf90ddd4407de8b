// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICityAccess} from "../interfaces/ICityAccess.sol";
import {IMobilityOperators} from "../interfaces/IMobilityOperators.sol";
import {CityContext} from "../access/CityContext.sol";
import {CityRoles} from "../access/CityRoles.sol";
import {FarePlan, FareTerms, MobilityAsset, MobilityOperator, OperatorKind} from "../types/MobilityTypes.sol";

/// @title MobilityOperators
/// @notice The registry of mobility operators: CITY_ADMIN registers accounts holding the OPERATOR
/// role with a kind; each operator registers its assets and publishes fare plans. A new plan
/// supersedes the old one for new trips; old plans stay readable for trips started under them.
contract MobilityOperators is CityContext, IMobilityOperators {
    /// @notice Ceiling of any single price in a plan (₩1,000,000), to catch a mistyped plan.
    uint256 public constant MAX_PRICE = 1_000_000;

    mapping(address operator => MobilityOperator) private _operators;
    mapping(uint256 assetId => MobilityAsset) private _assets;
    mapping(uint256 planId => FarePlan) private _plans;
    uint256 public assetCount;
    uint256 public planCount;

    constructor(ICityAccess access_, address trustedForwarder)
        CityContext(access_, trustedForwarder)
    {}

    /// @inheritdoc IMobilityOperators
    function registerOperator(address operator, uint8 kind) external onlyCityRole(CityRoles.CITY_ADMIN) {
        if (operator == address(0)) revert MobilityOperatorsZeroAddress();
        if (kind == 0 || kind > uint8(type(OperatorKind).max)) revert MobilityOperatorsInvalidKind(kind);
        if (!access.hasActiveRole(CityRoles.OPERATOR, operator)) revert MobilityOperatorsNotOperatorRole(operator);
        if (_operators[operator].kind != OperatorKind.NONE) revert MobilityOperatorsAlreadyRegistered(operator);
        _operators[operator] = MobilityOperator({kind: OperatorKind(kind), active: true, currentPlan: 0});
        emit OperatorRegistered(operator, OperatorKind(kind));
    }

    /// @inheritdoc IMobilityOperators
    function setOperatorActive(address operator, bool active) external onlyCityRole(CityRoles.CITY_ADMIN) {
        MobilityOperator storage record = _operators[operator];
        if (record.kind == OperatorKind.NONE) revert MobilityOperatorsUnknownOperator(operator);
        if (record.active == active) return;
        record.active = active;
        emit OperatorActiveSet(operator, active);
    }

    /// @inheritdoc IMobilityOperators
    function registerAsset(bool villageZone) external returns (uint256 assetId) {
        address operator = _msgSender();
        MobilityOperator memory record = _requireOperator(operator);
        assetId = ++assetCount;
        _assets[assetId] =
            MobilityAsset({operator: operator, kind: record.kind, active: true, villageZone: villageZone});
        emit AssetRegistered(assetId, operator, record.kind, villageZone);
    }

    /// @inheritdoc IMobilityOperators
    function setAsset(uint256 assetId, bool active, bool villageZone) external {
        MobilityAsset storage asset = _assets[assetId];
        if (asset.operator == address(0)) revert MobilityOperatorsUnknownAsset(assetId);
        address caller = _msgSender();
        if (caller != asset.operator) revert MobilityOperatorsNotAssetOperator(assetId, caller);
        if (asset.active == active && asset.villageZone == villageZone) return;
        asset.active = active;
        asset.villageZone = villageZone;
        emit AssetUpdated(assetId, caller, active, villageZone);
    }

    /// @inheritdoc IMobilityOperators
    function publishPlan(uint32 unlockFee, uint32 perMinute, uint32 per100m, uint32 dailyCap)
        external
        returns (uint256 planId)
    {
        address operator = _msgSender();
        _requireOperator(operator);
        if (
            dailyCap == 0 || dailyCap < unlockFee || dailyCap > MAX_PRICE || perMinute > MAX_PRICE
                || per100m > MAX_PRICE
        ) revert MobilityOperatorsInvalidPlan(unlockFee, dailyCap);
        planId = ++planCount;
        _plans[planId] = FarePlan({operator: operator, terms: FareTerms(unlockFee, perMinute, per100m, dailyCap)});
        _operators[operator].currentPlan = uint32(planId);
        emit FarePlanPublished(planId, operator, unlockFee, perMinute, per100m, dailyCap);
    }

    // ------------------------------------------------------------------------------ views

    /// @inheritdoc IMobilityOperators
    function operatorOf(address operator) external view returns (MobilityOperator memory) {
        return _operators[operator];
    }

    /// @inheritdoc IMobilityOperators
    function assetOf(uint256 assetId) external view returns (MobilityAsset memory asset) {
        asset = _assets[assetId];
        if (asset.operator == address(0)) revert MobilityOperatorsUnknownAsset(assetId);
    }

    /// @inheritdoc IMobilityOperators
    function planOf(uint256 planId) external view returns (FarePlan memory plan) {
        plan = _plans[planId];
        if (plan.operator == address(0)) revert MobilityOperatorsUnknownPlan(planId);
    }

    /// @inheritdoc IMobilityOperators
    function tripTerms(uint256 assetId, uint256 planId)
        external
        view
        returns (address operator, bool villageZone, FareTerms memory terms)
    {
        MobilityAsset memory asset = _assets[assetId];
        operator = asset.operator;
        if (operator == address(0)) revert MobilityOperatorsUnknownAsset(assetId);
        if (!asset.active) revert MobilityOperatorsAssetInactive(assetId);
        MobilityOperator memory record = _operators[operator];
        if (!record.active) revert MobilityOperatorsOperatorInactive(operator);
        FarePlan memory plan = _plans[planId];
        if (plan.operator == address(0)) revert MobilityOperatorsUnknownPlan(planId);
        if (plan.operator != operator) revert MobilityOperatorsPlanOperatorMismatch(planId, plan.operator, operator);
        if (planId != record.currentPlan) revert MobilityOperatorsPlanNotCurrent(planId, record.currentPlan);
        return (operator, asset.villageZone, plan.terms);
    }

    // ---------------------------------------------------------------------------- helpers

    function _requireOperator(address account) private view returns (MobilityOperator memory record) {
        record = _operators[account];
        if (record.kind == OperatorKind.NONE) revert MobilityOperatorsUnknownOperator(account);
        if (!record.active) revert MobilityOperatorsOperatorInactive(account);
    }
}
