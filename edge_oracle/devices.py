"""Device keys: which key signs for which sensor.

An edge box with one sensor uses the single key `citypass-edge init` made. A box (or the
simulator) speaking for many sensors uses a devices file:

    {"format": "citypass-edge-devices/1", "throwawayTestKeys": false,
     "devices": [{"sensor": "mag-0001", "kind": "magnetometer", "address": "0x…",
                  "slots": [1], "keystore": {…V3 scrypt keystore…}}]}

With "throwawayTestKeys": true a device may carry "privateKey" in the clear instead: for tests
and demos only, never for a real device. `bindings()` is the list the city registers in the
DeviceRegistry (no keys)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils import to_checksum_address

from citypass.core.files import create_exclusively
from edge_oracle.errors import DevicesFileError, KeystoreError
from edge_oracle.keystore import decrypt

FORMAT = "citypass-edge-devices/1"
# DeviceRegistry's DeviceKind enum (contracts/types/SensorTypes.sol).
KIND_IDS = {"magnetometer": 0, "ultrasonic": 1, "camera": 2}
# scrypt cost for the many keystores of a devices file: lower than a single device's default
# (2**18) so loading hundreds of simulated devices takes seconds, not minutes.
DEVICES_FILE_SCRYPT_N = 2**12


@dataclass(frozen=True)
class DeviceKey:
    sensor: str
    kind: str
    address: str
    slots: tuple[int, ...]
    key: bytes

    def binding(self) -> dict[str, Any]:
        return {
            "sensor": self.sensor,
            "kind": self.kind,
            "kindId": KIND_IDS[self.kind],
            "address": self.address,
            "slots": list(self.slots),
        }


class KeyRing:
    """sensor id → device key; sensors not listed fall back to the box's own key, if any."""

    def __init__(self, devices: list[DeviceKey], default: DeviceKey | None = None) -> None:
        self.by_sensor = {d.sensor: d for d in devices}
        self.default = default

    def for_sensor(self, sensor: str) -> DeviceKey | None:
        return self.by_sensor.get(sensor, self.default)

    def bindings(self) -> list[dict[str, Any]]:
        return [d.binding() for d in self.by_sensor.values()]


def single_key(account: Any, kind: str = "magnetometer") -> DeviceKey:
    return DeviceKey("*", kind, account.address, (), bytes(account.key))


def create_devices_file(
    path: Path, layout: list[dict[str, Any]], password: str | None, *, seed: int | None = None
) -> KeyRing:
    """Keys for every sensor in `layout` ([{sensor, kind, slots}]). Without a password the keys
    are written in the clear and the file is marked as throwaway test keys."""
    if path.exists():
        raise DevicesFileError(f"{path} already exists: choose a new devices file")
    devices, entries = [], []
    for index, item in enumerate(layout):
        account = (
            Account.from_key(_seeded_key(seed, index)) if seed is not None else Account.create()
        )
        entry: dict[str, Any] = {
            "sensor": item["sensor"],
            "kind": item["kind"],
            "address": account.address,
            "slots": list(item["slots"]),
        }
        if password is None:
            entry["privateKey"] = "0x" + bytes(account.key).hex()
        else:
            entry["keystore"] = Account.encrypt(
                account.key, password, kdf="scrypt", iterations=DEVICES_FILE_SCRYPT_N
            )
        entries.append(entry)
        devices.append(
            DeviceKey(
                item["sensor"],
                item["kind"],
                account.address,
                tuple(item["slots"]),
                bytes(account.key),
            )
        )
    document = {"format": FORMAT, "throwawayTestKeys": password is None, "devices": entries}
    create_exclusively(path, json.dumps(document, indent=1))
    return KeyRing(devices)


def load_devices_file(path: Path, password: str | None) -> KeyRing:
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise DevicesFileError(f"devices file {path} does not exist") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise DevicesFileError(f"devices file {path} is not readable JSON ({exc})") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise DevicesFileError(f"{path} is not a devices file: its format must be {FORMAT!r}")
    throwaway = document.get("throwawayTestKeys") is True
    devices = []
    for index, entry in enumerate(document.get("devices") or []):
        where = f"{path} device #{index}"
        try:
            sensor, kind, slots = (
                entry["sensor"],
                entry["kind"],
                tuple(int(s) for s in entry["slots"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DevicesFileError(f"{where} needs sensor, kind and slots ({exc})") from exc
        if kind not in KIND_IDS:
            raise DevicesFileError(f"{where}: kind {kind!r} is not one of {', '.join(KIND_IDS)}")
        if "keystore" in entry:
            if password is None:
                raise KeystoreError(
                    f"{path} holds encrypted keys: set CITYPASS_EDGE_PASSWORD or --password-file"
                )
            account = decrypt(entry["keystore"], password, where)
        elif "privateKey" in entry and throwaway:
            account = Account.from_key(entry["privateKey"])
        else:
            raise DevicesFileError(
                f"{where} has no keystore (a clear privateKey is only allowed in a file marked "
                '"throwawayTestKeys": true)'
            )
        if "address" in entry and to_checksum_address(entry["address"]) != account.address:
            raise DevicesFileError(
                f"{where}: the key does not match its address {entry['address']}"
            )
        devices.append(DeviceKey(sensor, kind, account.address, slots, bytes(account.key)))
    if not devices:
        raise DevicesFileError(f"{path} lists no devices")
    return KeyRing(devices)


def _seeded_key(seed: int, index: int) -> bytes:
    from eth_hash.auto import keccak

    # Deterministic throwaway keys, so a seeded simulation signs the same way every run.
    return keccak(f"citypass-edge-sim/{seed}/{index}".encode())


def read_bindings(path: Path) -> list[dict[str, Any]]:
    """The device list and slot bindings of a devices file, without decrypting any key."""
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DevicesFileError(f"devices file {path} is not readable JSON ({exc})") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise DevicesFileError(f"{path} is not a devices file: its format must be {FORMAT!r}")
    bindings = []
    for index, entry in enumerate(document.get("devices") or []):
        try:
            bindings.append(
                {
                    "sensor": entry["sensor"],
                    "kind": entry["kind"],
                    "kindId": KIND_IDS[entry["kind"]],
                    "address": to_checksum_address(entry["address"]),
                    "slots": [int(s) for s in entry["slots"]],
                }
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DevicesFileError(f"{path} device #{index} is incomplete ({exc})") from exc
    return bindings
