// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Device, DeviceKind} from "../types/SensorTypes.sol";

/// @title IDeviceRegistry
/// @notice The edge devices (magnetometers, ultrasonic sensors, AI cameras) whose signed events
/// the oracles accept: each device's key, kind, installing operator, watched slots and active
/// flag. Managed by OPERATOR (its own devices) and CITY_ADMIN (all). The oracle daemon caches
/// this and refreshes on its events.
interface IDeviceRegistry {
    /// @notice A zero address was given as a device.
    error DeviceRegistryZeroAddress();
    /// @notice The device is already registered.
    /// @param device the device address
    error DeviceRegistryAlreadyRegistered(address device);
    /// @notice The device is not registered.
    /// @param device the device address
    error DeviceRegistryUnknownDevice(address device);
    /// @notice The caller is neither CITY_ADMIN nor the OPERATOR that installed the device.
    /// @param device the device address
    /// @param caller the caller
    error DeviceRegistryNotDeviceOperator(address device, address caller);
    /// @notice The device kind value is not a DeviceKind.
    /// @param kind the raw value
    error DeviceRegistryInvalidKind(uint8 kind);
    /// @notice A slot id is 0 or above the oracle's range.
    /// @param slotId the slot
    error DeviceRegistryInvalidSlot(uint256 slotId);
    /// @notice The device already watches the slot.
    error DeviceRegistryAlreadyWatching(address device, uint256 slotId);
    /// @notice The device does not watch the slot.
    error DeviceRegistryNotWatching(address device, uint256 slotId);
    /// @notice Too many slots in one call or for one device.
    /// @param count the count asked for
    /// @param max the limit
    error DeviceRegistryTooManySlots(uint256 count, uint256 max);
    /// @notice The active flag already has that value.
    error DeviceRegistryActiveUnchanged(address device, bool active);

    event DeviceRegistered(address indexed device, DeviceKind kind, address indexed operator);
    event DeviceSlotAdded(address indexed device, uint256 indexed slotId);
    event DeviceSlotRemoved(address indexed device, uint256 indexed slotId);
    event DeviceActiveSet(address indexed device, bool active, address indexed by);

    function registerDevice(address device, uint8 kind, uint256[] calldata slotIds) external;
    function addSlots(address device, uint256[] calldata slotIds) external;
    function removeSlots(address device, uint256[] calldata slotIds) external;
    function setActive(address device, bool active) external;

    function deviceOf(address device) external view returns (Device memory);
    function watches(address device, uint256 slotId) external view returns (bool);
    function slotsOf(address device) external view returns (uint256[] memory);
    /// @notice Active, registered and watching `slotId`: what the oracle daemon checks.
    function canReport(address device, uint256 slotId) external view returns (bool);
    function deviceCount() external view returns (uint256);
    function deviceAt(uint256 index) external view returns (address);
}
