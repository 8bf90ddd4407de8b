// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {ICityAccess} from "../interfaces/ICityAccess.sol";
import {IDeviceRegistry} from "../interfaces/IDeviceRegistry.sol";
import {CityAccessControlled} from "../access/CityAccessControlled.sol";
import {CityRoles} from "../access/CityRoles.sol";
import {OccupancyBits} from "../libraries/OccupancyBits.sol";
import {Device, DeviceKind} from "../types/SensorTypes.sol";

/// @title DeviceRegistry
/// @notice The edge devices whose signed events the oracle daemon accepts. A device's id is its
/// own signing address; it never sends transactions, so it need not be a CityAccess member. An
/// OPERATOR registers the devices it installs and manages them afterwards; CITY_ADMIN manages
/// all. Every change emits an event, which the daemon follows to refresh its cache.
contract DeviceRegistry is CityAccessControlled, IDeviceRegistry {
    using EnumerableSet for EnumerableSet.UintSet;

    /// @notice Slots one device may watch: a camera covers many bays, a magnetometer one.
    uint256 public constant MAX_SLOTS_PER_DEVICE = 512;
    /// @notice The oracle's slot range (OccupancyOracle's bitmap): ids 1..MAX_SLOT_ID.
    uint256 public constant MAX_SLOT_ID = OccupancyBits.MAX_SLOT_ID;

    mapping(address device => Device) private _devices;
    mapping(address device => EnumerableSet.UintSet) private _slots;
    address[] private _deviceList;

    constructor(ICityAccess access_) CityAccessControlled(access_) {}

    /// @inheritdoc IDeviceRegistry
    /// @dev The caller (an OPERATOR, or CITY_ADMIN) is recorded as the device's operator.
    function registerDevice(address device, uint8 kind, uint256[] calldata slotIds)
        external
        onlyCityRole(CityRoles.OPERATOR)
    {
        if (device == address(0)) revert DeviceRegistryZeroAddress();
        if (_devices[device].registeredAt != 0) revert DeviceRegistryAlreadyRegistered(device);
        if (kind > uint8(type(DeviceKind).max)) revert DeviceRegistryInvalidKind(kind);
        address operator = _msgSender();
        _devices[device] = Device({
            kind: DeviceKind(kind),
            active: true,
            operator: operator,
            slotCount: 0,
            registeredAt: uint40(block.timestamp)
        });
        _deviceList.push(device);
        emit DeviceRegistered(device, DeviceKind(kind), operator);
        _addSlots(device, slotIds);
    }

    /// @inheritdoc IDeviceRegistry
    function addSlots(address device, uint256[] calldata slotIds) external {
        _requireDeviceOperator(device);
        _addSlots(device, slotIds);
    }

    /// @inheritdoc IDeviceRegistry
    function removeSlots(address device, uint256[] calldata slotIds) external {
        _requireDeviceOperator(device);
        EnumerableSet.UintSet storage watched = _slots[device];
        for (uint256 i = 0; i < slotIds.length; ++i) {
            if (!watched.remove(slotIds[i])) revert DeviceRegistryNotWatching(device, slotIds[i]);
            emit DeviceSlotRemoved(device, slotIds[i]);
        }
        _devices[device].slotCount = uint32(watched.length());
    }

    /// @inheritdoc IDeviceRegistry
    function setActive(address device, bool active) external {
        _requireDeviceOperator(device);
        if (_devices[device].active == active) revert DeviceRegistryActiveUnchanged(device, active);
        _devices[device].active = active;
        emit DeviceActiveSet(device, active, _msgSender());
    }

    /// @inheritdoc IDeviceRegistry
    function deviceOf(address device) external view returns (Device memory) {
        return _requireDevice(device);
    }

    /// @inheritdoc IDeviceRegistry
    function watches(address device, uint256 slotId) external view returns (bool) {
        return _slots[device].contains(slotId);
    }

    /// @inheritdoc IDeviceRegistry
    function slotsOf(address device) external view returns (uint256[] memory) {
        return _slots[device].values();
    }

    /// @inheritdoc IDeviceRegistry
    function canReport(address device, uint256 slotId) external view returns (bool) {
        return _devices[device].active && _slots[device].contains(slotId);
    }

    /// @inheritdoc IDeviceRegistry
    function deviceCount() external view returns (uint256) {
        return _deviceList.length;
    }

    /// @inheritdoc IDeviceRegistry
    /// @dev Reverts with a panic for an index at or beyond `deviceCount()`.
    function deviceAt(uint256 index) external view returns (address) {
        return _deviceList[index];
    }

    function _addSlots(address device, uint256[] calldata slotIds) private {
        EnumerableSet.UintSet storage watched = _slots[device];
        uint256 total = watched.length() + slotIds.length;
        if (total > MAX_SLOTS_PER_DEVICE) revert DeviceRegistryTooManySlots(total, MAX_SLOTS_PER_DEVICE);
        for (uint256 i = 0; i < slotIds.length; ++i) {
            uint256 slotId = slotIds[i];
            if (slotId == 0 || slotId > MAX_SLOT_ID) revert DeviceRegistryInvalidSlot(slotId);
            if (!watched.add(slotId)) revert DeviceRegistryAlreadyWatching(device, slotId);
            emit DeviceSlotAdded(device, slotId);
        }
        _devices[device].slotCount = uint32(watched.length());
    }

    /// @dev CITY_ADMIN, or the OPERATOR that installed the device while it still holds the role.
    function _requireDeviceOperator(address device) private view {
        Device memory record = _requireDevice(device);
        address caller = _msgSender();
        bool allowed = access.hasActiveRole(CityRoles.CITY_ADMIN, caller)
            || (caller == record.operator && access.hasActiveRole(CityRoles.OPERATOR, caller));
        if (!allowed) revert DeviceRegistryNotDeviceOperator(device, caller);
    }

    function _requireDevice(address device) private view returns (Device memory record) {
        record = _devices[device];
        if (record.registeredAt == 0) revert DeviceRegistryUnknownDevice(device);
    }
}
