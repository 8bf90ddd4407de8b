"""DeviceRegistry: registration, watched slots, the active flag, who may manage a device."""

from __future__ import annotations

import brownie
import pytest

from citypass.protocol.roles import ROLES
from tests.contract_helpers import reverts_with, role_holder

MAGNETOMETER, ULTRASONIC, CAMERA = 0, 1, 2
# Device ids are addresses of throwaway keys; any address will do on chain.
DEVICE = "0x" + "d1" * 20
CAMERA_DEVICE = "0x" + "c4" * 20


@pytest.fixture(scope="module")
def other_operator(accounts, system, people):
    return role_holder(system, people, accounts[11], "OPERATOR")


@pytest.fixture
def registered(devices, people):
    devices.registerDevice(DEVICE, MAGNETOMETER, [7], {"from": people.operator})
    return DEVICE


def test_register_device_records_operator_and_slots(devices, people):
    tx = devices.registerDevice(DEVICE, CAMERA, [3, 4, 300], {"from": people.operator})
    assert dict(tx.events["DeviceRegistered"]) == {
        "device": brownie.convert.to_address(DEVICE),
        "kind": CAMERA,
        "operator": people.operator,
    }
    assert [e["slotId"] for e in tx.events["DeviceSlotAdded"]] == [3, 4, 300]
    kind, active, operator, slot_count, registered_at = devices.deviceOf(DEVICE)
    assert (kind, active, operator, slot_count) == (CAMERA, True, people.operator, 3)
    assert registered_at == tx.timestamp
    assert [int(s) for s in devices.slotsOf(DEVICE)] == [3, 4, 300]
    assert devices.watches(DEVICE, 300) and not devices.watches(DEVICE, 5)
    assert devices.canReport(DEVICE, 4) and not devices.canReport(DEVICE, 5)
    assert devices.deviceCount() == 1 and devices.deviceAt(0) == brownie.convert.to_address(DEVICE)


def test_city_admin_may_register_and_is_recorded(devices, people):
    tx = devices.registerDevice(DEVICE, ULTRASONIC, [], {"from": people.admin})
    assert tx.events["DeviceRegistered"]["operator"] == people.admin
    assert devices.deviceOf(DEVICE)[3] == 0


def test_register_device_reverts(devices, people, registered, stranger):
    with reverts_with("DeviceRegistryAlreadyRegistered", DEVICE):
        devices.registerDevice(DEVICE, MAGNETOMETER, [], {"from": people.operator})
    with reverts_with("DeviceRegistryZeroAddress"):
        devices.registerDevice(brownie.ZERO_ADDRESS, MAGNETOMETER, [], {"from": people.operator})
    with reverts_with("DeviceRegistryInvalidKind", 3):
        devices.registerDevice(CAMERA_DEVICE, 3, [], {"from": people.operator})
    with reverts_with("CityAccessMissingRole", stranger, ROLES["OPERATOR"]):
        devices.registerDevice(CAMERA_DEVICE, CAMERA, [], {"from": stranger})
    for bad in (0, 65536):
        with reverts_with("DeviceRegistryInvalidSlot", bad):
            devices.registerDevice(CAMERA_DEVICE, CAMERA, [1, bad], {"from": people.operator})
    with reverts_with("DeviceRegistryAlreadyWatching", CAMERA_DEVICE, 9):
        devices.registerDevice(CAMERA_DEVICE, CAMERA, [9, 9], {"from": people.operator})
    assert devices.deviceCount() == 1


def test_add_and_remove_slots(devices, people, registered):
    tx = devices.addSlots(DEVICE, [8, 65535], {"from": people.operator})
    assert [dict(e) for e in tx.events["DeviceSlotAdded"]] == [
        {"device": brownie.convert.to_address(DEVICE), "slotId": s} for s in (8, 65535)
    ]
    assert devices.deviceOf(DEVICE)[3] == 3
    tx = devices.removeSlots(DEVICE, [7], {"from": people.admin})
    assert tx.events["DeviceSlotRemoved"]["slotId"] == 7
    assert sorted(devices.slotsOf(DEVICE)) == [8, 65535]
    assert devices.deviceOf(DEVICE)[3] == 2
    assert not devices.canReport(DEVICE, 7)


def test_slot_changes_revert(devices, people, registered):
    with reverts_with("DeviceRegistryAlreadyWatching", DEVICE, 7):
        devices.addSlots(DEVICE, [7], {"from": people.operator})
    with reverts_with("DeviceRegistryNotWatching", DEVICE, 8):
        devices.removeSlots(DEVICE, [8], {"from": people.operator})
    with reverts_with("DeviceRegistryInvalidSlot", 0):
        devices.addSlots(DEVICE, [0], {"from": people.operator})
    with reverts_with("DeviceRegistryUnknownDevice", CAMERA_DEVICE):
        devices.addSlots(CAMERA_DEVICE, [1], {"from": people.operator})
    with reverts_with("DeviceRegistryUnknownDevice", CAMERA_DEVICE):
        devices.deviceOf(CAMERA_DEVICE)


def test_slot_limit_per_device(devices, people, registered):
    max_slots = devices.MAX_SLOTS_PER_DEVICE()
    assert max_slots == 512
    with reverts_with("DeviceRegistryTooManySlots", max_slots + 1, max_slots):
        devices.addSlots(DEVICE, list(range(100, 100 + max_slots)), {"from": people.operator})
    devices.addSlots(DEVICE, list(range(100, 100 + max_slots - 1)), {"from": people.operator})
    assert devices.deviceOf(DEVICE)[3] == max_slots
    with reverts_with("DeviceRegistryTooManySlots", max_slots + 1, max_slots):
        devices.addSlots(DEVICE, [5000], {"from": people.operator})


def test_set_active_toggles_and_gates_can_report(devices, people, registered):
    tx = devices.setActive(DEVICE, False, {"from": people.operator})
    assert dict(tx.events["DeviceActiveSet"]) == {
        "device": brownie.convert.to_address(DEVICE),
        "active": False,
        "by": people.operator,
    }
    assert not devices.canReport(DEVICE, 7) and devices.watches(DEVICE, 7)
    with reverts_with("DeviceRegistryActiveUnchanged", DEVICE, False):
        devices.setActive(DEVICE, False, {"from": people.operator})
    devices.setActive(DEVICE, True, {"from": people.admin})
    assert devices.canReport(DEVICE, 7)


def test_only_admin_or_installing_operator_manages(
    devices, system, people, registered, other_operator, stranger
):
    for caller in (other_operator, stranger, people.oracle):
        with reverts_with("DeviceRegistryNotDeviceOperator", DEVICE, caller):
            devices.setActive(DEVICE, False, {"from": caller})
        with reverts_with("DeviceRegistryNotDeviceOperator", DEVICE, caller):
            devices.addSlots(DEVICE, [1], {"from": caller})
        with reverts_with("DeviceRegistryNotDeviceOperator", DEVICE, caller):
            devices.removeSlots(DEVICE, [7], {"from": caller})
    # An operator whose role was revoked no longer manages the devices it installed.
    system.access.revokeRole(ROLES["OPERATOR"], people.operator, {"from": people.admin})
    with reverts_with("DeviceRegistryNotDeviceOperator", DEVICE, people.operator):
        devices.setActive(DEVICE, False, {"from": people.operator})
    devices.setActive(DEVICE, False, {"from": people.admin})


def test_unknown_device_reads(devices):
    assert not devices.canReport(CAMERA_DEVICE, 1)
    assert not devices.watches(CAMERA_DEVICE, 1)
    assert devices.slotsOf(CAMERA_DEVICE) == []
    assert devices.deviceCount() == 0
    with brownie.reverts():
        devices.deviceAt(0)
